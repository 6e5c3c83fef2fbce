#pragma once
// A secrets engine or auth method instance, mounted at a path by the router.
//
// The router hands each instance its own storage (a BarrierView under
// "logical/<mount-uuid>/"), so an engine cannot see another's data. Engines
// are registered by type name in one registry (logical/registry.h).
//
// Thread safety: HandleRequest may be called concurrently from many threads;
// an engine guards its own state. It must not block on anything but its
// storage.

#include <memory>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "common/status.h"
#include "logical/request.h"
#include "storage/backend.h"

namespace coffer::logical {

// What an engine gets when it is created for a mount.
struct BackendConfig {
  storage::Backend& storage;  // the mount's view; outlives the engine
  Clock& clock;
  std::string mount_point;        // "secret/"
  std::string type;               // "kv"
  Json options = Json::object();  // mount options, e.g. {"version":"2"}
};

class Backend {
 public:
  virtual ~Backend() = default;

  // Handles a request whose relative_path is under this mount. Errors:
  // kNotFound (unknown path → 404), kMethodNotAllowed (known path, wrong
  // operation), kInvalidArgument (bad fields), kConflict (CAS).
  virtual Result<Response> HandleRequest(const Request& request) = 0;

  // For create-versus-update ACL decisions: whether the target of a write
  // already exists. Engines that don't distinguish answer true (update).
  virtual Result<bool> ExistenceCheck(const Request& request) {
    (void)request;
    return true;
  }

  // Called once after creation, before the first request (e.g. upgrades,
  // default config). Also called after every unseal.
  virtual Status Initialize() { return Status::Ok(); }

  // Whether this write can be answered on the I/O thread: it touches no
  // storage and blocks on nothing (e.g. transit's encrypt with a key already
  // in memory). Cheaper than the hand-off to the worker pool.
  virtual bool RunsInline(const Request& request) const {
    (void)request;
    return false;
  }

  // Auth methods: paths answered without a client token (login). The core
  // skips the token and ACL stages for them.
  virtual bool IsUnauthenticated(std::string_view relative_path) const {
    (void)relative_path;
    return false;
  }

  // Auth methods: the name a login request claims (userpass: the canonical
  // username; approle: the role_id), for the core's user lockout. "" when
  // the request names nobody (no lockout accounting).
  virtual std::string LoginAlias(const Request& request) const {
    (void)request;
    return "";
  }

  // Auth methods: the role a login request names, for role rate limit
  // quotas (by default the body's "role", as jwt has it). "" when none.
  // Called only when the mount has role quotas.
  virtual std::string LoginRole(const Request& request) {
    const Json* f = request.Field("role");
    return f != nullptr && f->is_string() ? f->get<std::string>() : "";
  }
};

}  // namespace coffer::logical
