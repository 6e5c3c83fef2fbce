// The GitHub auth method against a GitHub API played by the test (what it
// was asked, in order). Against hvac and an HTTP fake:
// tests/integration/test_github_auth.py.

#include "auth/github/github.h"

#include <gtest/gtest.h>

#include "auth/auth_test_util.h"

namespace coffer::auth::github {
namespace {

using namespace ::coffer::auth::testing;  // NOLINT
using Json = nlohmann::json;

constexpr char kBase[] = "https://gh.example/api/v3/";

// The API: users by token, their organizations and teams.
struct FakeGithub {
  std::map<std::string, std::string> login_of;  // token → login
  std::map<std::string, Json> orgs, teams;      // login → list
  std::vector<std::string> asked;
  std::int64_t acme_id = 42;  // whoever holds the name "acme" now
  bool reachable = true;

  net::HttpDo http() {
    return [this](const net::HttpRequest& r) -> Result<net::HttpResponse> {
      std::string path = r.url.substr(std::string(kBase).size());
      asked.push_back(path);
      if (!reachable) return Err(Unavailable("GET gh.example: connecting failed: refused"));
      if (path == "orgs/acme") {
        return net::HttpResponse{200, Json{{"login", "acme"}, {"id", acme_id}}.dump()};
      }
      auto auth = r.headers.find("Authorization");
      std::string token = auth == r.headers.end() ? "" : auth->second.substr(7);
      auto who = login_of.find(token);
      if (who == login_of.end()) return net::HttpResponse{401, R"({"message":"Bad credentials"})"};
      if (path == "user") return net::HttpResponse{200, Json{{"login", who->second}}.dump()};
      auto page = [&](const Json& all) {
        // Pages of 100: the second page holds what is past the first 100.
        const bool second = path.find("&page=2") != std::string::npos;
        Json out = Json::array();
        for (std::size_t i = second ? 100 : 0; i < all.size() && i < (second ? 200u : 100u); ++i) {
          out.push_back(all[i]);
        }
        return net::HttpResponse{200, out.dump()};
      };
      if (path.starts_with("user/orgs?per_page=100")) return page(orgs[who->second]);
      if (path.starts_with("user/teams?per_page=100")) return page(teams[who->second]);
      return net::HttpResponse{404, "{}"};
    };
  }
};

class GithubTest : public ::testing::Test {
 protected:
  void SetUp() override {
    logical::BackendConfig config{storage_, clock_, "auth/github/", "github", Json::object()};
    method_ = std::make_unique<GithubBackend>(config, gh_.http());
    gh_.login_of = {{"tok-ada", "Ada"}, {"tok-bob", "bob"}};
    gh_.orgs["Ada"] =
        Json::array({{{"login", "other"}, {"id", 7}}, {{"login", "acme"}, {"id", 42}}});
    gh_.teams["Ada"] =
        Json::array({{{"name", "Site Reliability"},
                      {"slug", "site-reliability"},
                      {"organization", {{"id", 42}}}},
                     {{"name", "dev"}, {"slug", "dev"}, {"organization", {{"id", 42}}}},
                     {{"name", "dev"}, {"slug", "dev"}, {"organization", {{"id", 7}}}}});
    gh_.orgs["bob"] = Json::array({{{"login", "other"}, {"id", 7}}});
  }

  Result<Response> Do(Operation op, const std::string& path, Json body = Json::object()) {
    return method_->HandleRequest(MakeRequest("github", op, path, std::move(body)));
  }

