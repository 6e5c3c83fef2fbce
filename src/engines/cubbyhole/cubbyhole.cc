#include "engines/cubbyhole/cubbyhole.h"

#include "common/json_numbers.h"
#include "logical/registry.h"

namespace coffer::engines::cubbyhole {
namespace {

using logical::Json;
using logical::Operation;

Status CheckKey(std::string_view key) {
  if (key.empty()) return InvalidArgument("missing path");
  return Status::Ok();
}

}  // namespace

Result<logical::Response> CubbyholeBackend::HandleRequest(const logical::Request& request) {
  if (!request.auth || request.auth->token_hmac.empty()) {
    return Err(PermissionDenied("cubbyhole needs a client token"));
  }
  if (request.auth->batch) {
    // A batch token is never stored, so nothing would revoke its cubbyhole.
    return Err(
        InvalidArgument("cubbyhole operations are only supported by \"service\" type tokens"));
  }
  const std::string prefix = request.auth->token_hmac + "/";
  const std::string& rel = request.relative_path;
  switch (request.operation) {
    case Operation::kList: {
      std::string folder = rel;
      if (!folder.empty() && folder.back() != '/') folder.push_back('/');
      ASSIGN_OR_RETURN(auto keys, storage_.List(prefix + folder));
      if (keys.empty()) return logical::NotFoundResponse();
      logical::Response r;
      r.data = Json{{"keys", keys}};
      return r;
    }
    case Operation::kRead:
    case Operation::kHead: {
      TRY(CheckKey(rel));
      ASSIGN_OR_RETURN(auto entry, storage_.Get(prefix + rel));
      if (!entry) return logical::NotFoundResponse();
      // Numbers as the client wrote them (common/json_numbers.h).
      auto parsed = ParseJsonNumbers(entry->value, kKeepNumberText);
      if (!parsed) return Err(Internal("corrupt cubbyhole entry"));
      logical::Response r;
      r.data = std::move(parsed->value);
      r.number_text = parsed->inexact_numbers;
      return r;
    }
    case Operation::kCreate:
    case Operation::kUpdate: {
      TRY(CheckKey(rel));
      // Such a key would read as a folder in a list, and a revocation that
      // walks the folders would leave it behind.
      if (rel.back() == '/') return Err(InvalidArgument("cannot write to a path ending in '/'"));
      if (!request.data.is_object() || request.data.empty()) {
        return Err(InvalidArgument("missing data fields"));
      }
      TRY(storage_.Put(prefix + rel, request.DataAsWrittenText()));
      return logical::Response{};
    }
    case Operation::kDelete:
      TRY(CheckKey(rel));
      TRY(storage_.Delete(prefix + rel));
      return logical::Response{};
    default:
      return Err(Status(Code::kMethodNotAllowed, "unsupported operation"));
  }
}

Result<bool> CubbyholeBackend::ExistenceCheck(const logical::Request& request) {
  if (!request.auth) return false;
  ASSIGN_OR_RETURN(auto entry,
                   storage_.Get(request.auth->token_hmac + "/" + request.relative_path));
  return entry.has_value();
}

Status CubbyholeBackend::Destroy(std::string_view token_hmac) {
  // Depth-first over the token's folder.
  std::vector<std::string> stack{std::string(token_hmac) + "/"};
  while (!stack.empty()) {
    std::string folder = std::move(stack.back());
    stack.pop_back();
    ASSIGN_OR_RETURN(auto children, storage_.List(folder));
    for (const auto& c : children) {
      if (c.back() == '/') {
        stack.push_back(folder + c);
        // An entry stored at the folder's own name (written before such
        // keys were refused) goes too.
        TRY(storage_.Delete(folder + c));
      } else {
        TRY(storage_.Delete(folder + c));
      }
    }
  }
  return Status::Ok();
}

Status CubbyholeBackend::Put(std::string_view token_hmac, std::string_view key,
                             std::string_view value) {
  return storage_.Put(std::string(token_hmac) + "/" + std::string(key), value);
}

Result<std::optional<std::string>> CubbyholeBackend::Get(std::string_view token_hmac,
                                                         std::string_view key) {
  ASSIGN_OR_RETURN(auto entry, storage_.Get(std::string(token_hmac) + "/" + std::string(key)));
  if (!entry) return std::optional<std::string>();
  return std::optional<std::string>(std::move(entry->value));
}

void RegisterCubbyholeEngine() {
  logical::RegisterEngine(
      "cubbyhole",
      [](const logical::BackendConfig& c) -> Result<std::unique_ptr<logical::Backend>> {
        return std::make_unique<CubbyholeBackend>(c.storage);
      });
}

}  // namespace coffer::engines::cubbyhole
