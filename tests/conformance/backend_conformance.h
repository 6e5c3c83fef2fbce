#pragma once
// The conformance suite every storage::Backend passes.
//
// Use: include this header from exactly ONE .cc of a test executable (it
// defines the tests) and instantiate it with a factory that returns a fresh,
// empty backend for each test:
//
//   INSTANTIATE_TEST_SUITE_P(
//       Local, BackendConformanceTest,
//       ::testing::Values(BackendCase{"local", [] { return MakeLocalInTempDir(); }}),
//       BackendCaseName);
//
// The suite assumes only what backend.h promises, so a distributed backend
// fits too: a revision is non-zero for a present key, changes on every write
// of that key and never goes back (etcd's mod_revision qualifies); revisions
// of different keys are unrelated.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <thread>
#include <vector>

#include "storage/backend.h"

namespace coffer::storage::conformance {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

// A named way to make a fresh backend. The backend is destroyed at the end of
// each test; a wrapper may clean up (e.g. remove a temporary directory) in its
// destructor.
struct BackendCase {
  std::string name;
  std::function<std::unique_ptr<Backend>()> make;
};

inline void PrintTo(const BackendCase& c, std::ostream* os) { *os << c.name; }

inline std::string BackendCaseName(const ::testing::TestParamInfo<BackendCase>& info) {
  return info.param.name;
}

class BackendConformanceTest : public ::testing::TestWithParam<BackendCase> {
 protected:
  void SetUp() override {
    backend_ = GetParam().make();
    ASSERT_NE(backend_, nullptr);
  }
  void TearDown() override { backend_.reset(); }

  Backend& backend() { return *backend_; }

  // Get that must succeed (records a failure and answers nullopt otherwise).
  std::optional<Entry> MustGet(std::string_view key) {
    auto got = backend_->Get(key);
    EXPECT_TRUE(got.has_value()) << "Get(" << key << "): " << got.error().ToString();
    return got.has_value() ? *got : std::nullopt;
  }

  std::vector<std::string> MustList(std::string_view prefix) {
    auto got = backend_->List(prefix);
    EXPECT_TRUE(got.has_value()) << "List(" << prefix << "): " << got.error().ToString();
    return got.has_value() ? *got : std::vector<std::string>{};
  }

  void MustPut(std::string_view key, std::string_view value) {
    Status s = backend_->Put(key, value);
    ASSERT_TRUE(s.ok()) << "Put(" << key << "): " << s.ToString();
  }

  std::unique_ptr<Backend> backend_;
};

inline Op PutOp(std::string key, std::string value) {
  return Op{Op::Kind::kPut, std::move(key), std::move(value)};
}
inline Op DeleteOp(std::string key) { return Op{Op::Kind::kDelete, std::move(key), {}}; }

// ---- Get / Put / Delete ----

TEST_P(BackendConformanceTest, GetMissingIsNullopt) {
  EXPECT_EQ(MustGet("no/such/key"), std::nullopt);
}

TEST_P(BackendConformanceTest, PutThenGet) {
  MustPut("a/b", "value");
  auto e = MustGet("a/b");
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->value, "value");
  EXPECT_NE(e->revision, 0u);
}

TEST_P(BackendConformanceTest, OverwriteReplacesValue) {
  MustPut("k", "one");
  auto first = MustGet("k");
  MustPut("k", "two");
  auto second = MustGet("k");
  ASSERT_TRUE(first && second);
  EXPECT_EQ(second->value, "two");
  EXPECT_GT(second->revision, first->revision);
}

TEST_P(BackendConformanceTest, DeleteRemovesKey) {
  MustPut("k", "v");
  MustPut("other", "v");
  ASSERT_TRUE(backend().Delete("k").ok());
  EXPECT_EQ(MustGet("k"), std::nullopt);
  EXPECT_TRUE(MustGet("other").has_value());
}

TEST_P(BackendConformanceTest, DeleteMissingIsOk) {
  EXPECT_TRUE(backend().Delete("never/written").ok());
  EXPECT_EQ(MustGet("never/written"), std::nullopt);
}

