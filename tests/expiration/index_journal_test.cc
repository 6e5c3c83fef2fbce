// The lease index log: new and renewed leases append only a log record;
// compaction folds live records into the buckets, and dead ones are deleted
// from the log's front; restarts load both, a lease's newest log record
// winning unless its bucket holds the same; deletions clear both. Stores of
// earlier versions keep a journal per bucket: it still loads and folds.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <future>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "common/fiber.h"
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
    if (key.starts_with("journal/") || key.starts_with("log/")) ++journal_reads;
    return ForwardingBackend::Get(key);
  }
  Result<std::vector<std::string>> List(std::string_view prefix) override {
    if (prefix.starts_with("journal/") || prefix.starts_with("log/")) ++journal_lists;
    return ForwardingBackend::List(prefix);
  }
  Status Put(std::string_view key, std::string_view value) override {
    if (key.starts_with("index/")) ++bucket_writes;
    return ForwardingBackend::Put(key, value);
  }
  Status Transact(std::span<const storage::Compare> compares,
                  std::span<const storage::Op> ops) override {
    ++transactions;
    bool folds = false;
    for (const auto& op : ops) {
      if (op.key.starts_with("index/")) {
        ++bucket_writes;
        folds = true;
      }
    }
    if (folds) {
      std::scoped_lock lock(fold_threads_mu);
      fold_threads.insert(std::this_thread::get_id());
    }
    // Runs before a fold's transaction applies (its reads are done).
    if (folds && during_fold) std::exchange(during_fold, nullptr)();
    return ForwardingBackend::Transact(compares, ops);
  }
  std::atomic<int> bucket_reads{0};
  std::atomic<int> bucket_writes{0};
  std::atomic<int> journal_reads{0};
  std::atomic<int> journal_lists{0};
  std::atomic<int> transactions{0};
  std::function<void()> during_fold;  // once
  std::mutex fold_threads_mu;
  std::set<std::thread::id> fold_threads;  // that committed a fold
};

