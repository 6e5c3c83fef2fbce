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
  const Op op{Op::Kind::kPut, std::string(key), std::string(value)};
  return Transact({}, {&op, 1});
}

Status InmemBackend::Delete(std::string_view key) {
  TRY(ValidateKey(key));
  const Op op{Op::Kind::kDelete, std::string(key), {}};
  return Transact({}, {&op, 1});
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
  std::vector<Map::node_type> nodes = Prepare(ops);
  std::vector<Map::node_type> garbage;  // destroyed after the lock is released
  garbage.reserve(ops.size());
  std::scoped_lock lock(mu_);
  for (const auto& c : compares) {
    auto it = data_.find(c.key);
    std::uint64_t current = it == data_.end() ? 0 : it->second.revision;
    if (current != c.revision) return Conflict("check-and-set failed for " + c.key);
  }
  ApplyLocked(ops, nodes, garbage);
  return Status::Ok();
}

std::vector<InmemBackend::Map::node_type> InmemBackend::Prepare(std::span<const Op> ops) {
  std::vector<Map::node_type> nodes(ops.size());
  Map staging;
  for (std::size_t i = 0; i < ops.size(); ++i) {
    if (ops[i].kind != Op::Kind::kPut) continue;
    auto it = staging.emplace(ops[i].key, Entry{ops[i].value, 0}).first;
    nodes[i] = staging.extract(it);
  }
  return nodes;
}

void InmemBackend::ApplyLocked(std::span<const Op> ops, std::vector<Map::node_type>& nodes,
                               std::vector<Map::node_type>& garbage) {
  for (std::size_t i = 0; i < ops.size(); ++i) {
    if (ops[i].kind == Op::Kind::kDelete) {
      auto it = data_.find(ops[i].key);
      if (it != data_.end()) garbage.push_back(data_.extract(it));
      continue;
    }
    auto result = data_.insert(std::move(nodes[i]));
    if (!result.inserted) {
      std::swap(result.position->second.value, result.node.mapped().value);
      garbage.push_back(std::move(result.node));
    }
    result.position->second.revision = ++revision_;
  }
}

}  // namespace coffer::storage