TEST_P(BackendConformanceTest, EmptyValueIsPresent) {
  MustPut("empty", "");
  auto e = MustGet("empty");
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->value, "");
  EXPECT_NE(e->revision, 0u);
}

TEST_P(BackendConformanceTest, BinaryValuesRoundTrip) {
  std::string all_bytes;
  for (int i = 0; i < 256; ++i) all_bytes.push_back(static_cast<char>(i));
  const std::string nuls("\0\0a\0b\0", 6);
  MustPut("bin/all", all_bytes);
  MustPut("bin/nuls", nuls);
  auto a = MustGet("bin/all");
  auto n = MustGet("bin/nuls");
  ASSERT_TRUE(a && n);
  EXPECT_EQ(a->value, all_bytes);
  EXPECT_EQ(n->value, nuls);
  EXPECT_EQ(n->value.size(), 6u);
}

TEST_P(BackendConformanceTest, OneMebibyteValueRoundTrips) {
  std::string big(1 << 20, '\0');
  std::uint32_t x = 2463534242u;  // xorshift: every byte value, no pattern a codec could exploit
  for (auto& c : big) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    c = static_cast<char>(x);
  }
  MustPut("big", big);
  auto e = MustGet("big");
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->value.size(), big.size());
  EXPECT_TRUE(e->value == big);  // not EXPECT_EQ: a failure would print 2 MiB
}

TEST_P(BackendConformanceTest, InvalidKeysAreRejected) {
  const std::vector<std::string> bad = {"", "/leading", std::string("nul\0inside", 10),
                                        std::string(1025, 'k')};
  for (const auto& key : bad) {
    SCOPED_TRACE(testing::Message() << "key of size " << key.size());
    auto got = backend().Get(key);
    ASSERT_FALSE(got.has_value());
    EXPECT_EQ(got.error().code(), Code::kInvalidArgument);
    EXPECT_EQ(backend().Put(key, "v").code(), Code::kInvalidArgument);
    EXPECT_EQ(backend().Delete(key).code(), Code::kInvalidArgument);
    std::vector<Op> ops = {PutOp("fine", "v"), PutOp(key, "v")};
    EXPECT_EQ(backend().Transact({}, ops).code(), Code::kInvalidArgument);
    std::vector<Compare> compares = {{key, 0}};
    std::vector<Op> fine = {PutOp("fine", "v")};
    EXPECT_EQ(backend().Transact(compares, fine).code(), Code::kInvalidArgument);
  }
  EXPECT_EQ(MustGet("fine"), std::nullopt);  // the rejected transactions applied nothing
  EXPECT_THAT(MustList(""), IsEmpty());
}

TEST_P(BackendConformanceTest, UnusualButValidKeys) {
  const std::vector<std::string> keys = {std::string(1024, 'k'), "with space", "caf\xc3\xa9",
                                         "high\xff\xfe",         "trailing/",  "a//b"};
  for (const auto& key : keys) MustPut(key, "v:" + key);
  for (const auto& key : keys) {
    auto e = MustGet(key);
    ASSERT_TRUE(e.has_value()) << key;
    EXPECT_EQ(e->value, "v:" + key);
  }
}

// ---- List ----

TEST_P(BackendConformanceTest, ListEmptyBackend) { EXPECT_THAT(MustList(""), IsEmpty()); }

TEST_P(BackendConformanceTest, ListOneLevelWithFolders) {
  for (auto key : {"a", "b/c", "b/d", "b/e/f", "c/g/h"}) MustPut(key, "v");
  EXPECT_THAT(MustList(""), ElementsAre("a", "b/", "c/"));
  EXPECT_THAT(MustList("b/"), ElementsAre("c", "d", "e/"));
  EXPECT_THAT(MustList("b/e/"), ElementsAre("f"));
  EXPECT_THAT(MustList("c/"), ElementsAre("g/"));
  EXPECT_THAT(MustList("c/g/"), ElementsAre("h"));
}

