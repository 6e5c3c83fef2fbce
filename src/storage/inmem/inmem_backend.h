#pragma once
// In-memory backend for tests and dev mode. Nothing survives the process.
// Thread-safe: one shared mutex, readers in parallel. Writers allocate and
// copy keys and values before taking the lock (and free replaced ones after
// releasing it), so the exclusive section is mostly lookups and links.
//
// Two levels: folders (the key up to and including its last '/'), in order,
// map to their leaves, hashed. Keys share long prefixes
// ("sys/token/parent/<64 hex>/..."); a folder is found once, and a leaf in a
// big folder (every token under sys/token/id/) by its hash, where a tree of
// 100,000 leaves cost ~17 string comparisons, each a cache miss or two, under
// the exclusive lock. List sorts a folder's leaf names.

#include <map>
#include <shared_mutex>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/sharded_hash_map.h"
#include "storage/backend.h"

namespace coffer::storage {

class InmemBackend final : public Backend {
 public:
  Result<std::optional<Entry>> Get(std::string_view key) override;
  Status Put(std::string_view key, std::string_view value) override;
  Status Delete(std::string_view key) override;
  Result<std::vector<std::string>> List(std::string_view prefix) override;
  Status Transact(std::span<const Compare> compares, std::span<const Op> ops) override;
  std::string_view Type() const override { return "inmem"; }

 private:
  // Hash and equality that also take a string_view (lookups without a copy).
  struct LeafHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  using LeafMap = std::unordered_map<std::string, Entry, LeafHash, std::equal_to<>>;
  // leaf → entry; sharded once big, so that a folder of every token or
  // lease never rehashes all at once (tens of ms under the exclusive lock).
  using Leaves = ShardedHashMap<LeafMap>;
  using Folders = std::map<std::string, Leaves, std::less<>>;  // "a/b/" → leaves

  // Replaced or removed nodes, freed by the caller after the lock is
  // released.
  struct Garbage {
    std::vector<LeafMap::node_type> leaves;
    std::vector<Folders::node_type> folders;
  };

  // One leaf node per op (empty for a delete), built without the lock. (A
  // new folder's node is the only allocation under the lock.)
  static std::vector<LeafMap::node_type> Prepare(std::span<const Op> ops);
  const Entry* FindLocked(std::string_view key) const;
  // Applies ops in order.
  void ApplyLocked(std::span<const Op> ops, std::vector<LeafMap::node_type>& nodes,
                   Garbage& garbage);

  std::shared_mutex mu_;
  Folders data_;                // guarded by mu_; no folder is empty
  std::uint64_t revision_ = 0;  // guarded by mu_
};

}  // namespace coffer::storage
