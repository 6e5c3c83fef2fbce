#include "metrics/sharded.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace coffer::metrics {
namespace {

TEST(CounterSetTest, ConcurrentIncrementsAddUpExactly) {
  CounterSet counters(3);
  constexpr int kThreads = 8;
  constexpr int kPerThread = 100000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&counters, t] {
      for (int i = 0; i < kPerThread; ++i) {
        counters.Add(0);
        counters.Add(2, static_cast<std::uint64_t>(t));
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(counters.Value(0), std::uint64_t{kThreads} * kPerThread);
  EXPECT_EQ(counters.Value(1), 0u);
  EXPECT_EQ(counters.Value(2), std::uint64_t{kPerThread} * (0 + 1 + 2 + 3 + 4 + 5 + 6 + 7));
}

TEST(CounterSetTest, ManyCellsSpanSeveralCacheLines) {
  CounterSet counters(20);  // three lines per shard
  for (std::size_t c = 0; c < 20; ++c) counters.Add(c, c + 1);
  for (std::size_t c = 0; c < 20; ++c) EXPECT_EQ(counters.Value(c), c + 1) << c;
}

TEST(CounterSetTest, ThreadsSpreadOverShards) {
  std::vector<std::size_t> shards(kShards);
  std::vector<std::thread> threads;
  for (std::size_t t = 0; t < kShards; ++t) {
    threads.emplace_back([&shards, t] { shards[t] = ThisThreadShard(); });
  }
  for (auto& t : threads) t.join();
  std::sort(shards.begin(), shards.end());
  // Round-robin: kShards new threads take kShards distinct shards.
  EXPECT_EQ(std::unique(shards.begin(), shards.end()) - shards.begin(),
            static_cast<std::ptrdiff_t>(kShards));
}

TEST(HistogramSetTest, BoundaryValuesLandInTheirBucket) {
  HistogramSet h(2, {100, 10, 1000});  // sorted on construction
  EXPECT_EQ(h.BucketOf(0), 0u);
  EXPECT_EQ(h.BucketOf(10), 0u);  // le="10" includes 10
  EXPECT_EQ(h.BucketOf(11), 1u);
  EXPECT_EQ(h.BucketOf(100), 1u);
  EXPECT_EQ(h.BucketOf(101), 2u);
  EXPECT_EQ(h.BucketOf(1000), 2u);
  EXPECT_EQ(h.BucketOf(1001), 3u);  // +Inf
  for (std::uint64_t v : {10, 11, 100, 1000, 5000}) h.Observe(1, v);
  HistogramSnapshot s = h.Snapshot(1);
  EXPECT_EQ(s.buckets, (std::vector<std::uint64_t>{1, 2, 1, 1}));
  EXPECT_EQ(s.count, 5u);
  EXPECT_EQ(s.sum, 10u + 11 + 100 + 1000 + 5000);
  EXPECT_EQ(h.Snapshot(0).count, 0u);  // series are independent
}

TEST(HistogramSetTest, ConcurrentObservationsAddUp) {
  HistogramSet h(1, {5});
  std::vector<std::thread> threads;
  for (int t = 0; t < 6; ++t) {
    threads.emplace_back([&h] {
      for (int i = 0; i < 50000; ++i) h.Observe(0, i % 10);
    });
  }
  for (auto& t : threads) t.join();
  HistogramSnapshot s = h.Snapshot(0);
  EXPECT_EQ(s.count, 300000u);
  EXPECT_EQ(s.buckets[0], 180000u);  // 0..5
  EXPECT_EQ(s.buckets[1], 120000u);  // 6..9
  EXPECT_EQ(s.sum, 6u * 5000 * 45);
}

}  // namespace
}  // namespace coffer::metrics
