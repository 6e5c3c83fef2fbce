#pragma once
// Logins: the core's half of every auth method (Vault's request_handling for
// login paths).
//
// A request to an auth mount's unauthenticated path (Backend::
// IsUnauthenticated, e.g. "auth/userpass/login/alice") needs no token. The
// method checks the credentials and answers a LoginResult; only then does
// Logins mint the token (TokenStore::CreateToken: an orphan service token,
// its lease registered under the login path) and fill Response::auth the way
// Vault's login response looks. A failed login never creates a token.
//
// Token TTLs: the method's token_ttl (0 = the mount's default_lease_ttl,
// 0 = the system default), capped by token_max_ttl and the mount's
// max_lease_ttl (0 = the system maximum, 768h by default).
//
// User lockout (Vault's user_lockout): failed logins are counted per mount
// and per alias name (Backend::LoginAlias: the canonical username, the
// role_id). After `lockout_threshold` failures, each less than
// `lockout_counter_reset` after the one before, the alias is refused with
// 403 "permission denied" — without calling the method — for
// `lockout_duration`. A success resets the count. Configured per mount by
// sys/auth/:path/tune {"user_lockout_config": {lockout_threshold,
// lockout_duration, lockout_counter_reset, lockout_disable}}; Vault's
// defaults (5, 15m, 15m). Counters live in memory (a restart forgets them).
//
// Thread-safe.

#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "events/bus.h"
#include "identity/mfa/mfa_store.h"
#include "identity/store.h"
#include "logical/request.h"
#include "router/router.h"
#include "token/token_store.h"

namespace coffer::core {

struct LockoutConfig {
  std::int64_t threshold = 5;
  std::chrono::seconds duration{15 * 60};
  std::chrono::seconds counter_reset{15 * 60};
  bool disabled = false;
};

// The lockout settings of a mount's config (its "user_lockout_config").
LockoutConfig LockoutConfigOf(const logical::Json& mount_config);
// Validates a user_lockout_config object from a tune request and returns
// its stored form. kInvalidArgument for bad values.
Result<logical::Json> ParseLockoutConfig(const logical::Json& in);

class Logins {
 public:
  Logins(token::TokenStore& tokens, Clock& clock, std::chrono::seconds default_ttl,
         std::chrono::seconds max_ttl)
      : tokens_(tokens), clock_(clock), default_ttl_(default_ttl), max_ttl_(max_ttl) {}

  // The auth mount and relative path when `path` is a login path of a
  // mounted auth method; nullopt otherwise.
  static std::optional<router::Router::Match> MatchLogin(const router::Router& router,
                                                         std::string_view path);

  // Runs a login request against its mount: lockout check, the method,
  // lockout bookkeeping, token minting. Errors: the method's (400 "invalid
  // username or password" and the like), kPermissionDenied while locked
  // out, storage errors from minting.
  Result<logical::Response> Login(logical::Request& request, const router::Router::Match& match);

  // The terms a login token of `mount` renews on, from what its method
  // answered (Backend::CheckLoginRenewal) and the mount as tuned now: the
  // same defaults and caps as at login (the mount's default and max TTL
  // within the system's).
  token::LoginTerms RenewalTerms(const router::MountEntry& mount,
                                 const logical::LoginRenewal& renewal) const;

  // Drops the lockout counters of a mount (when it is disabled).
  void ForgetMount(std::string_view accessor);

  // The aliases locked out right now (sys/locked-users), by mount accessor;
  // `config_of` gives each mount's lockout settings.
  struct LockedAlias {
    std::string accessor;
    std::string alias;
  };
  std::vector<LockedAlias> LockedUsers(
      const std::function<LockoutConfig(std::string_view accessor)>& config_of);
  // Forgets the failures of one alias (sys/locked-users/.../unlock). False
  // when nothing was counted for it.
  bool Unlock(std::string_view accessor, std::string_view alias);

  // Where coffer/login-failed and coffer/user-lockout go (set once, first).
  void SetEventBus(events::Bus* bus) { events_ = bus; }

  // Identity and login MFA (core/login_mfa.cc). A successful login is
  // linked to the entity of its (mount accessor, alias name), created on
  // first login, and the token carries its entity_id. When a login
  // enforcement applies, no token is minted: the answer carries
  // auth.mfa_requirement and an mfa_request_id that sys/mfa/validate
  // completes within kMfaRequestTtl (or X-Vault-MFA: method_id:passcode
  // completes it in the same request). Set once, before serving.
  void AttachIdentity(identity::IdentityStore* identity, identity::mfa::MfaStore* mfa) {
    identity_ = identity;
    mfa_ = mfa;
  }
  // sys/mfa/validate {mfa_request_id, mfa_payload: {method_id: [passcode]}}:
  // the login's real answer. kInvalidArgument for an unknown or expired
  // request id, kPermissionDenied for a failed passcode, kRateLimited.
  Result<logical::Response> ValidateMfa(const logical::Request& request);
  static constexpr std::chrono::seconds kMfaRequestTtl{300};

 private:
  struct Counter {
    std::int64_t failures = 0;
    std::int64_t in_flight = 0;  // attempts admitted while failures > 0
    std::chrono::steady_clock::time_point last_failure;
  };
  enum class Outcome { kFailed, kSucceeded, kNeutral };
  // Admits or refuses an attempt; *tracked says whether it counts in_flight.
  bool Admit(const std::string& key, const LockoutConfig& config, bool* tracked);
  void Record(const std::string& key, const LockoutConfig& config, bool tracked, Outcome outcome);
  // kInvalidArgument if a login would get "root" or an internal policy.
  // FinishLogin checks it before it creates anything; Mint relies on that.
  static Status CheckLoginPolicies(const std::vector<std::string>& policies);
  Result<logical::Response> Mint(const logical::Request& request, const router::MountEntry& mount,
                                 logical::LoginResult login, std::string entity_id = "");
  // A method's token_ttl and token_max_ttl (0: unset) resolved against the
  // mount's and the system's: the TTL granted (not yet capped by the max)
  // and the max.
  token::LoginTerms Terms(const router::MountEntry& mount, std::int64_t ttl,
                          std::int64_t max_ttl) const;

  token::TokenStore& tokens_;
  Clock& clock_;
  const std::chrono::seconds default_ttl_;
  const std::chrono::seconds max_ttl_;
  std::mutex mu_;
  std::unordered_map<std::string, Counter> counters_;  // guarded by mu_
  events::Bus* events_ = nullptr;
  // Login MFA state (login_mfa.cc).
  struct PendingMfa {
    logical::LoginResult login;
    router::MountEntry mount;
    std::string path;
    std::string entity_id;
    std::vector<identity::mfa::Constraint> constraints;
    std::chrono::steady_clock::time_point expires;
  };
  // After the method accepted the credentials: entity, MFA, token.
  Result<logical::Response> FinishLogin(const logical::Request& request,
                                        const router::MountEntry& mount,
                                        logical::LoginResult login);
  Status CheckMfaPayload(const PendingMfa& pending, const logical::Json& payload);
  identity::IdentityStore* identity_ = nullptr;
  identity::mfa::MfaStore* mfa_ = nullptr;
  std::mutex mfa_mu_;
  std::unordered_map<std::string, PendingMfa> pending_mfa_;  // guarded by mfa_mu_
  void PublishLoginEvent(std::string type, const logical::Request& request,
                         const std::string& mount_path) const;
};

}  // namespace coffer::core
