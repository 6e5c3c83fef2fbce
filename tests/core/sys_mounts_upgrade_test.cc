// sys/mounts/<path>/tune of options.version on a KV mount (sys_mounts.cc):
// 1 → 2 upgrades the mount in place (Vault's kv enable-versioning); a
// downgrade or an unknown version is refused and changes nothing.

#include <gtest/gtest.h>

#include <chrono>

#include "core_fixture.h"
#include "engines/kv/upgrade.h"

namespace coffer::core {
namespace {

using logical::Json;
using logical::Operation;

class SysMountsUpgradeTest : public CoreFixture {
 protected:
  // sys/mounts answers in Vault's legacy shape (the table at the top level
  // and under "data"); errors are {"errors": [...]}.
  static Json Body(const logical::Response& r) { return r.raw ? (*r.raw)["data"] : r.data; }
  static std::string Error(const logical::Response& r) { return r.raw ? r.raw->dump() : ""; }

  Json MountOptions(const std::string& path) {
    return Body(Call(Operation::kRead, "sys/mounts"))[path]["options"];
  }

  void WriteV1Secrets(const std::string& mount) {
    for (const auto& [key, data] : Secrets()) {
      ASSERT_EQ(Call(Operation::kCreate, mount + "/" + key, data).http_status, 204) << key;
    }
  }

  void ExpectV2Secrets(const std::string& mount) {
    for (const auto& [key, data] : Secrets()) {
      SCOPED_TRACE(key);
      auto r = Call(Operation::kRead, mount + "/data/" + key);
      ASSERT_EQ(r.http_status, 200) << r.data.dump();
      EXPECT_EQ(r.data["data"], data);
      EXPECT_EQ(r.data["metadata"]["version"], 1);
      auto m = Call(Operation::kRead, mount + "/metadata/" + key);
      ASSERT_EQ(m.http_status, 200);
      EXPECT_EQ(m.data["current_version"], 1);
    }
    auto list = Call(Operation::kList, mount + "/metadata/");
    ASSERT_EQ(list.http_status, 200);
    EXPECT_EQ(list.data["keys"], (Json{"a/", "app"}));
    list = Call(Operation::kList, mount + "/metadata/a/b/");
    EXPECT_EQ(list.data["keys"], (Json{"c"}));
  }

