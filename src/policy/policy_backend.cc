#include "policy/policy_backend.h"

#include "common/encoding.h"

namespace coffer::policy {
namespace {

using logical::Json;
using logical::NoContent;
using logical::NotFoundResponse;
using logical::Operation;
using logical::Response;

bool IsWrite(Operation op) { return op == Operation::kCreate || op == Operation::kUpdate; }

}  // namespace

Result<Response> PolicyBackend::HandleRequest(const logical::Request& request) {
  const std::string_view path = request.relative_path;
  const Operation op = request.operation;

  std::string_view collection = path;
  while (collection.ends_with('/')) collection.remove_suffix(1);
  bool legacy;
  std::string_view name;
  if (collection == "policy" || collection == "policies/acl") {
    legacy = collection == "policy";
    if (op == Operation::kList || (legacy && op == Operation::kRead)) return ListPolicies(legacy);
    return Err(Status(Code::kMethodNotAllowed, "unsupported operation"));
  } else if (path.starts_with("policy/")) {
    legacy = true;
    name = path.substr(7);
  } else if (path.starts_with("policies/acl/")) {
    legacy = false;
    name = path.substr(13);
  } else {
    return Err(NotFound("unsupported path"));
  }
  // The ACL checked the path as sent: "policies/acl/admin/" must not reach
  // "admin", which a policy may deny while allowing "policies/acl/*".
  if (name.find('/') != std::string_view::npos) {
    return Err(InvalidArgument("policy name may not contain '/'"));
  }

  if (op == Operation::kRead) return ReadPolicy(name, legacy);
  if (IsWrite(op)) return WritePolicy(name, request, legacy);
  if (op == Operation::kDelete) return DeletePolicy(name);
  return Err(Status(Code::kMethodNotAllowed, "unsupported operation"));
}

Result<Response> PolicyBackend::ListPolicies(bool legacy) {
  ASSIGN_OR_RETURN(std::vector<std::string> names, store_.List());
  Response r;
  r.data = Json{{"keys", names}};
  if (legacy) r.data["policies"] = names;
  return r;
}

Result<Response> PolicyBackend::ReadPolicy(std::string_view name, bool legacy) {
  ASSIGN_OR_RETURN(std::shared_ptr<const Policy> policy, store_.Get(name));
  if (!policy) return NotFoundResponse();
  Response r;
  r.data = Json{{"name", policy->name}, {legacy ? "rules" : "policy", policy->raw}};
  return r;
}

Result<Response> PolicyBackend::WritePolicy(std::string_view name, const logical::Request& request,
                                            bool legacy) {
  std::string text;
  const Json* policy = request.Field("policy");
  if (legacy && (policy == nullptr || (policy->is_string() && policy->empty()))) {
    if (const Json* rules = request.Field("rules"); rules != nullptr) policy = rules;
  }
  if (policy != nullptr && !policy->is_string()) {
    return Err(InvalidArgument("'policy' parameter must be a string"));
  }
  if (policy != nullptr) text = policy->get<std::string>();
  if (text.empty()) return Err(InvalidArgument("'policy' parameter not supplied or empty"));
  // Vault accepts base64 to spare clients the escaping; policy text itself is
  // never valid base64 (it has quotes, braces and spaces).
  if (auto decoded = Base64Decode(text); decoded.has_value()) {
    text.assign(decoded->view());
  }
  TRY(store_.Set(name, text));
  return NoContent();
}

Result<Response> PolicyBackend::DeletePolicy(std::string_view name) {
  TRY(store_.Delete(name));
  return NoContent();
}

}  // namespace coffer::policy
