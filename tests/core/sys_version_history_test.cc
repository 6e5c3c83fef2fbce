// sys/version-history: the versions that unsealed the store, oldest first.
#include <gtest/gtest.h>

#include <regex>

#include "core/core_fixture.h"
#include "core/system_backend.h"

namespace coffer::core {
namespace {

using logical::Json;
using logical::Operation;

class VersionHistoryTest : public CoreFixture {};

// The version fields clients gate on carry the Vault API Coffer serves, in
// a form a semver parser (Go's hashicorp/go-version, which Nomad and
// Terraform use) reads, with Coffer's own version as build metadata.
TEST_F(VersionHistoryTest, StatusAnswersReportTheVaultApiVersion) {
  const std::string reported(ReportedVersion());
  EXPECT_EQ(reported, "1.15.0+coffer." + std::string(CofferVersion()));
  std::smatch m;
  ASSERT_TRUE(std::regex_match(
      reported, m, std::regex(R"(^(\d+)\.(\d+)\.(\d+)\+[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*$)")))
      << reported;
  // Nomad's constraint for a job with a vault block: >= 0.6.1.
  const int major = std::stoi(m[1]), minor = std::stoi(m[2]);
  EXPECT_TRUE(major > 0 || (major == 0 && minor >= 7)) << reported;
  for (const char* path : {"sys/seal-status", "sys/health"}) {
    logical::Response r = Call(Operation::kRead, path, Json::object(), "");
    ASSERT_EQ(r.http_status, 200) << path;
    const Json& body = r.raw.has_value() ? *r.raw : r.data;
    EXPECT_EQ(body.value("version", ""), reported) << path << ": " << body.dump();
  }
  logical::Response ha = Call(Operation::kRead, "sys/ha-status");
  ASSERT_EQ(ha.http_status, 200);
  EXPECT_EQ(ha.raw->at("nodes")[0].at("version"), reported);
}

TEST_F(VersionHistoryTest, RecordsTheRunningVersionOnceAndKeepsOlderOnes) {
  const std::string running(CofferVersion());
  logical::Response first = Call(Operation::kList, "sys/version-history");
  ASSERT_EQ(first.http_status, 200) << first.data.dump();
  EXPECT_EQ(first.data["keys"], Json::array({running}));
  const Json& info = first.data["key_info"][running];
  EXPECT_EQ(info["timestamp_installed"], FormatRfc3339(clock_.Wall()));
  EXPECT_TRUE(info["previous_version"].is_null());

  // An upgrade from an older version, then a restart (seal and unseal)
  // later: the running version keeps its first timestamp.
  ASSERT_TRUE(
      core_->barrier()
          .Put("core/versions/0.0.9",
               R"({"version":"0.0.9","timestamp_installed":"2025-06-01T00:00:00.000000000Z",)"
               R"("build_date":""})")
          .ok());
  const std::string installed = info["timestamp_installed"];
  clock_.Advance(std::chrono::hours(24));
  ASSERT_TRUE(core_->Seal().ok());
  auto unsealed = core_->Unseal(key_);
  ASSERT_TRUE(unsealed.has_value()) << unsealed.error().ToString();
  logical::Response after = Call(Operation::kRead, "sys/version-history");
  ASSERT_EQ(after.http_status, 200) << after.data.dump();
  EXPECT_EQ(after.data["keys"], Json::array({"0.0.9", running}));
  EXPECT_EQ(after.data["key_info"][running]["previous_version"], "0.0.9");
  EXPECT_EQ(after.data["key_info"][running]["timestamp_installed"], installed);
  EXPECT_TRUE(after.data["key_info"]["0.0.9"]["previous_version"].is_null());
  EXPECT_EQ(Call(Operation::kUpdate, "sys/version-history").http_status, 405);
}

}  // namespace
}  // namespace coffer::core
