#include "expiration/expiration_manager.h"

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <mutex>
#include <thread>
#include <utility>

#include "expiration/index_format.h"
#include "storage/forwarding_backend.h"
#include "storage/inmem/inmem_backend.h"

namespace coffer::expiration {
namespace {

using namespace std::chrono_literals;

class FakeRevoker : public Revoker {
 public:
  Status Revoke(const Lease& lease) override {
    // Run once, before this call's own outcome (outside mu: it may revoke).
    if (auto hook = std::exchange(before_next, nullptr)) hook();
    std::scoped_lock lock(mu);
    ++calls;
    if (failures_left > 0) {
      --failures_left;
      return Unavailable(message);
    }
    if (!fail_prefix.empty() && lease.id.starts_with(fail_prefix)) return Unavailable(message);
    revoked.push_back(lease.id);
    return Status::Ok();
  }
  Status Renew(const Lease& renewed) override {
    (void)renewed;
    if (auto hook = std::exchange(on_renew, nullptr)) hook();
    return Status::Ok();
  }
  std::size_t Count() {
    std::scoped_lock lock(mu);
    return revoked.size();
  }
  std::mutex mu;
  int calls = 0;
  int failures_left = 0;
  std::string fail_prefix;  // leases under it always fail
  std::string message = "backend down";
  std::vector<std::string> revoked;
  std::function<void()> before_next;
  std::function<void()> on_renew;  // run once, inside the next Renew
};

Options ManualOptions() {
  Options o;
  o.start_expiry_thread = false;
  o.initial_backoff = 10s;
  o.max_backoff = 40s;
  return o;
}

class ExpirationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(m_->Load().ok());
    ASSERT_TRUE(m_->WaitForLoad().ok());
  }
  Result<Lease> Reg(std::string path, std::chrono::seconds ttl, std::string token = "tok") {
    LeaseRequest r;
    r.path = std::move(path);
    r.ttl = ttl;
    r.token_hmac = std::move(token);
    return m_->Register(r);
  }
  storage::InmemBackend view_;
  FakeClock clock_;
  FakeRevoker revoker_;
  std::unique_ptr<ExpirationManager> m_ =
      std::make_unique<ExpirationManager>(view_, clock_, revoker_, ManualOptions());
};

TEST_F(ExpirationTest, RegisterLookupRenewRevoke) {
  auto lease = Reg("database/creds/ro", 60s);
  ASSERT_TRUE(lease.has_value());
  EXPECT_TRUE(lease->id.starts_with("database/creds/ro/"));
  EXPECT_EQ(lease->ttl, 60);
  EXPECT_EQ(m_->IndexSize(), 1u);

  auto found = m_->Lookup(lease->id);
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->expire_time, lease->issue_time + 60);

  clock_.Advance(30s);
  auto renewed = m_->Renew(lease->id, 120s);
  ASSERT_TRUE(renewed.has_value());
  EXPECT_EQ(renewed->ttl, 120);
  EXPECT_EQ(renewed->expire_time, lease->issue_time + 150);

  auto listed = m_->List("database/creds/");
  ASSERT_TRUE(listed.has_value());
  EXPECT_EQ(*listed, std::vector<std::string>{"ro/"});

  ASSERT_TRUE(m_->Revoke(lease->id).ok());
  EXPECT_EQ(revoker_.revoked, std::vector<std::string>{lease->id});
  EXPECT_EQ(m_->Lookup(lease->id).error().code(), Code::kNotFound);
  EXPECT_EQ(m_->IndexSize(), 0u);
  EXPECT_TRUE(m_->Revoke(lease->id).ok());  // unknown is fine
}

// A renewal that read the lease before a revocation deleted it must not
// write it back: the renewal fails and the lease stays revoked.
TEST_F(ExpirationTest, ARenewalRacingARevocationDoesNotBringTheLeaseBack) {
  auto lease = Reg("database/creds/ro", 60s);
  ASSERT_TRUE(lease.has_value());
  revoker_.on_renew = [&] { ASSERT_TRUE(m_->Revoke(lease->id).ok()); };
  auto renewed = m_->Renew(lease->id, 120s);
  ASSERT_FALSE(renewed.has_value());
  EXPECT_EQ(renewed.error().code(), Code::kNotFound);
  EXPECT_EQ(m_->Lookup(lease->id).error().code(), Code::kNotFound);
  EXPECT_EQ(m_->IndexSize(), 0u);
  // An expiry moved earlier (a lazy revocation) of a lease already gone is
  // nothing to do.
  EXPECT_TRUE(m_->RevokeLater(lease->id).ok());
  EXPECT_EQ(m_->Lookup(lease->id).error().code(), Code::kNotFound);
}

