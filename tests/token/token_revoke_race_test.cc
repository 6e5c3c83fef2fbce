// A revocation that races a renewal or a cache fill must win: the revoked
// token may not come back, neither in storage nor in the token cache.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <future>
#include <thread>

#include "storage/forwarding_backend.h"
#include "storage/stalling_backend.h"
#include "token/token_store.h"

namespace coffer::token {
namespace {

using namespace std::chrono_literals;

using GateBackend = storage::test_util::StallingBackend;

Result<CreatedToken> NewToken(TokenStore& store, std::string parent_hmac = "") {
  TokenRequest r;
  r.policies = {"p"};
  r.ttl = 1h;
  r.parent_hmac = std::move(parent_hmac);
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

// A lookup that read a limited-use token before a use was spent must not
// cache the count it read: the spent use would come back.
TEST(TokenRevokeRaceTest, LookupThatReadBeforeAUseDoesNotGiveTheUseBack) {
  GateBackend view;
  FakeClock clock;
  {
    TokenStore creator(view, clock);
    ASSERT_TRUE(creator.Load().ok());
    TokenRequest r;
    r.policies = {"p"};
    r.ttl = 1h;
    r.num_uses = 2;
    ASSERT_TRUE(creator.CreateToken(r).has_value());
  }
  TokenStore store(view, clock);  // an empty cache
  ASSERT_TRUE(store.Load().ok());
  auto ids = view.inner.List("id/");
  ASSERT_TRUE(ids.has_value());
  ASSERT_EQ(ids->size(), 1u);
  const std::string hmac = ids->front();

  view.stall_get_key = "id/" + hmac;  // reads num_uses 2, then waits
  auto lookup = std::async(std::launch::async, [&] { return store.LookupByHmac(hmac); });
  view.entered.get_future().wait();
  auto first = store.UseToken(hmac);  // 2 -> 1
  ASSERT_TRUE(first.has_value());
  ASSERT_NE(*first, nullptr);
  view.release.set_value();
  (void)lookup.get();

  auto second = store.UseToken(hmac);  // the last use: the token goes
  ASSERT_TRUE(second.has_value());
  ASSERT_NE(*second, nullptr);
  auto after = store.LookupByHmac(hmac);
  ASSERT_TRUE(after.has_value());
  EXPECT_EQ(*after, nullptr) << "a token of two uses served a third";
}

// Runs `hook` once, in the revoking thread, right after the children of
// `hook_prefix` were listed: the moment a tree revocation has decided what
// to walk below that token.
class ListHookBackend : public storage::test_util::ForwardingBackend {
 public:
  Result<std::vector<std::string>> List(std::string_view prefix) override {
    auto out = ForwardingBackend::List(prefix);
    if (hook && prefix == hook_prefix) std::exchange(hook, nullptr)();
    return out;
  }
  std::string hook_prefix;
  std::function<void()> hook;
};

// A child that creates a token while its parent's tree is being revoked,
// after the walk listed its children, must not leave that token alive.
TEST(TokenRevokeRaceTest, TokenCreatedDuringItsParentsRevocationDoesNotSurviveIt) {
  ListHookBackend view;
  FakeClock clock;
  TokenStore store(view, clock);
  ASSERT_TRUE(store.Load().ok());
  auto root = NewToken(store);
  auto child = root ? NewToken(store, root->entry->id_hmac) : Err(root.error());
  ASSERT_TRUE(child.has_value());
  const std::string child_hmac = child->entry->id_hmac;

  // The child creates a token just after the walk listed its children.
  Result<CreatedToken> grandchild = Err(Internal("not created"));
  view.hook_prefix = "parent/" + child_hmac + "/";
  view.hook = [&] { grandchild = NewToken(store, child_hmac); };
  ASSERT_TRUE(store.RevokeTree(root->entry->id_hmac).ok());
  ASSERT_EQ(view.hook, nullptr) << "the walk never listed the child's children";
  EXPECT_FALSE(grandchild.has_value());
  if (!grandchild) {
    EXPECT_EQ(grandchild.error().code(), Code::kPermissionDenied);
  }
  auto left = store.CountTokens();
  ASSERT_TRUE(left.has_value());
  EXPECT_EQ(*left, 0u) << "a token outlived its revoked parent";
}

}  // namespace
}  // namespace coffer::token
