// KV v2: LIST metadata/ (with OpenBao's pagination), SCAN (the recursive list,
// also reached as Coffer's LIST ?recursive=true) and detailed-metadata/.

#include <gtest/gtest.h>

#include <algorithm>

#include "kv_test_util.h"

namespace coffer::engines::kv::testing {
namespace {

class KvV2ListTest : public ::testing::Test {
 protected:
  Result<Response> Do(Operation op, std::string path, Json body = Json::object(),
                      Query query = {}) {
    return engine_->HandleRequest(
        MakeRequest(op, std::move(path), std::move(body), std::move(query)));
  }
  void Create(const std::vector<std::string>& keys) {
    for (const auto& k : keys) {
      auto r = Do(Operation::kUpdate, "data/" + k, Json{{"data", {{"k", k}}}});
      ASSERT_TRUE(r.has_value()) << k << ": " << r.error().ToString();
    }
  }
  // Pages through the recursive listing; returns every key seen.
  std::vector<std::string> WalkAll(const std::string& folder, int limit, int* pages) {
    std::vector<std::string> all;
    std::string after;
    *pages = 0;
    for (;;) {
      Query q{{"recursive", "true"}, {"limit", std::to_string(limit)}};
      if (!after.empty()) q["after"] = after;
      auto r = Do(Operation::kScan, "metadata/" + folder, Json::object(), q);
      EXPECT_TRUE(r.has_value());
      if (!r.has_value() || r->http_status == 404) break;
      ++*pages;
      auto keys = r->data["keys"].get<std::vector<std::string>>();
      EXPECT_LE(keys.size(), static_cast<std::size_t>(limit));
      all.insert(all.end(), keys.begin(), keys.end());
      if (!r->data.contains("next_after")) break;
      EXPECT_EQ(r->data["next_after"], keys.back());
      after = keys.back();
      if (*pages > 1000) break;
    }
    return all;
  }

