#pragma once
// A hash map that never rehashes everything at once.
//
// std::unordered_map rehashes every node when it outgrows its buckets: with
// a few hundred thousand nodes (live tokens, leases, the leaves of a busy
// storage folder) that is tens of milliseconds under whatever lock guards
// the map, and every request waiting on that lock stalls. Past kShardFrom
// nodes this map splits into kShards std::unordered_maps chosen by the top
// bits of the key's hash, so each later rehash moves 1/kShards of the nodes
// and the pause shrinks by as much. The total work stays that of one map.
// (Debian's Boost and Abseil maps rehash all at once too.)
//
// Not thread-safe; callers lock as they did for the std::unordered_map.
// Pointers to mapped values stay valid until their key is removed.
#include <cstddef>
#include <limits>
#include <utility>
#include <vector>

namespace coffer {

template <typename Map>
class ShardedHashMap {
 public:
  using key_type = typename Map::key_type;
  using mapped_type = typename Map::mapped_type;
  using node_type = typename Map::node_type;

  static constexpr std::size_t kShardBits = 6;
  static constexpr std::size_t kShards = std::size_t{1} << kShardBits;
  // Below this a whole rehash is cheap (well under a millisecond).
  static constexpr std::size_t kShardFrom = 8192;

  ShardedHashMap() : shards_(1) {}
  // From an empty map whose hash, equality and allocator every shard uses.
  explicit ShardedHashMap(Map empty) { shards_.push_back(std::move(empty)); }

  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  bool sharded() const { return shards_.size() > 1; }

  template <typename K>
  mapped_type* Find(const K& key) {
    Map& m = ShardOf(key);
    auto it = m.find(key);
    return it == m.end() ? nullptr : &it->second;
  }
  template <typename K>
  const mapped_type* Find(const K& key) const {
    return const_cast<ShardedHashMap*>(this)->Find(key);
  }

  // Inserts under `key` unless the key is present (then `args` are left
  // alone). Returns the mapped value and whether it was inserted.
  template <typename K, typename... Args>
  std::pair<mapped_type*, bool> TryEmplace(K&& key, Args&&... args) {
    Map& m = ShardOf(key);
    auto [it, inserted] = m.try_emplace(std::forward<K>(key), std::forward<Args>(args)...);
    mapped_type* value = &it->second;
    if (inserted) Added();
    return {value, inserted};
  }

  // Inserts or replaces the value under `key`.
  template <typename K, typename V>
  mapped_type* InsertOrAssign(K&& key, V&& value) {
    auto [v, inserted] = TryEmplace(std::forward<K>(key), std::forward<V>(value));
    if (!inserted) *v = std::forward<V>(value);  // NOLINT(bugprone-use-after-move): not moved
    return v;
  }

  // Inserts a node (from Map::extract). If the key is present, nothing
  // changes and the node is handed back.
  struct InsertResult {
    mapped_type* value;
    bool inserted;
    node_type node;
  };
  InsertResult Insert(node_type&& node) {
    Map& m = ShardOf(node.key());
    auto result = m.insert(std::move(node));
    InsertResult out{&result.position->second, result.inserted, std::move(result.node)};
    if (out.inserted) Added();
    return out;
  }

  // Removes a key; returns its node (empty if absent), to be destroyed
  // where the caller likes (outside its lock, say).
  template <typename K>
  node_type Extract(const K& key) {
    Map& m = ShardOf(key);
    auto it = m.find(key);
    if (it == m.end()) return node_type();
    --size_;
    return m.extract(it);
  }
  template <typename K>
  bool Erase(const K& key) {
    return !Extract(key).empty();
  }

  // Removes some node other than `key`'s from the shard `key` falls in: the
  // first one from bucket `seed` (modulo the bucket count) on. For a
  // bounded cache's eviction; returns the node (empty if there was none).
  template <typename K>
  node_type ExtractAnyBut(const K& key, std::size_t seed) {
    Map& m = ShardOf(key);
    const std::size_t buckets = m.bucket_count();
    if (m.empty()) return node_type();
    for (std::size_t i = 0; i < buckets; ++i) {
      const std::size_t b = (seed + i) % buckets;
      for (auto it = m.begin(b); it != m.end(b); ++it) {
        if (it->first == key) continue;
        --size_;
        return m.extract(it->first);
      }
    }
    return node_type();
  }

  void Clear() {
    for (auto& m : shards_) m.clear();
    size_ = 0;
  }
  // Room for n nodes in all without a rehash.
  void Reserve(std::size_t n) {
    if (n >= kShardFrom) Split();
    for (auto& m : shards_) m.reserve(n / shards_.size() + 1);
  }

  // f(const key_type&, const mapped_type&) for every node, in no order.
  template <typename F>
  void ForEach(F&& f) const {
    for (const auto& m : shards_) {
      for (const auto& [k, v] : m) f(k, v);
    }
  }

 private:
  template <typename K>
  Map& ShardOf(const K& key) {
    if (shards_.size() == 1) return shards_.front();
    const std::size_t h = shards_.front().hash_function()(key);
    return shards_[h >> (std::numeric_limits<std::size_t>::digits - kShardBits)];
  }

  void Added() {
    if (++size_ >= kShardFrom && shards_.size() == 1) Split();
  }

  // One map into kShards (once; a pause of about one small rehash).
  void Split() {
    if (shards_.size() > 1) return;
    Map all = std::move(shards_.front());
    shards_.clear();
    shards_.reserve(kShards);
    for (std::size_t i = 0; i < kShards; ++i) {
      shards_.emplace_back(0, all.hash_function(), all.key_eq(), all.get_allocator());
      shards_.back().max_load_factor(all.max_load_factor());
      shards_.back().reserve(2 * all.size() / kShards + 1);
    }
    while (!all.empty()) {
      node_type node = all.extract(all.begin());
      ShardOf(node.key()).insert(std::move(node));
    }
  }

  std::vector<Map> shards_;
  std::size_t size_ = 0;
};

}  // namespace coffer
