#include "policy/policy_store.h"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "storage/list_tree.h"

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

using WallClock = std::chrono::system_clock;
using Json = nlohmann::json;

std::int64_t UnixNs(WallClock::time_point t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

WallClock::time_point FromUnixNs(std::int64_t ns) {
  return WallClock::time_point(
      std::chrono::duration_cast<WallClock::duration>(std::chrono::nanoseconds(ns)));
}

// A stored policy: the record policy_store.h describes, or bare text.
struct Stored {
  std::string text;
  std::int64_t version = 0;
  bool cas_required = false;
  std::int64_t modified_ns = 0;    // 0: not known (bare text)
  std::int64_t expiration_ns = 0;  // 0: none
  TemplateValues template_values;

  bool ExpiredAt(std::int64_t now_ns) const {
    return expiration_ns != 0 && expiration_ns <= now_ns;
  }
};

std::int64_t IntOf(const Json& record, const char* key) {
  auto it = record.find(key);
  return it != record.end() && it->is_number_integer() ? it->get<std::int64_t>() : 0;
}

bool BoolOf(const Json& record, const char* key) {
  auto it = record.find(key);
  return it != record.end() && it->is_boolean() && it->get<bool>();
}

Stored Decode(std::string value) {
  Stored out;
  if (!value.empty() && value.front() == '{') {
    Json record = Json::parse(value, nullptr, /*allow_exceptions=*/false);
    auto text = record.is_object() ? record.find("policy") : Json::iterator();
    if (record.is_object() && text != record.end() && text->is_string()) {
      out.text = text->get<std::string>();
      out.version = IntOf(record, "version");
      out.cas_required = BoolOf(record, "cas_required");
      out.modified_ns = IntOf(record, "modified");
      out.expiration_ns = IntOf(record, "expiration");
      out.template_values.wildcards = BoolOf(record, "allow_wildcards_in_identity_templates");
      out.template_values.slashes = BoolOf(record, "allow_slashes_in_identity_templates");
      return out;
    }
  }
  out.text = std::move(value);
  return out;
}

std::string Encode(const Stored& s) {
  return Json{{"policy", s.text},
              {"version", s.version},
              {"cas_required", s.cas_required},
              {"modified", s.modified_ns},
              {"expiration", s.expiration_ns},
              {"allow_wildcards_in_identity_templates", s.template_values.wildcards},
              {"allow_slashes_in_identity_templates", s.template_values.slashes}}
      .dump();
}

}  // namespace

PolicyStore::PolicyStore(storage::Backend& storage, std::size_t acl_cache_size, const Clock& clock)
    : storage_(storage), acl_cache_size_(acl_cache_size == 0 ? 1 : acl_cache_size), clock_(clock) {}

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
  const std::int64_t now_ns = UnixNs(clock_.Wall());
  // Every policy, names with '/' ("team/dev") in their folders too.
  ASSIGN_OR_RETURN(std::vector<std::string> keys, storage::ListTree(storage_, ""));
  bool have_default = false;
  for (const std::string& key : keys) {
    if (key.ends_with('/') || Immutable(key)) continue;
    ASSIGN_OR_RETURN(auto entry, storage_.Get(key));
    if (!entry.has_value()) continue;
    if (Decode(std::move(entry->value)).ExpiredAt(now_ns)) {
      TRY(storage_.Delete(key));
    } else if (key == kDefault) {
      have_default = true;
    }
  }
  if (!have_default) {
    Stored fresh;
    fresh.text = kDefaultPolicyText;
    fresh.version = 1;
    fresh.modified_ns = now_ns;
    TRY(storage_.Put(kDefault, Encode(fresh)));
  }
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
    if (it != policies_.end()) {
      return Expired(*it->second) ? std::shared_ptr<const Policy>() : it->second;
    }
    generation = generation_;
  }
  Stored stored;
  if (canonical == kResponseWrapping) {
    stored.text = kResponseWrappingPolicyText;  // built in, whatever storage holds
  } else {
    ASSIGN_OR_RETURN(auto entry, storage_.Get(canonical));
    if (!entry.has_value()) return std::shared_ptr<const Policy>();
    stored = Decode(std::move(entry->value));
  }
  Result<Policy> parsed = ParsePolicy(canonical, stored.text);
  if (!parsed) {
    return Err(Internal(fmt::format("stored policy \"{}\" does not parse: {}", canonical,
                                    parsed.error().message())));
  }
  parsed->version = stored.version;
  parsed->cas_required = stored.cas_required;
  if (stored.modified_ns != 0) parsed->modified = FromUnixNs(stored.modified_ns);
  if (stored.expiration_ns != 0) parsed->expiration = FromUnixNs(stored.expiration_ns);
  parsed->template_values = stored.template_values;
  auto policy = std::make_shared<const Policy>(std::move(*parsed));
  {
    std::unique_lock lock(mu_);
    if (generation == generation_) policies_.emplace(canonical, policy);
  }
  if (Expired(*policy)) return std::shared_ptr<const Policy>();
  return std::shared_ptr<const Policy>(std::move(policy));
}