  storage::InmemBackend storage_;
  FakeClock clock_;
  std::unique_ptr<logical::Backend> engine_ = MakeEngine(storage_, clock_, "kv-v2");
};

TEST_F(KvV2ListTest, OneLevel) {
  Create({"a", "b/c", "b/d/e", "bb"});
  auto root = Do(Operation::kList, "metadata/");
  ASSERT_TRUE(root.has_value());
  EXPECT_EQ(root->data, (Json{{"keys", {"a", "b/", "bb"}}}));
  EXPECT_EQ(Do(Operation::kList, "metadata/b/")->data, (Json{{"keys", {"c", "d/"}}}));
  EXPECT_EQ(Do(Operation::kList, "metadata/b")->data, (Json{{"keys", {"c", "d/"}}}));
  EXPECT_EQ(Do(Operation::kList, "metadata/zzz/")->http_status, 404);
  // Keys stay listed while their versions are deleted, until metadata goes.
  ASSERT_TRUE(Do(Operation::kDelete, "data/a").has_value());
  EXPECT_EQ(Do(Operation::kList, "metadata/")->data["keys"][0], "a");
  ASSERT_TRUE(Do(Operation::kDelete, "metadata/a").has_value());
  EXPECT_EQ(Do(Operation::kList, "metadata/")->data, (Json{{"keys", {"b/", "bb"}}}));
}

TEST_F(KvV2ListTest, RecursiveIsSortedAndComplete) {
  // Names chosen so that '-' (0x2d) sorts before '/' (0x2f).
  std::vector<std::string> keys = {"a",     "a-b",   "a/x",   "a/y/z", "a/y-", "b",
                                   "c/d/e", "c/d/f", "c/d-e", "c0",    "a/y/0"};
  Create(keys);
  auto r = Do(Operation::kScan, "metadata/", Json::object(), {{"recursive", "true"}});
  ASSERT_TRUE(r.has_value());
  std::vector<std::string> sorted = keys;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(r->data["keys"].get<std::vector<std::string>>(), sorted);
  EXPECT_FALSE(r->data.contains("next_after"));

  auto sub = Do(Operation::kScan, "metadata/a", Json::object(), {{"recursive", "1"}});
  EXPECT_EQ(sub->data["keys"].get<std::vector<std::string>>(),
            (std::vector<std::string>{"x", "y-", "y/0", "y/z"}));
}

TEST_F(KvV2ListTest, RecursivePagination) {
  std::vector<std::string> keys;
  for (int i = 0; i < 7; ++i) {
    for (int j = 0; j < 6; ++j) {
      keys.push_back("team" + std::to_string(i) + "/svc" + std::to_string(j) + "/cred");
      if (j % 2 == 0) keys.push_back("team" + std::to_string(i) + "/svc" + std::to_string(j));
    }
    keys.push_back("team" + std::to_string(i));
  }
  Create(keys);
  std::sort(keys.begin(), keys.end());

  for (int limit : {1, 7, 10, 1000}) {
    int pages = 0;
    auto all = WalkAll("", limit, &pages);
    EXPECT_EQ(all, keys) << "limit " << limit;
    EXPECT_EQ(pages, static_cast<int>((keys.size() + limit - 1) / limit)) << "limit " << limit;
  }

  // after may name a key that does not exist.
  auto from = Do(Operation::kScan, "metadata/", Json::object(),
                 {{"after", "team3/svc4/c"}, {"limit", "2"}});
  ASSERT_TRUE(from.has_value());
  EXPECT_EQ(from->data["keys"], (Json{"team3/svc4/cred", "team3/svc5/cred"}));
  EXPECT_EQ(from->data["next_after"], "team3/svc5/cred");

  auto past_end = Do(Operation::kScan, "metadata/", Json::object(), {{"after", "zzz"}});
  EXPECT_EQ(past_end->http_status, 404);

  EXPECT_EQ(Do(Operation::kScan, "metadata/", Json::object(), {{"limit", "-1"}}).error().code(),
            Code::kInvalidArgument);
  // 0 is every key, as in OpenBao (also for the older recursive form).
  EXPECT_EQ(Do(Operation::kScan, "metadata/", Json::object(), {{"limit", "0"}})->data["keys"],
            Json(keys));
  EXPECT_EQ(
      Do(Operation::kScan, "metadata/", Json::object(), {{"recursive", "true"}, {"limit", "0"}})
          ->data["keys"]
          .size(),
      keys.size());
  EXPECT_EQ(
      Do(Operation::kScan, "metadata/", Json::object(), {{"recursive", "sure"}}).error().code(),
      Code::kInvalidArgument);
  // A list is never recursive: the HTTP layer makes LIST ?recursive=true a scan.
  EXPECT_EQ(
      Do(Operation::kList, "metadata/", Json::object(), {{"recursive", "true"}}).error().code(),
      Code::kInvalidArgument);
  auto clamped = Do(Operation::kScan, "metadata/", Json::object(), {{"limit", "20000"}});
  ASSERT_TRUE(clamped.has_value());
  EXPECT_EQ(clamped->data["keys"].size(), keys.size());
  EXPECT_TRUE(clamped->warnings.is_array());
}

TEST_F(KvV2ListTest, RecursiveListPagesByAThousandAndScanReturnsAll) {
  std::vector<std::string> keys;
  for (int i = 0; i < 1005; ++i) keys.push_back("k/" + std::to_string(10000 + i));
  Create(keys);
  auto r = Do(Operation::kScan, "metadata/", Json::object(), {{"recursive", "true"}});
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->data["keys"].size(), 1000u);
  EXPECT_EQ(r->data["next_after"], "k/10999");
  // OpenBao's SCAN: every key, no cursor.
  auto all = Do(Operation::kScan, "metadata/");
  ASSERT_TRUE(all.has_value());
  EXPECT_EQ(all->data["keys"].get<std::vector<std::string>>(), keys);
  EXPECT_FALSE(all->data.contains("next_after"));
}

TEST_F(KvV2ListTest, OneLevelPagination) {
  Create({"a", "b/c", "b/d/e", "bb", "c"});
  auto first = Do(Operation::kList, "metadata/", Json::object(), {{"limit", "2"}});
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->data, (Json{{"keys", {"a", "b/"}}, {"next_after", "b/"}}));
  auto second =
      Do(Operation::kList, "metadata/", Json::object(), {{"after", "b/"}, {"limit", "2"}});
  EXPECT_EQ(second->data, (Json{{"keys", {"bb", "c"}}}));
  // after need not exist; limit 0 (or none) means all, as in OpenBao.
  EXPECT_EQ(
      Do(Operation::kList, "metadata/", Json::object(), {{"after", "b0"}, {"limit", "0"}})->data,
      (Json{{"keys", {"bb", "c"}}}));
  EXPECT_EQ(Do(Operation::kList, "metadata/", Json::object(), {{"after", "c"}})->http_status, 404);
  EXPECT_EQ(Do(Operation::kList, "metadata/", Json::object(), {{"limit", "many"}}).error().code(),
            Code::kInvalidArgument);
}

