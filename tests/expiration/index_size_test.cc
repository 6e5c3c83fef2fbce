// The per-lease memory cost of the in-memory expiry index, by design: the
// containers' own allocations are counted (malloc adds ~8-16 bytes per map
// node on top). The budget is 200 bytes of RSS per lease; bench/leases_load
// measures real RSS.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <map>
#include <random>

#include "expiration/expiry_index.h"
#include "expiration/index_format.h"

namespace coffer::expiration {
namespace {

TEST(ExpiryIndexSize, PerEntryCostIsSmall) {
  ExpiryIndex index;
  constexpr int kN = 50'000;
  for (int i = 0; i < kN; ++i) index.Upsert(KeyOf("lease/" + std::to_string(i)), i);
  double per_entry = static_cast<double>(index.AllocatedBytes()) / kN;
  // map node (next 8 + key 16 + due 8) + bucket pointer + heap item (24,
  // with vector slack) ≈ 70-110.
  EXPECT_LE(per_entry, 120.0);
  EXPECT_GE(per_entry, 56.0);  // the counter really counts
  RecordProperty("bytes_per_entry", std::to_string(per_entry));

  // Renewals leave stale heap items; compaction keeps them bounded.
  for (int round = 0; round < 5; ++round) {
    for (int i = 0; i < kN; ++i) index.Upsert(KeyOf("lease/" + std::to_string(i)), kN + round + i);
  }
  EXPECT_LE(static_cast<double>(index.AllocatedBytes()) / kN, 200.0);
  EXPECT_EQ(index.size(), static_cast<std::size_t>(kN));
}

TEST(ExpiryIndex, PopsInDueOrderAndSkipsStale) {
  ExpiryIndex index;
  LeaseKey a = KeyOf("a"), b = KeyOf("b"), c = KeyOf("c");
  index.Upsert(a, 30);
  index.Upsert(b, 10);
  index.Upsert(c, 20);
  index.Upsert(b, 40);  // renewed
  index.Erase(c);
  EXPECT_EQ(index.NextDue(), 30);
  auto due = index.PopDue(35, 10);
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0], a);
  EXPECT_FALSE(index.InsertIfAbsent(b, 1));
  EXPECT_EQ(index.Due(b), 40);
  EXPECT_EQ(index.PopDue(100, 10).size(), 1u);
  EXPECT_EQ(index.size(), 0u);
}

TEST(ExpiryIndex, RenewalsDoNotGrowTheHeap) {
  ExpiryIndex index;
  constexpr int kN = 20'000;
  for (int i = 0; i < kN; ++i) index.Upsert(KeyOf("lease/" + std::to_string(i)), i);
  const std::size_t bytes = index.AllocatedBytes();
  for (int round = 1; round <= 3; ++round) {
    for (int i = 0; i < kN; ++i) index.Upsert(KeyOf("lease/" + std::to_string(i)), i + round * kN);
  }
  // Later due times push nothing; no heap growth, no compaction.
  EXPECT_EQ(index.AllocatedBytes(), bytes);
  // Each key surfaces at its renewed time, in order.
  EXPECT_EQ(index.NextDue(), 3 * kN);
  EXPECT_TRUE(index.PopDue(3 * kN - 1, kN).empty());
  auto due = index.PopDue(3 * kN + 9, kN);
  ASSERT_EQ(due.size(), 10u);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(due[i], KeyOf("lease/" + std::to_string(i)));
}

// Random upserts (later and earlier), erases and pops against a plain map.
TEST(ExpiryIndex, MatchesAReferenceUnderRandomOperations) {
  ExpiryIndex index;
  std::map<int, std::int64_t> model;  // lease number → due
  std::mt19937 rng(20261129);
  std::int64_t now = 0;
  auto key = [](int n) { return KeyOf("lease/" + std::to_string(n)); };
  for (int step = 0; step < 100'000; ++step) {
    const int n = static_cast<int>(rng() % 2000);
    switch (rng() % 8) {
      case 0:
      case 1:
      case 2: {  // renew or create, mostly later
        std::int64_t due = now + static_cast<std::int64_t>(rng() % 5000);
        index.Upsert(key(n), due);
        model[n] = due;
        break;
      }
      case 3: {
        std::int64_t due = now + static_cast<std::int64_t>(rng() % 5000);
        bool added = index.InsertIfAbsent(key(n), due);
        ASSERT_EQ(added, !model.contains(n));
        if (added) model[n] = due;
        break;
      }
      case 4:
        index.Erase(key(n));
        model.erase(n);
        break;
      case 5: {
        auto d = index.Due(key(n));
        auto it = model.find(n);
        ASSERT_EQ(d.has_value(), it != model.end());
        if (d) {
          ASSERT_EQ(*d, it->second);
        }
        break;
      }
      default: {  // time passes; everything due comes out, earliest first
        now += static_cast<std::int64_t>(rng() % 200);
        auto popped = index.PopDue(now, 100'000);
        std::int64_t last = -1;
        for (const LeaseKey& k : popped) {
          auto it = std::find_if(model.begin(), model.end(),
                                 [&](const auto& kv) { return key(kv.first) == k; });
          ASSERT_NE(it, model.end());
          ASSERT_LE(it->second, now);
          ASSERT_GE(it->second, last);
          last = it->second;
          model.erase(it);
        }
        for (const auto& [m, due] : model) {
          ASSERT_GT(due, now) << "lease " << m << " not popped";
        }
        auto next = index.NextDue();
        ASSERT_EQ(next.has_value(), !model.empty());
        if (next) {
          std::int64_t earliest = model.begin()->second;
          for (const auto& [m, due] : model) earliest = std::min(earliest, due);
          ASSERT_EQ(*next, earliest);
        }
      }
    }
    ASSERT_EQ(index.size(), model.size());
  }
}

TEST(IndexFormat, BucketRoundTrip) {
  std::vector<IndexRecord> records{{KeyOf("x/1"), 1700000000, "x/1"},
                                   {KeyOf("y/2"), 1800000000, "y/2"}};
  auto decoded = DecodeBucket(EncodeBucket(records));
  ASSERT_TRUE(decoded.has_value());
  ASSERT_EQ(decoded->size(), 2u);
  EXPECT_EQ((*decoded)[1].id, "y/2");
  EXPECT_EQ((*decoded)[1].expire_time, 1800000000);
  EXPECT_EQ((*decoded)[0].key, KeyOf("x/1"));
  std::string truncated = EncodeBucket(records);
  truncated.pop_back();
  EXPECT_FALSE(DecodeBucket(truncated).has_value());
  EXPECT_EQ(BucketStorageKey(BucketOf(KeyOf("x/1"))).size(), 9u);
}

}  // namespace
}  // namespace coffer::expiration
