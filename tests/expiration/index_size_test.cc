// The per-lease memory cost of the in-memory expiry index, by design: the
// containers' own allocations are counted (malloc adds ~8-16 bytes per map
// node on top). The budget is 200 bytes of RSS per lease; bench/leases_load
// measures real RSS.
#include <gtest/gtest.h>

#include <cstring>

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
