#include "storage/inmem/inmem_backend.h"

#include <algorithm>
#include <mutex>

namespace coffer::storage {
namespace {

// "a/b/c" → {"a/b/", "c"}; "c" → {"", "c"}.
std::pair<std::string_view, std::string_view> Split(std::string_view key) {
  const auto slash = key.rfind('/');
  if (slash == std::string_view::npos) return {std::string_view(), key};
  return {key.substr(0, slash + 1), key.substr(slash + 1)};
}

}  // namespace

const Entry* InmemBackend::FindLocked(std::string_view key) const {
  const auto [folder, leaf] = Split(key);
  auto f = data_.find(folder);
  if (f == data_.end()) return nullptr;
  return f->second.Find(leaf);
}

Result<std::optional<Entry>> InmemBackend::Get(std::string_view key) {
  TRY(ValidateKey(key));
  std::shared_lock lock(mu_);
  const Entry* entry = FindLocked(key);
  if (entry == nullptr) return std::optional<Entry>();
  return std::optional<Entry>(*entry);
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
  std::vector<std::string> out;
  std::shared_lock lock(mu_);
  auto f = data_.lower_bound(prefix);
  if (f != data_.end() && f->first == prefix) {
    out.reserve(f->second.size());
    f->second.ForEach([&](const std::string& leaf, const Entry&) {
      if (!leaf.empty()) out.push_back(leaf);  // a key equal to the prefix is not a child
    });
    std::sort(out.begin(), out.end());
    ++f;
  }
  // Sub-folders: each child folder once, then skip everything below it
  // ('0' is the byte after '/').
  const std::size_t leaves = out.size();
  while (f != data_.end() && f->first.starts_with(prefix)) {
    std::string_view rest = std::string_view(f->first).substr(prefix.size());
    std::string name(rest.substr(0, rest.find('/') + 1));
    std::string next = std::string(prefix) + name;
    next.back() = '0';
    out.push_back(std::move(name));
    f = data_.lower_bound(next);
  }
  if (leaves != 0 && leaves != out.size())
    std::inplace_merge(out.begin(), out.begin() + leaves, out.end());
  return out;
}

Status InmemBackend::Transact(std::span<const Compare> compares, std::span<const Op> ops) {
  for (const auto& c : compares) TRY(ValidateKey(c.key));
  for (const auto& op : ops) TRY(ValidateKey(op.key));
  std::vector<LeafMap::node_type> nodes = Prepare(ops);
  Garbage garbage;  // destroyed after the lock is released
  garbage.leaves.reserve(ops.size());
  std::scoped_lock lock(mu_);
  for (const auto& c : compares) {
    const Entry* entry = FindLocked(c.key);
    std::uint64_t current = entry == nullptr ? 0 : entry->revision;
    if (current != c.revision) return Conflict("check-and-set failed for " + c.key);
  }
  ApplyLocked(ops, nodes, garbage);
  return Status::Ok();
}

std::vector<InmemBackend::LeafMap::node_type> InmemBackend::Prepare(std::span<const Op> ops) {
  std::vector<LeafMap::node_type> nodes(ops.size());
  LeafMap staging;
  for (std::size_t i = 0; i < ops.size(); ++i) {
    if (ops[i].kind != Op::Kind::kPut) continue;
    auto it = staging.emplace(Split(ops[i].key).second, Entry{ops[i].value, 0}).first;
    nodes[i] = staging.extract(it);
  }
  return nodes;
}

void InmemBackend::ApplyLocked(std::span<const Op> ops, std::vector<LeafMap::node_type>& nodes,
                               Garbage& garbage) {
  for (std::size_t i = 0; i < ops.size(); ++i) {
    const std::string_view folder = Split(ops[i].key).first;
    auto f = data_.find(folder);
    if (ops[i].kind == Op::Kind::kDelete) {
      if (f == data_.end()) continue;
      auto node = f->second.Extract(Split(ops[i].key).second);
      if (node.empty()) continue;
      garbage.leaves.push_back(std::move(node));
      if (f->second.empty()) garbage.folders.push_back(data_.extract(f));
      continue;
    }
    if (f == data_.end()) f = data_.emplace(std::string(folder), Leaves()).first;
    auto result = f->second.Insert(std::move(nodes[i]));
    if (!result.inserted) {
      std::swap(result.value->value, result.node.mapped().value);
      garbage.leaves.push_back(std::move(result.node));
    }
    result.value->revision = ++revision_;
  }
}

}  // namespace coffer::storage
