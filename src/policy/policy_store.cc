#include "policy/policy_store.h"

#include <fmt/format.h>

#include <algorithm>

namespace coffer::policy {

// Vault's default policy (vault/policy_store.go).
const std::string_view kDefaultPolicyText = R"(# Tokens may look up their own properties.
path "auth/token/lookup-self" {
    capabilities = ["read"]
}

# A token with an entity may read that entity, by id or by name.
path "identity/entity/id/{{identity.entity.id}}" {
    capabilities = ["read"]
}
path "identity/entity/name/{{identity.entity.name}}" {
    capabilities = ["read"]
}

# Tokens may renew themselves.
path "auth/token/renew-self" {
    capabilities = ["update"]
}

# Tokens may revoke themselves.
path "auth/token/revoke-self" {
    capabilities = ["update"]
}

# A token may look up its own capabilities on a path.
path "sys/capabilities-self" {
    capabilities = ["update"]
}

# A token may read its resultant ACL (used by UIs; the format is internal).
path "sys/internal/ui/resultant-acl" {
    capabilities = ["read"]
}

# Lease renewal by lease_id in the body: old path and new path.
path "sys/renew" {
    capabilities = ["update"]
}
path "sys/leases/renew" {
    capabilities = ["update"]
}

# Lease lookup (needs the lease id; reveals nothing sensitive).
path "sys/leases/lookup" {
    capabilities = ["update"]
}

# A token's own cubbyhole.
path "cubbyhole/*" {
    capabilities = ["create", "read", "update", "delete", "list"]
}

# Response wrapping: wrap, look up and unwrap.
path "sys/wrapping/wrap" {
    capabilities = ["update"]
}
path "sys/wrapping/lookup" {
    capabilities = ["update"]
}
path "sys/wrapping/unwrap" {
    capabilities = ["update"]
}

# General purpose tools.
path "sys/tools/hash" {
    capabilities = ["update"]
}
path "sys/tools/hash/*" {
    capabilities = ["update"]
}

# Status of a control group request, given its accessor.
path "sys/control-group/request" {
    capabilities = ["update"]
}

# Requests to the authorization endpoint of OIDC providers.
path "identity/oidc/provider/+/authorize" {
    capabilities = ["read", "update"]
}
)";

// Vault's response-wrapping policy (vault/policy_store.go).
const std::string_view kResponseWrappingPolicyText = R"(path "cubbyhole/response" {
    capabilities = ["create", "read"]
}

path "sys/wrapping/unwrap" {
    capabilities = ["update"]
}
)";

namespace {

constexpr std::string_view kRoot = "root";
constexpr std::string_view kDefault = "default";
constexpr std::string_view kResponseWrapping = "response-wrapping";

// Built-ins that cannot be written or deleted (Vault's immutable policies).
bool Immutable(std::string_view canonical) {
  return canonical == kRoot || canonical == kResponseWrapping;
}

}  // namespace

PolicyStore::PolicyStore(storage::Backend& storage, std::size_t acl_cache_size)
    : storage_(storage), acl_cache_size_(acl_cache_size == 0 ? 1 : acl_cache_size) {}

void PolicyStore::InvalidateLocked() {
  ++generation_;
  policies_.clear();
  acls_.clear();
  caller_acls_ = 0;
}

Status PolicyStore::Load() {
  std::scoped_lock write(write_mu_);
  {
    std::unique_lock lock(mu_);
    InvalidateLocked();
  }
  ASSIGN_OR_RETURN(auto existing, storage_.Get(kDefault));
  if (existing.has_value()) return Status::Ok();
  TRY(storage_.Put(kDefault, kDefaultPolicyText));
  std::unique_lock lock(mu_);
  InvalidateLocked();
  return Status::Ok();
}

Result<std::shared_ptr<const Policy>> PolicyStore::Get(std::string_view name) {
  std::string canonical = CanonicalPolicyName(name);
  if (canonical == kRoot) {
    auto root = std::make_shared<Policy>();
    root->name = std::string(kRoot);
    return std::shared_ptr<const Policy>(std::move(root));
  }
  if (!ValidatePolicyName(canonical).ok()) return std::shared_ptr<const Policy>();
  std::uint64_t generation;
  {
    std::shared_lock lock(mu_);
    auto it = policies_.find(canonical);
    if (it != policies_.end()) return it->second;
    generation = generation_;
  }
  std::string text;
  if (canonical == kResponseWrapping) {
    text = kResponseWrappingPolicyText;  // built in, whatever storage holds
  } else {
    ASSIGN_OR_RETURN(auto entry, storage_.Get(canonical));
    if (!entry.has_value()) return std::shared_ptr<const Policy>();
    text = std::move(entry->value);
  }
  Result<Policy> parsed = ParsePolicy(canonical, text);
  if (!parsed) {
    return Err(Internal(fmt::format("stored policy \"{}\" does not parse: {}", canonical,
                                    parsed.error().message())));
  }
  auto policy = std::make_shared<const Policy>(std::move(*parsed));
  std::unique_lock lock(mu_);
  if (generation == generation_) policies_.emplace(canonical, policy);
  return std::shared_ptr<const Policy>(std::move(policy));
}

