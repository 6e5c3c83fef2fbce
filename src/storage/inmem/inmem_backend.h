#pragma once
// In-memory backend for tests and dev mode. Nothing survives the process.
// Thread-safe: one shared mutex, readers in parallel.

#include <map>
#include <shared_mutex>

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
  void ApplyLocked(const Op& op);

  std::shared_mutex mu_;
  std::map<std::string, Entry, std::less<>> data_;  // guarded by mu_
  std::uint64_t revision_ = 0;                      // guarded by mu_
};

}  // namespace coffer::storage