TEST_P(BackendConformanceTest, ListDedupesFolders) {
  for (int i = 0; i < 50; ++i) MustPut("dir/sub/k" + std::to_string(i), "v");
  for (int i = 0; i < 5; ++i) MustPut("dir/deep/x/y/k" + std::to_string(i), "v");
  EXPECT_THAT(MustList(""), ElementsAre("dir/"));
  EXPECT_THAT(MustList("dir/"), ElementsAre("deep/", "sub/"));
  EXPECT_EQ(MustList("dir/sub/").size(), 50u);
}

TEST_P(BackendConformanceTest, ListIsSortedBytewise) {
  for (auto key : {"z", "~", "caf\xc3\xa9", "a0", "a/x", "a-b", "A", "a/y/z"}) MustPut(key, "v");
  EXPECT_THAT(MustList(""), ElementsAre("A", "a-b", "a/", "a0", "caf\xc3\xa9", "z", "~"));
}

TEST_P(BackendConformanceTest, ListOfABigFolderIsSortedWithItsSubFolders) {
  // Written in an order unrelated to the sorted one (a hashed store must
  // still answer sorted), with sub-folders between the leaves.
  std::vector<std::string> want;
  for (int i = 0; i < 300; ++i) {
    const int n = (i * 7919) % 300;
    MustPut("big/k" + std::to_string(n), "v");
    want.push_back("k" + std::to_string(i));
  }
  MustPut("big/k150x/deep", "v");
  MustPut("big/a/deep", "v");
  want.push_back("k150x/");
  want.push_back("a/");
  std::sort(want.begin(), want.end());
  EXPECT_EQ(MustList("big/"), want);
}

TEST_P(BackendConformanceTest, ListFileAndFolderOfTheSameName) {
  MustPut("dir", "file");
  MustPut("dir/x", "v");
  EXPECT_THAT(MustList(""), ElementsAre("dir", "dir/"));
  EXPECT_THAT(MustList("dir/"), ElementsAre("x"));
}

TEST_P(BackendConformanceTest, ListPrefixThatIsAFileNotAFolder) {
  MustPut("file", "v");
  MustPut("filed/x", "v");
  EXPECT_THAT(MustList("file/"), IsEmpty());
}

TEST_P(BackendConformanceTest, ListDoesNotLeakSiblingPrefixes) {
  MustPut("a/b", "v");
  MustPut("ab/c", "v");
  MustPut("a0", "v");
  EXPECT_THAT(MustList("a/"), ElementsAre("b"));
  EXPECT_THAT(MustList("ab/"), ElementsAre("c"));
  EXPECT_THAT(MustList("missing/"), IsEmpty());
}

TEST_P(BackendConformanceTest, ListForgetsDeletedKeysAndEmptyFolders) {
  MustPut("f/one", "v");
  MustPut("f/two", "v");
  ASSERT_TRUE(backend().Delete("f/one").ok());
  EXPECT_THAT(MustList("f/"), ElementsAre("two"));
  ASSERT_TRUE(backend().Delete("f/two").ok());
  EXPECT_THAT(MustList(""), IsEmpty());
}

TEST_P(BackendConformanceTest, AnEmptiedFolderFillsAgain) {
  for (int round = 0; round < 3; ++round) {
    const std::string value = "v" + std::to_string(round);
    // The folder goes and comes back inside one transaction, then again
    // across two.
    std::vector<Op> ops = {PutOp("f/g/one", value), DeleteOp("f/g/one"), PutOp("f/g/two", value)};
    ASSERT_TRUE(backend().Transact({}, ops).ok());
    EXPECT_EQ(MustGet("f/g/one"), std::nullopt);
    EXPECT_EQ(MustGet("f/g/two").value().value, value);
    ASSERT_TRUE(backend().Delete("f/g/two").ok());
    EXPECT_EQ(MustGet("f/g/two"), std::nullopt);
    EXPECT_THAT(MustList("f/"), IsEmpty());
    MustPut("f/g/three", value);
    EXPECT_EQ(MustGet("f/g/three").value().value, value);
    EXPECT_THAT(MustList("f/"), ElementsAre("g/"));
    EXPECT_THAT(MustList("f/g/"), ElementsAre("three"));
    ASSERT_TRUE(backend().Delete("f/g/three").ok());
  }
  EXPECT_THAT(MustList(""), IsEmpty());
}

