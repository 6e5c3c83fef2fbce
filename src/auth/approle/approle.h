#pragma once
// The AppRole auth method (Vault's auth/approle API), mounted at
// "auth/<path>/". Machines log in with a role_id (not secret, like a
// username) and a secret_id (secret, like a password, usually short-lived
// and delivered wrapped).
//
//   role (LIST) · role/:name POST/GET/DELETE {bind_secret_id,
//       secret_id_bound_cidrs, secret_id_num_uses, secret_id_ttl, role_id
//       (creation only), token_*}
//   role/:name/role-id                 GET · POST {role_id}
//   role/:name/secret-id               POST {metadata, cidr_list,
//       token_bound_cidrs, num_uses, ttl} → {secret_id, secret_id_accessor,
//       secret_id_ttl, secret_id_num_uses} · LIST → accessors
//   role/:name/custom-secret-id        POST {secret_id, ...as above}
//   role/:name/secret-id/lookup        POST {secret_id}
//   role/:name/secret-id/destroy       POST/DELETE {secret_id}
//   role/:name/secret-id-accessor/lookup|destroy  POST {secret_id_accessor}
//       (an accessor only acts within its own role)
//   tidy/secret-id                     POST → 202, in the background (200 while one runs)
//   login                              POST {role_id, secret_id} (no token)
//
// Secret IDs are never stored: only HMAC-SHA256(role's key, secret_id), as
// the storage key and inside the entry, where it is compared in constant
// time. Role IDs and accessors are indexed by HMAC under a mount salt.
//
// Storage (the mount's view):
//   salt                       hex of 32 random bytes
//   role/<name>                role JSON (with the role's HMAC key)
//   role_id/<hmac(role_id)>    {"name"}
//   secret_id/<name>/<hmac>    secret ID entry
//   accessor/<hmac(accessor)>  {"role", "secret_id_hmac"}
//
// Thread-safe: logins read through an in-memory role cache (cleared on every
// role write); writes and secret-ID use counts are serialised per mount.

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "auth/token_fields.h"
#include "common/background_job.h"
#include "common/clock.h"
#include "common/secret_bytes.h"
#include "logical/backend.h"

namespace coffer::auth::approle {

struct Role {
  std::string name;
  std::string role_id;
  bool bind_secret_id = true;
  std::vector<std::string> secret_id_bound_cidrs;
  std::int64_t secret_id_num_uses = 0;
  std::int64_t secret_id_ttl = 0;
  bool local_secret_ids = false;
  TokenFields token;
  std::string hmac_key;  // hex; keys the secret ID HMACs of this role
};

struct SecretIdEntry {
  std::string secret_id_hmac;  // hex
  std::string accessor;
  std::int64_t creation_time = 0;    // unix seconds
  std::int64_t expiration_time = 0;  // 0 = never
  std::int64_t last_updated_time = 0;
  std::map<std::string, std::string> metadata;
  std::vector<std::string> cidr_list;
  std::vector<std::string> token_bound_cidrs;
  std::int64_t num_uses = 0;  // uses left; 0 = unlimited
  std::int64_t ttl = 0;
};

class AppRoleBackend final : public logical::Backend {
 public:
  explicit AppRoleBackend(const logical::BackendConfig& config)
      : storage_(config.storage), clock_(config.clock) {}

  Result<logical::Response> HandleRequest(const logical::Request& request) override;
  // A token renews only while its role exists (Vault's words).
  Result<std::optional<logical::LoginRenewal>> CheckLoginRenewal(
      const logical::LoginRenewalRequest& renewal) override;
  // role/:name: whether the role exists (creating one needs "create").
  Result<bool> ExistenceCheck(const logical::Request& request) override;
  Status Initialize() override;
  bool IsUnauthenticated(std::string_view relative_path) const override;
  std::string LoginAlias(const logical::Request& request) const override;
  // Names are canonical here (lower case, trimmed): the ACL checks the
  // canonical path too.
  std::string AclPath(std::string_view relative_path) const override;
  // The name of the role whose role_id the login carries.
  std::string LoginRole(const logical::Request& request) override;
  // Path help for the routes above (approle_help.cc).
  logical::EngineHelp Help() const override;

 private:
  // approle.cc: roles and login.
  Result<logical::Response> RoleRoute(const logical::Request& request, const std::string& name);
  Result<logical::Response> RoleIdRoute(const logical::Request& request, const std::string& name);
  Result<logical::Response> ListRoles();
  Result<logical::Response> Login(const logical::Request& request);
  Status DeleteRole(const Role& role);

  // secret_ids.cc: secret IDs.
  Result<logical::Response> GenerateSecretId(const logical::Request& request, const Role& role,
                                             bool custom);
  Result<logical::Response> ListSecretIds(const Role& role);
  Result<logical::Response> SecretIdLookup(const logical::Request& request, const Role& role,
                                           bool destroy);
  Result<logical::Response> AccessorRoute(const logical::Request& request, const Role& role,
                                          bool destroy);
  // tidy/secret-id: removes expired secret IDs, those of deleted roles, and
  // accessor entries without a secret ID; how many secret IDs it removed.
  // StartTidy runs it in the background (false: one is running already).
  bool StartTidy();
  Result<std::size_t> TidySecretIds(const std::atomic<bool>* stop);
  // Checks a secret ID at login and spends one use. nullopt when it is
  // unknown, expired or used up.
  Result<std::optional<SecretIdEntry>> UseSecretId(const Role& role, std::string_view secret_id);
  Result<std::optional<SecretIdEntry>> ReadSecretId(const Role& role, const std::string& hmac);
  Status DeleteSecretId(const Role& role, const SecretIdEntry& entry);

  // Storage helpers.
  Result<std::optional<Role>> ReadRole(const std::string& name);
  Status WriteRole(const Role& role);
  // The role a role_id belongs to, through the cache.
  Result<std::shared_ptr<const Role>> RoleByRoleId(std::string_view role_id);
  std::string SaltedHex(std::string_view data) const;
  std::string SecretHmac(const Role& role, std::string_view secret_id) const;
  std::int64_t Now() const;
  void ClearCache();

  storage::Backend& storage_;
  Clock& clock_;
  SecretBytes salt_;     // set by Initialize, read-only afterwards
  std::mutex write_mu_;  // serialises writes: roles, secret IDs, use counts
  std::shared_mutex cache_mu_;
  std::unordered_map<std::string, std::shared_ptr<const Role>> by_role_id_;  // guarded by cache_mu_
  // Bumped by every ClearCache (guarded by cache_mu_): a lookup that read
  // storage before a role change does not cache what it read.
  std::uint64_t cache_generation_ = 0;
  BackgroundJob tidy_job_;  // last member: stopped before the rest goes
};

// Registers the "approle" auth method type. Idempotent.
void RegisterApprole();

// Role/secret ID (de)serialisation, shared by approle.cc and secret_ids.cc.
logical::Json RoleToJson(const Role& role);
Result<Role> RoleFromJson(const logical::Json& j);
logical::Json SecretIdToJson(const SecretIdEntry& e);
SecretIdEntry SecretIdFromJson(const logical::Json& j);

}  // namespace coffer::auth::approle
