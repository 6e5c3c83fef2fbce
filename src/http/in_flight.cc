#include "http/in_flight.h"

#include <algorithm>

namespace coffer::http {

InFlightRegistry& InFlightRegistry::Global() {
  static InFlightRegistry* registry = new InFlightRegistry();  // never destroyed: slots may
                                                               // outlive static destructors
  return *registry;
}

InFlightRegistry::Slot::Slot(InFlightRegistry& registry, std::size_t shard)
    : registry_(registry), shard_(shard % kShards) {}

InFlightRegistry::Slot::~Slot() { End(); }

void InFlightRegistry::Slot::Begin() {
  if (linked_) return;
  Shard& s = registry_.shards_[shard_];
  std::scoped_lock lock(s.mu);
  prev_ = nullptr;
  next_ = s.head;
  if (s.head != nullptr) s.head->prev_ = this;
  s.head = this;
  linked_ = true;
  registry_.count_.fetch_add(1, std::memory_order_relaxed);
}

void InFlightRegistry::Slot::End() {
  if (!linked_) return;
  Shard& s = registry_.shards_[shard_];
  std::scoped_lock lock(s.mu);
  if (prev_ != nullptr) {
    prev_->next_ = next_;
  } else {
    s.head = next_;
  }
  if (next_ != nullptr) next_->prev_ = prev_;
  prev_ = next_ = nullptr;
  linked_ = false;
  registry_.count_.fetch_sub(1, std::memory_order_relaxed);
}

std::vector<InFlightRequest> InFlightRegistry::Snapshot() const {
  std::vector<InFlightRequest> out;
  for (const Shard& s : shards_) {
    std::scoped_lock lock(s.mu);
    for (const Slot* slot = s.head; slot != nullptr; slot = slot->next_) {
      out.push_back(slot->request_);
    }
  }
  std::stable_sort(out.begin(), out.end(), [](const InFlightRequest& a, const InFlightRequest& b) {
    return a.start < b.start;
  });
  return out;
}

}  // namespace coffer::http
