// Path help (`?help=1`, the HELP method): rendering and route matching
// (logical/help.h), and the core's handling: any valid token, no capability
// needed, nothing run on the path, 404 for an unknown mount, 503 sealed.

#include "logical/help.h"

#include <gtest/gtest.h>

#include "core_fixture.h"
#include "http/request_builder.h"

namespace coffer::core {
namespace {

using logical::Json;
using logical::Operation;

std::string HelpText(const logical::Response& r) {
  if (!r.raw || !r.raw->contains("help")) return "";
  return r.raw->at("help").get<std::string>();
}

TEST(RouteHelpTest, MatchesSegmentsAndRests) {
  EXPECT_TRUE(logical::MatchesRoute("keys/{name}", "keys/a"));
  EXPECT_TRUE(logical::MatchesRoute("keys/{name}", "keys/a/"));  // a trailing '/'
  EXPECT_FALSE(logical::MatchesRoute("keys/{name}", "keys/a/rotate"));
  EXPECT_FALSE(logical::MatchesRoute("keys/{name}", "keys/"));
  EXPECT_TRUE(logical::MatchesRoute("keys/{name}/rotate", "keys/a/rotate"));
  EXPECT_FALSE(logical::MatchesRoute("keys/{name}/rotate", "keys/a/config"));
  EXPECT_TRUE(logical::MatchesRoute("data/{path+}", "data/a/b/c"));
  EXPECT_FALSE(logical::MatchesRoute("data/{path+}", "data/"));
  EXPECT_TRUE(logical::MatchesRoute("metadata/{path*}", "metadata/"));
  EXPECT_TRUE(logical::MatchesRoute("metadata/{path*}", "metadata"));
  EXPECT_TRUE(logical::MatchesRoute("mounts/{path+}/tune", "mounts/a/b/tune"));
  EXPECT_FALSE(logical::MatchesRoute("mounts/{path+}/tune", "mounts/a"));
  EXPECT_FALSE(logical::MatchesRoute("mounts/{path+}/tune", "mounts/tune"));
  EXPECT_FALSE(logical::MatchesRoute("config", "configs"));
  EXPECT_FALSE(logical::MatchesRoute("config", "conf"));
}

TEST(RouteHelpTest, ShowsRoutesAsVaultWritesThem) {
  EXPECT_EQ(logical::RouteRegex("data/{path+}"), "^data/(?P<path>.+)$");
  EXPECT_EQ(logical::RouteRegex("metadata/{path*}"), "^metadata/(?P<path>.*)$");
  EXPECT_EQ(logical::RouteRegex("keys/{name}/rotate"), "^keys/(?P<name>[^/]+)/rotate$");
  EXPECT_EQ(logical::RouteRegex("config"), "^config$");
}

TEST(RouteHelpTest, FirstMatchingRouteWinsAndUnknownPathsAreNotFound) {
  static constexpr logical::RouteHelp kRoutes[] = {
      {"keys/{name}/rotate", "Rotate a key.", "POST rotates."},
      {"keys/{name}", "Manage a key.", ""},
  };
  const logical::EngineHelp help{"An engine for tests.", kRoutes};
  auto rotate = logical::RenderHelp(help, "keys/k/rotate");
  ASSERT_TRUE(rotate.has_value());
  EXPECT_NE(HelpText(*rotate).find("Matching Route: ^keys/(?P<name>[^/]+)/rotate$"),
            std::string::npos);
  EXPECT_NE(HelpText(*rotate).find("## DESCRIPTION\n\nPOST rotates."), std::string::npos);
  auto key = logical::RenderHelp(help, "keys/k");
  ASSERT_TRUE(key.has_value());
  EXPECT_NE(HelpText(*key).find("Manage a key."), std::string::npos);
  EXPECT_EQ(HelpText(*key).find("## DESCRIPTION"), std::string::npos);  // none given

  auto root = logical::RenderHelp(help, "");
  ASSERT_TRUE(root.has_value());
  EXPECT_NE(HelpText(*root).find("An engine for tests."), std::string::npos);
  EXPECT_NE(HelpText(*root).find("    ^keys/(?P<name>[^/]+)$\n        Manage a key."),
            std::string::npos);
  EXPECT_TRUE(root->raw->at("see_also").is_null());

  auto unknown = logical::RenderHelp(help, "nope");
  ASSERT_FALSE(unknown.has_value());
  EXPECT_EQ(unknown.error().code(), Code::kNotFound);
}

TEST(HelpOperationTest, HelpParameterOrHelpMethodSelectHelp) {
  std::map<std::string, std::string> help{{"help", "1"}};
  EXPECT_EQ(http::OperationOf("GET", help), Operation::kHelp);
  EXPECT_EQ(http::OperationOf("POST", help), Operation::kHelp);  // never a write
  EXPECT_EQ(http::OperationOf("DELETE", help), Operation::kHelp);
  EXPECT_EQ(http::OperationOf("HELP", {}), Operation::kHelp);
  EXPECT_EQ(http::OperationOf("GET", {{"help", ""}}), Operation::kRead);
  EXPECT_EQ(http::OperationOf("GET", {}), Operation::kRead);
}

using HelpTest = CoreFixture;

TEST_F(HelpTest, KvV2RoutesAndOverview) {
  auto mount = Call(Operation::kUpdate, "sys/mounts/secret",
                    Json{{"type", "kv"}, {"options", {{"version", "2"}}}});
  ASSERT_EQ(mount.http_status, 204);
  auto data = Call(Operation::kHelp, "secret/data/app");
  ASSERT_EQ(data.http_status, 200);
  EXPECT_NE(HelpText(data).find("Request:        data/app\nMatching Route: ^data/(?P<path>.+)$"),
            std::string::npos)
      << HelpText(data);
  // The mount named without its '/', as `path-help secret` sends it.
  auto overview = Call(Operation::kHelp, "secret");
  ASSERT_EQ(overview.http_status, 200);
  EXPECT_NE(HelpText(overview).find("versioned secrets"), std::string::npos);
  EXPECT_NE(HelpText(overview).find("^subkeys/(?P<path>.+)$"), std::string::npos);
  EXPECT_EQ(Call(Operation::kHelp, "secret/nope/x").http_status, 404);
}

TEST_F(HelpTest, HelpNeverRunsTheOperation) {
  ASSERT_EQ(Call(Operation::kUpdate, "sys/mounts/kv1", Json{{"type", "kv"}}).http_status, 204);
  ASSERT_EQ(Call(Operation::kUpdate, "kv1/app", Json{{"password", "s3cret"}}).http_status, 204);
  auto help = Call(Operation::kHelp, "kv1/app", Json{{"password", "other"}});
  ASSERT_EQ(help.http_status, 200);
  EXPECT_EQ(help.raw->dump().find("s3cret"), std::string::npos);  // the secret is not read
  auto read = Call(Operation::kRead, "kv1/app");
  ASSERT_EQ(read.http_status, 200);
  EXPECT_EQ(read.data.at("password"), "s3cret");  // and not overwritten
}

TEST_F(HelpTest, AnyValidTokenButNoneOther) {
  ASSERT_EQ(Call(Operation::kUpdate, "sys/mounts/kv1", Json{{"type", "kv"}}).http_status, 204);
  // A token whose policy grants nothing on the path may still read its help.
  const std::string denied =
      TokenWith(R"(path "other/*" { capabilities = ["read"] })", /*no_default=*/true);
  EXPECT_EQ(Call(Operation::kRead, "kv1/app", Json::object(), denied).http_status, 403);
  EXPECT_EQ(Call(Operation::kHelp, "kv1/app", Json::object(), denied).http_status, 200);
  EXPECT_EQ(Call(Operation::kHelp, "sys/mounts", Json::object(), denied).http_status, 200);
  // No token, an unknown one, a revoked one: refused.
  EXPECT_EQ(Call(Operation::kHelp, "kv1/app", Json::object(), "").http_status, 403);
  EXPECT_EQ(Call(Operation::kHelp, "kv1/app", Json::object(), "hvs.unknown").http_status, 403);
  ASSERT_EQ(Call(Operation::kUpdate, "auth/token/revoke", Json{{"token", denied}}).http_status,
            204);
  EXPECT_EQ(Call(Operation::kHelp, "kv1/app", Json::object(), denied).http_status, 403);
}

TEST_F(HelpTest, PathsThatNeedNoTokenGiveTheirHelpWithoutOne) {
  ASSERT_EQ(Call(Operation::kUpdate, "sys/auth/userpass", Json{{"type", "userpass"}}).http_status,
            204);
  auto login = Call(Operation::kHelp, "auth/userpass/login/alice", Json::object(), "");
  ASSERT_EQ(login.http_status, 200);
  EXPECT_NE(HelpText(login).find("^login/(?P<username>"), std::string::npos) << HelpText(login);
  EXPECT_EQ(Call(Operation::kHelp, "sys/health", Json::object(), "").http_status, 200);
  EXPECT_EQ(Call(Operation::kHelp, "sys/wrapping/lookup", Json::object(), "").http_status, 200);
  // Next to them, the method's other routes still take a token.
  EXPECT_EQ(Call(Operation::kHelp, "auth/userpass/users/alice", Json::object(), "").http_status,
            403);
  EXPECT_EQ(Call(Operation::kHelp, "sys/wrapping/unwrap", Json::object(), "").http_status, 403);
}

TEST_F(HelpTest, CoreRoutesAndUnknownMounts) {
  auto sys = Call(Operation::kHelp, "sys/mounts/secret/tune");
  ASSERT_EQ(sys.http_status, 200);
  EXPECT_NE(HelpText(sys).find("Matching Route: ^mounts/(?P<path>.+)/tune$"), std::string::npos)
      << HelpText(sys);
  auto health = Call(Operation::kHelp, "sys/health");
  ASSERT_EQ(health.http_status, 200);
  EXPECT_NE(HelpText(health).find("load balancers"), std::string::npos);
  auto token = Call(Operation::kHelp, "auth/token/create/ci");
  ASSERT_EQ(token.http_status, 200);
  EXPECT_NE(HelpText(token).find("^create/(?P<role_name>[^/]+)$"), std::string::npos);
  auto cubby = Call(Operation::kHelp, "cubbyhole/x");
  ASSERT_EQ(cubby.http_status, 200);
  EXPECT_NE(HelpText(cubby).find("caller's cubbyhole"), std::string::npos);
  auto mount = Call(Operation::kHelp, "sys/mounts/secret");
  ASSERT_EQ(mount.http_status, 200);
  EXPECT_NE(HelpText(mount).find("Matching Route: ^mounts/(?P<path>.+)$"), std::string::npos)
      << HelpText(mount);
  EXPECT_EQ(Call(Operation::kHelp, "nomount/x").http_status, 404);
  EXPECT_EQ(Call(Operation::kHelp, "sys/nope").http_status, 404);
}

TEST_F(HelpTest, SealedRefusesHelp) {
  ASSERT_TRUE(core_->Seal().ok());
  EXPECT_EQ(Call(Operation::kHelp, "sys/mounts").http_status, 503);
}

}  // namespace
}  // namespace coffer::core
