// sys/config/auditing/request-headers[/:name]: Vault's API over
// core::AuditedHeaders (audited_headers.h). Sudo-protected, as in Vault.
//
//   sys/config/auditing/request-headers        GET  {headers: {name: {hmac}}}
//   sys/config/auditing/request-headers/:name  GET  {name: {hmac}}
//                                              POST {hmac}   DELETE

#include <optional>

#include "core/core.h"
#include "core/system_backend.h"

namespace coffer::core {
namespace {

using logical::Json;
using logical::Operation;

constexpr std::string_view kPrefix = "sys/config/auditing/request-headers";

}  // namespace

Result<logical::Response> SystemBackend::AuditedHeaderPaths(const logical::Request& request) {
  AuditedHeaders& headers = core_.audited_headers();
  std::string_view name = request.path;
  name.remove_prefix(kPrefix.size());
  if (!name.empty()) name.remove_prefix(1);  // the '/' before the name
  logical::Response r;
  if (name.empty()) {
    if (request.operation != Operation::kRead) {
      return Err(Status(Code::kMethodNotAllowed, "unsupported operation"));
    }
    Json list = Json::object();
    if (auto snapshot = headers.Snapshot()) {
      for (const auto& [header, hmac] : *snapshot) list[header] = {{"hmac", hmac}};
    }
    // Also at the top level, as Vault answers these reads.
    return LegacyResponse(request, Json{{"headers", std::move(list)}});
  }
  switch (request.operation) {
    case Operation::kRead: {
      std::optional<bool> hmac = headers.Find(name);
      if (!hmac) return Err(InvalidArgument("Could not find header in config"));
      return LegacyResponse(request, Json{{std::string(name), {{"hmac", *hmac}}}});
    }
    case Operation::kCreate:
    case Operation::kUpdate: {
      ASSIGN_OR_RETURN(bool hmac, request.BoolField("hmac", false));
      TRY(headers.Set(core_.barrier(), name, hmac));
      return r;
    }
    case Operation::kDelete: {
      Status s = headers.Remove(core_.barrier(), name);
      if (!s.ok() && s.code() != Code::kNotFound) return Err(s);
      return r;
    }
    default:
      return Err(Status(Code::kMethodNotAllowed, "unsupported operation"));
  }
}

}  // namespace coffer::core