Options Manual() {
  Options o;
  o.start_expiry_thread = false;
  o.max_revocations_per_second = 1e9;  // one ProcessExpired() takes every due lease
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
  // The expiry time the stored index gives a lease (its newest log record,
  // else its old-journal record, else its bucket's), or -1. A stale one is
  // not visible through ProcessExpired, which reads the lease's record
  // before revoking it.
  std::int64_t IndexedExpiry(std::string_view lease_id) {
    return IndexedExpiries({std::string(lease_id)})[0];
  }
  // IndexedExpiry of each lease, reading the log once for all of them (per
  // lease, a check of thousands under TSan took minutes).
  std::vector<std::int64_t> IndexedExpiries(const std::vector<std::string>& lease_ids) {
    std::unordered_map<LeaseKey, std::size_t, LeaseKeyHash> at;
    for (std::size_t i = 0; i < lease_ids.size(); ++i) at.emplace(KeyOf(lease_ids[i]), i);
    std::vector<std::int64_t> found(lease_ids.size(), -1);
    std::vector<bool> logged(lease_ids.size(), false);
    auto look = [&](const std::string& storage_key, std::optional<std::size_t> only) {
      auto v = view_.Get(storage_key);
      EXPECT_TRUE(v.has_value());
      if (!v || !*v) return;
      EXPECT_TRUE(
          ForEachRecord((*v)->value, [&](const LeaseKey& k, std::int64_t exp, std::string_view id) {
            auto it = at.find(k);
            if (it == at.end() || (only && it->second != *only)) return;
            found[it->second] = id.empty() ? -1 : exp;  // a deletion
            logged[it->second] = true;
          }).ok());
    };
    const auto names = view_.List("log/");
    EXPECT_TRUE(names.has_value());
    for (const auto& name : names.value_or(std::vector<std::string>{})) {
      look("log/" + name, std::nullopt);  // in order: the newest last
    }
    for (std::size_t i = 0; i < lease_ids.size(); ++i) {
      if (logged[i]) continue;
      const LeaseKey key = KeyOf(lease_ids[i]);
      look(JournalKey(key), i);
      if (found[i] < 0) look(BucketStorageKey(BucketOf(key)), i);
    }
    return found;
  }
  // What is left once a compaction has folded and deleted what it can.
  void ExpectNoIndexLeft(ExpirationManager& m) {
    ASSERT_TRUE(m.CompactIndex().ok());
    EXPECT_EQ(Count("journal/"), 0u);
    EXPECT_EQ(Count("log/"), 0u);
    EXPECT_EQ(Count("index/"), 0u);
  }
  // After a restart: `size` leases indexed; `first` of them expire after
  // `wait`, the rest `then` later; nothing is left of the index after.
  void RestartAndExpire(std::unique_ptr<ExpirationManager>& m, std::size_t size,
                        std::chrono::seconds wait, std::size_t first, std::chrono::seconds then) {
    m.reset();
    m = Start();
    EXPECT_EQ(m->IndexSize(), size);
    clock_.Advance(wait);
    EXPECT_EQ(m->ProcessExpired(), first);
    clock_.Advance(then);
    EXPECT_EQ(m->ProcessExpired(), size - first);
    ExpectNoIndexLeft(*m);
  }
  // A lease stored as an earlier version stored it: its record and an
  // old-journal record.
  std::string PutOldJournalLease(int i, std::int64_t expire_time) {
    Lease lease;
    lease.id = "old/creds/" + std::to_string(i);
    lease.path = "old/creds";
    lease.issue_time = expire_time - 60;
    lease.expire_time = expire_time;
    lease.ttl = 60;
    lease.renewable = true;
    lease.kind = Lease::Kind::kSecret;
    EXPECT_TRUE(view_.Put(LeaseStorageKey(lease.id), EncodeLease(lease)).ok());
    const LeaseKey key = KeyOf(lease.id);
    EXPECT_TRUE(
        view_.Put(JournalKey(key), EncodeRecord(IndexRecord{key, expire_time, lease.id})).ok());
    return lease.id;
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
  EXPECT_EQ(Count("log/"), 100u);
  EXPECT_EQ(Count("journal/"), 0u);
  EXPECT_EQ(m->IndexSize(), 100u);
}

TEST_F(IndexJournalTest, TheLogIsWrittenInOrder) {
  auto m = Start();
  auto ids = Register(*m, 50, 60s);
  std::vector<std::string> logged;
  const auto names = view_.List("log/");
  ASSERT_TRUE(names.has_value());
  for (const auto& name : *names) {
    ASSERT_TRUE(ParseLogName(name).has_value()) << name;
    auto v = view_.Get("log/" + name);
    ASSERT_TRUE(v.has_value() && v->has_value());
    ASSERT_TRUE(ForEachRecord((**v).value, [&](const LeaseKey&, std::int64_t, std::string_view id) {
                  logged.emplace_back(id);
                }).ok());
  }
  EXPECT_EQ(logged, ids);  // List's order (the keys') is the order of the writes
}

TEST_F(IndexJournalTest, CompactionFoldsTheJournalAndRestartLoadsBoth) {
  auto m = Start();
  auto ids = Register(*m, 200, 60s);
  ASSERT_TRUE(m->CompactIndex().ok());
  EXPECT_EQ(Count("journal/"), 0u);
  EXPECT_EQ(Count("log/"), 0u);
  EXPECT_GT(Count("index/"), 0u);
  // Half of them after the compaction: some leases only in the log.
  auto more = Register(*m, 100, 60s);
  m.reset();  // restart

  m = Start();
  EXPECT_EQ(m->IndexSize(), 300u);
  clock_.Advance(61s);
  EXPECT_EQ(m->ProcessExpired(), 300u);
  ExpectNoIndexLeft(*m);
  EXPECT_EQ(Count("id/"), 0u);
}

TEST_F(IndexJournalTest, RenewalAfterCompactionWinsAtRestart) {
  auto m = Start();
  auto ids = Register(*m, 10, 60s);
  ASSERT_TRUE(m->CompactIndex().ok());
  // The bucket now says 60 s; the renewal's log record says 600 s.
  ASSERT_TRUE(m->Renew(ids[0], 600s).has_value());
  RestartAndExpire(m, 10, 61s, 9, 600s);  // 10 at 61 s if the stale bucket record wins
}

TEST_F(IndexJournalTest, RevokeRemovesCompactedAndJournaledRecords) {
  auto m = Start();
  auto compacted = Register(*m, 20, 60s);
  ASSERT_TRUE(m->CompactIndex().ok());
  auto journaled = Register(*m, 20, 60s);
  for (const auto& id : compacted) ASSERT_TRUE(m->Revoke(id).ok());
  for (const auto& id : journaled) ASSERT_TRUE(m->Revoke(id).ok());
  EXPECT_EQ(m->IndexSize(), 0u);
  m.reset();
  m = Start();  // the log's deletions keep the leases logged before them dead
  EXPECT_EQ(m->IndexSize(), 0u);
  ExpectNoIndexLeft(*m);
}

TEST_F(IndexJournalTest, TheWriteThatFillsABucketCompactsIt) {
  Options o = Manual();
  o.compact_threshold = 1;  // every record fills its bucket
  auto m = Start(o);
  Register(*m, 50, 3600s);
  EXPECT_EQ(Count("log/"), 0u);  // a new lease folded needs no log record
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

// A token lease id whose index record falls into `bucket`.
std::string TokenHmacInBucket(std::string_view path, std::size_t bucket, int& seed) {
  for (;; ++seed) {
    std::string hmac = "tok" + std::to_string(seed);
    if (BucketOf(KeyOf(ExpirationManager::TokenLeaseId(path, hmac))) == bucket) {
      ++seed;
      return hmac;
    }
  }
}

TEST_F(IndexJournalTest, FoldsRideInTheWriteThatFillsTheBucket) {
  Options o = Manual();
  o.compact_threshold = 4;
  auto m = Start(o);
  view_.journal_reads = 0;
  view_.journal_lists = 0;
  view_.transactions = 0;
  // ~12 leases per bucket: every bucket folds two or three times.
  const int n = 12 * static_cast<int>(kIndexBuckets);
  Register(*m, n, 3600s);
  EXPECT_GT(view_.bucket_writes.load(), static_cast<int>(kIndexBuckets));
  // The fold used what the manager wrote: no log was listed or read, and
  // neither it nor the log's deletions took a transaction of their own.
  EXPECT_EQ(view_.journal_reads.load(), 0);
  EXPECT_EQ(view_.journal_lists.load(), 0);
  EXPECT_EQ(view_.transactions.load(), n);
  m.reset();
  m = Start();
  EXPECT_EQ(m->IndexSize(), static_cast<std::size_t>(n));
  clock_.Advance(3601s);
  EXPECT_EQ(m->ProcessExpired(), static_cast<std::size_t>(n));
  ExpectNoIndexLeft(*m);
}

TEST_F(IndexJournalTest, AFailedTransactionFoldsNothingAndTheNextWriteFoldsAll) {
  Options o = Manual();
  o.compact_threshold = 2;
  auto m = Start(o);
  auto first = Register(*m, 1, 60s);
  ASSERT_EQ(first.size(), 1u);
  const std::size_t bucket = BucketOf(KeyOf(first[0]));
  int seed = 0;
  // The token lease that would fill the bucket: its transaction fails.
  const std::string failing = TokenHmacInBucket("auth/token/create", bucket, seed);
  std::size_t offered_ops = 0;
  Status s = m->RegisterTokenWith(failing, "auth/token/create", 60s, true,
                                  [&](std::span<const storage::Op> ops) {
                                    offered_ops = ops.size();
                                    return Conflict("lost the race");
                                  });
  EXPECT_EQ(s.code(), Code::kConflict);
  EXPECT_EQ(offered_ops, 2u);  // lease, bucket (a folded new lease is not logged)
  EXPECT_EQ(Count("log/"), 1u);
  EXPECT_EQ(Count("index/"), 0u);
  EXPECT_EQ(m->IndexSize(), 1u);
  // The next write into that bucket folds the first lease too. Its log
  // record stays, dead, until the log's front is deleted.
  const std::string next = TokenHmacInBucket("auth/token/create", bucket, seed);
  ASSERT_TRUE(m->RegisterToken(next, "auth/token/create", 120s, true).ok());
  EXPECT_EQ(Count("log/"), 1u);
  EXPECT_EQ(Count("index/"), 1u);
  EXPECT_EQ(IndexedExpiry(first[0]), m->NowUnix() + 60);  // equal: the bucket's
  RestartAndExpire(m, 2, 61s, 1, 60s);
}

TEST_F(IndexJournalTest, RenewalsAndRevocationsDuringTheLoadKeepTheIndexRight) {
  Options many = Manual();
  many.compact_threshold = 1'000'000;  // everything stays in the log
  auto m = Start(many);
  auto ids = Register(*m, 3000, 60s);
  m.reset();

  Options o = Manual();
  o.compact_threshold = 2;
  m = std::make_unique<ExpirationManager>(view_, clock_, revoker_, o);
  ASSERT_TRUE(m->Load().ok());  // the loader streams while we write
  std::thread renewer([&] {
    for (std::size_t i = 0; i < ids.size(); i += 3) {
      ASSERT_TRUE(m->Renew(ids[i], 600s).has_value());
    }
  });
  std::thread revoker([&] {
    for (std::size_t i = 1; i < ids.size(); i += 3) ASSERT_TRUE(m->Revoke(ids[i]).ok());
  });
  auto fresh = Register(*m, 1000, 60s);
  renewer.join();
  revoker.join();
  ASSERT_TRUE(m->WaitForLoad().ok());
  EXPECT_EQ(m->IndexSize(), 3000u);  // 2,000 of the first, 1,000 fresh
  const std::int64_t renewed_to = m->NowUnix() + 600;
  const std::vector<std::int64_t> expiries = IndexedExpiries(ids);
  for (std::size_t i = 0; i < ids.size(); i += 3) EXPECT_EQ(expiries[i], renewed_to) << i;
  for (std::size_t i = 1; i < ids.size(); i += 3) EXPECT_EQ(expiries[i], -1) << i;
  // A revoked lease left behind would count in the 3,000.
  RestartAndExpire(m, 3000, 61s, 2000, 600s);
  EXPECT_EQ(Count("id/"), 0u);
}

TEST_F(IndexJournalTest, ARenewalDuringAFoldOfItsBucketIsKept) {
  Options o = Manual();
  o.compact_threshold = 4;
  auto m = Start(o);
  const std::string path = "auth/token/create";
  int seed = 0;
  const std::string renewed = TokenHmacInBucket(path, 7, seed);
  ASSERT_TRUE(m->RegisterToken(renewed, path, 60s, true).ok());
  ASSERT_TRUE(m->ExtendToken(renewed, path, 600s).ok());  // logged
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(m->RegisterToken(TokenHmacInBucket(path, 7, seed), path, 60s, true).ok());
  }
  ASSERT_EQ(Count("log/"), 4u);  // the first record of `renewed` is dead
  ASSERT_EQ(Count("index/"), 0u);
  // The next lease folds the bucket, having read the 600 s renewal; a second
  // renewal tries to land before that fold commits. It must wait for it (or
  // the fold would delete its journal record and keep the 600 s).
  std::future<Status> second;
  view_.during_fold = [&] {
    second = std::async(std::launch::async, [&] { return m->ExtendToken(renewed, path, 700s); });
    second.wait_for(200ms);
  };
  ASSERT_TRUE(m->RegisterToken(TokenHmacInBucket(path, 7, seed), path, 60s, true).ok());
  ASSERT_TRUE(second.valid());
  ASSERT_TRUE(second.get().ok());
  EXPECT_EQ(IndexedExpiry(ExpirationManager::TokenLeaseId(path, renewed)), m->NowUnix() + 700);
  m.reset();
  m = Start();
  EXPECT_EQ(m->IndexSize(), 4u);
}

TEST_F(IndexJournalTest, DeadLogRecordsAreDeletedOldestFirstByTheWritesThatFollow) {
  Options o = Manual();
  o.compact_threshold = 1;  // every write folds: every log record is born dead
  auto m = Start(o);
  auto ids = Register(*m, 1, 60s);
  ASSERT_EQ(ids.size(), 1u);
  view_.transactions = 0;
  for (int i = 1; i <= 300; ++i) {
    ASSERT_TRUE(m->Renew(ids[0], std::chrono::seconds(60 + i)).has_value());
  }
  EXPECT_EQ(view_.transactions.load(), 300);  // the deletions rode along
  // Batches of 64 went, the rest waits for a full batch.
  EXPECT_LT(Count("log/"), 64u);
  EXPECT_EQ(IndexedExpiry(ids[0]), m->NowUnix() + 360);
  m.reset();
  m = Start();
  clock_.Advance(359s);
  EXPECT_EQ(m->ProcessExpired(), 0u);
  clock_.Advance(2s);
  EXPECT_EQ(m->ProcessExpired(), 1u);
  ExpectNoIndexLeft(*m);
}

TEST_F(IndexJournalTest, ARecordLeftBehindIsFoldedByAgeSoTheLogStaysShort) {
  Options o = Manual();
  o.compact_threshold = 1'000'000;  // no fold by count
  o.log_fold_span = 100;
  auto m = Start(o);
  const std::string path = "auth/token/create";
  int seed = 0;
  const std::string old = TokenHmacInBucket(path, 5, seed);
  ASSERT_TRUE(m->RegisterToken(old, path, 600s, true).ok());
  // Writes to bucket 6 only: bucket 6 folds by age every ~100 of them, and
  // the first one past the span of the record in bucket 5 folds bucket 5.
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(m->RegisterToken(TokenHmacInBucket(path, 6, seed), path, 60s, true).ok());
  }
  EXPECT_FALSE(view_.Get(BucketStorageKey(5)).value().has_value());
  ASSERT_TRUE(m->RegisterToken(TokenHmacInBucket(path, 6, seed), path, 60s, true).ok());
  EXPECT_TRUE(view_.Get(BucketStorageKey(5)).value().has_value());
  EXPECT_EQ(IndexedExpiry(ExpirationManager::TokenLeaseId(path, old)), m->NowUnix() + 600);
  for (int i = 0; i < 400; ++i) {
    ASSERT_TRUE(m->RegisterToken(TokenHmacInBucket(path, 6, seed), path, 60s, true).ok());
    // The span, a batch of dead records waiting for deletion, the newest.
    ASSERT_LE(Count("log/"), 100u + 64u + 1u) << i;
  }
  RestartAndExpire(m, 502, 61s, 501, 540s);
}