Status PolicyStore::Set(std::string_view name, std::string_view text, const WriteOptions& options) {
  std::string canonical = CanonicalPolicyName(name);
  TRY(ValidatePolicyName(canonical));
  if (Immutable(canonical)) {
    return InvalidArgument(fmt::format("cannot update \"{}\" policy", canonical));
  }
  Result<Policy> parsed = ParsePolicy(canonical, text);
  if (!parsed) return parsed.error();
  const std::int64_t now_ns = UnixNs(clock_.Wall());
  if (options.expiration) {
    // The default policy cannot be deleted, so it cannot expire either.
    if (canonical == kDefault) return InvalidArgument("cannot set an expiration on default policy");
    if (UnixNs(*options.expiration) <= now_ns) {
      return InvalidArgument("refusing to update policy as expiration time has already elapsed");
    }
  }
  std::scoped_lock write(write_mu_);
  ASSIGN_OR_RETURN(auto entry, storage_.Get(canonical));
  const std::uint64_t revision = entry.has_value() ? entry->revision : 0;
  Stored existing;
  if (entry.has_value()) existing = Decode(std::move(entry->value));
  const bool exists = entry.has_value() && !existing.ExpiredAt(now_ns);
  if (!exists) existing = Stored{};  // an expired policy is gone: version 0
  if (!options.cas && (existing.cas_required || options.cas_required)) {
    return InvalidArgument("check-and-set parameter required for this call");
  }
  if (options.cas) {
    if (*options.cas == -1 && exists) {
      return InvalidArgument("check-and-set parameter set to -1 on existing entry");
    }
    if (*options.cas != -1 && *options.cas != existing.version) {
      return InvalidArgument("check-and-set parameter did not match the current version");
    }
  }
  Stored next;
  next.text = text;
  next.version = existing.version + 1;
  next.cas_required = options.cas_required;
  next.modified_ns = now_ns;
  next.expiration_ns = options.expiration ? UnixNs(*options.expiration) : 0;
  next.template_values = options.template_values;
  // The compare catches a write by another server sharing the storage.
  const storage::Compare unchanged{canonical, revision};
  const storage::Op put{storage::Op::Kind::kPut, canonical, Encode(next)};
  Status written = storage_.Transact({&unchanged, 1}, {&put, 1});
  if (written.code() == Code::kConflict) {
    return Status(Code::kConflict, "the policy changed while it was being written; try again");
  }
  TRY(written);
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

Result<std::vector<std::string>> PolicyStore::List(std::string_view prefix) {
  ASSIGN_OR_RETURN(std::vector<std::string> keys, storage::ListTree(storage_, ""));
  std::vector<std::string> out;
  out.reserve(keys.size() + 1);
  for (std::string& key : keys) {
    // response-wrapping is left out as Vault does: no token may be given it.
    if (key.ends_with('/') || Immutable(key) || !key.starts_with(prefix)) continue;
    // An expired policy is left out; one that no longer parses is listed
    // (reading it names the problem).
    Result<std::shared_ptr<const Policy>> policy = Get(key);
    if (policy.has_value() && *policy == nullptr) continue;
    out.push_back(std::move(key));
  }
  if (kRoot.starts_with(prefix)) out.emplace_back(kRoot);
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
    if (it != acls_.end() && !Stale(it->second)) {
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
  auto stale_at = std::chrono::system_clock::time_point::max();
  const auto now = clock_.Wall();
  for (const std::string& n : names) {
    ASSIGN_OR_RETURN(std::shared_ptr<const Policy> p, Get(n));
    if (!p) continue;
    templated = templated || p->templated;
    if (p->expiration) stale_at = std::min(stale_at, *p->expiration);
    for (const PathRules& path : p->paths) {
      // A stanza still in force makes the ACL stale when it expires.
      if (path.expiration && *path.expiration > now)
        stale_at = std::min(stale_at, *path.expiration);
    }
    policies.push_back(std::move(p));
  }
  std::optional<TemplateIdentity> who;
  if (templated && has_entity && identity->resolve) who = identity->resolve();
  ASSIGN_OR_RETURN(std::shared_ptr<const Acl> acl,
                   Acl::Compile(policies, who ? &*who : nullptr, now));

  std::unique_lock lock(mu_);
  if (generation != generation_) return acl;  // changed meanwhile: don't cache a stale ACL
  auto it = acls_.find(key);
  if (it == acls_.end()) {
    if (acls_.size() >= acl_cache_size_) {
      caller_acls_ -= acls_.begin()->second.callers.size();
      acls_.erase(acls_.begin());
    }
    it = acls_.emplace(std::move(key), CachedAcl{nullptr, templated, {}, stale_at}).first;
  } else if (Stale(it->second)) {
    caller_acls_ -= it->second.callers.size();
    it->second = CachedAcl{nullptr, templated, {}, stale_at};
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
