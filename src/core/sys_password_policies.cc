// sys/policies/password[/:name[/generate]]: Vault's password policies API
// over core::PasswordPolicies, stored under the barrier at
// "sys/password_policy/".

#include "barrier/barrier_view.h"
#include "core/core.h"
#include "core/password_policy.h"
#include "core/system_backend.h"

namespace coffer::core {
namespace {

using logical::Json;
using logical::Operation;

constexpr std::string_view kPasswordPolicyPrefix = "sys/password_policy/";

}  // namespace

Result<logical::Response> SystemBackend::PasswordPolicyPaths(const logical::Request& request) {
  barrier::BarrierView view(core_.barrier(), std::string(kPasswordPolicyPrefix));
  core::PasswordPolicies store(view);
  std::string_view rest = request.path;
  rest.remove_prefix(std::string_view("sys/policies/password").size());
  if (rest.starts_with('/')) rest.remove_prefix(1);
  if (rest.empty()) {
    if (request.operation != Operation::kList) return Err(MethodNotAllowed());
    ASSIGN_OR_RETURN(std::vector<std::string> keys, store.List());
    if (keys.empty()) return logical::NotFoundResponse();
    logical::Response r;
    r.data = Json{{"keys", keys}};
    return r;
  }
  if (rest.ends_with("/generate")) {
    std::string_view name = rest.substr(0, rest.size() - std::string_view("/generate").size());
    if (request.operation != Operation::kRead) return Err(MethodNotAllowed());
    TRY(core::PasswordPolicies::ValidateName(name));
    ASSIGN_OR_RETURN(SecretBytes password, store.Generate(name));
    logical::Response r;
    r.data = Json{{"password", std::string(password.view())}};
    return r;
  }
  std::string name(rest);
  switch (request.operation) {
    case Operation::kRead: {
      auto text = store.Get(name);
      if (!text && text.error().code() == Code::kNotFound) return logical::NotFoundResponse();
      if (!text) return Err(text.error());
      logical::Response r;
      r.data = Json{{"policy", *text}};
      return r;
    }
    case Operation::kCreate:
    case Operation::kUpdate: {
      const Json* policy = request.Field("policy");
      if (policy == nullptr || !policy->is_string() || policy->get<std::string>().empty()) {
        return Err(InvalidArgument("missing policy"));
      }
      TRY(store.Put(name, policy->get<std::string>()));
      return logical::NoContent();
    }
    case Operation::kDelete:
      TRY(store.Delete(name));
      return logical::NoContent();
    default:
      return Err(MethodNotAllowed());
  }
}

Result<SecretBytes> GeneratePolicyPassword(Core& core, std::string_view name) {
  barrier::BarrierView view(core.barrier(), std::string(kPasswordPolicyPrefix));
  core::PasswordPolicies store(view);
  return store.Generate(name);
}

}  // namespace coffer::core
