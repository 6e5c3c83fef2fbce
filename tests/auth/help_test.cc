// Path help of the auth methods: each route of a method's table is reached
// by the paths it stands for, and the table names only routes the method
// serves.
#include "logical/help.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "auth/auth_test_util.h"
#include "help_test_util.h"

namespace coffer::auth {
namespace {

using namespace ::coffer::auth::testing;  // NOLINT

// The help text for `path` under the method; "" (and a failure) when there
// is none.
std::string HelpText(const logical::Backend& method, std::string_view path) {
  return logical::testing::HelpTextOf(method.Help(), path);
}

std::string MatchingRoute(std::string_view regex) {
  return "Matching Route: " + std::string(regex) + "\n";
}

using logical::testing::SamplePath;

class MethodHelpTest : public ::testing::TestWithParam<std::string> {
 protected:
  storage::InmemBackend storage_;
  FakeClock clock_;
  std::unique_ptr<logical::Backend> method_ = MakeMethod(storage_, clock_, GetParam());
};

TEST_P(MethodHelpTest, TableIsWellFormed) {
  logical::testing::ExpectWellFormedTable(method_->Help());
  // LIST requests end in '/'; they reach the same route as the path without.
  for (const logical::RouteHelp& route : method_->Help().routes) {
    const std::string path = SamplePath(route.pattern) + "/";
    EXPECT_NE(HelpText(*method_, path).find(logical::testing::MatchingRoute(route.pattern)),
              std::string::npos)
        << path << " does not reach " << route.pattern;
  }
}

TEST_P(MethodHelpTest, EveryRouteIsServed) {
  // A path the method serves is never answered with "unsupported path":
  // LIST is refused or answered on each of them. AppRole looks a role up
  // before it dispatches the rest of its path, so role "a" must exist.
  if (GetParam() == "approle") {
    ASSERT_TRUE(method_->HandleRequest(MakeRequest("approle", Operation::kUpdate, "role/a")));
    auto bogus = method_->HandleRequest(MakeRequest("approle", Operation::kList, "role/a/bogus"));
    ASSERT_FALSE(bogus.has_value());
    EXPECT_EQ(bogus.error().code(), Code::kNotFound);
  }
  for (const logical::RouteHelp& route : method_->Help().routes) {
    const std::string path = SamplePath(route.pattern);
    auto r = method_->HandleRequest(MakeRequest(GetParam(), Operation::kList, path));
    if (!r.has_value()) {
      EXPECT_NE(r.error().code(), Code::kNotFound) << path << ": " << r.error().ToString();
    }
  }
  auto unknown = method_->HandleRequest(MakeRequest(GetParam(), Operation::kList, "no-such-path"));
  ASSERT_FALSE(unknown.has_value());
  EXPECT_EQ(unknown.error().code(), Code::kNotFound);
}

TEST_P(MethodHelpTest, UnknownPathIsNotFound) {
  auto r = logical::RenderHelp(method_->Help(), "no-such-path");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), Code::kNotFound);
}

INSTANTIATE_TEST_SUITE_P(AuthMethods, MethodHelpTest,
                         ::testing::Values("userpass", "approle", "cert", "jwt", "kubernetes",
                                           "ldap", "github"));

class HelpTest : public ::testing::Test {
 protected:
  std::unique_ptr<logical::Backend> Method(const std::string& type) {
    return MakeMethod(storage_, clock_, type);
  }

  storage::InmemBackend storage_;
  FakeClock clock_;
};

TEST_F(HelpTest, Userpass) {
  auto m = Method("userpass");
  const std::string user = HelpText(*m, "users/alice");
  EXPECT_NE(user.find("Request:        users/alice\n"), std::string::npos) << user;
  EXPECT_NE(user.find(MatchingRoute("^users/(?P<username>[^/]+)$")), std::string::npos) << user;
  EXPECT_NE(user.find("## DESCRIPTION"), std::string::npos) << user;
  EXPECT_NE(user.find("token_policies"), std::string::npos) << user;

  const std::string password = HelpText(*m, "users/alice/password");
  EXPECT_NE(password.find(MatchingRoute("^users/(?P<username>[^/]+)/password$")), std::string::npos)
      << password;
  EXPECT_NE(HelpText(*m, "users/alice/policies")
                .find(MatchingRoute("^users/(?P<username>[^/]+)/policies$")),
            std::string::npos);
  EXPECT_NE(HelpText(*m, "users/").find(MatchingRoute("^users$")), std::string::npos);
  EXPECT_NE(HelpText(*m, "login/alice").find(MatchingRoute("^login/(?P<username>[^/]+)$")),
            std::string::npos);

  for (const char* path : {"users/alice/other", "login", "login/alice/extra", "users/a/b/c"}) {
    auto r = logical::RenderHelp(m->Help(), path);
    ASSERT_FALSE(r.has_value()) << path;
    EXPECT_EQ(r.error().code(), Code::kNotFound) << path;
  }
}

