#pragma once
// Counters and histograms cheap enough for the request hot path.
//
// prometheus-cpp's Counter is one atomic shared by every thread and its
// Histogram::Observe takes a mutex; on a KV read served by many threads
// either turns into cache-line ping-pong. Here every metric is split into
// kShards copies, each thread writes only its own shard (assigned
// round-robin at its first write) with relaxed atomic adds, and shards sit
// on separate cache lines. A scrape adds the shards up; it reads while
// writers write, so a scrape sees each cell at some recent value (a
// histogram's count always equals the sum of its buckets, since the count is
// computed from them).
//
// Thread-safety: Add/Observe and the readers are safe from any thread. The
// sets are fixed-size: cells and series are chosen at construction.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace coffer::metrics {

inline constexpr std::size_t kShards = 16;

// The calling thread's shard, in [0, kShards).
std::size_t ThisThreadShard() noexcept;

// A fixed number of monotonically increasing counters ("cells").
class CounterSet {
 public:
  explicit CounterSet(std::size_t cells);

  void Add(std::size_t cell, std::uint64_t n = 1) noexcept {
    Slot(ThisThreadShard(), cell).fetch_add(n, std::memory_order_relaxed);
  }
  // The sum over all shards.
  std::uint64_t Value(std::size_t cell) const noexcept;
  std::size_t cells() const noexcept { return cells_; }

 private:
  static constexpr std::size_t kPerLine = 64 / sizeof(std::atomic<std::uint64_t>);
  struct alignas(64) Line {
    std::atomic<std::uint64_t> v[kPerLine] = {};
  };
  std::atomic<std::uint64_t>& Slot(std::size_t shard, std::size_t cell) noexcept {
    return lines_[shard * lines_per_shard_ + cell / kPerLine].v[cell % kPerLine];
  }
  const std::atomic<std::uint64_t>& Slot(std::size_t shard, std::size_t cell) const noexcept {
    return lines_[shard * lines_per_shard_ + cell / kPerLine].v[cell % kPerLine];
  }

  std::size_t cells_;
  std::size_t lines_per_shard_;
  std::vector<Line> lines_;  // never resized: the atomics stay put
};

// What a histogram holds at a scrape.
struct HistogramSnapshot {
  std::vector<std::uint64_t> buckets;  // per bucket, not cumulative; last is +Inf
  std::uint64_t count = 0;             // sum of buckets
  std::uint64_t sum = 0;               // of observed values, in the set's unit
};

// `series` histograms sharing fixed upper bounds, in an integer unit chosen
// by the caller (nanoseconds for durations). As in Prometheus, a value lands
// in the first bucket whose bound is >= the value; values above the last
// bound land in +Inf. An observation is two relaxed adds (its bucket and
// the sum) on the thread's shard.
class HistogramSet {
 public:
  HistogramSet(std::size_t series, std::vector<std::uint64_t> bounds);

  void Observe(std::size_t series, std::uint64_t value) noexcept;
  HistogramSnapshot Snapshot(std::size_t series) const;
  std::span<const std::uint64_t> bounds() const noexcept { return bounds_; }
  std::size_t series() const noexcept { return series_; }
  // The bucket index Observe uses for `value` (for tests).
  std::size_t BucketOf(std::uint64_t value) const noexcept;

 private:
  std::size_t Stride() const noexcept { return bounds_.size() + 2; }  // buckets, +Inf, sum

  std::size_t series_;
  std::vector<std::uint64_t> bounds_;
  CounterSet cells_;
};

}  // namespace coffer::metrics
