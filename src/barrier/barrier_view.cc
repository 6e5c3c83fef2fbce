#include "barrier/barrier_view.h"

#include <utility>

namespace coffer::barrier {

BarrierView::BarrierView(storage::Backend& inner, std::string prefix)
    : inner_(inner), prefix_(std::move(prefix)) {}

BarrierView BarrierView::SubView(std::string_view sub_prefix) const {
  return BarrierView(inner_, prefix_ + std::string(sub_prefix));
}

Result<std::string> BarrierView::Expand(std::string_view key) const {
  if (key.empty()) return Err(InvalidArgument("storage key is empty"));
  if (key.front() == '/') return Err(InvalidArgument("storage key starts with '/'"));
  return prefix_ + std::string(key);
}

Result<std::optional<storage::Entry>> BarrierView::Get(std::string_view key) {
  ASSIGN_OR_RETURN(std::string full, Expand(key));
  return inner_.Get(full);
}

Status BarrierView::Put(std::string_view key, std::string_view value) {
  ASSIGN_OR_RETURN(std::string full, Expand(key));
  return inner_.Put(full, value);
}

Status BarrierView::Delete(std::string_view key) {
  ASSIGN_OR_RETURN(std::string full, Expand(key));
  return inner_.Delete(full);
}

Result<std::vector<std::string>> BarrierView::List(std::string_view prefix) {
  if (!prefix.empty() && prefix.front() == '/') {
    return Err(InvalidArgument("list prefix starts with '/'"));
  }
  return inner_.List(prefix_ + std::string(prefix));
}

Status BarrierView::Transact(std::span<const storage::Compare> compares,
                             std::span<const storage::Op> ops) {
  std::vector<storage::Compare> full_compares;
  full_compares.reserve(compares.size());
  for (const storage::Compare& c : compares) {
    ASSIGN_OR_RETURN(std::string full, Expand(c.key));
    full_compares.push_back({std::move(full), c.revision});
  }
  std::vector<storage::Op> full_ops;
  full_ops.reserve(ops.size());
  for (const storage::Op& op : ops) {
    ASSIGN_OR_RETURN(std::string full, Expand(op.key));
    full_ops.push_back({op.kind, std::move(full), op.value});
  }
  return inner_.Transact(full_compares, full_ops);
}

}  // namespace coffer::barrier