TEST_P(BackendConformanceTest, ListPrefixMustEndInSlash) {
  MustPut("a/b", "v");
  auto got = backend().List("a");
  ASSERT_FALSE(got.has_value());
  EXPECT_EQ(got.error().code(), Code::kInvalidArgument);
}

// ---- Transact ----

TEST_P(BackendConformanceTest, TransactAppliesEveryOp) {
  MustPut("gone", "v");
  std::vector<Op> ops = {PutOp("t/a", "1"), PutOp("t/b", "2"), DeleteOp("gone"),
                         DeleteOp("never/there")};
  ASSERT_TRUE(backend().Transact({}, ops).ok());
  EXPECT_EQ(MustGet("t/a").value().value, "1");
  EXPECT_EQ(MustGet("t/b").value().value, "2");
  EXPECT_EQ(MustGet("gone"), std::nullopt);
}

TEST_P(BackendConformanceTest, TransactCompareAbsent) {
  std::vector<Compare> absent = {{"k", 0}};
  std::vector<Op> first = {PutOp("k", "first")};
  ASSERT_TRUE(backend().Transact(absent, first).ok());
  std::vector<Op> second = {PutOp("k", "second"), PutOp("side", "effect")};
  EXPECT_EQ(backend().Transact(absent, second).code(), Code::kConflict);
  EXPECT_EQ(MustGet("k").value().value, "first");
  EXPECT_EQ(MustGet("side"), std::nullopt);
}

TEST_P(BackendConformanceTest, TransactStaleRevisionConflictsAndAppliesNothing) {
  MustPut("k", "v1");
  const std::uint64_t stale = MustGet("k").value().revision;
  MustPut("k", "v2");
  const std::uint64_t current = MustGet("k").value().revision;
  MustPut("victim", "keep");

  std::vector<Compare> compares = {{"k", stale}};
  std::vector<Op> ops = {PutOp("k", "v3"), PutOp("new", "x"), DeleteOp("victim")};
  EXPECT_EQ(backend().Transact(compares, ops).code(), Code::kConflict);
  EXPECT_EQ(MustGet("k").value().value, "v2");
  EXPECT_EQ(MustGet("k").value().revision, current);
  EXPECT_EQ(MustGet("new"), std::nullopt);
  EXPECT_EQ(MustGet("victim").value().value, "keep");

  compares = {{"k", current}};
  ASSERT_TRUE(backend().Transact(compares, ops).ok());
  EXPECT_EQ(MustGet("k").value().value, "v3");
  EXPECT_EQ(MustGet("new").value().value, "x");
  EXPECT_EQ(MustGet("victim"), std::nullopt);
}

TEST_P(BackendConformanceTest, TransactEveryCompareMustHold) {
  MustPut("a", "1");
  MustPut("b", "1");
  const std::uint64_t ra = MustGet("a").value().revision;
  std::vector<Compare> compares = {{"a", ra}, {"b", 0}};  // b exists: fails
  std::vector<Op> ops = {PutOp("a", "2")};
  EXPECT_EQ(backend().Transact(compares, ops).code(), Code::kConflict);
  EXPECT_EQ(MustGet("a").value().value, "1");
  compares = {{"a", ra}, {"c", 0}};
  EXPECT_TRUE(backend().Transact(compares, ops).ok());
  EXPECT_EQ(MustGet("a").value().value, "2");
}