TEST_F(KvV2ListTest, DetailedMetadataCarriesEachKeysMetadata) {
  Create({"app/db", "app/queue/1", "other"});
  ASSERT_TRUE(Do(Operation::kUpdate, "data/app/db", Json{{"data", {{"k", "v2"}}}}).has_value());
  ASSERT_TRUE(Do(Operation::kUpdate, "metadata/app/db",
                 Json{{"custom_metadata", {{"owner", "team-a"}}}, {"max_versions", 3}})
                  .has_value());

  auto list = Do(Operation::kList, "detailed-metadata/app");
  ASSERT_TRUE(list.has_value());
  EXPECT_EQ(list->data["keys"], (Json{"db", "queue/"}));
  const Json& db = list->data["key_info"]["db"];
  // The same body as a metadata read of the key.
  EXPECT_EQ(db, Do(Operation::kRead, "metadata/app/db")->data);
  EXPECT_EQ(db["current_version"], 2);
  EXPECT_EQ(db["custom_metadata"]["owner"], "team-a");
  EXPECT_EQ(list->data["key_info"]["queue/"], Json::object());

  auto scan = Do(Operation::kScan, "detailed-metadata/");
  ASSERT_TRUE(scan.has_value());
  EXPECT_EQ(scan->data["keys"], (Json{"app/db", "app/queue/1", "other"}));
  EXPECT_EQ(scan->data["key_info"].size(), 3u);
  EXPECT_EQ(scan->data["key_info"]["app/queue/1"]["current_version"], 1);

  // Only LIST and SCAN; nothing to list answers 404.
  EXPECT_EQ(Do(Operation::kRead, "detailed-metadata/app/db").error().code(),
            Code::kMethodNotAllowed);
  EXPECT_EQ(
      Do(Operation::kUpdate, "detailed-metadata/app/db", Json{{"max_versions", 1}}).error().code(),
      Code::kMethodNotAllowed);
  EXPECT_EQ(Do(Operation::kList, "detailed-metadata/none")->http_status, 404);
}

TEST_F(KvV2ListTest, ScanOnlyListsMetadata) {
  Create({"a/b"});
  EXPECT_EQ(Do(Operation::kScan, "data/a").error().code(), Code::kMethodNotAllowed);
  EXPECT_EQ(Do(Operation::kScan, "subkeys/a").error().code(), Code::kMethodNotAllowed);
  EXPECT_EQ(Do(Operation::kScan, "rotation/a").error().code(), Code::kMethodNotAllowed);
  EXPECT_EQ(Do(Operation::kScan, "config").error().code(), Code::kMethodNotAllowed);
}

}  // namespace
}  // namespace coffer::engines::kv::testing
