#include "auth/util.h"

namespace coffer::auth {

logical::Response KeysResponse(std::vector<std::string> keys) {
  if (keys.empty()) return NotFoundResponse();
  logical::Response r;
  r.data = logical::Json{{"keys", std::move(keys)}};
  return r;
}

bool IsWrite(logical::Operation op) {
  return op == logical::Operation::kCreate || op == logical::Operation::kUpdate;
}

std::vector<std::string_view> Segments(std::string_view path) {
  std::vector<std::string_view> out;
  while (true) {
    auto slash = path.find('/');
    out.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return out;
}

Result<logical::Json> ParseStored(std::string_view text, std::string_view what) {
  logical::Json j = logical::Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return Err(Internal("corrupt " + std::string(what) + " entry"));
  }
  return j;
}

logical::Response LoginResponse(logical::LoginResult login) {
  logical::Response r;
  r.login = std::move(login);
  return r;
}

Result<logical::Response> RouteRoleMethod(const logical::Request& request,
                                          storage::Backend& storage,
                                          const RoleMethodRoutes& routes) {
  std::string_view rel = request.relative_path;
  while (!rel.empty() && rel.back() == '/') rel.remove_suffix(1);
  if (rel == "config") return routes.config(request);
  if (rel == "login") return routes.login(request);
  if (rel == "role") {
    if (request.operation != logical::Operation::kList) return Err(MethodNotAllowed());
    ASSIGN_OR_RETURN(auto keys, storage.List("role/"));
    return KeysResponse(std::move(keys));
  }
  if (rel.starts_with("role/")) return routes.role(request, std::string(rel.substr(5)));
  return Err(NotFound("unsupported path"));
}

}  // namespace coffer::auth
