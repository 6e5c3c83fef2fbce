#pragma once
// A JWT role (auth/<mount>/role/:name): what a token must look like to log
// in, and what the resulting Coffer token carries.
//
// Plain value; not thread-safe on its own.

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "auth/jwt/claims.h"
#include "auth/token_fields.h"
#include "common/status.h"
#include "logical/request.h"
#include "storage/backend.h"

namespace coffer::auth::jwt {

struct Role {
  std::string name;
  std::string role_type = "jwt";
  std::vector<std::string> bound_audiences;
  std::string bound_subject;
  nlohmann::json bound_claims = nlohmann::json::object();    // claim → value | [values]
  std::string bound_claims_type = "string";                  // "string" or "glob"
  nlohmann::json claim_mappings = nlohmann::json::object();  // claim → metadata key
  std::string user_claim;
  std::string groups_claim;
  // Seconds, Vault's defaults; a negative value (Vault's -1) means none.
  std::int64_t clock_skew_leeway = 60;
  std::int64_t expiration_leeway = 150;
  std::int64_t not_before_leeway = 150;
  // Vault's user_claim_json_pointer, reported as set. A user_claim starting
  // with "/" is read as a JSON pointer either way (claims.h).
  bool user_claim_json_pointer = false;
  // The browser login's settings (oidc_flow.h): the redirect URIs a login
  // may name, scopes asked for besides "openid", and max_age in seconds
  // (0: none). verbose_oidc_logging logs the ID token without its
  // signature and the claims at debug level, as Vault does.
  std::vector<std::string> allowed_redirect_uris;
  std::vector<std::string> oidc_scopes;
  std::int64_t max_age = 0;
  bool verbose_oidc_logging = false;
  TokenFields token;

  // Applies the fields present in a create/update request (a new role is
  // "oidc" unless it says otherwise, as in Vault; the caller sets that).
  // kInvalidArgument for a bad value, a role_type other than "jwt" or
  // "oidc", a missing user_claim, an oidc role without
  // allowed_redirect_uris, a jwt role without any binding (bound_audiences,
  // bound_subject, bound_claims or token_bound_cidrs), or claim_mappings
  // that collide or use "role".
  Status Update(const logical::Request& request);

  Leeways EffectiveLeeways() const;

  nlohmann::json ToJson() const;  // stored form and read answer
  static Result<Role> FromJson(const nlohmann::json& j);
};

// "missing role name" / "invalid role name" (a name with a '/').
Status ValidRoleName(const std::string& name);

// The role stored under role/<name> in the mount's view; nullopt when none.
Result<std::optional<Role>> ReadRole(storage::Backend& storage, const std::string& name);

}  // namespace coffer::auth::jwt