// A token created on an I/O thread's fiber (common/fiber.h) may be
// suspended for its commit, so it must hold no bucket lock then: its
// writes fold nothing, and the folder thread folds the buckets they fill
// or leave behind, in transactions of its own.
TEST_F(IndexJournalTest, WritesOnASuspendableFiberLeaveTheirFoldsToTheFolderThread) {
  Options o = Manual();
  o.compact_threshold = 4;
  o.log_fold_span = 100;
  auto m = Start(o);
  const std::string path = "auth/token/create";
  int seed = 0;
  std::string old;
  Status written;
  // This backend never suspends a fiber; nothing is posted.
  Fiber::Start([](std::function<void()>) { return false; },
               [&] {
                 SuspendScope suspendable;
                 old = TokenHmacInBucket(path, 5, seed);
                 written = m->RegisterToken(old, path, 600s, true);
                 for (int i = 0; i < 300 && written.ok(); ++i) {
                   written = m->RegisterToken(TokenHmacInBucket(path, 6, seed), path, 60s, true);
                 }
               });
  ASSERT_TRUE(written.ok()) << written.ToString();
  // Bucket 6 filled again and again; bucket 5's record fell past the span.
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while ((!view_.Get(BucketStorageKey(5)).value().has_value() ||
          !view_.Get(BucketStorageKey(6)).value().has_value()) &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(1ms);
  }
  EXPECT_TRUE(view_.Get(BucketStorageKey(5)).value().has_value());
  EXPECT_TRUE(view_.Get(BucketStorageKey(6)).value().has_value());
  {
    std::scoped_lock lock(view_.fold_threads_mu);
    EXPECT_FALSE(view_.fold_threads.empty());
    EXPECT_FALSE(view_.fold_threads.contains(std::this_thread::get_id()))
        << "a write on the fiber folded (holding a bucket's lock)";
  }
  EXPECT_EQ(IndexedExpiry(ExpirationManager::TokenLeaseId(path, old)), m->NowUnix() + 600);
  RestartAndExpire(m, 301, 61s, 300, 540s);
}

