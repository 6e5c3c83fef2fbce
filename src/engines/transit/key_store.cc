// The key cache and its storage: "policy/<name>" holds one key's record
// (engines/transit/policy.h), "config/cache" the cache-config answer.

#include "engines/transit/transit_backend.h"

namespace coffer::engines::transit {
namespace {

std::string PolicyKey(std::string_view name) { return "policy/" + std::string(name); }

}  // namespace

Result<std::shared_ptr<const Policy>> TransitBackend::GetPolicy(const std::string& name) {
  {
    std::shared_lock lock(cache_mu_);
    auto it = cache_.find(name);
    if (it != cache_.end()) return it->second;
  }
  // A miss fills under write_mu_, so a fill never races with a change and
  // never puts back an older snapshot.
  std::scoped_lock lock(write_mu_);
  return LoadLocked(name);
}

Result<std::shared_ptr<const Policy>> TransitBackend::LoadLocked(const std::string& name) {
  {
    std::shared_lock lock(cache_mu_);
    auto it = cache_.find(name);
    if (it != cache_.end()) return it->second;
  }
  ASSIGN_OR_RETURN(auto entry, storage_.Get(PolicyKey(name)));
  if (!entry) return std::shared_ptr<const Policy>();
  Result<Policy> decoded = DecodePolicy(entry->value);
  WipeString(entry->value);
  ASSIGN_OR_RETURN(Policy policy, std::move(decoded));
  auto snapshot = std::make_shared<const Policy>(std::move(policy));
  std::unique_lock lock(cache_mu_);
  CacheInsertLocked(name, snapshot);
  return std::shared_ptr<const Policy>(snapshot);
}

Status TransitBackend::StoreLocked(const Policy& policy) {
  std::string record = EncodePolicy(policy);
  Status s = storage_.Put(PolicyKey(policy.name), record);
  WipeString(record);
  return s;
}

Result<std::shared_ptr<const Policy>> TransitBackend::EditPolicy(const std::string& name,
                                                                 const EditFn& edit) {
  std::scoped_lock lock(write_mu_);
  ASSIGN_OR_RETURN(auto current, LoadLocked(name));
  if (!current) return Err(InvalidArgument("encryption key not found"));
  Policy copy = *current;
  ASSIGN_OR_RETURN(bool changed, edit(copy));
  if (!changed) return current;
  TRY(StoreLocked(copy));
  auto snapshot = std::make_shared<const Policy>(std::move(copy));
  std::unique_lock cache_lock(cache_mu_);
  CacheInsertLocked(name, snapshot);
  return std::shared_ptr<const Policy>(snapshot);
}

Result<std::shared_ptr<const Policy>> TransitBackend::PutNewPolicy(Policy policy, bool overwrite,
                                                                   bool* created) {
  std::scoped_lock lock(write_mu_);
  if (!overwrite) {
    ASSIGN_OR_RETURN(auto current, LoadLocked(policy.name));
    if (current) {
      if (created != nullptr) *created = false;
      return current;
    }
  }
  TRY(StoreLocked(policy));
  if (created != nullptr) *created = true;
  const std::string name = policy.name;
  auto snapshot = std::make_shared<const Policy>(std::move(policy));
  std::unique_lock cache_lock(cache_mu_);
  CacheInsertLocked(name, snapshot);
  return std::shared_ptr<const Policy>(snapshot);
}

Status TransitBackend::DeletePolicy(const std::string& name) {
  std::scoped_lock lock(write_mu_);
  TRY(storage_.Delete(PolicyKey(name)));
  std::unique_lock cache_lock(cache_mu_);
  cache_.erase(name);
  std::erase(cache_order_, name);
  return Status::Ok();
}

void TransitBackend::CacheInsertLocked(const std::string& name,
                                       std::shared_ptr<const Policy> snapshot) {
  auto [it, inserted] = cache_.insert_or_assign(name, std::move(snapshot));
  (void)it;
  if (!inserted) return;
  cache_order_.push_back(name);
  // cache-config's size: the keys loaded longest ago leave first (they are
  // read from storage again when next used).
  while (cache_limit_ > 0 && cache_.size() > cache_limit_ && !cache_order_.empty()) {
    if (cache_order_.front() != name) cache_.erase(cache_order_.front());
    cache_order_.pop_front();
  }
}

}  // namespace coffer::engines::transit
