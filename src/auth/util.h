#pragma once
// Small helpers the auth methods share: Vault's empty answers and path
// splitting.

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "logical/registry.h"
#include "logical/request.h"
#include "storage/backend.h"

namespace coffer::auth {

using logical::NoContent;
using logical::NotFoundResponse;
// The answer of a successful login; the core turns `login` into `auth`.
logical::Response LoginResponse(logical::LoginResult login);

// Registers the auth method `type` whose backend is made from its mount's
// config alone.
template <typename Method>
void RegisterMethod(std::string type) {
  logical::RegisterAuthMethod(std::move(type), [](const logical::BackendConfig& config) {
    return Result<std::unique_ptr<logical::Backend>>(std::make_unique<Method>(config));
  });
}

// A LIST answer {keys}, or 404 when there are none (as Vault).
logical::Response KeysResponse(std::vector<std::string> keys);
bool IsWrite(logical::Operation op);

// Splits "a/b/c" into its segments (empty segments kept).
std::vector<std::string_view> Segments(std::string_view path);

// A JSON object from a stored value; kInternal naming `what` when corrupt.
Result<logical::Json> ParseStored(std::string_view text, std::string_view what);

// The routes of a method configured at `config`, logged in at `login` and
// holding roles at `role/:name` (stored under "role/"), with LIST `role`:
// JWT and Kubernetes. kNotFound "unsupported path" for anything else.
struct RoleMethodRoutes {
  std::function<Result<logical::Response>(const logical::Request&)> config;
  std::function<Result<logical::Response>(const logical::Request&)> login;
  std::function<Result<logical::Response>(const logical::Request&, const std::string& name)> role;
};
Result<logical::Response> RouteRoleMethod(const logical::Request& request,
                                          storage::Backend& storage,
                                          const RoleMethodRoutes& routes);

}  // namespace coffer::auth
