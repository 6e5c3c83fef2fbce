#pragma once
// PolicyStore: named ACL policies in storage, and compiled ACLs for sets of
// them, cached.
//
// Storage: one key per policy, the canonical name, holding the raw policy
// text (the core hands in the barrier view "sys/policy/"). Built-ins:
//  - "root": never stored; cannot be written or deleted; compiles to a root ACL.
//  - "default": written with Vault's default rules on Load() when absent;
//    may be changed, never deleted.
//
// Caches: parsed policies by name, and compiled ACLs by the canonical policy
// set (lower-cased, sorted, de-duplicated names), at most 1024 sets. Any
// Set/Delete drops both caches, so a change is in force for the next request.
// A name with no stored policy contributes nothing (Vault's behaviour).
//
// Thread-safety: all methods may be called concurrently. No lock is held
// across storage I/O or ACL compilation.
//
// Errors: kInvalidArgument for bad names, bad policy text (with the line),
// writing/deleting "root", deleting "default"; storage errors pass through;
// kInternal if stored text no longer parses.

#include <cstdint>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/status.h"
#include "policy/acl.h"
#include "policy/policy.h"
#include "storage/backend.h"

namespace coffer::policy {

// Vault's default policy, without the templated identity stanzas.
extern const std::string_view kDefaultPolicyText;

class PolicyStore {
 public:
  // `storage` must outlive the store.
  explicit PolicyStore(storage::Backend& storage, std::size_t acl_cache_size = 1024);

  // Drops caches and writes the default policy if it is absent (call after
  // every unseal).
  Status Load();

  // nullptr when there is no such policy. Get("root") answers a policy named
  // "root" with no rules.
  Result<std::shared_ptr<const Policy>> Get(std::string_view name);

  // Parses first (nothing is stored on error), then stores `text` as given.
  Status Set(std::string_view name, std::string_view text);

  // Deleting a missing policy is not an error.
  Status Delete(std::string_view name);

  // Every policy name, including "default" and "root", sorted.
  Result<std::vector<std::string>> List();

  // The ACL for a token's policies, compiled once per distinct set.
  Result<std::shared_ptr<const Acl>> AclFor(const std::vector<std::string>& policy_names);

 private:
  void InvalidateLocked();

  storage::Backend& storage_;
  const std::size_t acl_cache_size_;
  std::shared_mutex mu_;
  std::uint64_t generation_ = 0;  // guarded by mu_; bumped on every change
  std::unordered_map<std::string, std::shared_ptr<const Policy>> policies_;  // guarded by mu_
  std::unordered_map<std::string, std::shared_ptr<const Acl>> acls_;         // guarded by mu_
  std::mutex write_mu_;  // serialises Set/Delete/Load against each other
};

}  // namespace coffer::policy