TEST_F(IndexJournalTest, AStoreWithTheOldJournalLoadsAndMovesToTheLog) {
  const std::int64_t now =
      std::chrono::duration_cast<std::chrono::seconds>(clock_.Wall().time_since_epoch()).count();
  std::vector<std::string> old;
  for (int i = 0; i < 20; ++i) old.push_back(PutOldJournalLease(i, now + 60));
  auto journaled = [&](const std::string& id) {
    return view_.Get(JournalKey(KeyOf(id))).value().has_value();
  };
  Options o = Manual();
  o.compact_threshold = 4;
  auto m = Start(o);
  EXPECT_EQ(m->IndexSize(), 20u);
  // A renewal moves its lease to the log and deletes its old record.
  ASSERT_TRUE(m->Renew(old[0], 600s).has_value());
  EXPECT_FALSE(journaled(old[0]));
  // A fold takes the old records of its bucket with it.
  const std::string path = "auth/token/create";
  int seed = 0;
  for (int i = 2; i < 10; ++i) {
    const std::size_t bucket = BucketOf(KeyOf(old[i]));
    for (int j = 0; j < 3; ++j) {
      ASSERT_TRUE(m->RegisterToken(TokenHmacInBucket(path, bucket, seed), path, 60s, true).ok());
    }
    EXPECT_FALSE(journaled(old[i]));
  }
  EXPECT_TRUE(journaled(old[10]));
  ASSERT_TRUE(m->Revoke(old[1]).ok());
  EXPECT_FALSE(journaled(old[1]));
  EXPECT_EQ(IndexedExpiry(old[0]), m->NowUnix() + 600);
  EXPECT_EQ(IndexedExpiry(old[1]), -1);
  RestartAndExpire(m, 19 + 24, 61s, 18 + 24, 540s);
  EXPECT_EQ(Count("id/"), 0u);
}

}  // namespace
}  // namespace coffer::expiration
