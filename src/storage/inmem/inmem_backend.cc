#include "storage/inmem/inmem_backend.h"

#include <mutex>

#include "storage/list_util.h"

namespace coffer::storage {

Result<std::optional<Entry>> InmemBackend::Get(std::string_view key) {
  TRY(ValidateKey(key));
  std::shared_lock lock(mu_);
  auto it = data_.find(key);
  if (it == data_.end()) return std::optional<Entry>();
  return std::optional<Entry>(it->second);
}

Status InmemBackend::Put(std::string_view key, std::string_view value) {
  TRY(ValidateKey(key));
  std::scoped_lock lock(mu_);
  ApplyLocked(Op{Op::Kind::kPut, std::string(key), std::string(value)});
  return Status::Ok();
}

Status InmemBackend::Delete(std::string_view key) {
  TRY(ValidateKey(key));
  std::scoped_lock lock(mu_);
  ApplyLocked(Op{Op::Kind::kDelete, std::string(key), {}});
  return Status::Ok();
}

Result<std::vector<std::string>> InmemBackend::List(std::string_view prefix) {
  if (!prefix.empty() && prefix.back() != '/') {
    return Err(InvalidArgument("storage list prefix must be empty or end in '/'"));
  }
  std::shared_lock lock(mu_);
  ListCollector collector(prefix);
  for (auto it = data_.lower_bound(prefix); it != data_.end(); ++it) {
    if (!collector.Add(it->first)) break;
  }
  return collector.Take();
}

Status InmemBackend::Transact(std::span<const Compare> compares, std::span<const Op> ops) {
  for (const auto& c : compares) TRY(ValidateKey(c.key));
  for (const auto& op : ops) TRY(ValidateKey(op.key));
  std::scoped_lock lock(mu_);
  for (const auto& c : compares) {
    auto it = data_.find(c.key);
    std::uint64_t current = it == data_.end() ? 0 : it->second.revision;
    if (current != c.revision) return Conflict("check-and-set failed for " + c.key);
  }
  for (const auto& op : ops) ApplyLocked(op);
  return Status::Ok();
}

void InmemBackend::ApplyLocked(const Op& op) {
  if (op.kind == Op::Kind::kDelete) {
    auto it = data_.find(op.key);
    if (it != data_.end()) data_.erase(it);
    return;
  }
  Entry& e = data_[op.key];
  e.value = op.value;
  e.revision = ++revision_;
}

}  // namespace coffer::storage
