#pragma once
// The token and ACL stages of the pipeline: who is calling, and may they do
// this? Looks up the client token (constant-time by construction: the lookup
// key is a salted HMAC), compiles or fetches the cached ACL for its policy
// set, checks the operation and parameters, enforces sudo-protected paths and
// the policy's wrapping TTL bounds, then spends one use of a use-limited
// token. On success the request carries the caller (request.auth).
//
// Thread-safe (holds references to thread-safe stores).

#include <string_view>

#include "common/status.h"
#include "identity/store.h"
#include "logical/request.h"
#include "policy/policy_store.h"
#include "token/token_store.h"

namespace coffer::core {

class Authorizer {
 public:
  Authorizer(token::TokenStore& tokens, policy::PolicyStore& policies)
      : tokens_(tokens), policies_(policies) {}

  // kPermissionDenied ("permission denied") for a missing, unknown, expired
  // or revoked token, a denied operation, or a sudo path without sudo;
  // kInvalidArgument for a wrap TTL outside the policy's bounds.
  // `also`: the other paths the request acts on (a name in it put in
  // canonical form, Backend::AclPath): each must be allowed too.
  Status Authorize(logical::Request& request, const std::vector<std::string>& also = {});

  // Only the token stage: a valid token sets request.auth; no ACL check.
  // For paths that filter their answer by the caller's ACL themselves
  // (sys/internal/ui/mounts).
  Status Authenticate(logical::Request& request);

  // Whether the caller may see a mount (path with its trailing '/') in
  // sys/internal/ui/mounts: policy::Acl::ReachesMount.
  Result<bool> HasMountAccess(const logical::Auth& auth, std::string_view mount_path);

  // The capabilities a token's policies grant on a path (sys/capabilities).
  Result<std::vector<std::string>> Capabilities(const token::TokenEntry& entry,
                                                std::string_view path);

  // Identity: a token with an entity gets, at every request, its own
  // policies ∪ the entity's ∪ those of every group the entity is in
  // (through subgroups too), read from the identity store's current
  // snapshot; the compiled ACL is cached by that set, so a membership change
  // applies to the next request. The tokens of a disabled or deleted entity
  // are refused (kPermissionDenied).
  // Set once, before serving.
  void SetIdentity(const identity::IdentityStore* identity) { identity_ = identity; }
  Result<std::vector<std::string>> EffectivePolicies(const token::TokenEntry& entry) const;

  // The compiled ACL of `policies` for a caller with this entity ("" for
  // none): templated paths ({{identity.entity.name}}, ...) are filled in
  // from the identity store's current data.
  Result<std::shared_ptr<const policy::Acl>> AclFor(const std::vector<std::string>& policies,
                                                    std::string_view entity_id);

 private:
  // Spends one use of a use-limited token, for a request it may make;
  // `entry` becomes the token after it. kPermissionDenied when no use is
  // left. A last use is not revoked here: `last_use` says so, and the core
  // revokes the token after the request.
  Status SpendUse(std::shared_ptr<const token::TokenEntry>& entry, bool& last_use);

  const identity::IdentityStore* identity_ = nullptr;
  token::TokenStore& tokens_;
  policy::PolicyStore& policies_;
};

}  // namespace coffer::core
