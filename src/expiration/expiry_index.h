#pragma once
// ExpiryIndex: the only per-lease state the expiration manager keeps in
// memory — a 16-byte key (a prefix of SHA-256 of the lease id) and a
// monotonic due time (8 bytes), nothing else.
//
// Layout: a hash map key → due (the current truth, for renew/revoke; see
// common/sharded_hash_map.h) plus a binary min-heap of (due, key) with lazy
// updates. A due time moved later (a renewal) pushes nothing: when the
// key's older item reaches the top it goes back in at the map's time. A due
// time moved earlier pushes a new item, and the older one is skipped when it
// surfaces, as are items of erased keys. So the heap holds about one item
// per lease however often leases are renewed, and is rebuilt from the map
// only if erased keys' items come to outnumber live ones. Allocations go
// through a counting allocator so AllocatedBytes() reports the real
// container cost.
//
// Not thread-safe: the manager guards it with its own mutex.

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/sharded_hash_map.h"

namespace coffer::expiration {

struct LeaseKey {
  std::array<std::uint8_t, 16> bytes{};
  // Two word compares, inline: the defaulted one calls memcmp, ~5 % of an
  // unseal's load of a million leases.
  bool operator==(const LeaseKey& o) const {
    std::uint64_t a[2];
    std::uint64_t b[2];
    std::memcpy(a, bytes.data(), sizeof(a));
    std::memcpy(b, o.bytes.data(), sizeof(b));
    return ((a[0] ^ b[0]) | (a[1] ^ b[1])) == 0;
  }
};

// The key of a lease id: the first 16 bytes of SHA-256(id).
LeaseKey KeyOf(std::string_view lease_id);

struct LeaseKeyHash {
  std::size_t operator()(const LeaseKey& k) const noexcept {
    std::size_t h;
    std::memcpy(&h, k.bytes.data(), sizeof(h));  // already uniformly distributed
    return h;
  }
};

// Counts the bytes a container asks for (not malloc's own headers).
template <typename T>
class CountingAllocator {
 public:
  using value_type = T;
  explicit CountingAllocator(std::size_t* counter) : counter_(counter) {}
  template <typename U>
  CountingAllocator(const CountingAllocator<U>& o) : counter_(o.counter()) {}  // NOLINT
  T* allocate(std::size_t n) {
    *counter_ += n * sizeof(T);
    return std::allocator<T>().allocate(n);
  }
  void deallocate(T* p, std::size_t n) {
    *counter_ -= n * sizeof(T);
    std::allocator<T>().deallocate(p, n);
  }
  std::size_t* counter() const { return counter_; }
  template <typename U>
  bool operator==(const CountingAllocator<U>& o) const {
    return counter_ == o.counter();
  }

 private:
  std::size_t* counter_;
};

class ExpiryIndex {
 public:
  ExpiryIndex();
  ExpiryIndex(const ExpiryIndex&) = delete;
  ExpiryIndex& operator=(const ExpiryIndex&) = delete;

  // Sets (or moves) the due time of a key.
  void Upsert(const LeaseKey& key, std::int64_t due_ns);
  // Adds a key only if absent (used by the loader, so that a newer Upsert
  // made while loading wins). Returns whether it was added.
  bool InsertIfAbsent(const LeaseKey& key, std::int64_t due_ns);
  void Erase(const LeaseKey& key);
  std::optional<std::int64_t> Due(const LeaseKey& key) const;

  // Removes and returns up to `max` keys whose due time is <= now_ns,
  // earliest first.
  std::vector<LeaseKey> PopDue(std::int64_t now_ns, std::size_t max);
  // The earliest due time, if any.
  std::optional<std::int64_t> NextDue();

  std::size_t size() const { return map_.size(); }
  void Clear();
  // Bytes currently allocated by the containers (map nodes, buckets, heap).
  std::size_t AllocatedBytes() const { return *bytes_; }
  void Reserve(std::size_t n);

 private:
  struct HeapItem {
    std::int64_t due_ns;
    LeaseKey key;
  };
  struct Later {
    bool operator()(const HeapItem& a, const HeapItem& b) const { return a.due_ns > b.due_ns; }
  };
  using Map = std::unordered_map<LeaseKey, std::int64_t, LeaseKeyHash, std::equal_to<LeaseKey>,
                                 CountingAllocator<std::pair<const LeaseKey, std::int64_t>>>;

  void Push(const LeaseKey& key, std::int64_t due_ns);
  void DropStaleTop();
  void MaybeCompact();

  std::unique_ptr<std::size_t> bytes_;  // heap-allocated so the allocators can point at it
  ShardedHashMap<Map> map_;             // sharded past 8,192 leases: no whole rehash at once
  std::vector<HeapItem, CountingAllocator<HeapItem>> heap_;
};

}  // namespace coffer::expiration