// The same with a lazy revocation (sync=false: the lease expires now and
// the expiry thread revokes it): the renewal read the lease before the
// expiry moved, and must not write its later expiry over it.
TEST_F(ExpirationTest, ARenewalRacingALazyRevocationDoesNotUndoIt) {
  auto lease = Reg("database/creds/ro", 60s);
  ASSERT_TRUE(lease.has_value());
  revoker_.on_renew = [&] { ASSERT_TRUE(m_->RevokeLater(lease->id).ok()); };
  auto renewed = m_->Renew(lease->id, 120s);
  ASSERT_FALSE(renewed.has_value());
  EXPECT_EQ(renewed.error().code(), Code::kInvalidArgument);  // "lease expired"
  auto stored = m_->Lookup(lease->id);
  ASSERT_TRUE(stored.has_value());
  EXPECT_LE(stored->expire_time, m_->NowUnix());
  EXPECT_EQ(m_->ProcessExpired(), 1u);
  EXPECT_EQ(revoker_.revoked, std::vector<std::string>{lease->id});
}

TEST_F(ExpirationTest, RenewIsCappedByMaxTtlAndRefusesNonRenewable) {
  LeaseRequest r;
  r.path = "x/y";
  r.ttl = 60s;
  r.max_ttl = 100s;
  auto lease = m_->Register(r);
  ASSERT_TRUE(lease.has_value());
  auto renewed = m_->Renew(lease->id, 1000s);
  ASSERT_TRUE(renewed.has_value());
  EXPECT_EQ(renewed->expire_time, lease->issue_time + 100);

  r.renewable = false;
  auto fixed = m_->Register(r);
  ASSERT_TRUE(fixed.has_value());
  EXPECT_EQ(m_->Renew(fixed->id, 10s).error().code(), Code::kInvalidArgument);
  EXPECT_EQ(m_->Renew("nope/1", 10s).error().code(), Code::kNotFound);
}

TEST_F(ExpirationTest, ExpiryRevokesThroughRevoker) {
  auto a = Reg("a/b", 10s);
  auto b = Reg("a/b", 100s);
  ASSERT_TRUE(a && b);
  EXPECT_EQ(m_->ProcessExpired(), 0u);
  clock_.Advance(11s);
  EXPECT_EQ(m_->ProcessExpired(), 1u);
  EXPECT_EQ(revoker_.revoked, std::vector<std::string>{a->id});
  EXPECT_FALSE(m_->Lookup(a->id).has_value());
  EXPECT_TRUE(m_->Lookup(b->id).has_value());
}

TEST_F(ExpirationTest, RenewPostponesExpiry) {
  auto a = Reg("a/b", 10s);
  ASSERT_TRUE(a);
  clock_.Advance(5s);
  ASSERT_TRUE(m_->Renew(a->id, 60s).has_value());
  clock_.Advance(10s);
  EXPECT_EQ(m_->ProcessExpired(), 0u);
  clock_.Advance(60s);
  EXPECT_EQ(m_->ProcessExpired(), 1u);
}

// A lease issued or renewed part way through a second counts from the next
// one (expiry is kept in whole seconds): it lasts at least its TTL, less
// than a second more.
TEST_F(ExpirationTest, ShortLeasesLastAtLeastTheirTtl) {
  clock_.Advance(900ms);
  auto a = Reg("a/b", 3s);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->expire_time - a->issue_time, 3);
  clock_.Advance(2900ms);
  EXPECT_EQ(m_->ProcessExpired(), 0u) << "a 3 s lease ended 2.9 s after its issue";
  auto renewed = m_->Renew(a->id, 3s);
  ASSERT_TRUE(renewed.has_value()) << renewed.error().ToString();
  EXPECT_EQ(renewed->ttl, 3);
  clock_.Advance(2900ms);
  EXPECT_EQ(m_->ProcessExpired(), 0u) << "a 3 s renewal ended 2.9 s after it";
  clock_.Advance(1100ms);
  EXPECT_EQ(m_->ProcessExpired(), 1u);
}