  static const std::map<std::string, Json>& Secrets() {
    static const auto* secrets = new std::map<std::string, Json>{
        {"app", Json{{"user", "alice"}}},
        {"a/b", Json{{"level", "2"}}},
        {"a/b/c", Json{{"level", "3"}}},
    };
    return *secrets;
  }
};

TEST_F(SysMountsUpgradeTest, TuningVersionTwoUpgradesAV1Mount) {
  ASSERT_EQ(Call(Operation::kUpdate, "sys/mounts/kv1", {{"type", "kv"}}).http_status, 204);
  ASSERT_EQ(Call(Operation::kUpdate, "sys/mounts/other", {{"type", "kv"}}).http_status, 204);
  WriteV1Secrets("kv1");
  ASSERT_EQ(Call(Operation::kCreate, "other/x", {{"k", "v"}}).http_status, 204);

  auto tune = Call(Operation::kUpdate, "sys/mounts/kv1/tune",
                   {{"description", "versioned now"}, {"options", {{"version", "2"}}}});
  ASSERT_EQ(tune.http_status, 200) << tune.data.dump();  // with a warning, as Vault
  ASSERT_TRUE(tune.warnings.is_array());
  EXPECT_NE(tune.warnings[0].get<std::string>().find("from version 1 to version 2"),
            std::string::npos);
  EXPECT_EQ(MountOptions("kv1/"), (Json{{"version", "2"}}));
  EXPECT_EQ(Body(Call(Operation::kRead, "sys/mounts"))["kv1/"]["description"], "versioned now");
  EXPECT_EQ(Body(Call(Operation::kRead, "sys/internal/ui/mounts/kv1"))["options"]["version"], "2");
  ExpectV2Secrets("kv1");
  EXPECT_NE(Call(Operation::kRead, "kv1/app").http_status, 200);

  // The other mount is untouched.
  EXPECT_TRUE(MountOptions("other/").is_null());
  EXPECT_EQ(Body(Call(Operation::kRead, "other/x")), (Json{{"k", "v"}}));

  // Seal and unseal: the mount loads as version 2 with the same secrets.
  ASSERT_TRUE(core_->Seal().ok());
  ASSERT_TRUE(core_->Unseal(key_).has_value());
  ExpectV2Secrets("kv1");
}

// A mount whose table says version 2 with the upgrade marker still in its
// storage (the process died after the tune committed, before converting):
// the next load converts before the mount serves.
TEST_F(SysMountsUpgradeTest, APendingUpgradeFinishesWhenTheMountLoads) {
  ASSERT_EQ(Call(Operation::kUpdate, "sys/mounts/kv1", {{"type", "kv"}}).http_status, 204);
  WriteV1Secrets("kv1");
  std::shared_ptr<storage::Backend> view;
  for (const auto& m : core_->router().snapshot()->mounts) {
    if (m->entry.path == "kv1/") view = m->view;
  }
  ASSERT_NE(view, nullptr);
  const storage::Op marker = engines::kv::UpgradeMarkerOp();
  ASSERT_TRUE(view->Put(marker.key, marker.value).ok());
  ASSERT_TRUE(core_->router().Tune("kv1/", Json::object(), std::nullopt, {{"version", "2"}}).ok());

  ASSERT_TRUE(core_->Seal().ok());
  ASSERT_TRUE(core_->Unseal(key_).has_value());
  ExpectV2Secrets("kv1");
  auto pending = view->Get(engines::kv::kUpgradeMarkerKey);
  ASSERT_TRUE(pending.has_value());
  EXPECT_FALSE(pending->has_value());
}

// A v1 record that cannot be converted (corrupt: not JSON) stops only its
// own mount: the tune answers 503, that mount refuses requests, and at the
// next unseal every other mount loads and serves. Once the record is gone,
// the next load finishes the conversion.
TEST_F(SysMountsUpgradeTest, AnUpgradeThatCannotFinishStopsOnlyItsMount) {
  ASSERT_EQ(Call(Operation::kUpdate, "sys/mounts/kv1", {{"type", "kv"}}).http_status, 204);
  ASSERT_EQ(Call(Operation::kUpdate, "sys/mounts/other", {{"type", "kv"}}).http_status, 204);
  WriteV1Secrets("kv1");
  ASSERT_EQ(Call(Operation::kCreate, "other/x", {{"k", "v"}}).http_status, 204);
  std::shared_ptr<storage::Backend> view;
  for (const auto& m : core_->router().snapshot()->mounts) {
    if (m->entry.path == "kv1/") view = m->view;
  }
  ASSERT_NE(view, nullptr);
  ASSERT_TRUE(view->Put("broken", "canary-not-json-41c7").ok());

  auto tune = Call(Operation::kUpdate, "sys/mounts/kv1/tune", {{"options", {{"version", "2"}}}});
  EXPECT_EQ(tune.http_status, 503) << Error(tune);
  EXPECT_EQ(Error(tune).find("canary"), std::string::npos);
  EXPECT_EQ(Call(Operation::kRead, "kv1/data/app").http_status, 503);
  EXPECT_EQ(Call(Operation::kCreate, "kv1/data/new", {{"data", {{"k", "v"}}}}).http_status, 503);

  ASSERT_TRUE(core_->Seal().ok());
  ASSERT_TRUE(core_->Unseal(key_).has_value());
  EXPECT_EQ(Body(Call(Operation::kRead, "other/x")), (Json{{"k", "v"}}));
  auto refused = Call(Operation::kRead, "kv1/data/app");
  EXPECT_EQ(refused.http_status, 503);
  EXPECT_NE(Error(refused).find("did not finish"), std::string::npos) << Error(refused);

  ASSERT_TRUE(view->Delete("broken").ok());
  ASSERT_TRUE(core_->Seal().ok());
  ASSERT_TRUE(core_->Unseal(key_).has_value());
  ExpectV2Secrets("kv1");
}

TEST_F(SysMountsUpgradeTest, DowngradeIsRefusedAndChangesNothing) {
  ASSERT_EQ(Call(Operation::kUpdate, "sys/mounts/kv2", {{"type", "kv-v2"}}).http_status, 204);
  ASSERT_EQ(Call(Operation::kUpdate, "kv2/data/app", {{"data", {{"k", "v"}}}}).http_status, 200);
  auto r = Call(Operation::kUpdate, "sys/mounts/kv2/tune",
                {{"description", "ignored"}, {"options", {{"version", "1"}}}});
  EXPECT_EQ(r.http_status, 400);
  EXPECT_NE(Error(r).find("downgrade"), std::string::npos) << Error(r);
  EXPECT_EQ(MountOptions("kv2/"), (Json{{"version", "2"}}));
  EXPECT_EQ(Body(Call(Operation::kRead, "sys/mounts"))["kv2/"]["description"], "");
  EXPECT_EQ(Body(Call(Operation::kRead, "kv2/data/app"))["data"], (Json{{"k", "v"}}));
}

TEST_F(SysMountsUpgradeTest, TheSameVersionIsNoChange) {
  ASSERT_EQ(Call(Operation::kUpdate, "sys/mounts/kv1", {{"type", "kv"}}).http_status, 204);
  ASSERT_EQ(Call(Operation::kCreate, "kv1/app", {{"k", "v"}}).http_status, 204);
  EXPECT_EQ(Call(Operation::kUpdate, "sys/mounts/kv1/tune", {{"options", {{"version", "1"}}}})
                .http_status,
            204);
  EXPECT_EQ(Body(Call(Operation::kRead, "kv1/app")), (Json{{"k", "v"}}));

  // Once upgraded, tuning version 2 again converts nothing a second time:
  // a secret written since keeps its versions, the converted one its time.
  ASSERT_EQ(Call(Operation::kUpdate, "sys/mounts/kv1/tune", {{"options", {{"version", "2"}}}})
                .http_status,
            200);  // the upgrade, with its warning
  const Json converted = Body(Call(Operation::kRead, "kv1/metadata/app"));
  clock_.Advance(std::chrono::hours(1));
  ASSERT_EQ(Call(Operation::kUpdate, "kv1/data/new", {{"data", {{"k", "1"}}}}).http_status, 200);
  ASSERT_EQ(Call(Operation::kUpdate, "kv1/data/new", {{"data", {{"k", "2"}}}}).http_status, 200);
  EXPECT_EQ(
      Call(Operation::kUpdate, "sys/mounts/kv1/tune", {{"options", {{"version", 2}}}}).http_status,
      204);
  EXPECT_EQ(Body(Call(Operation::kRead, "kv1/metadata/app")), converted);
  EXPECT_EQ(Body(Call(Operation::kRead, "kv1/data/new"))["metadata"]["version"], 2);
  EXPECT_EQ(Body(Call(Operation::kRead, "kv1/data/app"))["data"], (Json{{"k", "v"}}));
}

TEST_F(SysMountsUpgradeTest, AnUnknownVersionIsRefusedAndChangesNothing) {
  ASSERT_EQ(Call(Operation::kUpdate, "sys/mounts/kv1", {{"type", "kv"}}).http_status, 204);
  ASSERT_EQ(Call(Operation::kCreate, "kv1/app", {{"k", "v"}}).http_status, 204);
  for (Json version : {Json("3"), Json("x"), Json(""), Json(0)}) {
    SCOPED_TRACE(version.dump());
    auto r = Call(Operation::kUpdate, "sys/mounts/kv1/tune", {{"options", {{"version", version}}}});
    EXPECT_EQ(r.http_status, 400);
    EXPECT_NE(Error(r).find("invalid KV version"), std::string::npos) << Error(r);
    EXPECT_TRUE(MountOptions("kv1/").is_null());
    EXPECT_EQ(Body(Call(Operation::kRead, "kv1/app")), (Json{{"k", "v"}}));
  }
  // Auth methods have no version to change.
  ASSERT_EQ(Call(Operation::kUpdate, "sys/auth/userpass", {{"type", "userpass"}}).http_status, 204);
  EXPECT_EQ(Call(Operation::kUpdate, "sys/auth/userpass/tune", {{"options", {{"version", "2"}}}})
                .http_status,
            400);
}

}  // namespace
}  // namespace coffer::core
