#include "engines/cubbyhole/cubbyhole.h"

#include <gtest/gtest.h>

#include "storage/inmem/inmem_backend.h"

namespace coffer::engines::cubbyhole {
namespace {

logical::Request Req(logical::Operation op, std::string token, std::string path,
                     logical::Json data = logical::Json::object()) {
  logical::Request r;
  r.operation = op;
  r.relative_path = std::move(path);
  r.data = std::move(data);
  auto auth = std::make_shared<logical::Auth>();
  auth->token_hmac = std::move(token);
  r.auth = auth;
  return r;
}

TEST(CubbyholeTest, EachTokenSeesOnlyItsOwn) {
  storage::InmemBackend store;
  CubbyholeBackend cubby(store);
  using logical::Operation;
  ASSERT_TRUE(cubby.HandleRequest(Req(Operation::kCreate, "aaa", "k", {{"v", "1"}})).has_value());
  auto mine = cubby.HandleRequest(Req(Operation::kRead, "aaa", "k"));
  ASSERT_TRUE(mine.has_value());
  EXPECT_EQ(mine->data["v"], "1");
  // Nothing there for another token: 404 with Vault's empty error list.
  auto theirs = cubby.HandleRequest(Req(Operation::kRead, "bbb", "k"));
  ASSERT_TRUE(theirs.has_value());
  EXPECT_EQ(theirs->http_status, 404);
  EXPECT_EQ(*theirs->raw, (logical::Json{{"errors", logical::Json::array()}}));

  auto list = cubby.HandleRequest(Req(Operation::kList, "aaa", ""));
  ASSERT_TRUE(list.has_value());
  EXPECT_EQ(list->data["keys"], logical::Json::array({"k"}));
  EXPECT_EQ(cubby.HandleRequest(Req(Operation::kList, "bbb", ""))->http_status, 404);
}

TEST(CubbyholeTest, DestroyRemovesEverythingOfOneToken) {
  storage::InmemBackend store;
  CubbyholeBackend cubby(store);
  using logical::Operation;
  ASSERT_TRUE(cubby.HandleRequest(Req(Operation::kCreate, "aaa", "a/b/c", {{"v", 1}})).has_value());
  ASSERT_TRUE(cubby.HandleRequest(Req(Operation::kCreate, "aaa", "d", {{"v", 1}})).has_value());
  ASSERT_TRUE(cubby.HandleRequest(Req(Operation::kCreate, "bbb", "d", {{"v", 2}})).has_value());
  // A key that ends in '/' is refused: it would read as a folder. One
  // stored before that (straight into storage here) goes with the rest.
  auto slashed = cubby.HandleRequest(Req(Operation::kCreate, "aaa", "x/", {{"v", 1}}));
  ASSERT_FALSE(slashed.has_value());
  EXPECT_EQ(slashed.error().message(), "cannot write to a path ending in '/'");
  ASSERT_TRUE(store.Put("aaa/old/", "{\"v\":1}").ok());
  ASSERT_TRUE(store.Put("aaa/a/", "{\"v\":1}").ok());
  ASSERT_TRUE(cubby.Destroy("aaa").ok());
  EXPECT_TRUE(store.List("aaa/")->empty());
  EXPECT_FALSE(store.Get("aaa/old/")->has_value());
  EXPECT_FALSE(store.Get("aaa/a/")->has_value());
  EXPECT_TRUE(cubby.HandleRequest(Req(Operation::kRead, "bbb", "d")).has_value());
}

TEST(CubbyholeTest, RefusesBatchTokensAsVaultDoes) {
  storage::InmemBackend store;
  CubbyholeBackend cubby(store);
  auto r = Req(logical::Operation::kCreate, "aaa", "k", {{"v", "1"}});
  auto auth = std::make_shared<logical::Auth>(*r.auth);
  auth->batch = true;
  r.auth = auth;
  auto refused = cubby.HandleRequest(r);
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code(), Code::kInvalidArgument);
  EXPECT_NE(refused.error().message().find("service"), std::string::npos);
  EXPECT_TRUE(store.List("aaa/")->empty());
}

TEST(CubbyholeTest, RefusesRequestsWithoutTokenAndEmptyWrites) {
  storage::InmemBackend store;
  CubbyholeBackend cubby(store);
  logical::Request r;
  r.operation = logical::Operation::kRead;
  r.relative_path = "k";
  EXPECT_EQ(cubby.HandleRequest(r).error().code(), Code::kPermissionDenied);
  auto empty = cubby.HandleRequest(Req(logical::Operation::kCreate, "aaa", "k"));
  EXPECT_EQ(empty.error().code(), Code::kInvalidArgument);
}

}  // namespace
}  // namespace coffer::engines::cubbyhole
