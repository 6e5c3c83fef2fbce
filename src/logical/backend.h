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

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/secret_bytes.h"
#include "common/status.h"
#include "logical/help.h"
#include "logical/request.h"
#include "storage/backend.h"

namespace coffer::events {
class Bus;  // events/bus.h
}  // namespace coffer::events

namespace coffer::logical {

// What an engine gets when it is created for a mount.
struct BackendConfig {
  storage::Backend& storage;  // the mount's view; outlives the engine
  Clock& clock;
  std::string mount_point;        // "secret/"
  std::string type;               // "kv"
  Json options = Json::object();  // mount options, e.g. {"version":"2"}
  // Generates a password with the named password policy (sys/policies/password),
  // or with the default generator when the name is empty. Null when the host
  // offers none (unit tests); kNotFound for an unknown policy.
  std::function<Result<SecretBytes>(std::string_view policy)> generate_password;
  // Where the engine publishes change events (events/bus.h); null in unit
  // tests that don't care.
  events::Bus* events = nullptr;
};

// A lease this engine issued (Response::secret), handed back when the lease
// is revoked or renewed: `internal` is what the engine put in
// Response::secret->internal.
struct SecretLease {
  std::string lease_id;
  std::string path;  // the request path that created it
  Json internal = Json::object();
  std::int64_t issue_time = 0;   // unix seconds
  std::int64_t expire_time = 0;  // unix seconds, after a renewal: the new one
  std::int64_t ttl = 0;          // seconds granted by the last issue/renewal
};

// The TTLs that bound a lease's renewal now, in seconds; 0 where nothing
// is set.
struct SecretTtls {
  std::int64_t default_ttl = 0;  // what a renewal without an increment gets
  std::int64_t max_ttl = 0;      // from the issue; bounds every renewal
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

  // Path help (logical/help.h): what the engine is for and its routes.
  virtual EngineHelp Help() const { return {}; }

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

  // Whether HandleRequest takes Operation::kScan (a recursive list). The core
  // answers 405 for a scan of any other engine, so an engine whose dispatch
  // treats unknown operations as writes never sees one.
  virtual bool HandlesScan() const { return false; }

  // Whether this write waits for a storage commit only inside SuspendScopes
  // (common/fiber.h) where it holds no lock that another request on the
  // same thread could wait for. The core then runs it in a fiber on the I/O
  // thread (local storage, no audit device, no wrapping): the commit wait
  // suspends the fiber and the thread serves others meanwhile, instead of a
  // worker sleeping through it. Any other wait blocks the thread.
  virtual bool SuspendsForCommit(const Request& request) const {
    (void)request;
    return false;
  }

  // Auth methods: paths answered without a client token (login). The core
  // skips the token and ACL stages for them.
  virtual bool IsUnauthenticated(std::string_view relative_path) const {
    (void)relative_path;
    return false;
  }

  // The path, relative to the mount, that a request for `relative_path`
  // acts on when the engine puts a name in it in canonical form (userpass's
  // "users/ALICE" is alice's entry). The core's ACL check must allow that
  // path too, or a deny on "users/alice" would not hold for "users/ALICE".
  // The path itself by default.
  virtual std::string AclPath(std::string_view relative_path) const {
    return std::string(relative_path);
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
    // Read as the login reads it: a number or a boolean names a role too.
    const Json* f = request.Field("role");
    std::optional<std::string> role = f != nullptr ? WeakString(*f) : std::nullopt;
    return role.value_or("");
  }

  // Auth methods: whether a token this method minted may still be renewed,
  // and on what terms, as Vault's methods decide at each renewal, from the
  // token's metadata (the login's role or user), its own policies, what
  // the login kept (LoginResult::internal) and the renewing client's TLS
  // chain. The role's or user's token_ttl, token_max_ttl and token_period
  // as they are now (LoginRenewal); nullopt when the metadata names nothing
  // of this method's (the token keeps its own terms); kInvalidArgument
  // when the role or user is gone, where Vault's method checks it
  // (userpass, cert) when its policies changed, and for cert when the
  // client does not present the certificate it logged in with.
  virtual Result<std::optional<LoginRenewal>> CheckLoginRenewal(
      const LoginRenewalRequest& renewal) {
    (void)renewal;
    return std::optional<LoginRenewal>();
  }

  // Engines that issue leased secrets: undoes one (drops the database user).
  // Called by the core when the lease expires or is revoked, possibly after
  // a restart and from any thread; must be idempotent. An error keeps the
  // lease and makes the core retry later.
  virtual Status RevokeSecret(const SecretLease& lease) {
    (void)lease;
    return Status::Ok();
  }
  // Called before the core writes a renewed lease (lease.expire_time is
  // the new expiry), e.g. to push a database user's VALID UNTIL. An error
  // refuses the renewal: the lease record keeps its old expiry.
  virtual Status RenewSecret(const SecretLease& lease) {
    (void)lease;
    return Status::Ok();
  }
  // For a renewal: the TTLs the engine gives a lease of this secret now,
  // as Vault's engines return them with each renewal (a database role's
  // default_ttl and max_ttl, which may have changed since the issue).
  virtual SecretTtls RenewalTtls(const SecretLease& lease) {
    (void)lease;
    return {};
  }
};

}  // namespace coffer::logical