TEST_F(HelpTest, AppRole) {
  auto m = Method("approle");
  EXPECT_NE(HelpText(*m, "role/web").find(MatchingRoute("^role/(?P<role_name>[^/]+)$")),
            std::string::npos);
  // Nested routes reach their own entry, not a shorter one.
  EXPECT_NE(HelpText(*m, "role/web/secret-id")
                .find(MatchingRoute("^role/(?P<role_name>[^/]+)/secret-id$")),
            std::string::npos);
  EXPECT_NE(HelpText(*m, "role/web/secret-id/")
                .find(MatchingRoute("^role/(?P<role_name>[^/]+)/secret-id$")),
            std::string::npos);
  EXPECT_NE(HelpText(*m, "role/web/secret-id/lookup")
                .find(MatchingRoute("^role/(?P<role_name>[^/]+)/secret-id/lookup$")),
            std::string::npos);
  EXPECT_NE(HelpText(*m, "role/web/secret-id-accessor/destroy")
                .find(MatchingRoute("^role/(?P<role_name>[^/]+)/secret-id-accessor/destroy$")),
            std::string::npos);
  EXPECT_NE(
      HelpText(*m, "role/web/role-id").find(MatchingRoute("^role/(?P<role_name>[^/]+)/role-id$")),
      std::string::npos);
  const std::string login = HelpText(*m, "login");
  EXPECT_NE(login.find(MatchingRoute("^login$")), std::string::npos) << login;
  EXPECT_NE(login.find("secret_id"), std::string::npos) << login;
  EXPECT_NE(HelpText(*m, "tidy/secret-id").find(MatchingRoute("^tidy/secret-id$")),
            std::string::npos);

  for (const char* path : {"role/web/secret-id/other", "tidy", "role/web/unknown"}) {
    auto r = logical::RenderHelp(m->Help(), path);
    ASSERT_FALSE(r.has_value()) << path;
    EXPECT_EQ(r.error().code(), Code::kNotFound) << path;
  }
}

TEST_F(HelpTest, Cert) {
  auto m = Method("cert");
  EXPECT_NE(HelpText(*m, "certs/web").find(MatchingRoute("^certs/(?P<name>[^/]+)$")),
            std::string::npos);
  EXPECT_NE(HelpText(*m, "certs/").find(MatchingRoute("^certs$")), std::string::npos);
  const std::string login = HelpText(*m, "login");
  EXPECT_NE(login.find(MatchingRoute("^login$")), std::string::npos) << login;
  auto r = logical::RenderHelp(m->Help(), "certs/web/extra");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), Code::kNotFound);
}

TEST_F(HelpTest, Jwt) {
  for (const char* type : {"jwt", "oidc"}) {
    auto m = Method(type);
    EXPECT_NE(HelpText(*m, "role/ci").find(MatchingRoute("^role/(?P<name>[^/]+)$")),
              std::string::npos)
        << type;
    EXPECT_NE(HelpText(*m, "role/").find(MatchingRoute("^role$")), std::string::npos) << type;
    const std::string config = HelpText(*m, "config");
    EXPECT_NE(config.find(MatchingRoute("^config$")), std::string::npos) << config;
    EXPECT_NE(config.find("jwks_url"), std::string::npos) << config;
    EXPECT_NE(HelpText(*m, "login").find(MatchingRoute("^login$")), std::string::npos) << type;
    // The browser login's two routes.
    EXPECT_NE(HelpText(*m, "oidc/auth_url").find("redirect_uri"), std::string::npos) << type;
    EXPECT_NE(HelpText(*m, "oidc/callback").find("state"), std::string::npos) << type;
    auto r = logical::RenderHelp(m->Help(), "role/ci/extra");
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code(), Code::kNotFound);
  }
}

}  // namespace
}  // namespace coffer::auth
