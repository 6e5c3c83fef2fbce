// A new token with a TTL and its lease go to storage in ONE Transact when
// the token store knows the shared backend (what the core wires), so a crash
// leaves both or neither.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>

#include "expiration/expiration_manager.h"
#include "storage/forwarding_backend.h"
#include "token/token_store.h"

namespace coffer::token {
namespace {

using namespace std::chrono_literals;

// Counts Transacts and can fail them (as a crash before commit would).
class TransactCountingBackend : public storage::test_util::ForwardingBackend {
 public:
  Status Transact(std::span<const storage::Compare> compares,
                  std::span<const storage::Op> ops) override {
    ++transacts;
    if (fail) return Unavailable("injected failure");
    return ForwardingBackend::Transact(compares, ops);
  }
  std::string_view Type() const override { return "counting"; }

  std::atomic<int> transacts{0};
  bool fail = false;
};

// A minimal prefix view (the core uses barrier::BarrierView).
class PrefixView : public storage::Backend {
 public:
  PrefixView(storage::Backend& inner, std::string prefix)
      : inner_(inner), prefix_(std::move(prefix)) {}
  Result<std::optional<storage::Entry>> Get(std::string_view key) override {
    return inner_.Get(prefix_ + std::string(key));
  }
  Status Put(std::string_view key, std::string_view value) override {
    return inner_.Put(prefix_ + std::string(key), value);
  }
  Status Delete(std::string_view key) override { return inner_.Delete(prefix_ + std::string(key)); }
  Result<std::vector<std::string>> List(std::string_view prefix) override {
    return inner_.List(prefix_ + std::string(prefix));
  }
  Status Transact(std::span<const storage::Compare> compares,
                  std::span<const storage::Op> ops) override {
    std::vector<storage::Compare> c(compares.begin(), compares.end());
    std::vector<storage::Op> o(ops.begin(), ops.end());
    for (auto& x : c) x.key = prefix_ + x.key;
    for (auto& x : o) x.key = prefix_ + x.key;
    return inner_.Transact(c, o);
  }
  std::string_view Type() const override { return inner_.Type(); }

 private:
  storage::Backend& inner_;
  std::string prefix_;
};

class NoopRevoker : public expiration::Revoker {
 public:
  Status Revoke(const expiration::Lease&) override { return Status::Ok(); }
};

class TokenLeaseTxnTest : public ::testing::Test {
 protected:
  void SetUp() override {
    expiration::Options eo;
    eo.start_expiry_thread = false;
    store_ = std::make_unique<TokenStore>(tok_view_, clock_);
    exp_ = std::make_unique<expiration::ExpirationManager>(exp_view_, clock_, revoker_, eo);
    store_->AttachExpiration(exp_.get(), {&root_, "sys/token/", "sys/expire/"});
    ASSERT_TRUE(store_->Load().ok());
    ASSERT_TRUE(exp_->Load().ok());
    ASSERT_TRUE(exp_->WaitForLoad().ok());
  }
  void TearDown() override {
    exp_.reset();
    store_.reset();
  }

  TransactCountingBackend root_;
  PrefixView tok_view_{root_, "sys/token/"};
  PrefixView exp_view_{root_, "sys/expire/"};
  FakeClock clock_;
  NoopRevoker revoker_;
  std::unique_ptr<TokenStore> store_;
  std::unique_ptr<expiration::ExpirationManager> exp_;
};

TEST_F(TokenLeaseTxnTest, TokenAndLeaseInOneTransact) {
  TokenRequest r;
  r.policies = {"p"};
  r.path = "auth/token/create";
  r.ttl = 3600s;
  const int before = root_.transacts.load();
  auto c = store_->CreateToken(r);
  ASSERT_TRUE(c.has_value()) << c.error().message();
  EXPECT_EQ(root_.transacts.load() - before, 1);
  const std::string hmac = c->entry->id_hmac;
  auto entry = root_.inner.Get("sys/token/id/" + hmac);
  ASSERT_TRUE(entry.has_value() && entry->has_value());
  auto lease = exp_->Lookup(expiration::ExpirationManager::TokenLeaseId(r.path, hmac));
  ASSERT_TRUE(lease.has_value()) << lease.error().message();
  EXPECT_EQ(lease->token_hmac, hmac);
  EXPECT_EQ(exp_->IndexSize(), 1u);
  auto looked = store_->Lookup(c->id.view());
  ASSERT_TRUE(looked.has_value() && *looked != nullptr);
}

TEST_F(TokenLeaseTxnTest, FailedTransactLeavesNeitherTokenNorLease) {
  root_.fail = true;
  TokenRequest r;
  r.policies = {"p"};
  r.path = "auth/token/create";
  r.ttl = 3600s;
  auto c = store_->CreateToken(r);
  ASSERT_FALSE(c.has_value());
  root_.fail = false;
  EXPECT_EQ(exp_->IndexSize(), 0u);
  auto ids = root_.inner.List("sys/token/id/");
  ASSERT_TRUE(ids.has_value());
  EXPECT_TRUE(ids->empty());
  auto leases = root_.inner.List("sys/expire/");
  ASSERT_TRUE(leases.has_value());
  EXPECT_TRUE(leases->empty());
}

TEST_F(TokenLeaseTxnTest, DuplicateIdIsRefusedWithoutTouchingTheLease) {
  TokenRequest r;
  r.policies = {"p"};
  r.path = "auth/token/create";
  r.ttl = 3600s;
  r.requested_id = "fixed-id";
  ASSERT_TRUE(store_->CreateToken(r).has_value());
  r.ttl = 7200s;
  auto again = store_->CreateToken(r);
  ASSERT_FALSE(again.has_value());
  EXPECT_EQ(again.error().code(), Code::kAlreadyExists);
  EXPECT_EQ(again.error().message(), "cannot create a token with a duplicate ID");  // Vault's words
  EXPECT_EQ(exp_->IndexSize(), 1u);
  auto hmac = store_->HmacOf("fixed-id");
  ASSERT_TRUE(hmac.has_value());
  auto lease = exp_->Lookup(expiration::ExpirationManager::TokenLeaseId(r.path, *hmac));
  ASSERT_TRUE(lease.has_value());
  EXPECT_EQ(lease->ttl, 3600);
}

TEST_F(TokenLeaseTxnTest, RevokingTheTokenDropsItsLeaseWithoutAMarker) {
  TokenRequest r;
  r.path = "auth/token/create";
  r.ttl = 1h;
  auto c = store_->CreateToken(r);
  ASSERT_TRUE(c.has_value());
  const std::string hmac = c->entry->id_hmac;
  auto markers = root_.inner.List("sys/expire/token/");
  ASSERT_TRUE(markers.has_value());
  EXPECT_TRUE(markers->empty());
  ASSERT_TRUE(store_->Revoke(c->id.view()).ok());
  EXPECT_EQ(exp_->IndexSize(), 0u);
  EXPECT_FALSE(exp_->Lookup(expiration::ExpirationManager::TokenLeaseId(r.path, hmac)));
  for (std::string folder : {"sys/expire/id/", "sys/expire/journal/", "sys/expire/index/"}) {
    auto left = root_.inner.List(folder);
    ASSERT_TRUE(left.has_value());
    EXPECT_TRUE(left->empty()) << folder;
  }
}

}  // namespace
}  // namespace coffer::token
