// A revocation that races a renewal or a cache fill must win: the revoked
// token may not come back, neither in storage nor in the token cache.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <thread>

#include "storage/stalling_backend.h"
#include "token/token_store.h"

namespace coffer::token {
namespace {

using namespace std::chrono_literals;

using GateBackend = storage::test_util::StallingBackend;

Result<CreatedToken> NewToken(TokenStore& store) {
  TokenRequest r;
  r.policies = {"p"};
  r.ttl = 1h;
  return store.CreateToken(r);
}

TEST(TokenRevokeRaceTest, RenewalInFlightCannotBringARevokedTokenBack) {
  GateBackend view;
  FakeClock clock;
  TokenStore store(view, clock);
  ASSERT_TRUE(store.Load().ok());
  auto created = NewToken(store);
  ASSERT_TRUE(created.has_value());
  const std::string id(created->id.view());
  const std::string hmac = created->entry->id_hmac;

  view.stall_transact = true;  // the renewal's write
  auto renewal = std::async(std::launch::async, [&] { return store.Renew(hmac, 2h); });
  view.entered.get_future().wait();
  // The renewal has read the entry and is about to write it back. Revoking
  // without the tree walk (revoke-orphan; also how a descendant goes when
  // its parent's tree is revoked) races it.
  auto revocation = std::async(std::launch::async, [&] { return store.RevokeOrphan(hmac); });
  // Without the lock the revocation would finish here, before the write.
  revocation.wait_for(200ms);
  view.release.set_value();
  (void)renewal.get();
  ASSERT_TRUE(revocation.get().ok());

  auto looked = store.Lookup(id);
  ASSERT_TRUE(looked.has_value());
  EXPECT_EQ(*looked, nullptr);
  auto stored = view.inner.Get("id/" + hmac);
  ASSERT_TRUE(stored.has_value());
  EXPECT_FALSE(stored->has_value()) << "the revoked token is back in storage";
}

TEST(TokenRevokeRaceTest, LookupThatReadBeforeARevocationDoesNotCacheTheToken) {
  GateBackend view;
  FakeClock clock;
  {
    TokenStore creator(view, clock);
    ASSERT_TRUE(creator.Load().ok());
    ASSERT_TRUE(NewToken(creator).has_value());
  }
  // A second store on the same storage starts with an empty cache.
  TokenStore store(view, clock);
  ASSERT_TRUE(store.Load().ok());
  auto ids = view.inner.List("id/");
  ASSERT_TRUE(ids.has_value());
  ASSERT_EQ(ids->size(), 1u);
  const std::string hmac = ids->front();

  view.stall_get_key = "id/" + hmac;  // the lookup's read from storage
  auto lookup = std::async(std::launch::async, [&] { return store.LookupByHmac(hmac); });
  view.entered.get_future().wait();
  ASSERT_TRUE(store.RevokeOrphan(hmac).ok());
  view.release.set_value();
  (void)lookup.get();  // what it returns was true when it read

  auto again = store.LookupByHmac(hmac);
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(*again, nullptr) << "a revoked token was served from the cache";
}

}  // namespace
}  // namespace coffer::token
