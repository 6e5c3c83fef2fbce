// The lease index journal: new and renewed leases write only a journal
// record; compaction folds it into the buckets; restarts load both, the
// journal winning; deletions clear both.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "expiration/expiration_manager.h"
#include "storage/forwarding_backend.h"

namespace coffer::expiration {
namespace {

using namespace std::chrono_literals;

class CountingRevoker : public Revoker {
 public:
  Status Revoke(const Lease&) override {
    ++count;
    return Status::Ok();
  }
  std::atomic<int> count{0};
};

// An in-memory backend that counts reads and writes of the packed buckets.
class WatchingBackend : public storage::test_util::ForwardingBackend {
 public:
  Result<std::optional<storage::Entry>> Get(std::string_view key) override {
    if (key.starts_with("index/")) ++bucket_reads;
    return ForwardingBackend::Get(key);
  }
  Status Put(std::string_view key, std::string_view value) override {
    if (key.starts_with("index/")) ++bucket_writes;
    return ForwardingBackend::Put(key, value);
  }
  Status Transact(std::span<const storage::Compare> compares,
                  std::span<const storage::Op> ops) override {
    for (const auto& op : ops) {
      if (op.key.starts_with("index/")) ++bucket_writes;
    }
    return ForwardingBackend::Transact(compares, ops);
  }
  std::atomic<int> bucket_reads{0};
  std::atomic<int> bucket_writes{0};
};

Options Manual() {
  Options o;
  o.start_expiry_thread = false;
  return o;
}

class IndexJournalTest : public ::testing::Test {
 protected:
  std::unique_ptr<ExpirationManager> Start(Options o = Manual()) {
    auto m = std::make_unique<ExpirationManager>(view_, clock_, revoker_, o);
    EXPECT_TRUE(m->Load().ok());
    EXPECT_TRUE(m->WaitForLoad().ok());
    return m;
  }
  std::vector<std::string> Register(ExpirationManager& m, int n, std::chrono::seconds ttl) {
    std::vector<std::string> ids;
    for (int i = 0; i < n; ++i) {
      LeaseRequest r;
      r.path = "db/creds/" + std::to_string(i % 3);
      r.ttl = ttl;
      r.token_hmac = "tok";
      auto l = m.Register(r);
      EXPECT_TRUE(l.has_value());
      if (l) ids.push_back(l->id);
    }
    return ids;
  }
  std::size_t Count(std::string_view prefix) {
    auto names = view_.List(prefix);
    EXPECT_TRUE(names.has_value());
    return names ? names->size() : 0;
  }
  void ExpectNoIndexLeft() {
    EXPECT_EQ(Count("journal/"), 0u);
    EXPECT_EQ(Count("index/"), 0u);
  }

  WatchingBackend view_;
  FakeClock clock_;
  CountingRevoker revoker_;
};

TEST_F(IndexJournalTest, NewLeasesNeitherReadNorWriteBuckets) {
  auto m = Start();
  Register(*m, 100, 60s);
  EXPECT_EQ(view_.bucket_reads.load(), 0);
  EXPECT_EQ(view_.bucket_writes.load(), 0);
  EXPECT_GT(Count("journal/"), 0u);
  EXPECT_EQ(m->IndexSize(), 100u);
}

TEST_F(IndexJournalTest, CompactionFoldsTheJournalAndRestartLoadsBoth) {
  auto m = Start();
  auto ids = Register(*m, 200, 60s);
  ASSERT_TRUE(m->CompactIndex().ok());
  EXPECT_EQ(Count("journal/"), 0u);
  EXPECT_GT(Count("index/"), 0u);
  // Half of them after the compaction: some leases only in the journal.
  auto more = Register(*m, 100, 60s);
  m.reset();  // restart

  m = Start();
  EXPECT_EQ(m->IndexSize(), 300u);
  clock_.Advance(61s);
  EXPECT_EQ(m->ProcessExpired(), 300u);
  ExpectNoIndexLeft();
  EXPECT_EQ(Count("id/"), 0u);
}

TEST_F(IndexJournalTest, RenewalAfterCompactionWinsAtRestart) {
  auto m = Start();
  auto ids = Register(*m, 10, 60s);
  ASSERT_TRUE(m->CompactIndex().ok());
  // The bucket now says 60 s; the renewal's journal record says 600 s.
  ASSERT_TRUE(m->Renew(ids[0], 600s).has_value());
  m.reset();

  m = Start();
  EXPECT_EQ(m->IndexSize(), 10u);
  clock_.Advance(61s);
  EXPECT_EQ(m->ProcessExpired(), 9u);  // fails if the stale bucket record wins
  clock_.Advance(600s);
  EXPECT_EQ(m->ProcessExpired(), 1u);
  ASSERT_TRUE(m->CompactIndex().ok());
  ExpectNoIndexLeft();
}

TEST_F(IndexJournalTest, RevokeRemovesCompactedAndJournaledRecords) {
  auto m = Start();
  auto compacted = Register(*m, 20, 60s);
  ASSERT_TRUE(m->CompactIndex().ok());
  auto journaled = Register(*m, 20, 60s);
  for (const auto& id : compacted) ASSERT_TRUE(m->Revoke(id).ok());
  for (const auto& id : journaled) ASSERT_TRUE(m->Revoke(id).ok());
  EXPECT_EQ(m->IndexSize(), 0u);
  ExpectNoIndexLeft();
  m.reset();
  m = Start();
  EXPECT_EQ(m->IndexSize(), 0u);
}

TEST_F(IndexJournalTest, TheWriteThatFillsABucketCompactsIt) {
  Options o = Manual();
  o.compact_threshold = 1;  // every journal record fills its bucket
  auto m = Start(o);
  Register(*m, 50, 3600s);
  EXPECT_EQ(Count("journal/"), 0u);
  EXPECT_GT(view_.bucket_writes.load(), 0);
  m.reset();
  m = Start();
  EXPECT_EQ(m->IndexSize(), 50u);
}

TEST_F(IndexJournalTest, ConcurrentCreatesRenewalsAndCompactionLoseNothing) {
  Options o;
  o.compact_threshold = 2;
  o.poll_interval = 1h;
  auto m = Start(o);
  std::vector<std::thread> threads;
  std::vector<std::vector<std::string>> ids(4);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 150; ++i) {
        LeaseRequest r;
        r.path = "c/" + std::to_string(t);
        r.ttl = 60s;
        auto l = m->Register(r);
        ASSERT_TRUE(l.has_value());
        ids[t].push_back(l->id);
        if (i % 3 == 0) {
          ASSERT_TRUE(m->Renew(ids[t][i / 2], 600s).has_value());
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  m.reset();
  m = Start();
  EXPECT_EQ(m->IndexSize(), 600u);
  // Every renewed lease survives the 60 s expiry, however its records moved.
  std::size_t renewed = 0;
  for (int t = 0; t < 4; ++t) {
    std::set<std::string> r;
    for (int i = 0; i < 150; i += 3) r.insert(ids[t][i / 2]);
    renewed += r.size();
  }
  clock_.Advance(61s);
  EXPECT_EQ(m->ProcessExpired(), 600u - renewed);
  EXPECT_EQ(m->IndexSize(), renewed);
}

}  // namespace
}  // namespace coffer::expiration
