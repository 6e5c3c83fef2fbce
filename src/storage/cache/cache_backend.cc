#include "storage/cache/cache_backend.h"

#include <algorithm>
#include <bit>
#include <utility>

namespace coffer::storage {

std::size_t CacheBackend::Node::Bytes(std::string_view key, const std::optional<Entry>& entry) {
  // Key and value bytes plus the list node, the index slot and the strings'
  // headers (an estimate; it only has to grow with what is kept).
  return key.size() + (entry ? entry->value.size() : 0) + 128;
}

CacheBackend::CacheBackend(std::unique_ptr<Backend> inner, CacheOptions options)
    : inner_(std::move(inner)),
      shard_max_entries_(std::max<std::size_t>(1, options.max_entries / kShards)),
      shard_max_bytes_(std::max<std::size_t>(1024, options.max_bytes / kShards)),
      shards_(std::make_unique<Shard[]>(kShards)) {}

CacheBackend::~CacheBackend() = default;

namespace {

// The doorkeeper remembers as many keys as the shard holds (at least 64)
// before it is cleared, in 16 bits per key: then about 12 % of the bits are
// set, and a key never seen passes for one seen at most ~2 % of the time
// (both of its bits lie in one word, which costs a little accuracy against
// two independent positions and saves a memory access).
constexpr std::size_t kDoorkeeperBitsPerKey = 16;
constexpr std::size_t kDoorkeeperMinKeys = 64;

}  // namespace

bool CacheBackend::PassesDoorkeeperLocked(Shard& shard, std::size_t hash) {
  const std::size_t window = std::max(shard_max_entries_, kDoorkeeperMinKeys);
  if (shard.doorkeeper.empty()) {
    // A power of two, so a word is picked with a mask rather than a division.
    shard.doorkeeper.assign(std::bit_ceil((window * kDoorkeeperBitsPerKey + 63) / 64), 0);
  }
  // The low bits chose the shard (ShardOf); the word and two bits in it
  // come from the rest.
  const std::uint64_t x = static_cast<std::uint64_t>(hash) / kShards;
  const std::uint64_t mixed = x * 0x9E3779B97F4A7C15ull;
  const std::uint64_t mask =
      (std::uint64_t{1} << (mixed >> 58)) | (std::uint64_t{1} << ((mixed >> 52) & 63));
  std::uint64_t& word = shard.doorkeeper[x & (shard.doorkeeper.size() - 1)];
  if ((word & mask) == mask) return true;
  word |= mask;
  if (++shard.doorkeeper_keys >= window) {
    std::fill(shard.doorkeeper.begin(), shard.doorkeeper.end(), 0);
    shard.doorkeeper_keys = 0;
  }
  return false;
}

void CacheBackend::EraseLocked(Shard& shard, std::list<Node>::iterator it) {
  shard.bytes -= it->Bytes();
  shard.index.erase(std::string_view(it->key));
  shard.lru.erase(it);
}

void CacheBackend::TrimLocked(Shard& shard) {
  while (!shard.lru.empty() &&
         (shard.lru.size() > shard_max_entries_ || shard.bytes > shard_max_bytes_)) {
    EraseLocked(shard, std::prev(shard.lru.end()));
  }
}

Result<std::optional<Entry>> CacheBackend::Get(std::string_view key) {
  const std::size_t hash = HashOf(key);
  Shard& shard = ShardOf(hash);
  std::uint64_t epoch;
  {
    std::scoped_lock lock(shard.mu);
    auto it = shard.index.find(key);
    if (it != shard.index.end()) {
      shard.lru.splice(shard.lru.begin(), shard.lru, it->second);
      hits_.fetch_add(1, std::memory_order_relaxed);
      return it->second->entry;
    }
    epoch = shard.epoch;
  }
  misses_.fetch_add(1, std::memory_order_relaxed);
  auto result = inner_->Get(key);
  if (!result) return result;

  const std::size_t bytes = Node::Bytes(key, *result);
  if (bytes > shard_max_bytes_ / 16) return result;
  std::scoped_lock lock(shard.mu);
  // A write to this shard finished while we read: what we read may be older
  // than it, so it must not enter the cache.
  if (shard.epoch != epoch || shard.index.contains(key)) return result;
  if (shard.lru.size() >= shard_max_entries_) {
    // Full: only a key that missed before gets in (see the header).
    if (!PassesDoorkeeperLocked(shard, hash)) return result;
    // The least recently used node becomes the new one. Its strings and
    // list node are reused and the index keeps its size, so a miss on a
    // full cache (every miss of a store much larger than the cache)
    // allocates nothing here and frees nothing.
    auto victim = std::prev(shard.lru.end());
    shard.index.erase(std::string_view(victim->key));
    shard.bytes -= victim->Bytes();
    victim->key.assign(key);
    victim->entry = *result;  // assigns into the victim's strings
    shard.lru.splice(shard.lru.begin(), shard.lru, victim);
    shard.index.emplace(std::string_view(victim->key), victim);
  } else {
    shard.lru.push_front(Node{std::string(key), *result});
    shard.index.emplace(std::string_view(shard.lru.front().key), shard.lru.begin());
  }
  shard.bytes += bytes;
  TrimLocked(shard);
  fills_.fetch_add(1, std::memory_order_relaxed);
  return result;
}

void CacheBackend::Invalidate(std::string_view key) {
  Shard& shard = ShardOf(HashOf(key));
  std::scoped_lock lock(shard.mu);
  ++shard.epoch;
  auto it = shard.index.find(key);
  if (it != shard.index.end()) EraseLocked(shard, it->second);
}

// Writes drop their keys whatever the outcome: after an error the store may
// or may not hold the new value, and a dropped key is only a miss.
Status CacheBackend::Put(std::string_view key, std::string_view value) {
  Status status = inner_->Put(key, value);
  Invalidate(key);
  return status;
}

Status CacheBackend::Delete(std::string_view key) {
  Status status = inner_->Delete(key);
  Invalidate(key);
  return status;
}

Result<std::vector<std::string>> CacheBackend::List(std::string_view prefix) {
  return inner_->List(prefix);
}

Status CacheBackend::Transact(std::span<const Compare> compares, std::span<const Op> ops) {
  Status status = inner_->Transact(compares, ops);
  for (const Op& op : ops) Invalidate(op.key);
  return status;
}

CacheStats CacheBackend::Stats() const {
  CacheStats stats;
  stats.hits = hits_.load(std::memory_order_relaxed);
  stats.misses = misses_.load(std::memory_order_relaxed);
  stats.fills = fills_.load(std::memory_order_relaxed);
  for (std::size_t i = 0; i < kShards; ++i) {
    std::scoped_lock lock(shards_[i].mu);
    stats.entries += shards_[i].lru.size();
    stats.bytes += shards_[i].bytes;
  }
  return stats;
}

}  // namespace coffer::storage
