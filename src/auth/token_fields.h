#pragma once
// The token_* fields every login method stores on its users/roles (Vault's
// tokenutil): token_policies (alias "policies"), token_ttl, token_max_ttl,
// token_explicit_max_ttl, token_period (alias "period"), token_num_uses,
// token_no_default_policy, token_bound_cidrs, token_type.
//
// Plain values; not thread-safe on their own.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/cidr.h"
#include "common/status.h"
#include "logical/request.h"
#include "storage/backend.h"

namespace coffer::auth {

// The pre-token_* names a method still takes, each for its token_* field
// when that is not given too (Vault's tokenutil.UpgradeValue). "policies"
// and "period" are taken by every method.
struct LegacyTokenNames {
  bool ttl = false;          // "ttl": userpass, cert, jwt
  bool max_ttl = false;      // "max_ttl": userpass, cert, jwt
  bool num_uses = false;     // "num_uses": jwt
  bool bound_cidrs = false;  // "bound_cidrs": userpass, cert, jwt
};

struct TokenFields {
  std::vector<std::string> policies;
  std::int64_t ttl = 0;  // seconds
  std::int64_t max_ttl = 0;
  std::int64_t explicit_max_ttl = 0;
  std::int64_t period = 0;
  std::int64_t num_uses = 0;
  bool no_default_policy = false;
  std::vector<std::string> bound_cidrs;
  // "default" (the mount's tuned token_type decides), "service", "batch",
  // "default-service", "default-batch".
  std::string token_type = "default";
  // The values last given under a pre-token_* name (LegacyTokenNames), read
  // back under that name too, as Vault's entries keep them; a later value
  // under the token_* name clears them. 0 / empty: none.
  std::int64_t legacy_ttl = 0;
  std::int64_t legacy_max_ttl = 0;
  std::int64_t legacy_num_uses = 0;
  std::vector<std::string> legacy_bound_cidrs;

  // Applies the fields present in a request (create or update: absent
  // fields keep their value). kInvalidArgument for a malformed value, a
  // token_ttl above token_max_ttl, a negative token_num_uses, a bad CIDR, an
  // unknown token_type, or token_type batch/default-batch together with a
  // token_period or token_num_uses (batch tokens have neither).
  Status Update(const logical::Request& request, LegacyTokenNames legacy = {});

  // Vault's read shape: the token_* keys plus the legacy "policies" and
  // "period" copies, and "ttl", "max_ttl", "num_uses" and "bound_cidrs"
  // when they were given under those names.
  void AddTo(logical::Json& out) const;
  logical::Json ToStored() const;
  static TokenFields FromStored(const logical::Json& j);

  // The login answer's token part.
  logical::LoginResult ToLogin() const;
  // The terms a token minted from these fields renews on now
  // (Backend::CheckLoginRenewal): token_ttl, token_max_ttl, token_period.
  logical::LoginRenewal ToRenewal() const;
  // Whether a token's own policies are still these fields' token_policies:
  // as sets of canonical names, "default" left out (login adds it), as
  // Vault's policyutil.EquivalentPolicies compares them.
  bool SamePolicies(const std::vector<std::string>& token_policies) const;
};

// An entry (user, trusted certificate, ...) being created or updated: what
// storage holds under `key` (an empty object when it is new; kInternal
// naming `what` when corrupt) and its token_* fields with the request's
// changes applied (TokenFields::Update's errors).
struct EntryUpdate {
  logical::Json stored;
  TokenFields fields;
};
Result<EntryUpdate> BeginEntryUpdate(storage::Backend& storage, const std::string& key,
                                     std::string_view what, const logical::Request& request,
                                     LegacyTokenNames legacy);

// Backend::CheckLoginRenewal of a method whose logins name their role in
// the token's "role" metadata (JWT, Kubernetes): the role's token fields
// now, as `role_token` reads them (nullopt when the role is gone: then
// kInvalidArgument "role <name> does not exist during renewal", Vault's
// words). A token without that metadata renews on its own terms.
Result<std::optional<logical::LoginRenewal>> RenewWhileRoleExists(
    const logical::LoginRenewalRequest& renewal,
    const std::function<Result<std::optional<TokenFields>>(const std::string& role)>& role_token);

// The CIDR helpers live in common/cidr.h (tokens use them too).
using ::coffer::AddressAllowed;
using ::coffer::CidrsWithin;
using ::coffer::ValidateCidrs;

// Lower-cased with surrounding white space removed: the canonical form of a
// username or role name.
std::string Canonical(std::string_view name);

// `relative_path` with its segment `index` (0-based, split on '/') in
// canonical form, for a method's AclPath; unchanged without that segment.
std::string WithCanonicalSegment(std::string_view relative_path, std::size_t index);

// The canonical name of a "login/<name>" request path (trailing slashes
// dropped, as the methods' routing drops them), for a method's LoginAlias:
// "login/Bob/" and "login/bob" share one lockout counter. "" for other
// paths.
std::string LoginPathName(std::string_view relative_path);

}  // namespace coffer::auth