Status PolicyStore::Set(std::string_view name, std::string_view text) {
  std::string canonical = CanonicalPolicyName(name);
  TRY(ValidatePolicyName(canonical));
  if (Immutable(canonical)) {
    return InvalidArgument(fmt::format("cannot update \"{}\" policy", canonical));
  }
  Result<Policy> parsed = ParsePolicy(canonical, text);
  if (!parsed) return parsed.error();
  std::scoped_lock write(write_mu_);
  TRY(storage_.Put(canonical, text));
  std::unique_lock lock(mu_);
  InvalidateLocked();
  return Status::Ok();
}

Status PolicyStore::Delete(std::string_view name) {
  std::string canonical = CanonicalPolicyName(name);
  TRY(ValidatePolicyName(canonical));
  if (Immutable(canonical)) {
    return InvalidArgument(fmt::format("cannot delete \"{}\" policy", canonical));
  }
  if (canonical == kDefault) return InvalidArgument("cannot delete default policy");
  std::scoped_lock write(write_mu_);
  TRY(storage_.Delete(canonical));
  std::unique_lock lock(mu_);
  InvalidateLocked();
  return Status::Ok();
}

Result<std::vector<std::string>> PolicyStore::List() {
  ASSIGN_OR_RETURN(std::vector<std::string> keys, storage_.List(""));
  std::vector<std::string> out;
  out.reserve(keys.size() + 1);
  for (std::string& key : keys) {
    // response-wrapping is left out as Vault does: no token may be given it.
    if (!key.ends_with('/') && !Immutable(key)) out.push_back(std::move(key));
  }
  out.emplace_back(kRoot);
  std::sort(out.begin(), out.end());
  return out;
}

Result<std::shared_ptr<const Acl>> PolicyStore::AclFor(const std::vector<std::string>& policy_names,
                                                       const AclIdentity* identity) {
  std::vector<std::string> names;
  names.reserve(policy_names.size());
  for (const std::string& n : policy_names) {
    std::string canonical = CanonicalPolicyName(n);
    if (!canonical.empty()) names.push_back(std::move(canonical));
  }
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  std::string key;
  for (const std::string& n : names) {
    key += n;
    key += '\n';
  }

  // A templated set compiles alike for every caller without an entity: that
  // ACL sits in the set's own entry, next to one per entity.
  const bool has_entity = identity != nullptr && !identity->entity_id.empty();
  std::uint64_t generation;
  {
    std::shared_lock lock(mu_);
    auto it = acls_.find(key);
    if (it != acls_.end()) {
      if (!it->second.templated || !has_entity) {
        if (it->second.acl) return it->second.acl;
      } else {
        auto caller = it->second.callers.find(identity->entity_id);
        if (caller != it->second.callers.end() &&
            caller->second.generation == identity->generation) {
          return caller->second.acl;
        }
      }
    }
    generation = generation_;
  }

  std::vector<std::shared_ptr<const Policy>> policies;
  policies.reserve(names.size());
  bool templated = false;
  for (const std::string& n : names) {
    ASSIGN_OR_RETURN(std::shared_ptr<const Policy> p, Get(n));
    if (!p) continue;
    templated = templated || p->templated;
    policies.push_back(std::move(p));
  }
  std::optional<TemplateIdentity> who;
  if (templated && has_entity && identity->resolve) who = identity->resolve();
  ASSIGN_OR_RETURN(std::shared_ptr<const Acl> acl, Acl::Compile(policies, who ? &*who : nullptr));

  std::unique_lock lock(mu_);
  if (generation != generation_) return acl;  // changed meanwhile: don't cache a stale ACL
  auto it = acls_.find(key);
  if (it == acls_.end()) {
    if (acls_.size() >= acl_cache_size_) {
      caller_acls_ -= acls_.begin()->second.callers.size();
      acls_.erase(acls_.begin());
    }
    it = acls_.emplace(std::move(key), CachedAcl{nullptr, templated, {}}).first;
  }
  CachedAcl& entry = it->second;
  if (!templated || !has_entity) {
    if (!entry.acl) entry.acl = acl;
    return entry.acl;  // another thread may have won; share its ACL
  }
  auto caller = entry.callers.find(identity->entity_id);
  if (caller == entry.callers.end()) {
    // Per-caller ACLs are bounded in all: one goes, from this set if it has
    // any, else from the first set that does.
    if (caller_acls_ >= acl_cache_size_) {
      auto victim = entry.callers.empty() ? acls_.begin() : it;
      while (victim != acls_.end() && victim->second.callers.empty()) ++victim;
      if (victim != acls_.end()) {
        victim->second.callers.erase(victim->second.callers.begin());
        --caller_acls_;
      }
    }
    caller = entry.callers.emplace(std::string(identity->entity_id), CallerAcl{}).first;
    ++caller_acls_;
  }
  // An older generation is replaced; a newer one (a request that read the
  // generation before this one) is kept.
  if (!caller->second.acl || caller->second.generation < identity->generation) {
    caller->second = CallerAcl{identity->generation, acl};
  }
  return acl;
}

}  // namespace coffer::policy
