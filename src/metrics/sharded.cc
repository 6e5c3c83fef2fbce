#include "metrics/sharded.h"

#include <algorithm>

namespace coffer::metrics {
namespace {

std::vector<std::uint64_t> SortedUnique(std::vector<std::uint64_t> bounds) {
  std::sort(bounds.begin(), bounds.end());
  bounds.erase(std::unique(bounds.begin(), bounds.end()), bounds.end());
  return bounds;
}

}  // namespace

std::size_t ThisThreadShard() noexcept {
  static std::atomic<std::size_t> next{0};
  thread_local const std::size_t shard = next.fetch_add(1, std::memory_order_relaxed) % kShards;
  return shard;
}

CounterSet::CounterSet(std::size_t cells)
    : cells_(cells),
      lines_per_shard_((cells + kPerLine - 1) / kPerLine),
      lines_(kShards * lines_per_shard_) {}

std::uint64_t CounterSet::Value(std::size_t cell) const noexcept {
  std::uint64_t total = 0;
  for (std::size_t s = 0; s < kShards; ++s) total += Slot(s, cell).load(std::memory_order_relaxed);
  return total;
}

HistogramSet::HistogramSet(std::size_t series, std::vector<std::uint64_t> bounds)
    : series_(series), bounds_(SortedUnique(std::move(bounds))), cells_(series * Stride()) {}

std::size_t HistogramSet::BucketOf(std::uint64_t value) const noexcept {
  return static_cast<std::size_t>(std::lower_bound(bounds_.begin(), bounds_.end(), value) -
                                  bounds_.begin());
}

void HistogramSet::Observe(std::size_t series, std::uint64_t value) noexcept {
  const std::size_t base = series * Stride();
  cells_.Add(base + BucketOf(value));
  cells_.Add(base + bounds_.size() + 1, value);
}

HistogramSnapshot HistogramSet::Snapshot(std::size_t series) const {
  const std::size_t base = series * Stride();
  HistogramSnapshot s;
  s.buckets.resize(bounds_.size() + 1);
  for (std::size_t i = 0; i < s.buckets.size(); ++i) {
    s.buckets[i] = cells_.Value(base + i);
    s.count += s.buckets[i];
  }
  s.sum = cells_.Value(base + bounds_.size() + 1);
  return s;
}

}  // namespace coffer::metrics
