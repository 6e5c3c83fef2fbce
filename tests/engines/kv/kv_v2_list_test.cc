// KV v2: LIST metadata/, and Coffer's recursive, paginated listing.

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
      auto r = Do(Operation::kList, "metadata/" + folder, Json::object(), q);
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
  auto r = Do(Operation::kList, "metadata/", Json::object(), {{"recursive", "true"}});
  ASSERT_TRUE(r.has_value());
  std::vector<std::string> sorted = keys;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(r->data["keys"].get<std::vector<std::string>>(), sorted);
  EXPECT_FALSE(r->data.contains("next_after"));

  auto sub = Do(Operation::kList, "metadata/a", Json::object(), {{"recursive", "1"}});
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
  auto from = Do(Operation::kList, "metadata/", Json::object(),
                 {{"recursive", "true"}, {"after", "team3/svc4/c"}, {"limit", "2"}});
  ASSERT_TRUE(from.has_value());
  EXPECT_EQ(from->data["keys"], (Json{"team3/svc4/cred", "team3/svc5/cred"}));
  EXPECT_EQ(from->data["next_after"], "team3/svc5/cred");

  auto past_end =
      Do(Operation::kList, "metadata/", Json::object(), {{"recursive", "true"}, {"after", "zzz"}});
  EXPECT_EQ(past_end->http_status, 404);

  EXPECT_EQ(
      Do(Operation::kList, "metadata/", Json::object(), {{"recursive", "true"}, {"limit", "0"}})
          .error()
          .code(),
      Code::kInvalidArgument);
  EXPECT_EQ(
      Do(Operation::kList, "metadata/", Json::object(), {{"recursive", "sure"}}).error().code(),
      Code::kInvalidArgument);
  auto clamped = Do(Operation::kList, "metadata/", Json::object(),
                    {{"recursive", "true"}, {"limit", "20000"}});
  ASSERT_TRUE(clamped.has_value());
  EXPECT_EQ(clamped->data["keys"].size(), keys.size());
  EXPECT_TRUE(clamped->warnings.is_array());
}

TEST_F(KvV2ListTest, DefaultLimitIsAThousand) {
  std::vector<std::string> keys;
  for (int i = 0; i < 1005; ++i) keys.push_back("k/" + std::to_string(10000 + i));
  Create(keys);
  auto r = Do(Operation::kList, "metadata/", Json::object(), {{"recursive", "true"}});
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->data["keys"].size(), 1000u);
  EXPECT_EQ(r->data["next_after"], "k/10999");
}

}  // namespace
}  // namespace coffer::engines::kv::testing
