// The dispatcher (cli.cc): how flags are parsed for every command, as Vault's
// Go flag package parses them.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "cli/cli_test_util.h"

namespace coffer::cli {
namespace {

using cli_testing::FakeServer;
using cli_testing::kSecretV2;
using cli_testing::Outcome;
using cli_testing::Routes;
using cli_testing::RunCli;
using ::testing::HasSubstr;
using json = nlohmann::json;

std::map<std::string, std::string> Vars(const FakeServer& s) {
  return {{"COFFER_ADDR", s.address()}, {"COFFER_TOKEN", "s.tok"}};
}

// The body of the last request, parsed.
json LastBody(const FakeServer& s) { return json::parse(s.requests().back().body); }

TEST(BoolFlagTest, BareFlagIsTrueAndTakesNoValue) {
  FakeServer server(Routes({{"GET /v1/sys/internal/ui/mounts/secret", {200, kSecretV2}},
                            {"POST /v1/secret/metadata/app", {204, ""}},
                            {"POST /v1/auth/token/create", {200, R"({"auth":{}})"}}}));
  Outcome bare =
      RunCli({"kv", "metadata", "put", "-mount=secret", "-cas-required", "app"}, Vars(server));
  EXPECT_EQ(bare.code, 0) << bare.err;
  EXPECT_EQ(LastBody(server), json::parse(R"({"cas_required":true})"));
  Outcome off = RunCli({"kv", "metadata", "put", "-mount=secret", "-cas-required=false", "app"},
                       Vars(server));
  EXPECT_EQ(off.code, 0) << off.err;
  EXPECT_EQ(LastBody(server), json::parse(R"({"cas_required":false})"));
  Outcome none = RunCli({"kv", "metadata", "put", "-mount=secret", "app"}, Vars(server));
  EXPECT_EQ(none.code, 0) << none.err;
  EXPECT_EQ(LastBody(server), json::object());

  Outcome renewable = RunCli({"token", "create", "-renewable", "-ttl=1h"}, Vars(server));
  EXPECT_EQ(renewable.code, 0) << renewable.err;
  EXPECT_EQ(LastBody(server), json::parse(R"({"renewable":true,"ttl":"1h"})"));
  Outcome not_renewable = RunCli({"token", "create", "-renewable=f", "-ttl=1h"}, Vars(server));
  EXPECT_EQ(not_renewable.code, 0) << not_renewable.err;
  EXPECT_EQ(LastBody(server), json::parse(R"({"renewable":false,"ttl":"1h"})"));
  Outcome orphan_off = RunCli({"token", "create", "-orphan=false"}, Vars(server));
  EXPECT_EQ(orphan_off.code, 0) << orphan_off.err;
  EXPECT_EQ(server.requests().back().target, "/v1/auth/token/create");

  Outcome bad = RunCli({"token", "create", "-renewable=maybe"}, Vars(server));
  EXPECT_EQ(bad.code, 1);
}

}  // namespace
}  // namespace coffer::cli