TEST_P(BackendConformanceTest, TransactDeleteWithCompare) {
  MustPut("k", "v");
  const std::uint64_t rev = MustGet("k").value().revision;
  std::vector<Compare> compares = {{"k", rev}};
  std::vector<Op> ops = {DeleteOp("k")};
  ASSERT_TRUE(backend().Transact(compares, ops).ok());
  EXPECT_EQ(MustGet("k"), std::nullopt);
  // The key is gone, so the old revision no longer matches.
  EXPECT_EQ(backend().Transact(compares, ops).code(), Code::kConflict);
}

TEST_P(BackendConformanceTest, TransactWithOnlyComparesChangesNothing) {
  MustPut("k", "v");
  const std::uint64_t rev = MustGet("k").value().revision;
  std::vector<Compare> compares = {{"k", rev}};
  EXPECT_TRUE(backend().Transact(compares, {}).ok());
  EXPECT_EQ(MustGet("k").value().revision, rev);
}

// ---- revisions ----

TEST_P(BackendConformanceTest, RevisionIncreasesOnEveryWrite) {
  std::uint64_t last = 0;
  for (int i = 0; i < 5; ++i) {
    MustPut("k", "same value");
    auto rev = MustGet("k").value().revision;
    EXPECT_GT(rev, last) << "write " << i;
    last = rev;
  }
  std::vector<Op> ops = {PutOp("k", "same value")};
  ASSERT_TRUE(backend().Transact({}, ops).ok());
  EXPECT_GT(MustGet("k").value().revision, last);
}

TEST_P(BackendConformanceTest, RevisionOfUntouchedKeyIsStable) {
  MustPut("still", "v");
  const std::uint64_t rev = MustGet("still").value().revision;
  MustPut("other", "v");
  ASSERT_TRUE(backend().Delete("other").ok());
  EXPECT_EQ(MustGet("still").value().revision, rev);
}

TEST_P(BackendConformanceTest, RecreatedKeyGetsANewRevision) {
  MustPut("k", "v");
  const std::uint64_t first = MustGet("k").value().revision;
  ASSERT_TRUE(backend().Delete("k").ok());
  MustPut("k", "v");
  EXPECT_GT(MustGet("k").value().revision, first);
}

// ---- concurrency ----

TEST_P(BackendConformanceTest, ConcurrentCasIncrementsLoseNothing) {
  constexpr int kThreads = 32;
  constexpr int kIncrements = 10;
  std::atomic<int> errors{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kIncrements; ++i) {
        for (;;) {
          auto got = backend().Get("counter");
          if (!got.has_value()) {
            ++errors;
            return;
          }
          const std::uint64_t rev = *got ? (*got)->revision : 0;
          const long value = *got ? std::stol((*got)->value) : 0;
          std::vector<Compare> compares = {{"counter", rev}};
          std::vector<Op> ops = {PutOp("counter", std::to_string(value + 1))};
          Status s = backend().Transact(compares, ops);
          if (s.ok()) break;
          if (s.code() != Code::kConflict) {
            ++errors;
            return;
          }
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(errors.load(), 0);
  auto e = MustGet("counter");
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->value, std::to_string(kThreads * kIncrements));
}

TEST_P(BackendConformanceTest, ConcurrentPutsToDistinctKeysAreAllVisible) {
  constexpr int kThreads = 32;
  constexpr int kKeys = 16;
  std::atomic<int> errors{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int k = 0; k < kKeys; ++k) {
        std::string key = "t" + std::to_string(t) + "/k" + std::to_string(k);
        if (!backend().Put(key, key).ok()) ++errors;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(MustList("").size(), static_cast<std::size_t>(kThreads));
  for (int t = 0; t < kThreads; ++t) {
    EXPECT_EQ(MustList("t" + std::to_string(t) + "/").size(), static_cast<std::size_t>(kKeys));
    for (int k = 0; k < kKeys; ++k) {
      std::string key = "t" + std::to_string(t) + "/k" + std::to_string(k);
      auto e = MustGet(key);
      ASSERT_TRUE(e.has_value()) << key;
      EXPECT_EQ(e->value, key);
    }
  }
}

}  // namespace coffer::storage::conformance
