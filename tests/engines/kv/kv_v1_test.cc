#include <gtest/gtest.h>

#include "kv_test_util.h"

namespace coffer::engines::kv::testing {
namespace {

class KvV1Test : public ::testing::Test {
 protected:
  Result<Response> Do(Operation op, std::string path, Json body = Json::object(),
                      Query query = {}) {
    return engine_->HandleRequest(
        MakeRequest(op, std::move(path), std::move(body), std::move(query)));
  }

  storage::InmemBackend storage_;
  FakeClock clock_;
  std::unique_ptr<logical::Backend> engine_ = MakeEngine(storage_, clock_, "kv");
};

TEST_F(KvV1Test, WriteReadDelete) {
  auto w = Do(Operation::kCreate, "app/db", Json{{"user", "admin"}, {"port", 5432}});
  ASSERT_TRUE(w.has_value()) << w.error().ToString();
  EXPECT_EQ(w->http_status, 204);

  auto r = Do(Operation::kRead, "app/db");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->http_status, 200);
  EXPECT_EQ(r->data, (Json{{"user", "admin"}, {"port", 5432}}));
  // No "ttl" of its own: the core reports the mount's default lease TTL.
  EXPECT_TRUE(r->mount_default_lease_duration);
  EXPECT_TRUE(r->lease_id.empty());

  // Overwrite replaces the whole object.
  ASSERT_TRUE(Do(Operation::kUpdate, "app/db", Json{{"user", "root"}}).has_value());
  EXPECT_EQ(Do(Operation::kRead, "app/db")->data, (Json{{"user", "root"}}));

  auto d = Do(Operation::kDelete, "app/db");
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->http_status, 204);
  auto gone = Do(Operation::kRead, "app/db");
  ASSERT_TRUE(gone.has_value());
  EXPECT_EQ(gone->http_status, 404);
  EXPECT_EQ(*gone->raw, (Json{{"errors", Json::array()}}));
  // Deleting again is fine.
  EXPECT_EQ(Do(Operation::kDelete, "app/db")->http_status, 204);
}

TEST_F(KvV1Test, TtlFieldSetsLeaseDuration) {
  ASSERT_TRUE(Do(Operation::kCreate, "t", Json{{"v", "x"}, {"ttl", "1h"}}).has_value());
  EXPECT_EQ(Do(Operation::kRead, "t")->lease_duration, 3600);
  EXPECT_FALSE(Do(Operation::kRead, "t")->mount_default_lease_duration);
  // Beyond a Go duration (~292 years) Vault's parse fails: the mount's
  // default, not a lease_duration a Go client would overflow on.
  ASSERT_TRUE(Do(Operation::kCreate, "long", Json{{"v", "x"}, {"ttl", "110000d"}}).has_value());
  EXPECT_TRUE(Do(Operation::kRead, "long")->mount_default_lease_duration);
  ASSERT_TRUE(Do(Operation::kCreate, "edge", Json{{"v", "x"}, {"ttl", 9223372036}}).has_value());
  EXPECT_EQ(Do(Operation::kRead, "edge")->lease_duration, 9223372036);
}

TEST_F(KvV1Test, ListFolders) {
  for (const char* k : {"a", "b/c", "b/d/e", "bb"}) {
    ASSERT_TRUE(Do(Operation::kCreate, k, Json{{"v", 1}}).has_value());
  }
  auto root = Do(Operation::kList, "");
  ASSERT_TRUE(root.has_value());
  EXPECT_EQ(root->data, (Json{{"keys", {"a", "b/", "bb"}}}));
  EXPECT_EQ(Do(Operation::kList, "b")->data, (Json{{"keys", {"c", "d/"}}}));
  EXPECT_EQ(Do(Operation::kList, "b/")->data, (Json{{"keys", {"c", "d/"}}}));
  EXPECT_EQ(Do(Operation::kList, "nothing/")->http_status, 404);
}

