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
    const std::int64_t before = *due;
    *due = due_ns;
    // Later (a renewal, the common case): the key's heap item, due earlier,
    // is moved to the new time when it reaches the top (DropStaleTop), so
    // renewals neither grow the heap nor make it need compacting.
    if (due_ns >= before) return;
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
    const HeapItem top = heap_.front();
    const std::int64_t* due = map_.Find(top.key);
    if (due != nullptr && *due == top.due_ns) return;
    std::pop_heap(heap_.begin(), heap_.end(), Later());
    heap_.pop_back();
    // Due later than this item says: the key was renewed since; it goes
    // back in at its new time. (Absent: erased. Due earlier: a newer item
    // for the key was pushed, this one is stale.)
    if (due != nullptr && *due > top.due_ns) {
      heap_.push_back(HeapItem{*due, top.key});
      std::push_heap(heap_.begin(), heap_.end(), Later());
    }
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
  // Erased keys (and due times moved earlier) leave stale heap items
  // behind; rebuild once they dominate.
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
