// Pages of any LIST (core/list_pages.h): the pager alone on crafted
// answers, then through the core on listings no engine pages itself.

#include "core/list_pages.h"

#include <gtest/gtest.h>

#include "core/core_fixture.h"

namespace coffer::core {
namespace {

using logical::Json;
using logical::Operation;

logical::Request ListWith(std::map<std::string, std::string> query) {
  logical::Request r;
  r.operation = Operation::kList;
  r.path = "auth/userpass/users/";
  r.query = std::move(query);
  return r;
}

logical::Response Names(Json keys) {
  logical::Response r;
  r.data = Json{{"keys", std::move(keys)}};
  return r;
}

TEST(PageListingTest, AfterAndLimitPageTheSortedNames) {
  logical::Response r = Names({"carol", "alice", "dave", "bob"});
  r.data["key_info"] = Json{{"alice", {{"n", 1}}}, {"bob", {{"n", 2}}}, {"carol", {{"n", 3}}}};
  ASSERT_TRUE(PageListing(ListWith({{"limit", "2"}}), r).ok());
  EXPECT_EQ(r.data["keys"], Json({"alice", "bob"}));
  EXPECT_EQ(r.data["next_after"], "bob");
  EXPECT_EQ(r.data["key_info"], (Json{{"alice", {{"n", 1}}}, {"bob", {{"n", 2}}}}));

  logical::Response next = Names({"carol", "alice", "dave", "bob"});
  ASSERT_TRUE(PageListing(ListWith({{"after", "bob"}, {"limit", "2"}}), next).ok());
  EXPECT_EQ(next.data["keys"], Json({"carol", "dave"}));
  EXPECT_FALSE(next.data.contains("next_after"));  // the last page

  // `after` need not be a name; without `limit`, everything after it.
  logical::Response rest = Names({"carol", "alice", "dave", "bob"});
  ASSERT_TRUE(PageListing(ListWith({{"after", "b"}}), rest).ok());
  EXPECT_EQ(rest.data["keys"], Json({"bob", "carol", "dave"}));
  logical::Response zero = Names({"b", "a"});
  ASSERT_TRUE(PageListing(ListWith({{"limit", "0"}}), zero).ok());
  EXPECT_EQ(zero.data["keys"], Json({"a", "b"}));
}

TEST(PageListingTest, AnEmptyPageIsNotFoundAndABadLimitIsRefused) {
  logical::Response past = Names({"a", "b"});
  ASSERT_TRUE(PageListing(ListWith({{"after", "b"}}), past).ok());
  EXPECT_EQ(past.http_status, 404);
  logical::Response bad = Names({"a", "b"});
  Status s = PageListing(ListWith({{"limit", "ten"}}), bad);
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_EQ(bad.data["keys"], Json({"a", "b"}));  // unchanged
}

TEST(PageListingTest, LeavesAloneWhatItShouldNotPage) {
  // No paging asked: not even sorted.
  logical::Response plain = Names({"b", "a"});
  ASSERT_TRUE(PageListing(ListWith({}), plain).ok());
  EXPECT_EQ(plain.data["keys"], Json({"b", "a"}));
  // A page an engine made (KV's) stays as it is.
  logical::Response paged = Names({"k2", "k3"});
  paged.data["next_after"] = "k3";
  ASSERT_TRUE(PageListing(ListWith({{"after", "k1"}, {"limit", "2"}}), paged).ok());
  EXPECT_EQ(paged.data["keys"], Json({"k2", "k3"}));
  EXPECT_EQ(paged.data["next_after"], "k3");
  // Not a list of names.
  logical::Response other;
  other.data = Json{{"keys", {1, 2}}};
  ASSERT_TRUE(PageListing(ListWith({{"limit", "1"}}), other).ok());
  EXPECT_EQ(other.data["keys"], Json({1, 2}));
}

using ListPagesCoreTest = CoreFixture;

TEST_F(ListPagesCoreTest, ListingsOfEveryEnginePage) {
  ASSERT_EQ(Call(Operation::kUpdate, "sys/auth/userpass", Json{{"type", "userpass"}}).http_status,
            204);
  for (const char* user : {"carol", "alice", "dave", "bob"}) {
    ASSERT_EQ(Call(Operation::kUpdate, std::string("auth/userpass/users/") + user,
                   Json{{"password", "pw"}})
                  .http_status,
              204);
  }
  auto list = [&](std::map<std::string, std::string> query) {
    logical::Request r;
    r.id = "req";
    r.operation = Operation::kList;
    r.path = "auth/userpass/users/";
    r.query = std::move(query);
    r.client_token = root_;
    r.remote_address = "127.0.0.1";
    return core_->HandleRequest(r);
  };
  logical::Response first = list({{"limit", "3"}});
  ASSERT_EQ(first.http_status, 200);
  EXPECT_EQ(first.data["keys"], Json({"alice", "bob", "carol"}));
  EXPECT_EQ(first.data["next_after"], "carol");
  logical::Response last = list({{"after", "carol"}, {"limit", "3"}});
  ASSERT_EQ(last.http_status, 200);
  EXPECT_EQ(last.data["keys"], Json({"dave"}));
  EXPECT_FALSE(last.data.contains("next_after"));
  EXPECT_EQ(list({{"after", "dave"}}).http_status, 404);
  EXPECT_EQ(list({{"limit", "-"}}).http_status, 400);
  EXPECT_EQ(list({}).data["keys"].size(), 4u);
}

}  // namespace
}  // namespace coffer::core