TEST_F(ExpirationTest, FailedRevocationIsRetriedWithBackoff) {
  auto a = Reg("a/b", 10s);
  ASSERT_TRUE(a);
  revoker_.failures_left = 2;
  clock_.Advance(11s);
  EXPECT_EQ(m_->ProcessExpired(), 0u);  // fails; retry in 10s
  EXPECT_EQ(revoker_.calls, 1);
  clock_.Advance(9s);
  EXPECT_EQ(m_->ProcessExpired(), 0u);  // not yet
  EXPECT_EQ(revoker_.calls, 1);
  clock_.Advance(1s);
  EXPECT_EQ(m_->ProcessExpired(), 0u);  // fails again; retry in 20s
  EXPECT_EQ(revoker_.calls, 2);
  clock_.Advance(19s);
  EXPECT_EQ(m_->ProcessExpired(), 0u);
  EXPECT_EQ(revoker_.calls, 2);
  clock_.Advance(1s);
  EXPECT_EQ(m_->ProcessExpired(), 1u);
  EXPECT_EQ(revoker_.calls, 3);
  EXPECT_FALSE(m_->Lookup(a->id).has_value());
}

// Each failed revocation is counted with its message until one succeeds; a
// forced revocation forgets the lease too.
TEST_F(ExpirationTest, FailingLeasesAreReportedUntilRevoked) {
  auto a = Reg("a/b", 10s);
  auto b = Reg("c/d", 10s);
  ASSERT_TRUE(a && b);
  EXPECT_TRUE(m_->FailingLeases(1)->empty());
  revoker_.failures_left = 4;  // both fail twice
  clock_.Advance(11s);
  EXPECT_EQ(m_->ProcessExpired(), 0u);
  auto once = m_->FailingLeases(1);
  ASSERT_TRUE(once.has_value());
  ASSERT_EQ(once->size(), 2u);
  EXPECT_EQ((*once)[0].id, std::min(a->id, b->id));  // sorted by id
  EXPECT_EQ((*once)[0].attempts, 1);
  EXPECT_NE((*once)[0].error.find("backend down"), std::string::npos);
  EXPECT_TRUE(m_->FailingLeases(2)->empty());
  clock_.Advance(10s);
  EXPECT_EQ(m_->ProcessExpired(), 0u);
  auto twice = m_->FailingLeases(2);
  ASSERT_EQ(twice->size(), 2u);
  EXPECT_EQ((*twice)[1].attempts, 2);
  // A forced revocation forgets b; a's next attempt succeeds and forgets a.
  ASSERT_TRUE(m_->RevokePrefix("c", /*force=*/true).ok());
  ASSERT_EQ(m_->FailingLeases(1)->size(), 1u);
  EXPECT_EQ(m_->FailingLeases(1)->front().id, a->id);
  clock_.Advance(20s);
  EXPECT_EQ(m_->ProcessExpired(), 1u);
  EXPECT_TRUE(m_->FailingLeases(1)->empty());
}

// A lease force-revoked while its expiry's own attempt is under way, and
// that attempt then fails: the lease is gone, so nothing may bring it back
// into the failing-lease report or the expiry index.
TEST_F(ExpirationTest, ALeaseDeletedDuringAFailingExpiryStaysGone) {
  auto a = Reg("db/creds/a", 10s);
  ASSERT_TRUE(a);
  revoker_.fail_prefix = "db/";
  revoker_.before_next = [this] { ASSERT_TRUE(m_->RevokePrefix("db/creds", /*force=*/true).ok()); };
  clock_.Advance(11s);
  EXPECT_EQ(m_->ProcessExpired(), 0u);
  EXPECT_EQ(revoker_.calls, 2);  // the expiry's attempt and the forced one
  EXPECT_FALSE(m_->Lookup(a->id).has_value());
  auto failing = m_->FailingLeases(1);
  ASSERT_TRUE(failing.has_value());
  EXPECT_TRUE(failing->empty());
  EXPECT_EQ(m_->IndexSize(), 0u);

  // The manager still notes the failures of leases that were not deleted.
  auto b = Reg("db/creds/b", 10s);
  ASSERT_TRUE(b);
  clock_.Advance(11s);
  EXPECT_EQ(m_->ProcessExpired(), 0u);
  ASSERT_EQ(m_->FailingLeases(1)->size(), 1u);
  EXPECT_EQ(m_->FailingLeases(1)->front().id, b->id);
  EXPECT_EQ(m_->IndexSize(), 1u);
}

