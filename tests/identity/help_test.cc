// The path help of identity/: a matching route answers with its own help,
// the root lists every route, and every route of the table can be reached.
#include "logical/help.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "help_test_util.h"
#include "identity/backend.h"
#include "storage/inmem/inmem_backend.h"

namespace coffer::identity {
namespace {

class IdentityHelpTest : public ::testing::Test {
 protected:
  IdentityHelpTest() : store_(storage_, clock_), mfa_(storage_, clock_), backend_(store_, mfa_) {}

  // The help text for `rel`, or "" (with a test failure) when there is none.
  std::string HelpText(std::string_view rel) {
    return logical::testing::HelpTextOf(backend_.Help(), rel);
  }

  storage::InmemBackend storage_;
  FakeClock clock_;
  IdentityStore store_;
  mfa::MfaStore mfa_;
  IdentityBackend backend_;
};

TEST_F(IdentityHelpTest, MatchingRouteAnswers) {
  std::string text = HelpText("entity/id/abc");
  EXPECT_NE(text.find("Request:        entity/id/abc\n"), std::string::npos) << text;
  EXPECT_NE(text.find("Matching Route: ^entity/id/(?P<id>[^/]+)$\n"), std::string::npos) << text;
  EXPECT_NE(text.find("## DESCRIPTION"), std::string::npos) << text;

  // The list routes, with or without the trailing '/'.
  EXPECT_NE(HelpText("entity/id/").find("Matching Route: ^entity/id$\n"), std::string::npos);
  EXPECT_NE(HelpText("group/name").find("Matching Route: ^group/name$\n"), std::string::npos);

  // Literal routes come before the placeholders that would also match them.
  EXPECT_NE(HelpText("mfa/method/totp").find("Matching Route: ^mfa/method/totp$\n"),
            std::string::npos);
  EXPECT_NE(HelpText("mfa/method/totp/").find("Matching Route: ^mfa/method/totp$\n"),
            std::string::npos);
  EXPECT_NE(HelpText("mfa/method/totp/admin-generate")
                .find("Matching Route: ^mfa/method/totp/admin-generate$\n"),
            std::string::npos);
  EXPECT_NE(HelpText("mfa/method/totp/0f3c")
                .find("Matching Route: ^mfa/method/totp/(?P<method_id>[^/]+)$\n"),
            std::string::npos);
  EXPECT_NE(HelpText("mfa/method/0f3c").find("Matching Route: ^mfa/method/(?P<method_id>[^/]+)$\n"),
            std::string::npos);
  EXPECT_NE(HelpText("entity-alias/id/x").find("Matching Route: ^entity-alias/id/(?P<id>[^/]+)$\n"),
            std::string::npos);
}

TEST_F(IdentityHelpTest, TableIsWellFormed) {
  logical::testing::ExpectWellFormedTable(backend_.Help());
}

TEST_F(IdentityHelpTest, UnknownPathIsNotFound) {
  for (std::string_view rel : {"nope", "entity/x", "entity/id/a/b", "lookup/alias", "mfa/other",
                               "mfa/method/totp/a/b", "group-alias/name/x"}) {
    auto r = logical::RenderHelp(backend_.Help(), rel);
    ASSERT_FALSE(r) << rel;
    EXPECT_EQ(r.error().code(), Code::kNotFound) << rel;
  }
}

// The routes the backend serves, each with a help entry.
TEST_F(IdentityHelpTest, CoversTheServedRoutes) {
  for (std::string_view rel : {"entity",
                               "entity/id",
                               "entity/id/e1",
                               "entity/name",
                               "entity/name/alice",
                               "entity/merge",
                               "entity-alias",
                               "entity-alias/id",
                               "entity-alias/id/a1",
                               "group",
                               "group/id",
                               "group/id/g1",
                               "group/name",
                               "group/name/devs",
                               "group-alias",
                               "group-alias/id",
                               "group-alias/id/a1",
                               "lookup/entity",
                               "lookup/group",
                               "mfa/method",
                               "mfa/method/m1",
                               "mfa/method/totp",
                               "mfa/method/totp/m1",
                               "mfa/method/totp/generate",
                               "mfa/method/totp/admin-generate",
                               "mfa/method/totp/admin-destroy",
                               "mfa/login-enforcement",
                               "mfa/login-enforcement/people",
                               "oidc/config",
                               "oidc/key",
                               "oidc/key/k1",
                               "oidc/key/k1/rotate",
                               "oidc/role",
                               "oidc/role/r1",
                               "oidc/token/r1",
                               "oidc/introspect",
                               "oidc/.well-known/openid-configuration",
                               "oidc/.well-known/keys"}) {
    EXPECT_TRUE(logical::RenderHelp(backend_.Help(), rel)) << rel;
  }
  EXPECT_EQ(backend_.Help().routes.size(), 38u);
}

}  // namespace
}  // namespace coffer::identity
