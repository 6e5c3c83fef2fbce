#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

#include "expiration/expiration_manager.h"
#include "storage/inmem/inmem_backend.h"
#include "token/token_store.h"

namespace coffer::token {
namespace {

using namespace std::chrono_literals;

// What the core does: token leases revoke the token tree, secret leases go
// to the (here: recorded) engine.
class CoreLikeRevoker : public expiration::Revoker {
 public:
  Status Revoke(const expiration::Lease& lease) override {
    if (lease.kind == expiration::Lease::Kind::kToken) return store->RevokeTree(lease.token_hmac);
    std::scoped_lock lock(mu);
    secrets.push_back(lease.id);
    return Status::Ok();
  }
  TokenStore* store = nullptr;
  std::mutex mu;
  std::vector<std::string> secrets;
};

class TokenTreeTest : public ::testing::Test {
 protected:
  void SetUp() override { Open(); }
  void Open(bool thread = false) {
    expiration::Options eo;
    eo.start_expiry_thread = thread;
    eo.poll_interval = 2ms;
    store_ = std::make_unique<TokenStore>(tok_view_, clock_);
    revoker_.store = store_.get();
    exp_ = std::make_unique<expiration::ExpirationManager>(exp_view_, clock_, revoker_, eo);
    store_->AttachExpiration(exp_.get());
    ASSERT_TRUE(store_->Load().ok());
    ASSERT_TRUE(exp_->Load().ok());
    ASSERT_TRUE(exp_->WaitForLoad().ok());
  }
  void Close() {
    exp_.reset();
    store_.reset();
  }
  CreatedToken Create(std::string parent, std::chrono::seconds ttl = 0s,
                      std::vector<std::string> policies = {"p"}) {
    TokenRequest r;
    r.parent_hmac = std::move(parent);
    r.ttl = ttl;
    r.policies = std::move(policies);
    auto c = store_->CreateToken(r);
    EXPECT_TRUE(c.has_value());
    return std::move(*c);
  }
  bool Alive(const CreatedToken& t) {
    auto e = store_->Lookup(t.id.view());
    return e.has_value() && *e != nullptr;
  }