// Stored failures: from the sixth in a row on, each failing lease's count
// and message are stored, read back by Load(), and deleted with the lease.
std::vector<std::string> StoredFailures(storage::Backend& view) {
  auto names = view.List(kIrrevocableFolder);
  return names ? *names : std::vector<std::string>{"<list failed>"};
}

class StoredFailureTest : public ExpirationTest {
 protected:
  // A lease under db/ whose revocation failed kIrrevocableAfter times; none
  // of its failures before the last stored.
  Lease Failed() {
    revoker_.fail_prefix = "db/";
    auto lease = Reg("db/creds/a", 10s);
    EXPECT_TRUE(lease);
    clock_.Advance(11s);
    for (int i = 1; i <= ExpirationManager::kIrrevocableAfter; ++i) {
      EXPECT_TRUE(StoredFailures(view_).empty()) << "before failure " << i;
      EXPECT_EQ(m_->ProcessExpired(), 0u);
      clock_.Advance(41s);
    }
    return lease.value_or(Lease{});
  }
  void Restart() {
    m_ = std::make_unique<ExpirationManager>(view_, clock_, revoker_, ManualOptions());
    ASSERT_TRUE(m_->Load().ok());
    ASSERT_TRUE(m_->WaitForLoad().ok());
  }
};

TEST_F(StoredFailureTest, SixthFailureIsStoredAndReportedAfterARestart) {
  const Lease lease = Failed();
  ASSERT_EQ(StoredFailures(view_), std::vector<std::string>{KeyHex(KeyOf(lease.id))});

  // A restart: the new manager reports it at once, with its count.
  Restart();
  auto failing = m_->FailingLeases(ExpirationManager::kIrrevocableAfter);
  ASSERT_TRUE(failing.has_value());
  ASSERT_EQ(failing->size(), 1u);
  EXPECT_EQ(failing->front().id, lease.id);
  EXPECT_EQ(failing->front().attempts, 6);
  EXPECT_NE(failing->front().error.find("backend down"), std::string::npos);

  // The count goes on from there, in memory and in storage.
  revoker_.message = "still down";
  EXPECT_EQ(m_->ProcessExpired(), 0u);
  EXPECT_EQ(m_->FailingLeases(1)->front().attempts, 7);
  auto stored = view_.Get(IrrevocableKey(KeyOf(lease.id)));
  ASSERT_TRUE(stored && *stored);
  auto record = DecodeFailure((*stored)->value);
  ASSERT_TRUE(record.has_value());
  EXPECT_EQ(record->lease_id, lease.id);
  EXPECT_EQ(record->attempts, 7);
  EXPECT_NE(record->error.find("still down"), std::string::npos);

  // Revoked at last: nothing reported, nothing stored.
  revoker_.fail_prefix.clear();
  clock_.Advance(41s);
  EXPECT_EQ(m_->ProcessExpired(), 1u);
  EXPECT_TRUE(m_->FailingLeases(1)->empty());
  EXPECT_TRUE(StoredFailures(view_).empty());
}

TEST_F(StoredFailureTest, StoredFailuresGoWithTheirLease) {
  Failed();
  ASSERT_EQ(StoredFailures(view_).size(), 1u);
  ASSERT_TRUE(m_->RevokePrefix("db/creds", /*force=*/true).ok());
  EXPECT_TRUE(StoredFailures(view_).empty());
  EXPECT_TRUE(m_->FailingLeases(1)->empty());

  // Records whose lease is gone, or that are not such records, are
  // dropped by the next load and never reported.
  const LeaseKey gone = KeyOf("db/creds/gone");
  ASSERT_TRUE(view_.Put(IrrevocableKey(gone), EncodeFailure({"db/creds/gone", 9, "x"})).ok());
  ASSERT_TRUE(view_.Put(std::string(kIrrevocableFolder) + "0f", "not a record").ok());
  ASSERT_TRUE(
      view_.Put(IrrevocableKey(KeyOf("db/creds/b")), R"({"lease_id":"db/creds/b","attempts":"6"})")
          .ok());
  ASSERT_EQ(StoredFailures(view_).size(), 3u);
  Restart();
  EXPECT_TRUE(m_->FailingLeases(1)->empty());
  EXPECT_TRUE(StoredFailures(view_).empty());
}

