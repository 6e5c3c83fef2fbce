#include "cli/kv_path.h"

#include "cli/command_util.h"

namespace coffer::cli {
namespace {

std::string Join(std::initializer_list<std::string_view> parts) {
  std::string out;
  for (std::string_view p : parts) {
    std::string clean = SanitizePath(p);
    if (clean.empty()) continue;
    if (!out.empty()) out += '/';
    out += clean;
  }
  return out;
}

int VersionOf(const Json& mount) {
  if (!mount.is_object()) return 1;
  auto opts = mount.find("options");
  if (opts == mount.end() || !opts->is_object()) return 1;
  auto v = opts->find("version");
  if (v == opts->end()) return 1;
  if (v->is_string() && v->get<std::string>() == "2") return 2;
  if (v->is_number_integer() && v->get<int>() == 2) return 2;
  return 1;
}

Result<Json> MountsTable(ApiClient& client) {
  ASSIGN_OR_RETURN(Json body, client.Request("GET", "/v1/sys/mounts"));
  if (body.is_object() && body.contains("data") && body["data"].is_object()) {
    return std::move(body["data"]);
  }
  return body;
}

}  // namespace

std::string KvTarget::Path(std::string_view prefix) const {
  if (version == 2) return Join({mount, prefix, secret});
  return Join({mount, secret});
}

Result<KvTarget> ResolveKvTarget(ApiClient& client, std::string_view path,
                                 std::string_view mount_flag) {
  std::string full = mount_flag.empty() ? SanitizePath(path) : Join({mount_flag, path});
  std::string probe = mount_flag.empty() ? full : SanitizePath(mount_flag);
  KvTarget t;
  UncapturedScope lookup(client);  // not the command's own request
  ASSIGN_OR_RETURN(ApiResponse resp, client.Send("GET", "/v1/sys/internal/ui/mounts/" + probe));
  std::string mount;
  if (resp.status >= 200 && resp.status < 300) {
    const Json& data =
        resp.body.is_object() && resp.body.contains("data") ? resp.body["data"] : resp.body;
    t.version = VersionOf(data);
    if (data.is_object() && data.contains("path") && data["path"].is_string()) {
      mount = data["path"].get<std::string>();
    }
    if (mount.empty()) mount = mount_flag.empty() ? probe.substr(0, probe.find('/')) : probe;
  } else if (resp.status == 404 || resp.status == 403) {
    ASSIGN_OR_RETURN(Json mounts, MountsTable(client));
    std::string with_slash = EnsureTrailingSlash(full);
    std::size_t best = 0;
    if (mounts.is_object()) {
      for (auto it = mounts.begin(); it != mounts.end(); ++it) {
        const std::string& key = it.key();
        if (!it->is_object() || key.empty() || key.size() <= best) continue;
        if (with_slash.starts_with(EnsureTrailingSlash(key))) {
          best = key.size();
          mount = key;
          t.version = VersionOf(*it);
        }
      }
    }
  } else {
    std::string url = client.address();
    while (!url.empty() && url.back() == '/') url.pop_back();
    return Err(Internal(FormatApiError("GET", url + "/v1/sys/internal/ui/mounts/" + probe,
                                       resp.status, resp.body)));
  }
  t.mount = EnsureTrailingSlash(SanitizePath(mount));
  std::string m = SanitizePath(t.mount);
  if (!m.empty() && (full == m || full.starts_with(m + "/"))) {
    t.secret = full.size() > m.size() ? full.substr(m.size() + 1) : "";
  } else {
    // No known mount: use the path as it is.
    t.mount.clear();
    t.secret = full;
  }
  return t;
}

}  // namespace coffer::cli