  storage::InmemBackend tok_view_, exp_view_;
  FakeClock clock_;
  CoreLikeRevoker revoker_;
  std::unique_ptr<TokenStore> store_;
  std::unique_ptr<expiration::ExpirationManager> exp_;
};

TEST_F(TokenTreeTest, ChildAndOrphanAndPolicies) {
  auto parent = Create("");
  auto child = Create(parent.entry->id_hmac, 0s, {" Dev ", "dev", "ops"});
  EXPECT_EQ(child.entry->parent_hmac, parent.entry->id_hmac);
  EXPECT_EQ(child.entry->policies, (std::vector<std::string>{"default", "dev", "ops"}));
  EXPECT_EQ(child.entry->ttl, 768 * 3600);  // system default
  EXPECT_TRUE(parent.entry->parent_hmac.empty());
  EXPECT_TRUE(Alive(child));
  EXPECT_EQ(store_->LookupAccessor(child.entry->accessor).value()->id_hmac, child.entry->id_hmac);
}

TEST_F(TokenTreeTest, RevokingAParentRevokesTheSubtreeAndItsLeases) {
  auto a = Create("");
  auto b = Create(a.entry->id_hmac);
  auto c = Create(b.entry->id_hmac);
  auto other = Create("");
  expiration::LeaseRequest lr;
  lr.path = "db/creds/ro";
  lr.token_hmac = c.entry->id_hmac;
  auto lease = exp_->Register(lr);
  ASSERT_TRUE(lease.has_value());
  ASSERT_TRUE(store_->Revoke(a.id.view()).ok());
  EXPECT_FALSE(Alive(a));
  EXPECT_FALSE(Alive(b));
  EXPECT_FALSE(Alive(c));
  EXPECT_TRUE(Alive(other));
  EXPECT_EQ(revoker_.secrets, std::vector<std::string>{lease->id});
  EXPECT_FALSE(store_->LookupAccessor(b.entry->accessor).value());
  EXPECT_EQ(exp_->IndexSize(), 1u);  // only `other`'s token lease
}

TEST_F(TokenTreeTest, DeepChainRevokesWithoutRecursion) {
  auto root = Create("");
  std::string parent = root.entry->id_hmac;
  std::vector<std::string> chain;
  for (int i = 0; i < 10'000; ++i) {
    auto t = Create(parent);
    parent = t.entry->id_hmac;
    chain.push_back(parent);
  }
  ASSERT_TRUE(store_->RevokeTree(root.entry->id_hmac).ok());
  for (int i : {0, 5000, 9999}) {
    EXPECT_EQ(store_->LookupByHmac(chain[static_cast<std::size_t>(i)]).value(), nullptr);
  }
  auto left = tok_view_.List("id/");
  ASSERT_TRUE(left.has_value());
  EXPECT_TRUE(left->empty());
}

TEST_F(TokenTreeTest, RevokeWorksAcrossRestart) {
  auto a = Create("");
  auto b = Create(a.entry->id_hmac);
  std::string a_id(a.id.view()), b_id(b.id.view());
  Close();
  Open();
  ASSERT_TRUE(store_->Revoke(a_id).ok());
  EXPECT_EQ(store_->Lookup(b_id).value(), nullptr);
}

TEST_F(TokenTreeTest, RevokeOrphanKeepsChildren) {
  auto a = Create("");
  auto b = Create(a.entry->id_hmac);
  ASSERT_TRUE(store_->RevokeOrphan(a.entry->id_hmac).ok());
  EXPECT_FALSE(Alive(a));
  ASSERT_TRUE(Alive(b));
  EXPECT_TRUE(store_->Lookup(b.id.view()).value()->parent_hmac.empty());
}

TEST_F(TokenTreeTest, NumUsesExhaustionRevokes) {
  TokenRequest r;
  r.num_uses = 2;
  r.policies = {"p"};
  auto t = store_->CreateToken(r);
  ASSERT_TRUE(t.has_value());
  const std::string h = t->entry->id_hmac;
  auto u1 = store_->UseToken(h);
  ASSERT_TRUE(u1 && *u1);
  EXPECT_EQ((*u1)->num_uses, 1);
  auto u2 = store_->UseToken(h);
  ASSERT_TRUE(u2 && *u2);  // the last use is allowed
  EXPECT_EQ((*u2)->num_uses, 0);
  EXPECT_EQ(store_->UseToken(h).value(), nullptr);
  EXPECT_FALSE(Alive(*t));
}

TEST_F(TokenTreeTest, ConcurrentUsesNeverExceedTheLimit) {
  TokenRequest r;
  r.num_uses = 50;
  auto t = store_->CreateToken(r);
  ASSERT_TRUE(t.has_value());
  std::atomic<int> allowed{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      for (int j = 0; j < 30; ++j) {
        auto u = store_->UseToken(t->entry->id_hmac);
        if (u && *u) ++allowed;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(allowed.load(), 50);
}

TEST_F(TokenTreeTest, ExpiryWithLookupOnly) {
  auto t = Create("", 60s);
  clock_.Advance(59s);
  EXPECT_TRUE(Alive(t));
  clock_.Advance(2s);
  EXPECT_FALSE(Alive(t));  // refused before any background revocation
}

TEST_F(TokenTreeTest, ExpiryInTheBackgroundRevokesTree) {
  Close();
  Open(/*thread=*/true);
  auto t = Create("", 60s);
  auto child = Create(t.entry->id_hmac, 3600s);
  clock_.Advance(61s);
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (std::chrono::steady_clock::now() < deadline) {
    auto children = tok_view_.List("id/");
    if (children && children->empty()) break;
    std::this_thread::yield();
  }
  auto left = tok_view_.List("id/");
  ASSERT_TRUE(left.has_value());
  EXPECT_TRUE(left->empty());  // both gone, nobody looked them up
}

TEST_F(TokenTreeTest, PeriodicRenewAndExplicitMaxCap) {
  TokenRequest r;
  r.period = 100s;
  auto periodic = store_->CreateToken(r);
  ASSERT_TRUE(periodic.has_value());
  EXPECT_EQ(periodic->entry->ttl, 100);
  EXPECT_TRUE(periodic->entry->renewable);
  for (int i = 0; i < 20; ++i) {  // far past the 768h max? no: periodic ignores it
    clock_.Advance(90s);
    auto renewed = store_->Renew(periodic->entry->id_hmac, 5s);
    ASSERT_TRUE(renewed.has_value());
    EXPECT_EQ((*renewed)->expire_time, store_->NowUnix() + 100);
  }
  TokenRequest capped;
  capped.ttl = 100s;
  capped.explicit_max_ttl = 150s;
  auto c = store_->CreateToken(capped);
  ASSERT_TRUE(c.has_value());
  clock_.Advance(90s);
  auto renewed = store_->Renew(c->entry->id_hmac, 100s);
  ASSERT_TRUE(renewed.has_value());
  EXPECT_EQ((*renewed)->expire_time, c->entry->creation_time + 150);
  clock_.Advance(61s);
  EXPECT_EQ(store_->Lookup(c->id.view()).value(), nullptr);

  TokenRequest fixed;
  fixed.ttl = 10s;
  fixed.renewable = false;
  auto f = store_->CreateToken(fixed);
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(store_->Renew(f->entry->id_hmac, 10s).error().code(), Code::kInvalidArgument);
}

TEST_F(TokenTreeTest, TidyRemovesDanglingRecordsAndFinishesRevocations) {
  auto a = Create("");
  auto b = Create(a.entry->id_hmac);
  // Simulate a crash in the middle of revoking `a`: its entry is gone but
  // the child and the link remain; plus a dangling accessor.
  ASSERT_TRUE(tok_view_.Delete("id/" + a.entry->id_hmac).ok());
  ASSERT_TRUE(tok_view_.Put("accessor/ghost", "deadbeef").ok());
  Close();
  Open();
  auto stats = store_->Tidy();
  ASSERT_TRUE(stats.has_value());
  EXPECT_GE(stats->accessors_removed, 2u);  // a's and ghost
  EXPECT_EQ(stats->tokens_revoked, 1u);
  EXPECT_FALSE(Alive(b));
  auto links = tok_view_.List("parent/");
  ASSERT_TRUE(links.has_value());
  EXPECT_TRUE(links->empty());
}

// auth/token/tidy's job: the same walk on a thread of its own; a stop
// request ends it before it changes anything more.
TEST_F(TokenTreeTest, TidyInTheBackgroundAndStopped) {
  auto a = Create("");
  auto b = Create(a.entry->id_hmac);
  ASSERT_TRUE(tok_view_.Delete("id/" + a.entry->id_hmac).ok());
  ASSERT_TRUE(tok_view_.Put("accessor/ghost", "deadbeef").ok());

  std::atomic<bool> stop{true};
  auto stopped = store_->Tidy(&stop);
  ASSERT_FALSE(stopped.has_value());
  EXPECT_EQ(stopped.error().code(), Code::kUnavailable);
  EXPECT_TRUE(tok_view_.Get("accessor/ghost").value().has_value()) << "a stopped tidy changed";
  EXPECT_TRUE(Alive(b));

  ASSERT_TRUE(store_->StartTidy());
  for (int i = 0; i < 2000 && Alive(b); ++i) std::this_thread::sleep_for(5ms);
  store_->StopTidy();  // waits for it to finish
  EXPECT_FALSE(Alive(b));
  EXPECT_FALSE(tok_view_.Get("accessor/ghost").value().has_value());
}

TEST(CanonicalPolicies, LowerTrimDedupeSortDefault) {
  EXPECT_EQ(CanonicalPolicies({" B", "a", "A ", ""}, true),
            (std::vector<std::string>{"a", "b", "default"}));
  EXPECT_EQ(CanonicalPolicies({"root"}, true), std::vector<std::string>{"root"});
  EXPECT_EQ(CanonicalPolicies({"x"}, false), std::vector<std::string>{"x"});
}

}  // namespace
}  // namespace coffer::token