  storage::InmemBackend storage_;
  FakeClock clock_;
  FakeGithub gh_;
  std::unique_ptr<GithubBackend> method_;
};

TEST_F(GithubTest, ConfigReadsTheOrganizationsIdOnce) {
  auto missing = Do(Operation::kUpdate, "config", {{"base_url", kBase}});
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().message(), "organization is a required parameter");
  ASSERT_TRUE(
      Do(Operation::kUpdate, "config",
         {{"organization", "acme"}, {"base_url", "https://gh.example/api/v3"}, {"ttl", "1h"}}));
  auto read = Do(Operation::kRead, "config");
  ASSERT_TRUE(read.has_value());
  EXPECT_EQ(read->data["organization_id"], 42);
  EXPECT_EQ(read->data["base_url"], kBase);  // with its trailing slash
  EXPECT_EQ(read->data["token_ttl"], 3600);
  EXPECT_EQ(gh_.asked, std::vector<std::string>{"orgs/acme"});
  // An organization that GitHub does not know: refused, nothing changed.
  auto unknown = Do(Operation::kUpdate, "config", {{"organization", "nope"}});
  ASSERT_FALSE(unknown.has_value());
  EXPECT_NE(unknown.error().message().find("unable to fetch the organization_id"),
            std::string::npos);
  EXPECT_EQ(Do(Operation::kRead, "config")->data["organization"], "acme");
  EXPECT_FALSE(Do(Operation::kUpdate, "config", {{"base_url", "ftp://x"}}).has_value());
}

TEST_F(GithubTest, LoginGetsTheTeamsAndUsersPolicies) {
  auto before = Do(Operation::kUpdate, "login", {{"token", "tok-ada"}});
  ASSERT_FALSE(before.has_value());
  EXPECT_EQ(before.error().message(), "configure the github credential backend first");
  ASSERT_TRUE(Do(Operation::kUpdate, "config",
                 {{"organization", "acme"}, {"base_url", kBase}, {"token_policies", "base"}}));
  ASSERT_TRUE(Do(Operation::kUpdate, "map/teams/site-reliability", {{"value", "sre,oncall"}}));
  ASSERT_TRUE(Do(Operation::kUpdate, "map/teams/Dev", {{"value", "dev-read"}}));
  ASSERT_TRUE(Do(Operation::kUpdate, "map/users/ada", {{"value", "ada-own"}}));
  EXPECT_EQ(Do(Operation::kRead, "map/teams/DEV")->data,
            (Json{{"key", "dev"}, {"value", "dev-read"}}));
  EXPECT_EQ(Do(Operation::kRead, "map/users/nobody")->data,
            (Json{{"key", "nobody"}, {"value", ""}}));
  EXPECT_EQ(Do(Operation::kList, "map/teams/")->data["keys"],
            Json::array({"dev", "site-reliability"}));
  gh_.asked.clear();
  auto r = Do(Operation::kUpdate, "login", {{"token", "tok-ada"}});
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  ASSERT_TRUE(r->login.has_value());
  EXPECT_EQ(r->login->policies,
            (std::vector<std::string>{"ada-own", "base", "dev-read", "oncall", "sre"}));
  EXPECT_EQ(r->login->metadata["username"], "Ada");
  EXPECT_EQ(r->login->metadata["org"], "acme");
  EXPECT_EQ(r->login->alias_name, "Ada");
  // Team names and slugs, of this organization only.
  EXPECT_EQ(*r->login->group_aliases,
            (std::vector<std::string>{"Site Reliability", "site-reliability", "dev"}));
  EXPECT_EQ(gh_.asked, (std::vector<std::string>{"user", "user/orgs?per_page=100",
                                                 "user/teams?per_page=100"}));

  // Not a member, a refused token, no token: no login, and the token is
  // never in the message.
  for (auto [token, want] : {std::pair{"tok-bob", "user is not part of required org"},
                             {"tok-nobody", "the token was refused"}}) {
    auto refused = Do(Operation::kUpdate, "login", {{"token", token}});
    ASSERT_FALSE(refused.has_value()) << token;
    EXPECT_EQ(refused.error().code(), Code::kInvalidArgument);
    EXPECT_NE(refused.error().message().find(want), std::string::npos) << refused.error().message();
    EXPECT_EQ(refused.error().message().find(token), std::string::npos);
  }
  EXPECT_FALSE(Do(Operation::kUpdate, "login", Json::object()).has_value());
  EXPECT_TRUE(method_->IsUnauthenticated("login"));
  EXPECT_FALSE(method_->IsUnauthenticated("config"));
}

TEST_F(GithubTest, ListsAreReadPageByPage) {
  ASSERT_TRUE(Do(Operation::kUpdate, "config", {{"organization", "acme"}, {"base_url", kBase}}));
  Json many = Json::array();
  for (int i = 0; i < 100; ++i)
    many.push_back({{"login", "org" + std::to_string(i)}, {"id", 1000 + i}});
  many.push_back({{"login", "acme"}, {"id", 42}});  // the 101st
  gh_.orgs["Ada"] = many;
  gh_.asked.clear();
  auto r = Do(Operation::kUpdate, "login", {{"token", "tok-ada"}});
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_EQ(gh_.asked[1], "user/orgs?per_page=100");
  EXPECT_EQ(gh_.asked[2], "user/orgs?per_page=100&page=2");
}

// Clients send the whole config on every update: the same organization
// name keeps the id read when it was set, so a name taken over after a
// rename does not become the organization. A new name reads its id.
TEST_F(GithubTest, TheSameOrganizationNameKeepsItsId) {
  ASSERT_TRUE(Do(Operation::kUpdate, "config", {{"organization", "acme"}, {"base_url", kBase}}));
  gh_.acme_id = 666;  // the name now belongs to another organization
  ASSERT_TRUE(Do(Operation::kUpdate, "config", {{"organization", "ACME"}, {"token_ttl", "1h"}}));
  EXPECT_EQ(Do(Operation::kRead, "config")->data["organization_id"], 42);
  EXPECT_EQ(gh_.asked, std::vector<std::string>{"orgs/acme"});
  ASSERT_TRUE(Do(Operation::kUpdate, "map/teams/dev", {{"value", "dev-read"}}));
  // Ada, of organization 42, still logs in.
  ASSERT_TRUE(Do(Operation::kUpdate, "login", {{"token", "tok-ada"}}).has_value());
  // An id given by hand is taken as it is; a rename with none reads it.
  ASSERT_TRUE(Do(Operation::kUpdate, "config", {{"organization", "acme"}, {"organization_id", 7}}));
  EXPECT_EQ(Do(Operation::kRead, "config")->data["organization_id"], 7);
  gh_.asked.clear();
  ASSERT_FALSE(Do(Operation::kUpdate, "config", {{"organization", "other"}}).has_value());
  EXPECT_EQ(gh_.asked, std::vector<std::string>{"orgs/other"});
  EXPECT_EQ(Do(Operation::kRead, "config")->data["organization_id"], 7);  // unchanged
}

// The "default" key of either map applies to every login, as in Vault; a
// read of a map folder lists it.
TEST_F(GithubTest, DefaultMappingsApplyToEveryLogin) {
  ASSERT_TRUE(Do(Operation::kUpdate, "config", {{"organization", "acme"}, {"base_url", kBase}}));
  ASSERT_TRUE(Do(Operation::kUpdate, "map/teams/default", {{"value", "everyone"}}));
  ASSERT_TRUE(Do(Operation::kUpdate, "map/users/default", {{"value", "each-user"}}));
  auto r = Do(Operation::kUpdate, "login", {{"token", "tok-ada"}});
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_EQ(r->login->policies, (std::vector<std::string>{"each-user", "everyone"}));
  EXPECT_EQ(Do(Operation::kRead, "map/teams")->data["keys"], Json::array({"default"}));
}

// A token with a line break or a space never reaches a request header; an
// API that cannot be reached is a 503 that does not name the host.
TEST_F(GithubTest, BadTokensAndAnUnreachableApi) {
  ASSERT_TRUE(Do(Operation::kUpdate, "config", {{"organization", "acme"}, {"base_url", kBase}}));
  gh_.asked.clear();
  for (const char* token : {"tok-ada\r\nX-Injected: yes", "tok ada", "tok-ada\n"}) {
    auto r = Do(Operation::kUpdate, "login", {{"token", token}});
    ASSERT_FALSE(r.has_value()) << token;
    EXPECT_EQ(r.error().code(), Code::kInvalidArgument);
    EXPECT_EQ(r.error().message(), "the token holds characters a GitHub token does not have");
  }
  EXPECT_TRUE(gh_.asked.empty());
  gh_.reachable = false;
  auto r = Do(Operation::kUpdate, "login", {{"token", "tok-ada"}});
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), Code::kUnavailable);
  EXPECT_EQ(r.error().message().find("gh.example"), std::string::npos) << r.error().message();
}