// The message kept is cut to 240 bytes, never inside a UTF-8 character.
// Two messages of two-byte characters, one shifted by a byte, so that the
// 240th byte falls inside a character in one of them whatever the prefix
// the message gets.
TEST_F(ExpirationTest, FailureMessagesAreCutAtACharacter) {
  std::string e_acute;
  for (int i = 0; i < 150; ++i) e_acute += "\xc3\xa9";
  for (const std::string& message : {e_acute, "x" + e_acute}) {
    SCOPED_TRACE(message.size());
    auto lease = Reg("a/b", 10s);
    ASSERT_TRUE(lease);
    revoker_.failures_left = 1;
    revoker_.message = message;
    clock_.Advance(11s);
    EXPECT_EQ(m_->ProcessExpired(), 0u);
    auto failing = m_->FailingLeases(1);
    ASSERT_EQ(failing->size(), 1u);
    const std::string& e = failing->front().error;
    EXPECT_LE(e.size(), ExpirationManager::kMaxFailureMessage);
    EXPECT_GE(e.size(), ExpirationManager::kMaxFailureMessage - 1);
    EXPECT_NE(static_cast<unsigned char>(e.back()), 0xC3);  // not half of a character
    EXPECT_NE(e.find("\xc3\xa9"), std::string::npos);
    clock_.Advance(20s);  // the retry succeeds
    EXPECT_EQ(m_->ProcessExpired(), 1u);
  }
}

TEST(ExpirationRateLimit, BoundsRevocationsPerSecond) {
  storage::InmemBackend view;
  FakeClock clock;
  FakeRevoker revoker;
  Options o = ManualOptions();
  o.max_revocations_per_second = 3;
  ExpirationManager m(view, clock, revoker, o);
  ASSERT_TRUE(m.Load().ok());
  ASSERT_TRUE(m.WaitForLoad().ok());
  for (int i = 0; i < 10; ++i) {
    LeaseRequest r;
    r.path = "p";
    r.ttl = 5s;
    ASSERT_TRUE(m.Register(r).has_value());
  }
  clock.Advance(6s);
  EXPECT_EQ(m.ProcessExpired(), 3u);
  EXPECT_EQ(m.ProcessExpired(), 0u);
  clock.Advance(1s);
  EXPECT_EQ(m.ProcessExpired(), 3u);
  clock.Advance(10s);  // the bucket holds at most one second's worth
  EXPECT_EQ(m.ProcessExpired(), 3u);
  clock.Advance(1s);
  EXPECT_EQ(m.ProcessExpired(), 1u);
  EXPECT_EQ(m.IndexSize(), 0u);
}

TEST_F(ExpirationTest, RevokePrefixAndForce) {
  auto a = Reg("db/creds/a", 100s);
  auto b = Reg("db/creds/b", 100s);
  auto c = Reg("other/x", 100s);
  ASSERT_TRUE(a && b && c);
  revoker_.failures_left = 1;
  EXPECT_FALSE(m_->RevokePrefix("db/creds", false).ok());
  EXPECT_EQ(revoker_.Count(), 1u);  // one of the two went through
  revoker_.failures_left = 100;
  EXPECT_TRUE(m_->RevokePrefix("db/", true).ok());
  EXPECT_FALSE(m_->Lookup(a->id).has_value());
  EXPECT_FALSE(m_->Lookup(b->id).has_value());
  EXPECT_TRUE(m_->Lookup(c->id).has_value());
  EXPECT_EQ(m_->RevokePrefix("", true).code(), Code::kInvalidArgument);
}

