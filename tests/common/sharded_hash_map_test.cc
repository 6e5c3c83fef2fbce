#include "common/sharded_hash_map.h"

#include <gtest/gtest.h>

#include <cstddef>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>

namespace coffer {
namespace {

struct Hash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
using Map = std::unordered_map<std::string, int, Hash, std::equal_to<>>;
using Sharded = ShardedHashMap<Map>;

std::string Key(int i) { return "key-" + std::to_string(i); }

TEST(ShardedHashMapTest, SmallMapFindsInsertsAndRemoves) {
  Sharded m;
  EXPECT_TRUE(m.empty());
  auto [v, inserted] = m.TryEmplace(std::string("a"), 1);
  EXPECT_TRUE(inserted);
  EXPECT_EQ(*v, 1);
  auto [again, second] = m.TryEmplace(std::string("a"), 2);
  EXPECT_FALSE(second);
  EXPECT_EQ(*again, 1);  // try_emplace leaves an existing value
  m.InsertOrAssign(std::string("a"), 3);
  ASSERT_NE(m.Find(std::string_view("a")), nullptr);
  EXPECT_EQ(*m.Find(std::string_view("a")), 3);
  EXPECT_EQ(m.Find(std::string_view("b")), nullptr);
  EXPECT_EQ(m.size(), 1u);
  EXPECT_TRUE(m.Erase(std::string_view("a")));
  EXPECT_FALSE(m.Erase(std::string_view("a")));
  EXPECT_TRUE(m.empty());
  EXPECT_FALSE(m.sharded());
}

TEST(ShardedHashMapTest, SplitsPastTheThresholdAndKeepsEveryKey) {
  Sharded m;
  const int n = static_cast<int>(Sharded::kShardFrom) * 3;
  // A pointer taken before the split must survive it (nodes move, not copy).
  int* first = m.TryEmplace(Key(0), 0).first;
  for (int i = 1; i < n; ++i) ASSERT_TRUE(m.TryEmplace(Key(i), i).second);
  EXPECT_TRUE(m.sharded());
  EXPECT_EQ(m.size(), static_cast<std::size_t>(n));
  EXPECT_EQ(first, m.Find(Key(0)));
  for (int i = 0; i < n; ++i) {
    const int* v = m.Find(std::string_view(Key(i)));
    ASSERT_NE(v, nullptr) << i;
    EXPECT_EQ(*v, i);
  }
  EXPECT_EQ(m.Find(Key(n)), nullptr);
  std::set<std::string> seen;
  m.ForEach([&](const std::string& k, int) { seen.insert(k); });
  EXPECT_EQ(seen.size(), static_cast<std::size_t>(n));
  for (int i = 0; i < n; i += 2) ASSERT_FALSE(m.Extract(Key(i)).empty());
  EXPECT_EQ(m.size(), static_cast<std::size_t>(n / 2));
  for (int i = 0; i < n; ++i) EXPECT_EQ(m.Find(Key(i)) != nullptr, i % 2 == 1) << i;
  m.Clear();
  EXPECT_TRUE(m.empty());
  EXPECT_EQ(m.Find(Key(1)), nullptr);
}

// ExtractAnyBut removes some other node of the key's shard, never the key's
// own, whatever bucket it starts from, small map or sharded.
TEST(ShardedHashMapTest, ExtractAnyButNeverTakesTheKey) {
  Sharded m;
  m.InsertOrAssign(Key(0), 0);
  for (std::size_t seed = 0; seed < 64; ++seed) {
    EXPECT_TRUE(m.ExtractAnyBut(Key(0), seed).empty()) << "seed " << seed;
  }
  EXPECT_NE(m.Find(Key(0)), nullptr);
  m.InsertOrAssign(Key(1), 1);
  for (std::size_t seed = 0; seed < 64; ++seed) {
    auto node = m.ExtractAnyBut(Key(0), seed);
    ASSERT_FALSE(node.empty()) << "seed " << seed;
    EXPECT_EQ(node.key(), Key(1));
    EXPECT_EQ(m.size(), 1u);
    m.Insert(std::move(node));
  }
  const int n = static_cast<int>(Sharded::kShardFrom) + 1000;
  for (int i = 2; i < n; ++i) m.InsertOrAssign(Key(i), i);
  ASSERT_TRUE(m.sharded());
  // Fewer than a shard holds (about n / kShards).
  std::set<std::string> taken;
  for (std::size_t seed = 0; seed < 50; ++seed) {
    auto node = m.ExtractAnyBut(Key(7), seed * 0x9E3779B97F4A7C15ULL);
    ASSERT_FALSE(node.empty());
    EXPECT_NE(node.key(), Key(7));
    EXPECT_TRUE(taken.insert(node.key()).second);
  }
  EXPECT_EQ(m.size(), static_cast<std::size_t>(n) - 50);
  EXPECT_NE(m.Find(Key(7)), nullptr);
  for (const auto& k : taken) EXPECT_EQ(m.Find(k), nullptr);
}

TEST(ShardedHashMapTest, InsertNodeHandsBackADuplicate) {
  Sharded m;
  for (int i = 0; i < static_cast<int>(Sharded::kShardFrom) + 10; ++i) m.TryEmplace(Key(i), i);
  Map staging;
  auto node = staging.extract(staging.emplace(Key(5), 500).first);
  auto dup = m.Insert(std::move(node));
  EXPECT_FALSE(dup.inserted);
  ASSERT_FALSE(dup.node.empty());
  EXPECT_EQ(dup.node.mapped(), 500);
  EXPECT_EQ(*dup.value, 5);  // the stored value is untouched
  auto fresh = staging.extract(staging.emplace("new", 7).first);
  auto added = m.Insert(std::move(fresh));
  EXPECT_TRUE(added.inserted);
  EXPECT_EQ(*m.Find(std::string_view("new")), 7);
  EXPECT_EQ(m.size(), Sharded::kShardFrom + 11);
}

TEST(ShardedHashMapTest, ReserveForManyShardsFirst) {
  Sharded m;
  m.Reserve(100000);
  EXPECT_TRUE(m.sharded());
  EXPECT_TRUE(m.empty());
  for (int i = 0; i < 1000; ++i) m.TryEmplace(Key(i), i);
  EXPECT_EQ(m.size(), 1000u);
  EXPECT_EQ(*m.Find(Key(999)), 999);
}

}  // namespace
}  // namespace coffer
