#include "expiration/expiry_index.h"

#include <openssl/sha.h>

#include <algorithm>

namespace coffer::expiration {

LeaseKey KeyOf(std::string_view lease_id) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(lease_id.data()), lease_id.size(), digest);
  LeaseKey k;
  std::memcpy(k.bytes.data(), digest, k.bytes.size());
  return k;
}

ExpiryIndex::ExpiryIndex()
    : bytes_(std::make_unique<std::size_t>(0)),
      map_(Map(0, LeaseKeyHash(), std::equal_to<LeaseKey>(),
               CountingAllocator<std::pair<const LeaseKey, std::int64_t>>(bytes_.get()))),
      heap_(CountingAllocator<HeapItem>(bytes_.get())) {}

void ExpiryIndex::Reserve(std::size_t n) {
  map_.Reserve(n);
  heap_.reserve(n);
}

void ExpiryIndex::Push(const LeaseKey& key, std::int64_t due_ns) {
  heap_.push_back(HeapItem{due_ns, key});
  std::push_heap(heap_.begin(), heap_.end(), Later());
  MaybeCompact();
}

void ExpiryIndex::Upsert(const LeaseKey& key, std::int64_t due_ns) {
  auto [due, inserted] = map_.TryEmplace(key, due_ns);
  if (!inserted) {
    if (*due == due_ns) return;
    *due = due_ns;
  }
  Push(key, due_ns);
}

bool ExpiryIndex::InsertIfAbsent(const LeaseKey& key, std::int64_t due_ns) {
  bool inserted = map_.TryEmplace(key, due_ns).second;
  if (inserted) Push(key, due_ns);
  return inserted;
}

void ExpiryIndex::Erase(const LeaseKey& key) {
  map_.Erase(key);
  MaybeCompact();
}

std::optional<std::int64_t> ExpiryIndex::Due(const LeaseKey& key) const {
  const std::int64_t* due = map_.Find(key);
  if (due == nullptr) return std::nullopt;
  return *due;
}

void ExpiryIndex::DropStaleTop() {
  while (!heap_.empty()) {
    const HeapItem& top = heap_.front();
    const std::int64_t* due = map_.Find(top.key);
    if (due != nullptr && *due == top.due_ns) return;
    std::pop_heap(heap_.begin(), heap_.end(), Later());
    heap_.pop_back();
  }
}

std::vector<LeaseKey> ExpiryIndex::PopDue(std::int64_t now_ns, std::size_t max) {
  std::vector<LeaseKey> out;
  while (out.size() < max) {
    DropStaleTop();
    if (heap_.empty() || heap_.front().due_ns > now_ns) break;
    LeaseKey key = heap_.front().key;
    std::pop_heap(heap_.begin(), heap_.end(), Later());
    heap_.pop_back();
    map_.Erase(key);
    out.push_back(key);
  }
  return out;
}

std::optional<std::int64_t> ExpiryIndex::NextDue() {
  DropStaleTop();
  if (heap_.empty()) return std::nullopt;
  return heap_.front().due_ns;
}

void ExpiryIndex::MaybeCompact() {
  // Renewals leave stale heap items behind; rebuild once they dominate.
  if (heap_.size() < 1024 || heap_.size() <= 2 * map_.size()) return;
  heap_.clear();
  map_.ForEach([&](const LeaseKey& key, std::int64_t due) { heap_.push_back(HeapItem{due, key}); });
  std::make_heap(heap_.begin(), heap_.end(), Later());
  heap_.shrink_to_fit();
}

void ExpiryIndex::Clear() {
  map_.Clear();
  heap_.clear();
  heap_.shrink_to_fit();
}

}  // namespace coffer::expiration