TEST_F(ExpirationTest, RevokeByTokenRevokesSecretsAndDropsTheTokenLease) {
  auto a = Reg("db/creds/a", 100s, "t1");
  auto b = Reg("db/creds/b", 100s, "t2");
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(m_->RegisterToken("t1", "auth/token/create", 50s, true).ok());
  EXPECT_EQ(m_->IndexSize(), 3u);
  ASSERT_TRUE(m_->RevokeByToken("t1", "auth/token/create").ok());
  EXPECT_EQ(revoker_.revoked, std::vector<std::string>{a->id});  // the token lease: deleted only
  EXPECT_FALSE(m_->Lookup("auth/token/create/t1").has_value());
  EXPECT_TRUE(m_->Lookup(b->id).has_value());
  EXPECT_EQ(m_->IndexSize(), 1u);
}

// As Vault's lazy revocation: an engine that refuses does not keep the
// token; its lease expires at once and the expiry thread retries it.
TEST_F(ExpirationTest, RevokeByTokenLeavesARefusedLeaseToTheExpiryThread) {
  auto a = Reg("db/creds/a", 100s, "t1");
  auto b = Reg("kv/x", 100s, "t1");
  ASSERT_TRUE(a && b);
  revoker_.fail_prefix = "db/";
  ASSERT_TRUE(m_->RevokeByToken("t1").ok());
  EXPECT_EQ(revoker_.revoked, std::vector<std::string>{b->id});
  auto expired = m_->Lookup(a->id);
  ASSERT_TRUE(expired.has_value());
  EXPECT_EQ(expired->expire_time, a->issue_time);  // now: the clock has not moved
  EXPECT_EQ(m_->ProcessExpired(), 0u);             // still refused: retried in 10s
  auto failing = m_->FailingLeases(1);
  ASSERT_TRUE(failing.has_value());
  ASSERT_EQ(failing->size(), 1u);
  EXPECT_EQ(failing->front().id, a->id);
  revoker_.fail_prefix.clear();
  clock_.Advance(10s);
  EXPECT_EQ(m_->ProcessExpired(), 1u);
  EXPECT_FALSE(m_->Lookup(a->id).has_value());
  EXPECT_EQ(m_->IndexSize(), 0u);
}

TEST_F(ExpirationTest, TokenLeaseExpiresAndExtends) {
  ASSERT_TRUE(m_->RegisterToken("t1", "auth/token/create", 50s, true).ok());
  auto lease = m_->Lookup(ExpirationManager::TokenLeaseId("auth/token/create", "t1"));
  ASSERT_TRUE(lease.has_value());
  EXPECT_EQ(lease->kind, Lease::Kind::kToken);
  EXPECT_EQ(m_->Renew(lease->id, 10s).error().code(), Code::kInvalidArgument);
  clock_.Advance(40s);
  ASSERT_TRUE(m_->ExtendToken("t1", "auth/token/create", 50s).ok());
  clock_.Advance(20s);
  EXPECT_EQ(m_->ProcessExpired(), 0u);
  clock_.Advance(31s);
  EXPECT_EQ(m_->ProcessExpired(), 1u);
  EXPECT_EQ(revoker_.revoked, std::vector<std::string>{lease->id});
}

// A token lease a lazy revocation expired is not extended by the token's
// renewal: its revocation is under way.
TEST_F(ExpirationTest, AnExpiredTokenLeaseIsNotExtended) {
  ASSERT_TRUE(m_->RegisterToken("t1", "auth/token/create", 50s, true).ok());
  const std::string id = ExpirationManager::TokenLeaseId("auth/token/create", "t1");
  ASSERT_TRUE(m_->RevokeLater(id).ok());
  EXPECT_EQ(m_->ExtendToken("t1", "auth/token/create", 50s).code(), Code::kInvalidArgument);
  EXPECT_EQ(m_->ProcessExpired(), 1u);
  EXPECT_EQ(revoker_.revoked, std::vector<std::string>{id});
}

