#include "core/authorizer.h"

#include <algorithm>

#include "common/cidr.h"
#include "common/duration.h"
#include "core/wrapping.h"
#include "policy/sudo_paths.h"

namespace coffer::core {
namespace {

std::shared_ptr<logical::Auth> MakeAuth(const token::TokenEntry& entry, bool root, bool sudo) {
  auto auth = std::make_shared<logical::Auth>();
  auth->token_hmac = entry.id_hmac;
  auth->accessor = entry.accessor;
  auth->policies = entry.policies;
  auth->display_name = entry.display_name;
  auth->metadata = entry.meta;
  auth->entity_id = entry.entity_id;
  auth->root = root;
  auth->sudo = sudo;
  auth->batch = entry.batch;
  auth->ttl = entry.ttl;
  return auth;
}

bool IsWrappingToken(const token::TokenEntry& entry) { return IsWrappingPolicySet(entry.policies); }

// A wrapping token may only unwrap (also the older way, reading
// cubbyhole/response), look itself up or be rewrapped.
bool WrappingTokenMayUse(std::string_view path, logical::Operation op) {
  if (path == "cubbyhole/response") return op == logical::Operation::kRead;
  return path == "sys/wrapping/unwrap" || path == "sys/wrapping/lookup" ||
         path == "sys/wrapping/rewrap";
}

}  // namespace

Result<std::vector<std::string>> Authorizer::EffectivePolicies(
    const token::TokenEntry& entry) const {
  if (identity_ == nullptr || entry.entity_id.empty()) return entry.policies;
  std::string_view entity_id = entry.entity_id;
  auto entity = identity_->EntityById(entity_id);
  std::string merged_into;
  if (!entity) {
    // A merged entity's tokens act for the entity it was merged into (only
    // looked for when the token's own entity is gone).
    merged_into = identity_->CurrentEntityId(entry.entity_id);
    entity_id = merged_into;
    if (!merged_into.empty()) entity = identity_->EntityById(merged_into);
  }
  // A deleted entity's tokens are refused, not left with their own policies
  // (Vault: "the entity on the token is invalid").
  if (!entity || entity->disabled) return Err(PermissionDenied());
  std::vector<std::string> out = entry.policies;
  for (auto& p : identity_->IdentityPolicies(entity_id)) {
    if (std::find(out.begin(), out.end(), p) == out.end()) out.push_back(std::move(p));
  }
  return out;
}

Result<std::shared_ptr<const policy::Acl>> Authorizer::AclFor(
    const std::vector<std::string>& policies, std::string_view entity_id) {
  if (identity_ == nullptr || entity_id.empty()) return policies_.AclFor(policies);
  policy::AclIdentity who;
  who.entity_id = entity_id;
  who.generation = identity_->generation();  // before resolve reads the data
  who.resolve = [this, &who]() -> std::optional<policy::TemplateIdentity> {
    // A merged entity's tokens act for the entity it was merged into; a
    // merge moves the generation on, so this is resolved afresh after one.
    auto entity = identity_->EntityById(identity_->CurrentEntityId(who.entity_id));
    if (!entity) return std::nullopt;
    policy::TemplateIdentity t;
    t.entity_id = entity->id;
    t.entity_name = entity->name;
    t.entity_metadata.insert(entity->metadata.begin(), entity->metadata.end());
    for (const auto& a : identity_->AliasesOf(entity->id)) {
      t.aliases.push_back({a.mount_accessor, a.id, a.name, {}, {}});
      t.aliases.back().custom_metadata.insert(a.custom_metadata.begin(), a.custom_metadata.end());
      t.aliases.back().metadata.insert(a.metadata.begin(), a.metadata.end());
    }
    for (const auto& id : identity_->AllGroupIds(entity->id)) {
      auto group = identity_->GroupById(id);
      if (!group) continue;
      t.groups.push_back({group->id, group->name, {}});
      t.groups.back().metadata.insert(group->metadata.begin(), group->metadata.end());
    }
    return t;
  };
  return policies_.AclFor(policies, &who);
}

Result<std::vector<std::string>> Authorizer::Capabilities(const token::TokenEntry& entry,
                                                          std::string_view path) {
  ASSIGN_OR_RETURN(auto effective, EffectivePolicies(entry));
  ASSIGN_OR_RETURN(auto acl, AclFor(effective, entry.entity_id));
  return acl->Capabilities(path);
}

namespace {

// A token bound to CIDR blocks is refused from any other address, whatever
// the path. As in Vault, the binding applies to every token that expires.
bool FromBoundAddress(const token::TokenEntry& entry, const logical::Request& request) {
  return entry.ttl == 0 || AddressAllowed(request.remote_address, entry.bound_cidrs);
}

}  // namespace

Status Authorizer::SpendUse(std::shared_ptr<const token::TokenEntry>& entry, bool& last_use) {
  ASSIGN_OR_RETURN(auto used, tokens_.UseToken(entry->id_hmac, &last_use));
  if (!used) return PermissionDenied();
  entry = std::move(used);
  return Status::Ok();
}

Status Authorizer::Authenticate(logical::Request& request) {
  if (request.client_token.empty()) return PermissionDenied();
  ASSIGN_OR_RETURN(auto entry, tokens_.Lookup(request.client_token));
  if (!entry || IsWrappingToken(*entry)) return PermissionDenied();
  if (!FromBoundAddress(*entry, request)) return PermissionDenied();
  // A use-limited token spends a use on these requests too (help, the UI's
  // mount listing), as on every request in Vault; the core finishes a last
  // use after the request.
  bool last_use = false;
  if (entry->num_uses != 0) TRY(SpendUse(entry, last_use));
  ASSIGN_OR_RETURN(auto effective, EffectivePolicies(*entry));
  auto auth = MakeAuth(*entry, entry->IsRoot(), entry->IsRoot());
  auth->policies = std::move(effective);
  auth->last_use = last_use;
  request.auth = std::move(auth);
  return Status::Ok();
}

Result<bool> Authorizer::HasMountAccess(const logical::Auth& auth, std::string_view mount_path) {
  ASSIGN_OR_RETURN(auto acl, AclFor(auth.policies, auth.entity_id));
  return acl->ReachesMount(mount_path);
}

Status Authorizer::Authorize(logical::Request& request, const std::vector<std::string>& also) {
  if (request.client_token.empty()) return PermissionDenied();
  ASSIGN_OR_RETURN(auto entry, tokens_.Lookup(request.client_token));
  if (!entry) return PermissionDenied();
  if (!FromBoundAddress(*entry, request)) return PermissionDenied();

  bool allowed = false;
  bool sudo = false;
  bool root = false;
  std::chrono::seconds min_wrap{0}, max_wrap{0};
  std::function<Result<bool>(const std::string&)> may_see_listed;
  std::vector<std::string> effective = entry->policies;
  if (IsWrappingToken(*entry)) {
    allowed = WrappingTokenMayUse(request.path, request.operation);
  } else {
    ASSIGN_OR_RETURN(effective, EffectivePolicies(*entry));
    ASSIGN_OR_RETURN(auto acl, AclFor(effective, entry->entity_id));
    policy::Decision d = acl->Check(request.path, request.operation, request.data);
    allowed = d.allowed;
    sudo = d.sudo || d.root;
    root = d.root;
    min_wrap = d.min_wrapping_ttl;
    max_wrap = d.max_wrapping_ttl;
    // Many routes serve "name/" as "name" (a role, a config, a key): a
    // request whose path ends in '/' must be allowed without the slash too,
    // or "role/admin/" would pass a deny on "role/admin". A list is of the
    // folder itself, and keeps its slash.
    // The same goes for a name the handler puts in canonical form
    // (`also`): "sys/policy/ADMIN" is the policy "admin".
    auto also_allowed = [&](std::string_view other) {
      policy::Decision b = acl->Check(std::string(other), request.operation, request.data);
      allowed = allowed && b.allowed && (!policy::IsSudoPath(other) || b.sudo || b.root);
      min_wrap = std::max(min_wrap, b.min_wrapping_ttl);
      if (b.max_wrapping_ttl.count() > 0 &&
          (max_wrap.count() == 0 || b.max_wrapping_ttl < max_wrap)) {
        max_wrap = b.max_wrapping_ttl;
      }
    };
    if (allowed && !d.root && !logical::IsListOperation(request.operation)) {
      // Each path, and each without its trailing slashes ("users/ALICE/"
      // is "users/alice").
      auto with_bare = [&](std::string_view p) {
        if (p != request.path) also_allowed(p);
        std::string_view bare = p;
        while (!bare.empty() && bare.back() == '/') bare.remove_suffix(1);
        if (bare != p) also_allowed(bare);
      };
      with_bare(request.path);
      for (const std::string& other : also) with_bare(other);
    }
    if (allowed && d.set_limit) {
      // pagination_limit (or limit=max): the engine sees the bounded limit.
      // Both places, as engines read the query first.
      request.query["limit"] = *d.set_limit;
      if (request.data.is_object()) request.data["limit"] = *d.set_limit;
    }
    if (allowed && d.keys_filter != nullptr) {
      // OpenBao's filtering: a listed name stays only if the caller may read
      // the path the filter names for it (list it, for a folder), sudo
      // included where the path needs it. `acl` keeps the filter alive.
      may_see_listed = [acl, filter = d.keys_filter,
                        path = request.path](const std::string& key) -> Result<bool> {
        ASSIGN_OR_RETURN(std::string check, policy::KeysFilterPath(*filter, path, key));
        const auto op = key.ends_with('/') ? logical::Operation::kList : logical::Operation::kRead;
        policy::Decision k = acl->Check(check, op, logical::Json::object());
        return k.allowed && (!policy::IsSudoPath(check) || k.sudo);
      };
    }
  }
  // A use-limited token's request spends a use even when its policies
  // refuse it, as in Vault: such a token cannot probe paths for free. Its
  // last use revokes it at once. (A token from outside its bound addresses
  // spends none: it was refused before it was used, above.)
  const bool spends_use = entry->num_uses != 0 && !IsWrappingToken(*entry);
  auto refuse = [&]() -> Status {
    if (spends_use) {
      auto used = tokens_.UseToken(entry->id_hmac);
      if (!used) return used.error();
    }
    return PermissionDenied();
  };
  if (!allowed) return refuse();
  if (policy::IsSudoPath(request.path) && !sudo) return refuse();

  // A rule with min_wrapping_ttl or max_wrapping_ttl makes wrapping
  // mandatory: an unwrapped request, or a wrap TTL outside the bounds, is
  // refused like any other request the policy does not allow (Vault).
  if (min_wrap.count() > 0 || max_wrap.count() > 0) {
    if (request.wrap_ttl.empty()) return refuse();
    ASSIGN_OR_RETURN(std::chrono::seconds ttl, ParseDuration(request.wrap_ttl));
    if (min_wrap.count() > 0 && ttl < min_wrap) return refuse();
    if (max_wrap.count() > 0 && ttl > max_wrap) return refuse();
  }

  // An allowed request's last use is finished by the core after the
  // request, which may still use the token (lookup-self, its cubbyhole). A
  // wrapping token's single use is spent by the unwrap itself, which needs
  // its cubbyhole.
  bool last_use = false;
  if (spends_use) TRY(SpendUse(entry, last_use));

  auto auth = MakeAuth(*entry, root, sudo);
  auth->policies = std::move(effective);
  auth->last_use = last_use;
  auth->may_see_listed = std::move(may_see_listed);
  request.auth = std::move(auth);
  return Status::Ok();
}

}  // namespace coffer::core
