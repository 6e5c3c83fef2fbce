#pragma once
// Small helpers the auth methods share: Vault's empty answers and path
// splitting.

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "logical/request.h"
#include "storage/backend.h"

namespace coffer::auth {

using logical::NoContent;
using logical::NotFoundResponse;
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