TEST_F(KvV1Test, ScanAndPagedLists) {
  for (const char* k : {"a", "b/c", "b/d/e", "b-x", "bb"}) {
    ASSERT_TRUE(Do(Operation::kCreate, k, Json{{"v", 1}}).has_value());
  }
  EXPECT_TRUE(engine_->HandlesScan());
  auto all = Do(Operation::kScan, "");
  ASSERT_TRUE(all.has_value());
  // Leaves only, in the bytewise order of their full paths ('-' < '/').
  EXPECT_EQ(all->data, (Json{{"keys", {"a", "b-x", "b/c", "b/d/e", "bb"}}}));
  EXPECT_EQ(Do(Operation::kScan, "b/")->data, (Json{{"keys", {"c", "d/e"}}}));
  auto page = Do(Operation::kScan, "", Json::object(), {{"after", "b-x"}, {"limit", "2"}});
  EXPECT_EQ(page->data, (Json{{"keys", {"b/c", "b/d/e"}}, {"next_after", "b/d/e"}}));
  EXPECT_EQ(Do(Operation::kScan, "nothing/")->http_status, 404);

  auto level = Do(Operation::kList, "", Json::object(), {{"after", "a"}, {"limit", "2"}});
  EXPECT_EQ(level->data, (Json{{"keys", {"b-x", "b/"}}, {"next_after", "b/"}}));
}

TEST_F(KvV1Test, BadInputsChangeNothing) {
  ASSERT_TRUE(Do(Operation::kCreate, "keep", Json{{"v", 1}}).has_value());
  auto before = Snapshot(storage_);
  auto empty = Do(Operation::kCreate, "x", Json::object());
  ASSERT_FALSE(empty.has_value());
  EXPECT_EQ(empty.error().code(), Code::kInvalidArgument);
  EXPECT_EQ(empty.error().message(), "missing data fields");
  auto array = Do(Operation::kCreate, "x", Json::array({1, 2}));
  ASSERT_FALSE(array.has_value());
  EXPECT_EQ(array.error().code(), Code::kInvalidArgument);
  EXPECT_EQ(Do(Operation::kCreate, "", Json{{"v", 1}}).error().message(), "missing path");
  EXPECT_EQ(Do(Operation::kCreate, "a//b", Json{{"v", 1}}).error().code(), Code::kInvalidArgument);
  EXPECT_EQ(Do(Operation::kPatch, "keep", Json{{"v", 2}}).error().code(), Code::kMethodNotAllowed);
  EXPECT_EQ(Snapshot(storage_), before);
}

TEST_F(KvV1Test, ExistenceCheck) {
  EXPECT_FALSE(*engine_->ExistenceCheck(MakeRequest(Operation::kCreate, "e")));
  ASSERT_TRUE(Do(Operation::kCreate, "e", Json{{"v", 1}}).has_value());
  EXPECT_TRUE(*engine_->ExistenceCheck(MakeRequest(Operation::kUpdate, "e")));
}

TEST(KvRegistration, VersionOption) {
  storage::InmemBackend storage;
  FakeClock clock;
  auto v2 = MakeEngine(storage, clock, "kv", Json{{"version", "2"}});
  auto w = v2->HandleRequest(MakeRequest(Operation::kCreate, "data/x", Json{{"data", {{"a", 1}}}}));
  ASSERT_TRUE(w.has_value());
  EXPECT_EQ(w->data["version"], 1);

  auto forced = MakeEngine(storage, clock, "kv-v2", Json{{"version", "1"}});
  EXPECT_EQ(forced->HandleRequest(MakeRequest(Operation::kRead, "data/x"))->data["data"],
            (Json{{"a", 1}}));

  logical::BackendConfig bad{storage, clock, "secret/", "kv", Json{{"version", "3"}}};
  auto e = logical::CreateEngine("kv", bad);
  ASSERT_FALSE(e.has_value());
  EXPECT_EQ(e.error().code(), Code::kInvalidArgument);
}

}  // namespace
}  // namespace coffer::engines::kv::testing
