#pragma once
// CacheBackend: a read cache in front of another storage backend (Vault's
// "physical cache"). It sits BELOW the barrier, so it holds ciphertext (and
// the plaintext seal config), never a decrypted value.
//
// Get answers from a sharded LRU of entries (present or absent keys); a miss
// reads the inner backend and fills the cache. Put, Delete and Transact go to
// the inner backend first and then drop the keys they touched from the cache
// (dropped, not updated: the new revision is not known here). Lists are not
// cached.
//
// Admission: once a shard is full, a miss fills it only if the same key
// already missed recently (its "doorkeeper" bits are set, as in TinyLFU).
// With a store much larger than the cache and reads spread over all of it,
// nearly every read missed, and refilling on each miss (evicting a node,
// copying the value in) made reads slower than with no cache at all.
//
// Consistency with one writer process: a Get that missed fills the cache only
// if no write to its shard finished while it was reading (a per-shard epoch),
// so a value read just before a concurrent write's commit can never be put
// back after that write dropped it. A write is acknowledged only after its
// keys left the cache, so a Get that starts after the acknowledgement reads
// the new value. Only for backends with no other writer (the embedded
// "local" store): another process writing the same store would not be seen.
//
// Thread-safe. Errors: the inner backend's, unchanged.

#include <absl/container/flat_hash_map.h>

#include <atomic>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "storage/backend.h"

namespace coffer::storage {

struct CacheOptions {
  // Vault's `cache_size`: entries kept in all (default 131072, as Vault).
  std::size_t max_entries = 131072;
  // And bytes of keys + values kept in all; values larger than 1/16 of a
  // shard's share are never cached (e.g. the barrier keyring).
  std::size_t max_bytes = 64u << 20;
};

struct CacheStats {
  std::uint64_t hits = 0;
  std::uint64_t misses = 0;
  std::uint64_t fills = 0;  // misses whose entry was then kept
  std::size_t entries = 0;
  std::size_t bytes = 0;
};

class CacheBackend final : public Backend {
 public:
  explicit CacheBackend(std::unique_ptr<Backend> inner, CacheOptions options = {});
  ~CacheBackend() override;
  CacheBackend(const CacheBackend&) = delete;
  CacheBackend& operator=(const CacheBackend&) = delete;

  Result<std::optional<Entry>> Get(std::string_view key) override;
  Status Put(std::string_view key, std::string_view value) override;
  Status Delete(std::string_view key) override;
  Result<std::vector<std::string>> List(std::string_view prefix) override;
  Status Transact(std::span<const Compare> compares, std::span<const Op> ops) override;
  std::string_view Type() const override { return inner_->Type(); }

  Backend& inner() { return *inner_; }
  CacheStats Stats() const;

 private:
  static constexpr std::size_t kShards = 64;

  struct Node {
    std::string key;
    std::optional<Entry> entry;  // nullopt: the key is known to be absent
    static std::size_t Bytes(std::string_view key, const std::optional<Entry>& entry);
    std::size_t Bytes() const { return Bytes(key, entry); }
  };
  struct Shard {
    mutable std::mutex mu;
    std::list<Node> lru;  // front = most recently used; guarded by mu
    // Views into lru's keys; guarded by mu. An open-addressing table: a key
    // that is not there costs one probe of its control bytes, where a
    // node-based map walked two or three nodes scattered over the heap (most
    // lookups of a store much larger than the cache miss).
    absl::flat_hash_map<std::string_view, std::list<Node>::iterator> index;
    std::uint64_t epoch = 0;  // writes finished in this shard; guarded by mu
    std::size_t bytes = 0;    // guarded by mu
    // Keys that missed while the shard was full, two bits each in one
    // 64-bit word (a blocked Bloom filter: one memory access per key);
    // allocated when the shard first fills, cleared after as many keys as
    // the shard holds (at least 64). Guarded by mu.
    std::vector<std::uint64_t> doorkeeper;
    std::size_t doorkeeper_keys = 0;
  };

  static std::size_t HashOf(std::string_view key) { return std::hash<std::string_view>{}(key); }
  // By the low bits of the key's hash (the doorkeeper uses the others).
  Shard& ShardOf(std::size_t hash) { return shards_[hash % kShards]; }
  // Under shard.mu: true if the key (by its hash) missed since the last
  // clearing; otherwise notes it and answers false.
  bool PassesDoorkeeperLocked(Shard& shard, std::size_t hash);
  void Invalidate(std::string_view key);
  // Under shard.mu: drops least recently used nodes until within limits.
  void TrimLocked(Shard& shard);
  void EraseLocked(Shard& shard, std::list<Node>::iterator it);

  std::unique_ptr<Backend> inner_;
  const std::size_t shard_max_entries_;
  const std::size_t shard_max_bytes_;
  std::unique_ptr<Shard[]> shards_;
  std::atomic<std::uint64_t> hits_{0};
  std::atomic<std::uint64_t> misses_{0};
  std::atomic<std::uint64_t> fills_{0};
};

}  // namespace coffer::storage
