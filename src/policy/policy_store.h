#pragma once
// PolicyStore: named ACL policies in storage, and compiled ACLs for sets of
// them, cached.
//
// Storage: one key per policy, the canonical name (the core hands in the
// barrier view "sys/policy/"), holding a JSON record:
//   {"policy": <text as uploaded>, "version": n, "cas_required": b,
//    "modified": <unix ns>, "expiration": <unix ns, 0 for none>,
//    "allow_wildcards_in_identity_templates": b,
//    "allow_slashes_in_identity_templates": b}
// A value that is not such a record is the bare policy text of a store
// written before versions existed (version 0). No policy text is such a
// record: a JSON policy's only top-level keys are "path" and "name".
//
// Lifecycle (OpenBao's): each write bumps `version` (a new policy is 1) and
// sets `modified`. A write may carry a check-and-set version (`cas`: the
// current version, or -1 for "must not exist"); it must when the stored
// policy or the write has cas_required. A policy past its `expiration` is
// gone: reads answer nullptr, lists leave it out, ACLs compiled with it are
// compiled again without it, a write sees no policy there, and Load()
// deletes it from storage. Built-ins:
//  - "root": never stored; cannot be written or deleted; compiles to a root ACL.
//  - "response-wrapping": Vault's rules for wrapping tokens, never stored (a
//    stored key of that name is ignored); cannot be written or deleted; not
//    listed.
//  - "default": written with Vault's default rules on Load() when absent;
//    may be changed, never deleted.
//
// Caches: parsed policies by name, and compiled ACLs by the canonical policy
// set (lower-cased, sorted, de-duplicated names), at most 1024 sets. A set
// with a templated policy compiles per caller: its ACLs are cached by the set
// and the entity, for the identity store's generation they were compiled at
// (so an identity change applies to the next request), at most 1024 of them
// in all. Any Set/Delete drops both caches, so a change
// is in force for the next request. A name with no stored policy contributes
// nothing (Vault's behaviour).
//
// Thread-safety: all methods may be called concurrently. No lock is held
// across storage I/O or ACL compilation.
//
// Errors: kInvalidArgument for bad names, bad policy text (with the line),
// writing/deleting "root" or "response-wrapping", deleting "default", a
// failed check-and-set;
// storage errors pass through;
// kInternal if stored text no longer parses.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "policy/acl.h"
#include "policy/policy.h"
#include "storage/backend.h"

namespace coffer::policy {

// Vault's default policy.
extern const std::string_view kDefaultPolicyText;
// Vault's "response-wrapping" policy: what a wrapping token may do.
extern const std::string_view kResponseWrappingPolicyText;

// Who is asking, for policies with templated paths.
struct AclIdentity {
  std::string_view entity_id;    // empty: a token without an entity
  std::uint64_t generation = 0;  // of the identity data `resolve` reads
  // The entity's names, metadata, aliases and groups; called only when a
  // templated set is not cached for this entity and generation. nullopt
  // (entity gone) compiles as for a token without one.
  std::function<std::optional<TemplateIdentity>()> resolve;
};

class PolicyStore {
 public:
  // `storage` must outlive the store.
  // `storage` (and `clock`, for `modified` and `expiration`) must outlive
  // the store.
  explicit PolicyStore(storage::Backend& storage, std::size_t acl_cache_size = 1024,
                       const Clock& clock = SystemClock::Instance());

  // Drops caches, deletes expired policies and writes the default policy if
  // it is absent (call after every unseal).
  Status Load();

  // nullptr when there is no such policy. Get("root") answers a policy named
  // "root" with no rules.
  Result<std::shared_ptr<const Policy>> Get(std::string_view name);

  // What a write stores besides the text.
  struct WriteOptions {
    std::optional<std::int64_t> cas;  // the version expected; -1: must not exist
    bool cas_required = false;
    std::optional<std::chrono::system_clock::time_point> expiration;
    TemplateValues template_values;
  };

  // Parses first (nothing is stored on error), then stores `text` as given.
  // kInvalidArgument (OpenBao's messages) when a check-and-set is missing or
  // fails, or `expiration` is not in the future; kConflict when storage
  // changed under the write (another writer of the same store).
  Status Set(std::string_view name, std::string_view text, const WriteOptions& options);
  Status Set(std::string_view name, std::string_view text) { return Set(name, text, {}); }

  // Deleting a missing policy is not an error.
  Status Delete(std::string_view name);

  // Every policy name starting with `prefix`, including "default" and
  // "root" (not "response-wrapping", not expired policies), sorted.
  Result<std::vector<std::string>> List(std::string_view prefix = {});

  // The ACL for a token's policies, compiled once per distinct set (and per
  // entity and identity generation for a set with templated paths; without
  // `identity`, templated stanzas are left out).
  Result<std::shared_ptr<const Acl>> AclFor(const std::vector<std::string>& policy_names,
                                            const AclIdentity* identity = nullptr);

 private:
  struct StringHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  struct CallerAcl {
    std::uint64_t generation = 0;  // the identity generation it was compiled at
    std::shared_ptr<const Acl> acl;
  };
  struct CachedAcl {
    // For a templated set: the ACL of callers without an entity (null until
    // one asked), and one per entity in `callers` (caller_acls_ counts them).
    std::shared_ptr<const Acl> acl;
    bool templated = false;
    std::unordered_map<std::string, CallerAcl, StringHash, std::equal_to<>> callers;
    // The first expiration among the set's policies: from then on the
    // entry is stale and compiled again.
    std::chrono::system_clock::time_point stale_at = std::chrono::system_clock::time_point::max();
  };
  void InvalidateLocked();
  bool Expired(const Policy& p) const { return p.expiration && *p.expiration <= clock_.Wall(); }
  bool Stale(const CachedAcl& e) const {
    return e.stale_at != std::chrono::system_clock::time_point::max() &&
           e.stale_at <= clock_.Wall();
  }

  storage::Backend& storage_;
  const std::size_t acl_cache_size_;
  const Clock& clock_;
  std::shared_mutex mu_;
  std::uint64_t generation_ = 0;  // guarded by mu_; bumped on every change
  std::unordered_map<std::string, std::shared_ptr<const Policy>> policies_;  // guarded by mu_
  std::unordered_map<std::string, CachedAcl> acls_;                          // guarded by mu_
  std::size_t caller_acls_ = 0;  // guarded by mu_; per-entity ACLs in acls_, at most the cache size
  std::mutex write_mu_;          // serialises Set/Delete/Load against each other
};

}  // namespace coffer::policy
