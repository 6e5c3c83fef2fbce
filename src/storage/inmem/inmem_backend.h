#pragma once
// In-memory backend for tests and dev mode. Nothing survives the process.
// Thread-safe: one shared mutex, readers in parallel. Writers allocate and
// copy keys and values before taking the lock (and free replaced ones after
// releasing it), so the exclusive section is only tree searches and links.

#include <map>
#include <shared_mutex>
#include <span>
#include <vector>

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
  using Map = std::map<std::string, Entry, std::less<>>;

  // One prepared node per op (empty for a delete); built without the lock.
  static std::vector<Map::node_type> Prepare(std::span<const Op> ops);
  // Applies ops in order; replaced or removed nodes go to `garbage`, to be
  // freed by the caller once the lock is released.
  void ApplyLocked(std::span<const Op> ops, std::vector<Map::node_type>& nodes,
                   std::vector<Map::node_type>& garbage);

  std::shared_mutex mu_;
  Map data_;                    // guarded by mu_
  std::uint64_t revision_ = 0;  // guarded by mu_
};

}  // namespace coffer::storage
