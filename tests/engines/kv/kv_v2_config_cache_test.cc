// KV v2 caches the mount config in memory; a data write compares the
// config's storage revision in its Transact, so a config changed by another
// engine instance on the same storage (another node) is never ignored.

#include <gtest/gtest.h>

#include "kv_test_util.h"

namespace coffer::engines::kv::testing {
namespace {

class KvV2ConfigCacheTest : public ::testing::Test {
 protected:
  static Result<Response> Write(logical::Backend& engine, const std::string& key, Json data) {
    return engine.HandleRequest(
        MakeRequest(Operation::kUpdate, "data/" + key, Json{{"data", std::move(data)}}));
  }
  static Result<Response> SetConfig(logical::Backend& engine, Json config) {
    return engine.HandleRequest(MakeRequest(Operation::kUpdate, "config", std::move(config)));
  }

  storage::InmemBackend storage_;
  FakeClock clock_;
  // Two instances of the same mount over one store, as two nodes would be.
  std::unique_ptr<logical::Backend> node_a_ = MakeEngine(storage_, clock_, "kv-v2");
  std::unique_ptr<logical::Backend> node_b_ = MakeEngine(storage_, clock_, "kv-v2");
};

TEST_F(KvV2ConfigCacheTest, ConfigChangedByAnotherInstanceIsEnforced) {
  ASSERT_TRUE(Write(*node_a_, "k", Json{{"v", "1"}}).has_value());  // node A caches the config
  ASSERT_TRUE(SetConfig(*node_b_, Json{{"cas_required", true}}).has_value());

  auto refused = Write(*node_a_, "k", Json{{"v", "2"}});
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code(), Code::kInvalidArgument);
  EXPECT_NE(refused.error().message().find("check-and-set parameter required"), std::string::npos);

  ASSERT_TRUE(SetConfig(*node_b_, Json{{"cas_required", false}}).has_value());
  auto accepted = Write(*node_a_, "k", Json{{"v", "3"}});
  ASSERT_TRUE(accepted.has_value()) << accepted.error().ToString();
  EXPECT_EQ(accepted->data["version"], 2);
}

TEST_F(KvV2ConfigCacheTest, MaxVersionsChangedByAnotherInstanceIsApplied) {
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(Write(*node_a_, "k", Json{{"v", i}}).has_value());
  ASSERT_TRUE(SetConfig(*node_b_, Json{{"max_versions", 2}}).has_value());
  ASSERT_TRUE(Write(*node_a_, "k", Json{{"v", 3}}).has_value());

  auto meta = node_a_->HandleRequest(MakeRequest(Operation::kRead, "metadata/k"));
  ASSERT_TRUE(meta.has_value()) << meta.error().ToString();
  EXPECT_EQ(meta->data["versions"].size(), 2u) << meta->data.dump();
  EXPECT_EQ(meta->data["oldest_version"], 3);
}

TEST_F(KvV2ConfigCacheTest, OwnConfigWriteIsSeenAtOnce) {
  ASSERT_TRUE(Write(*node_a_, "k", Json{{"v", "1"}}).has_value());
  ASSERT_TRUE(SetConfig(*node_a_, Json{{"cas_required", true}}).has_value());
  EXPECT_FALSE(Write(*node_a_, "k", Json{{"v", "2"}}).has_value());
  auto with_cas = node_a_->HandleRequest(MakeRequest(
      Operation::kUpdate, "data/k", Json{{"data", {{"v", "2"}}}, {"options", {{"cas", 1}}}}));
  EXPECT_TRUE(with_cas.has_value());
}

}  // namespace
}  // namespace coffer::engines::kv::testing