// A renewal asks GitHub again with the login's token (kept in the login's
// internal data): renewed while the policies are the same, refused once the
// user left a mapped team, the mapping changed or the token was revoked.
TEST_F(GithubTest, RenewalAsksGithubAgain) {
  ASSERT_TRUE(Do(Operation::kUpdate, "config",
                 {{"organization", "acme"}, {"base_url", kBase}, {"token_ttl", "1h"}}));
  ASSERT_TRUE(Do(Operation::kUpdate, "map/teams/dev", {{"value", "dev-read"}}));
  auto r = Do(Operation::kUpdate, "login", {{"token", "tok-ada"}});
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  const auto internal = r->login->internal;
  ASSERT_EQ(internal.count("github_token"), 1u);
  std::vector<std::string> policies = {"default", "dev-read"};  // as the token holds them
  std::map<std::string, std::string> meta = r->login->metadata;
  auto renew = [&](const std::map<std::string, std::string>& kept) {
    logical::LoginRenewalRequest req{&meta, &policies, &kept, nullptr};
    return method_->CheckLoginRenewal(req);
  };
  gh_.asked.clear();
  auto ok = renew(internal);
  ASSERT_TRUE(ok.has_value()) << ok.error().ToString();
  ASSERT_TRUE(ok->has_value());
  EXPECT_EQ((*ok)->ttl, 3600);
  EXPECT_EQ(gh_.asked.front(), "user");  // GitHub was asked
  // Ada leaves the dev team: her token's policies no longer follow.
  gh_.teams["Ada"] = Json::array();
  auto left = renew(internal);
  ASSERT_FALSE(left.has_value());
  EXPECT_EQ(left.error().message(), "policies do not match, not renewing");
  // Back in the team, but the mapping changed.
  gh_.teams["Ada"] =
      Json::array({{{"name", "dev"}, {"slug", "dev"}, {"organization", {{"id", 42}}}}});
  ASSERT_TRUE(renew(internal).has_value());
  ASSERT_TRUE(Do(Operation::kUpdate, "map/teams/dev", {{"value", "dev-write"}}));
  EXPECT_FALSE(renew(internal).has_value());
  ASSERT_TRUE(Do(Operation::kUpdate, "map/teams/dev", {{"value", "dev-read"}}));
  // The GitHub token revoked, or none kept: refused.
  gh_.login_of.erase("tok-ada");
  EXPECT_EQ(renew(internal).error().code(), Code::kInvalidArgument);
  EXPECT_FALSE(renew({}).has_value());
}

}  // namespace
}  // namespace coffer::auth::github
