#include "policy/policy_store.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>

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

namespace {

constexpr std::string_view kRoot = "root";
constexpr std::string_view kDefault = "default";

}  // namespace

PolicyStore::PolicyStore(storage::Backend& storage, std::size_t acl_cache_size)
    : storage_(storage), acl_cache_size_(acl_cache_size == 0 ? 1 : acl_cache_size) {}

void PolicyStore::InvalidateLocked() {
  ++generation_;
  policies_.clear();
  acls_.clear();
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
  ASSIGN_OR_RETURN(auto entry, storage_.Get(canonical));
  if (!entry.has_value()) return std::shared_ptr<const Policy>();
  Result<Policy> parsed = ParsePolicy(canonical, entry->value);
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
  if (canonical == kRoot) return InvalidArgument("cannot update \"root\" policy");
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
  if (canonical == kRoot) return InvalidArgument("cannot delete \"root\" policy");
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
    if (!key.ends_with('/') && key != kRoot) out.push_back(std::move(key));
  }
  out.emplace_back(kRoot);
  std::sort(out.begin(), out.end());
  return out;
}

std::string PolicyStore::CallerKey(const std::string& set_key, const AclIdentity& identity) {
  // '\x1f' never occurs in a policy name (ValidatePolicyName), so a caller
  // key cannot equal a set key.
  char generation[20];
  auto [end, ec] = std::to_chars(generation, generation + sizeof generation, identity.generation);
  (void)ec;  // 20 digits hold any uint64
  std::string key;
  key.reserve(set_key.size() + identity.entity_id.size() + 2 + (end - generation));
  key.append(set_key).append(1, '\x1f').append(identity.entity_id).append(1, '\x1f');
  key.append(generation, end);
  return key;
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
  // ACL sits in the set's own entry; callers with one have their own keys.
  const bool has_entity = identity != nullptr && !identity->entity_id.empty();
  std::uint64_t generation;
  {
    std::shared_lock lock(mu_);
    auto it = acls_.find(key);
    if (it != acls_.end()) {
      if (!it->second.templated || !has_entity) {
        if (it->second.acl) return it->second.acl;
      } else {
        auto caller = acls_.find(CallerKey(key, *identity));
        if (caller != acls_.end()) return caller->second.acl;
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
  const std::size_t needed = templated && has_entity ? 2 : 1;  // the set's entry and the caller's
  while (!acls_.empty() && acls_.size() + needed > acl_cache_size_) acls_.erase(acls_.begin());
  if (!templated || !has_entity) {
    auto [it, inserted] = acls_.emplace(std::move(key), CachedAcl{acl, templated});
    if (!it->second.acl) it->second.acl = acl;  // a templated set's entry, empty so far
    return it->second.acl;                      // another thread may have won; share its ACL
  }
  std::string caller = CallerKey(key, *identity);
  acls_.emplace(std::move(key), CachedAcl{nullptr, true});
  auto [it, inserted] = acls_.emplace(std::move(caller), CachedAcl{acl, false});
  return it->second.acl;
}

}  // namespace coffer::policy
