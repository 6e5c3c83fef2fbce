// CacheBackend beyond the conformance suite: hits really avoid the inner
// backend, writes drop what they touched, a Get racing a write never puts a
// stale value back, and the limits hold.

#include "storage/cache/cache_backend.h"

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "storage/forwarding_backend.h"

namespace coffer::storage {
namespace {

// Counts Gets and can stall one Get between reading and returning, so a
// write can finish in that window.
class CountingBackend final : public test_util::ForwardingBackend {
 public:
  Result<std::optional<Entry>> Get(std::string_view key) override {
    gets.fetch_add(1);
    auto result = ForwardingBackend::Get(key);
    if (stall_next_get.exchange(false)) {
      read_done.store(true);
      while (!release.load()) std::this_thread::yield();
    }
    return result;
  }
  std::string_view Type() const override { return "counting"; }

  std::atomic<int> gets{0};
  std::atomic<bool> stall_next_get{false};
  std::atomic<bool> read_done{false};
  std::atomic<bool> release{false};
};

struct Fixture {
  Fixture(CacheOptions options = {}) {
    auto owned = std::make_unique<CountingBackend>();
    counting = owned.get();
    cache = std::make_unique<CacheBackend>(std::move(owned), options);
  }
  CountingBackend* counting;
  std::unique_ptr<CacheBackend> cache;
};

TEST(CacheBackendTest, SecondGetIsAHitAndAbsenceIsCachedToo) {
  Fixture f;
  ASSERT_TRUE(f.cache->Put("a", "1").ok());
  ASSERT_EQ(f.cache->Get("a").value()->value, "1");
  ASSERT_EQ(f.cache->Get("a").value()->value, "1");
  EXPECT_FALSE(f.cache->Get("missing").value().has_value());
  EXPECT_FALSE(f.cache->Get("missing").value().has_value());
  EXPECT_EQ(f.counting->gets.load(), 2);
  EXPECT_EQ(f.cache->Stats().hits, 2u);
}

TEST(CacheBackendTest, WritesDropTheirKeysSoTheNextGetSeesTheNewValueAndRevision) {
  Fixture f;
  ASSERT_TRUE(f.cache->Put("a", "1").ok());
  auto first = f.cache->Get("a").value();
  ASSERT_TRUE(f.cache->Put("a", "2").ok());
  auto second = f.cache->Get("a").value();
  EXPECT_EQ(second->value, "2");
  EXPECT_NE(second->revision, first->revision);

  std::vector<Op> ops{{Op::Kind::kPut, "a", "3"}, {Op::Kind::kDelete, "b", ""}};
  ASSERT_TRUE(f.cache->Put("b", "x").ok());
  ASSERT_TRUE(f.cache->Get("b").value().has_value());
  ASSERT_TRUE(f.cache->Transact({}, ops).ok());
  EXPECT_EQ(f.cache->Get("a").value()->value, "3");
  EXPECT_FALSE(f.cache->Get("b").value().has_value());

  ASSERT_TRUE(f.cache->Delete("a").ok());
  EXPECT_FALSE(f.cache->Get("a").value().has_value());
}

TEST(CacheBackendTest, AGetThatReadBeforeAConcurrentWriteDoesNotCacheTheOldValue) {
  Fixture f;
  ASSERT_TRUE(f.cache->Put("k", "old").ok());
  f.counting->stall_next_get = true;
  std::thread reader([&] {
    auto got = f.cache->Get("k");  // reads "old", then stalls before caching it
    EXPECT_EQ(got.value()->value, "old");
  });
  while (!f.counting->read_done.load()) std::this_thread::yield();
  ASSERT_TRUE(f.cache->Put("k", "new").ok());  // acknowledged while the reader stalls
  f.counting->release = true;
  reader.join();
  EXPECT_EQ(f.cache->Get("k").value()->value, "new");
}

TEST(CacheBackendTest, KeepsWithinItsLimitsAndSkipsLargeValues) {
  Fixture f(CacheOptions{64 * 4, 1 << 20});  // 4 entries per shard
  for (int i = 0; i < 2000; ++i) {
    const std::string key = "k" + std::to_string(i);
    ASSERT_TRUE(f.cache->Put(key, "v").ok());
    ASSERT_TRUE(f.cache->Get(key).has_value());
  }
  EXPECT_LE(f.cache->Stats().entries, 64u * 4);
  EXPECT_GT(f.cache->Stats().entries, 0u);

  ASSERT_TRUE(f.cache->Put("big", std::string(64 * 1024, 'x')).ok());
  const int before = f.counting->gets.load();
  ASSERT_TRUE(f.cache->Get("big").has_value());
  ASSERT_TRUE(f.cache->Get("big").has_value());
  EXPECT_EQ(f.counting->gets.load(), before + 2);  // never cached
  EXPECT_LE(f.cache->Stats().bytes, std::size_t{1} << 20);
}

// A full shard recycles its least recently used node for the next miss: the
// recycled node must answer for its new key only (value, revision or
// absence), keep the byte count right, and still be dropped by writes.
TEST(CacheBackendTest, AFullCacheRecyclesNodesWithoutMixingUpKeys) {
  Fixture f(CacheOptions{64 * 2, 1 << 20});  // 2 entries per shard
  std::map<std::string, std::uint64_t> revisions;
  for (int i = 0; i < 600; ++i) {
    const std::string key = "k" + std::to_string(i);
    if (i % 3 == 0) continue;  // absent keys are cached too
    ASSERT_TRUE(
        f.cache->Put(key, std::string(static_cast<std::size_t>(i % 50), 'a' + i % 26)).ok());
  }
  for (int round = 0; round < 2; ++round) {
    for (int i = 0; i < 600; ++i) {
      const std::string key = "k" + std::to_string(i);
      auto got = f.cache->Get(key);
      ASSERT_TRUE(got.has_value());
      if (i % 3 == 0) {
        EXPECT_FALSE(got->has_value()) << key;
        continue;
      }
      ASSERT_TRUE(got->has_value()) << key;
      EXPECT_EQ((*got)->value, std::string(static_cast<std::size_t>(i % 50), 'a' + i % 26)) << key;
      if (round == 0) revisions[key] = (*got)->revision;
      EXPECT_EQ((*got)->revision, revisions[key]) << key;
    }
  }
  const CacheStats stats = f.cache->Stats();
  EXPECT_LE(stats.entries, 64u * 2);
  EXPECT_GT(stats.misses, 1000u);  // the recycling path ran
  // Bytes match what is kept: at most 2 nodes per shard of <= 54 + 128 bytes.
  EXPECT_LE(stats.bytes, stats.entries * (4 + 50 + 128));
  EXPECT_GE(stats.bytes, stats.entries * 128);

  // The last keys read sit in recycled nodes: a write still drops them.
  ASSERT_TRUE(f.cache->Put("k599", "changed").ok());
  EXPECT_EQ(f.cache->Get("k599").value()->value, "changed");
  ASSERT_TRUE(f.cache->Delete("k598").ok());
  EXPECT_FALSE(f.cache->Get("k598").value().has_value());
}

// Three keys of one shard (the cache picks a shard by std::hash % 64).
std::vector<std::string> KeysOfOneShard(std::size_t n) {
  std::map<std::size_t, std::vector<std::string>> by_shard;
  for (int i = 0;; ++i) {
    std::string key = "key" + std::to_string(i);
    auto& keys = by_shard[std::hash<std::string_view>{}(key) % 64];
    keys.push_back(std::move(key));
    if (keys.size() == n) return keys;
  }
}

// A full shard lets a key in on its second miss only, so a key read once does
// not evict one read often.
TEST(CacheBackendTest, AFullShardAdmitsAKeyOnItsSecondMiss) {
  Fixture f(CacheOptions{64, 1 << 20});  // 1 entry per shard
  const std::vector<std::string> keys = KeysOfOneShard(2);
  const std::string& a = keys[0];
  const std::string& b = keys[1];
  ASSERT_TRUE(f.cache->Put(a, "A").ok());
  ASSERT_TRUE(f.cache->Put(b, "B").ok());
  const int start = f.counting->gets.load();
  EXPECT_EQ(f.cache->Get(a).value()->value, "A");  // not full yet: cached
  EXPECT_EQ(f.cache->Get(a).value()->value, "A");  // hit
  EXPECT_EQ(f.counting->gets.load(), start + 1);
  EXPECT_EQ(f.cache->Get(b).value()->value, "B");  // first miss: not let in
  EXPECT_EQ(f.cache->Get(a).value()->value, "A");  // so a is still cached
  EXPECT_EQ(f.counting->gets.load(), start + 2);
  EXPECT_EQ(f.cache->Get(b).value()->value, "B");  // second miss: let in
  EXPECT_EQ(f.cache->Get(b).value()->value, "B");  // hit
  EXPECT_EQ(f.counting->gets.load(), start + 3);
  EXPECT_EQ(f.cache->Get(a).value()->value, "A");  // a was evicted for it
  EXPECT_EQ(f.counting->gets.load(), start + 4);
  // A write still drops the admitted key.
  ASSERT_TRUE(f.cache->Put(b, "B2").ok());
  EXPECT_EQ(f.cache->Get(b).value()->value, "B2");
}

// Reads spread over a store much larger than the cache: keys read once
// seldom displace what is cached (the doorkeeper's false positives, ~2 % at
// most), while keys read twice mostly get in.
TEST(CacheBackendTest, KeysReadOnceSeldomEnterAFullCache) {
  Fixture f(CacheOptions{64 * 16, 1 << 24});  // 16 entries per shard
  for (int i = 0; i < 20000; ++i) {
    ASSERT_TRUE(f.cache->Put("key" + std::to_string(i), "value").ok());
  }
  for (int pass = 0; pass < 3; ++pass) {
    for (int i = 0; i < 2000; ++i) ASSERT_TRUE(f.cache->Get("key" + std::to_string(i)).has_value());
  }
  ASSERT_EQ(f.cache->Stats().entries, 64u * 16);  // every shard is full

  const auto fills_before = f.cache->Stats().fills;
  for (int i = 10000; i < 14000; ++i) {
    ASSERT_TRUE(f.cache->Get("key" + std::to_string(i)).has_value());
  }
  const auto once = f.cache->Stats().fills - fills_before;
  EXPECT_LE(once, 4000u * 4 / 100) << "keys read once entered the cache";

  // Read again soon after (within the doorkeeper's memory of as many misses
  // as the shard holds), a key gets in.
  for (int start = 14000; start < 18000; start += 320) {
    for (int pass = 0; pass < 2; ++pass) {
      for (int i = start; i < start + 320; ++i) {
        ASSERT_TRUE(f.cache->Get("key" + std::to_string(i)).has_value());
      }
    }
  }
  const auto twice = f.cache->Stats().fills - fills_before - once;
  EXPECT_GE(twice, 4160u * 3 / 4) << "keys read twice were kept out";
  EXPECT_EQ(f.cache->Stats().entries, 64u * 16);
}

}  // namespace
}  // namespace coffer::storage
