// sys/plugins/catalog: Vault's plugin catalog API, read-only. Coffer runs
// only its built-in engines and auth methods (no external plugin
// processes), so the catalog lists those and refuses registrations.
//
//   sys/plugins/catalog                 GET   {auth, database, secret, detailed}
//   sys/plugins/catalog/:type           LIST  {keys}   (auth, database, secret)
//   sys/plugins/catalog/:type/:name     GET   the plugin; PUT/POST, DELETE refused

#include <algorithm>
#include <array>

#include "core/system_backend.h"
#include "logical/registry.h"

namespace coffer::core {
namespace {

using logical::Json;
using logical::Operation;

constexpr std::string_view kCatalog = "sys/plugins/catalog";
constexpr std::array<std::string_view, 3> kTypes = {"auth", "database", "secret"};

// The built-in plugins of a catalog type, sorted. "kv-v2" is an alias of
// kv and cubbyhole is mounted by the server itself: neither is a plugin.
std::vector<std::string> Plugins(std::string_view type) {
  if (type == "auth") return logical::RegisteredTypes(true);
  if (type == "database") return {"postgresql-database-plugin"};
  std::vector<std::string> out;
  for (auto& t : logical::RegisteredTypes(false)) {
    if (t != "kv-v2" && t != "cubbyhole") out.push_back(std::move(t));
  }
  return out;
}

std::string BuiltinVersion() { return "v" + std::string(CofferVersion()) + "+builtin"; }

Status Refused() {
  return InvalidArgument(
      "external plugins are not supported: only the built-in plugins listed in "
      "sys/plugins/catalog can be mounted");
}

}  // namespace

Result<logical::Response> SystemBackend::PluginCatalog(const logical::Request& request) {
  std::string_view rest = request.path;
  rest.remove_prefix(kCatalog.size());
  while (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  if (!rest.empty()) rest.remove_prefix(1);  // the '/' after "catalog"
  logical::Response r;
  if (rest.empty()) {
    if (request.operation != Operation::kRead) {
      return Err(Status(Code::kMethodNotAllowed, "unsupported operation"));
    }
    Json detailed = Json::array();
    r.data = Json::object();
    for (std::string_view type : kTypes) {
      std::vector<std::string> names = Plugins(type);
      for (const auto& name : names) {
        detailed.push_back(Json{{"type", type},
                                {"name", name},
                                {"version", BuiltinVersion()},
                                {"builtin", true},
                                {"deprecation_status", "supported"}});
      }
      r.data[std::string(type)] = std::move(names);
    }
    r.data["detailed"] = std::move(detailed);
    return r;
  }
  const std::size_t slash = rest.find('/');
  const std::string_view type = rest.substr(0, slash);
  if (std::find(kTypes.begin(), kTypes.end(), type) == kTypes.end()) {
    return Err(InvalidArgument("unknown plugin type \"" + std::string(type) +
                               "\": auth, database or secret"));
  }
  if (slash == std::string_view::npos) {
    if (request.operation != Operation::kList && request.operation != Operation::kRead) {
      return Err(Status(Code::kMethodNotAllowed, "unsupported operation"));
    }
    r.data = Json{{"keys", Plugins(type)}};
    return r;
  }
  const std::string name(rest.substr(slash + 1));
  if (request.operation != Operation::kRead) {
    if (request.operation == Operation::kList) {
      return Err(Status(Code::kMethodNotAllowed, "unsupported operation"));
    }
    return Err(Refused());
  }
  const std::vector<std::string> names = Plugins(type);
  if (std::find(names.begin(), names.end(), name) == names.end()) {
    return logical::NotFoundResponse();
  }
  r.data = Json{{"name", name},
                {"args", Json::array()},
                {"command", ""},
                {"sha256", ""},
                {"builtin", true},
                {"version", BuiltinVersion()},
                {"deprecation_status", "supported"}};
  return r;
}

}  // namespace coffer::core