TEST_F(ExpirationTest, LoadAfterRestartStreamsTheIndexAndExpires) {
  std::vector<std::string> ids;
  for (int i = 0; i < 50; ++i) {
    auto l = Reg("svc/" + std::to_string(i % 5), std::chrono::seconds(10 + i));
    ASSERT_TRUE(l.has_value());
    ids.push_back(l->id);
  }
  ASSERT_TRUE(m_->Revoke(ids[0]).ok());
  revoker_.revoked.clear();
  m_.reset();  // "restart"

  ExpirationManager m2(view_, clock_, revoker_, ManualOptions());
  ASSERT_TRUE(m2.Load().ok());
  ASSERT_TRUE(m2.WaitForLoad().ok());
  EXPECT_EQ(m2.IndexSize(), 49u);
  clock_.Advance(30s);  // leases 1..20 have ttl <= 30
  EXPECT_EQ(m2.ProcessExpired(), 20u);
  clock_.Advance(100s);
  EXPECT_EQ(m2.ProcessExpired(), 29u);
  EXPECT_EQ(m2.IndexSize(), 0u);
  auto left = view_.List("index/");
  ASSERT_TRUE(left.has_value());
  EXPECT_TRUE(left->empty());
}

// A lease index bucket that cannot be decoded no longer stops the loading:
// the other buckets load, the damaged one's leases are indexed from their
// own records, and the bucket is written again.
TEST_F(ExpirationTest, ADamagedIndexBucketIsRecoveredFromTheLeaseRecords) {
  Options o = ManualOptions();
  o.compact_threshold = 1;  // every record folds into its bucket
  m_ = std::make_unique<ExpirationManager>(view_, clock_, revoker_, o);
  ASSERT_TRUE(m_->Load().ok());
  ASSERT_TRUE(m_->WaitForLoad().ok());
  for (int i = 0; i < 40; ++i) ASSERT_TRUE(Reg("svc/" + std::to_string(i), 60s).has_value());
  m_.reset();
  auto buckets = view_.List("index/");
  ASSERT_TRUE(buckets.has_value());
  ASSERT_GE(buckets->size(), 2u);
  const std::string damaged = "index/" + buckets->front();
  ASSERT_TRUE(view_.Put(damaged, "\xff\xfe not a bucket").ok());

  ExpirationManager m2(view_, clock_, revoker_, o);
  ASSERT_TRUE(m2.Load().ok());
  EXPECT_TRUE(m2.WaitForLoad().ok());
  EXPECT_EQ(m2.IndexSize(), 40u);
  auto rewritten = view_.Get(damaged);
  ASSERT_TRUE(rewritten.has_value() && rewritten->has_value());
  EXPECT_TRUE(DecodeBucket((*rewritten)->value).has_value());
  clock_.Advance(61s);
  EXPECT_EQ(m2.ProcessExpired(), 40u);
  EXPECT_EQ(m2.IndexSize(), 0u);
}

// A log record the storage cannot give back (a value that no longer
// decrypts) no longer keeps the server from unsealing: the leases the
// index lacks are indexed from their own records.
TEST_F(ExpirationTest, AnUnreadableLogRecordIsRecoveredFromTheLeaseRecords) {
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(Reg("svc/" + std::to_string(i), 60s).has_value());
  m_.reset();
  auto log = view_.List("log/");
  ASSERT_TRUE(log.has_value());
  ASSERT_FALSE(log->empty());

  class UnreadableLog final : public storage::test_util::ForwardingBackend {
   public:
    using ForwardingBackend::ForwardingBackend;
    Result<std::optional<storage::Entry>> Get(std::string_view key) override {
      if (key.starts_with("log/")) return Err(Internal("failed to decrypt"));
      return ForwardingBackend::Get(key);
    }
  } unreadable(view_);
  ExpirationManager m2(unreadable, clock_, revoker_, ManualOptions());
  ASSERT_TRUE(m2.Load().ok());
  EXPECT_TRUE(m2.WaitForLoad().ok());
  EXPECT_EQ(m2.IndexSize(), 20u);
  clock_.Advance(61s);
  EXPECT_EQ(m2.ProcessExpired(), 20u);
}

TEST_F(ExpirationTest, BackgroundThreadRevokesWithoutAnyCall) {
  Options o;
  o.poll_interval = 2ms;
  ExpirationManager m(view_, clock_, revoker_, o);
  ASSERT_TRUE(m.Load().ok());
  LeaseRequest r;
  r.path = "bg/x";
  r.ttl = 10s;
  auto l = m.Register(r);
  ASSERT_TRUE(l.has_value());
  clock_.Advance(11s);
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (revoker_.Count() == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::yield();
  }
  EXPECT_EQ(revoker_.Count(), 1u);
  m.Stop();
}

}  // namespace
}  // namespace coffer::expiration
