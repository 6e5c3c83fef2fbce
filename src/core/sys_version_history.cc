// sys/version-history: every Coffer version that has unsealed this store,
// with when it first did (Vault's API). Each unseal records the running
// version under core/versions/<version> unless it is there already, so the
// history survives restarts and shows upgrades.

#include <algorithm>

#include "core/core.h"
#include "core/system_backend.h"

namespace coffer::core {
namespace {

using logical::Json;
using logical::Operation;

constexpr std::string_view kVersions = "core/versions/";

}  // namespace

Status RecordRunningVersion(storage::Backend& barrier, Clock& clock) {
  const std::string key = std::string(kVersions) + std::string(CofferVersion());
  ASSIGN_OR_RETURN(auto existing, barrier.Get(key));
  if (existing) return Status::Ok();
  Json entry{{"version", CofferVersion()},
             {"timestamp_installed", FormatRfc3339(clock.Wall())},
             {"build_date", ""}};
  return barrier.Put(key, entry.dump());
}

Result<logical::Response> SystemBackend::VersionHistory(const logical::Request& request) {
  if (request.operation != Operation::kList && request.operation != Operation::kRead) {
    return Err(Status(Code::kMethodNotAllowed, "unsupported operation"));
  }
  storage::Backend& barrier = core_.barrier();
  ASSIGN_OR_RETURN(auto names, barrier.List(std::string(kVersions)));
  struct Installed {
    std::string version;
    std::string timestamp;  // RFC 3339 in UTC, fixed width: sorts as text
    std::string build_date;
  };
  std::vector<Installed> versions;
  for (const auto& name : names) {
    ASSIGN_OR_RETURN(auto stored, barrier.Get(std::string(kVersions) + name));
    if (!stored) continue;
    Json j = Json::parse(stored->value, nullptr, false);
    if (!j.is_object()) return Err(Internal("the stored version history is corrupt"));
    versions.push_back(
        {name, j.value("timestamp_installed", ""), j.value("build_date", std::string())});
  }
  std::sort(versions.begin(), versions.end(), [](const Installed& a, const Installed& b) {
    return a.timestamp != b.timestamp ? a.timestamp < b.timestamp : a.version < b.version;
  });
  Json keys = Json::array();
  Json info = Json::object();
  for (std::size_t i = 0; i < versions.size(); ++i) {
    keys.push_back(versions[i].version);
    info[versions[i].version] =
        Json{{"timestamp_installed", versions[i].timestamp},
             {"build_date", versions[i].build_date},
             {"previous_version", i == 0 ? Json() : Json(versions[i - 1].version)}};
  }
  logical::Response r;
  r.data = Json{{"keys", std::move(keys)}, {"key_info", std::move(info)}};
  return r;
}

}  // namespace coffer::core
