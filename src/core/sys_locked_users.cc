// sys/locked-users and sys/locked-users/:mount_accessor/unlock/:alias:
// Vault's API over the core's login lockout counters (login.h).

#include <map>

#include "core/core.h"
#include "core/system_backend.h"

namespace coffer::core {
namespace {

using logical::Json;
using logical::Operation;

// The lockout settings of the auth mount with `accessor` (defaults when
// it is gone).
LockoutConfig ConfigOfAccessor(const router::Router& router, std::string_view accessor) {
  auto snapshot = router.snapshot();
  if (snapshot) {
    for (const auto& m : snapshot->mounts) {
      if (m->entry.accessor == accessor) return LockoutConfigOf(m->entry.config);
    }
  }
  return LockoutConfig{};
}

}  // namespace

Result<logical::Response> SystemBackend::LockedUsers(const logical::Request& request) {
  std::string_view rest = request.path;
  rest.remove_prefix(std::string_view("sys/locked-users").size());
  if (rest.empty() || rest == "/") {
    if (request.operation != Operation::kRead) {
      return Err(Status(Code::kMethodNotAllowed, "unsupported operation"));
    }
    std::string only;
    if (const Json* v = request.Field("mount_accessor"); v != nullptr && v->is_string()) {
      only = v->get<std::string>();
    }
    auto locked = core_.logins().LockedUsers(
        [&](std::string_view accessor) { return ConfigOfAccessor(core_.router(), accessor); });
    std::map<std::string, std::vector<std::string>> by_accessor;
    std::size_t total = 0;
    for (auto& l : locked) {
      if (!only.empty() && l.accessor != only) continue;
      by_accessor[l.accessor].push_back(std::move(l.alias));
      ++total;
    }
    Json accessors = Json::array();
    for (auto& [accessor, aliases] : by_accessor) {
      accessors.push_back(Json{{"mount_accessor", accessor},
                               {"counts", aliases.size()},
                               {"alias_identifiers", aliases}});
    }
    Json by_namespace = Json::array();
    if (total > 0) {
      by_namespace.push_back(Json{{"namespace_id", "root"},
                                  {"namespace_path", ""},
                                  {"counts", total},
                                  {"mount_accessors", std::move(accessors)}});
    }
    logical::Response r;
    r.data = Json{{"by_namespace", std::move(by_namespace)}, {"total", total}};
    return r;
  }
  // "/:mount_accessor/unlock/:alias_identifier"
  rest.remove_prefix(1);
  std::size_t slash = rest.find('/');
  constexpr std::string_view kUnlock = "/unlock/";
  if (slash == std::string_view::npos || rest.substr(slash, kUnlock.size()) != kUnlock) {
    return Err(NotFound("unsupported path"));
  }
  std::string_view accessor = rest.substr(0, slash);
  std::string_view alias = rest.substr(slash + kUnlock.size());
  if (accessor.empty() || alias.empty()) {
    return Err(InvalidArgument("mount_accessor and alias_identifier are required"));
  }
  if (request.operation != Operation::kUpdate && request.operation != Operation::kCreate) {
    return Err(Status(Code::kMethodNotAllowed, "unsupported operation"));
  }
  // Unlocking an alias that is not locked is not an error (as in Vault).
  core_.logins().Unlock(accessor, alias);
  return logical::NoContent();
}

}  // namespace coffer::core
