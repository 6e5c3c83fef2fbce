#include "auth/jwt/jwt_backend.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <map>
#include <thread>

#include "auth/auth_test_util.h"
#include "auth/jwt_test_util.h"

namespace coffer::auth::jwt {
namespace {

using namespace ::coffer::auth::testing;       // NOLINT
using namespace ::coffer::auth::jwt::testing;  // NOLINT
using testing::Json;

// Serves documents by URL from a map the test changes; counts fetches.
struct FakeWeb {
  std::mutex mu;
  std::map<std::string, std::string> docs;
  std::atomic<int> fetches{0};

  Fetcher fetcher() {
    return [this](const std::string& url, const std::string&) -> Result<std::string> {
      ++fetches;
      std::scoped_lock lock(mu);
      auto it = docs.find(url);
      if (it == docs.end()) return Err(Unavailable("GET " + url + " answered 404"));
      return it->second;
    };
  }
  void Set(const std::string& url, std::string body) {
    std::scoped_lock lock(mu);
    docs[url] = std::move(body);
  }
};

constexpr char kJwksUrl[] = "http://127.0.0.1:1/jwks";

class JwtBackendTest : public ::testing::Test {
 protected:
  void SetUp() override {
    logical::BackendConfig config{storage_, clock_, "auth/jwt/", "jwt", Json::object()};
    method_ = std::make_unique<JwtBackend>(config, web_.fetcher(), std::chrono::seconds(10));
    ASSERT_TRUE(method_->Initialize().ok());
    web_.Set(kJwksUrl, Jwks({Jwk(key_, "k1")}));
  }

  Result<Response> Do(Operation op, const std::string& path, Json body = Json::object()) {
    return method_->HandleRequest(MakeRequest("jwt", op, path, std::move(body)));
  }

  std::int64_t Now() const {
    return std::chrono::duration_cast<std::chrono::seconds>(clock_.Wall().time_since_epoch())
        .count();
  }

  Json Claims() const {
    return {{"iss", "https://token.actions.example"},
            {"aud", "coffer"},
            {"sub", "repo:acme/app:ref:refs/heads/main"},
            {"repository", "acme/app"},
            {"ref", "refs/heads/main"},
            {"actor", "octocat"},
            {"iat", Now()},
            {"exp", Now() + 300}};
  }

  std::string Token(const Json& claims, const std::string& kid = "k1") {
    return Sign(key_, {{"alg", "RS256"}, {"kid", kid}, {"typ", "JWT"}}, claims);
  }

  void Configure() {
    ASSERT_TRUE(Do(Operation::kUpdate, "config",
                   {{"jwks_url", kJwksUrl}, {"bound_issuer", "https://token.actions.example"}}));
    ASSERT_TRUE(Do(Operation::kUpdate, "role/ci",
                   {{"role_type", "jwt"},
                    {"user_claim", "actor"},
                    {"bound_audiences", "coffer"},
                    {"bound_claims_type", "glob"},
                    {"bound_claims", {{"repository", "acme/*"}, {"ref", "refs/heads/main"}}},
                    {"claim_mappings", {{"repository", "repo"}}},
                    {"token_policies", "ci-read"},
                    {"token_ttl", "10m"}}));
  }

  // A login that must fail with 400 and a message containing `want`.
  void ExpectRefused(const std::string& token, const std::string& want) {
    auto r = Do(Operation::kUpdate, "login", {{"role", "ci"}, {"jwt", token}});
    ASSERT_FALSE(r.has_value()) << "login succeeded, expected: " << want;
    EXPECT_EQ(r.error().code(), Code::kInvalidArgument);
    EXPECT_NE(r.error().message().find(want), std::string::npos) << r.error().message();
    EXPECT_EQ(r.error().message().find(token.substr(0, 20)), std::string::npos);
  }

  storage::InmemBackend storage_;
  FakeClock clock_;
  FakeWeb web_;
  Pkey key_ = MakeRsa();
  std::unique_ptr<JwtBackend> method_;
};

TEST_F(JwtBackendTest, ConfigNeedsExactlyOneKeySource) {
  EXPECT_FALSE(Do(Operation::kUpdate, "config", Json::object()).has_value());
  EXPECT_FALSE(Do(Operation::kUpdate, "config",
                  {{"jwks_url", kJwksUrl}, {"jwt_validation_pubkeys", {PublicPem(key_)}}})
                   .has_value());
  EXPECT_FALSE(
      Do(Operation::kUpdate, "config", {{"jwt_validation_pubkeys", {"junk"}}}).has_value());
  // An unreachable JWKS is reported at config time and nothing is stored.
  auto bad = Do(Operation::kUpdate, "config", {{"jwks_url", "http://127.0.0.1:1/missing"}});
  ASSERT_FALSE(bad.has_value());
  EXPECT_NE(bad.error().message().find("error fetching the JWKS"), std::string::npos);
  EXPECT_EQ(Do(Operation::kRead, "config")->http_status, 404);

  ASSERT_TRUE(Do(Operation::kUpdate, "config", {{"jwt_validation_pubkeys", {PublicPem(key_)}}}));
  auto read = Do(Operation::kRead, "config");
  ASSERT_TRUE(read.has_value());
  EXPECT_EQ(read->data["jwt_validation_pubkeys"][0], PublicPem(key_));
  EXPECT_EQ(read->data["jwks_url"], "");
}

TEST_F(JwtBackendTest, RoleValidationAndRead) {
  auto refusal = [&](Json body) {
    auto r = Do(Operation::kUpdate, "role/r", std::move(body));
    return r.has_value() ? std::string("accepted") : r.error().message();
  };
  EXPECT_EQ(refusal({{"role_type", "jwt"}, {"bound_audiences", "a"}}), "a user_claim is required");
  EXPECT_EQ(refusal({{"role_type", "jwt"}, {"user_claim", "sub"}}),
            "must have at least one bound constraint when creating/updating a role");
  // A new role is an oidc role unless it says otherwise (Vault's default),
  // and an oidc role needs the redirect URIs a login may name.
  EXPECT_EQ(refusal({{"user_claim", "sub"}, {"bound_audiences", "a"}}),
            "'allowed_redirect_uris' must be set if 'role_type' is 'oidc' or unspecified.");
  EXPECT_EQ(refusal({{"role_type", "saml"}, {"user_claim", "sub"}}), "invalid 'role_type': saml");
  EXPECT_FALSE(Do(Operation::kUpdate, "role/r",
                  {{"role_type", "jwt"},
                   {"user_claim", "sub"},
                   {"bound_audiences", "a"},
                   {"claim_mappings", {{"a", "x"}, {"b", "x"}}}})
                   .has_value());
  EXPECT_FALSE(Do(Operation::kUpdate, "role/r",
                  {{"role_type", "jwt"},
                   {"user_claim", "sub"},
                   {"bound_audiences", "a"},
                   {"bound_claims_type", "re"}})
                   .has_value());
  EXPECT_EQ(Do(Operation::kRead, "role/r")->http_status, 404);  // nothing refused was kept
  ASSERT_TRUE(Do(Operation::kUpdate, "role/r",
                 {{"role_type", "jwt"},
                  {"user_claim", "sub"},
                  {"bound_audiences", "a,b"},
                  {"token_policies", "p"}}));
  auto read = Do(Operation::kRead, "role/r");
  ASSERT_TRUE(read.has_value());
  EXPECT_EQ(read->data["bound_audiences"], Json::array({"a", "b"}));
  EXPECT_EQ(read->data["clock_skew_leeway"], 60);
  EXPECT_EQ(read->data["expiration_leeway"], 150);
  EXPECT_EQ(read->data["not_before_leeway"], 150);
  EXPECT_EQ(read->data["token_policies"], Json::array({"p"}));
  EXPECT_EQ(read->data["role_type"], "jwt");
  // Vault's read has the OIDC flow's fields too; they are kept as written.
  EXPECT_EQ(read->data["allowed_redirect_uris"], Json::array());
  EXPECT_EQ(read->data["oidc_scopes"], Json::array());
  EXPECT_EQ(read->data["max_age"], 0);
  EXPECT_EQ(read->data["verbose_oidc_logging"], false);
  EXPECT_EQ(read->data["user_claim_json_pointer"], false);
  ASSERT_TRUE(Do(Operation::kUpdate, "role/r",
                 {{"allowed_redirect_uris", "https://app/cb"},
                  {"max_age", "5m"},
                  {"user_claim_json_pointer", true}}));
  read = Do(Operation::kRead, "role/r");
  EXPECT_EQ(read->data["allowed_redirect_uris"], Json::array({"https://app/cb"}));
  EXPECT_EQ(read->data["max_age"], 300);
  EXPECT_EQ(read->data["user_claim_json_pointer"], true);
  EXPECT_EQ(read->data["bound_audiences"], Json::array({"a", "b"}));
  EXPECT_FALSE(Do(Operation::kUpdate, "role/r", {{"max_age", "-5s"}}).has_value());
  EXPECT_EQ(Do(Operation::kList, "role/")->data["keys"], Json::array({"r"}));
  ASSERT_TRUE(Do(Operation::kDelete, "role/r"));
  EXPECT_EQ(Do(Operation::kRead, "role/r")->http_status, 404);
  EXPECT_TRUE(method_->IsUnauthenticated("login"));
  EXPECT_TRUE(method_->IsUnauthenticated("oidc/auth_url"));
  EXPECT_TRUE(method_->IsUnauthenticated("oidc/callback"));
  EXPECT_FALSE(method_->IsUnauthenticated("role/r"));
  // An oidc role with its redirect URIs and no other binding: its tokens'
  // audience is the method's client.
  ASSERT_TRUE(Do(Operation::kUpdate, "role/web",
                 {{"user_claim", "sub"}, {"allowed_redirect_uris", "https://app/cb"}}));
  EXPECT_EQ(Do(Operation::kRead, "role/web")->data["role_type"], "oidc");
  // An update that does not name the type keeps it.
  ASSERT_TRUE(Do(Operation::kUpdate, "role/web", {{"oidc_scopes", "email,profile"}}));
  EXPECT_EQ(Do(Operation::kRead, "role/web")->data["role_type"], "oidc");
}

TEST_F(JwtBackendTest, ValidTokenLogsIn) {
  Configure();
  auto r = Do(Operation::kUpdate, "login", {{"role", "ci"}, {"jwt", Token(Claims())}});
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  ASSERT_TRUE(r->login.has_value());
  EXPECT_EQ(r->login->policies, std::vector<std::string>{"ci-read"});
  EXPECT_EQ(r->login->ttl, 600);
  EXPECT_EQ(r->login->display_name, "octocat");
  EXPECT_EQ(r->login->metadata["role"], "ci");
  EXPECT_EQ(r->login->metadata["repo"], "acme/app");
  EXPECT_EQ(web_.fetches.load(), 1);  // fetched once at config, cached since
}

TEST_F(JwtBackendTest, BadTokensAreRefused) {
  Configure();
  Json c = Claims();
  c["exp"] = Now() - 211;
  // Vault's words: what the token fails, and what the role's claims refuse.
  ExpectRefused(Token(c), "error validating token: token is expired");
  c = Claims();
  c["aud"] = "someone-else";
  ExpectRefused(Token(c), "error validating token: aud claim does not match any bound audience");
  c = Claims();
  c["iss"] = "https://evil.example";
  ExpectRefused(Token(c), "iss claim does not match the bound issuer");
  c = Claims();
  c["repository"] = "evil/app";
  ExpectRefused(Token(c), "error validating claims: claim \"repository\" does not match");
  c = Claims();
  c.erase("ref");
  ExpectRefused(Token(c), "claim \"ref\" is missing");
  c = Claims();
  c.erase("actor");
  ExpectRefused(Token(c), "claim \"actor\" not found in token");
  c = Claims();
  c["nbf"] = Now() + 600;
  ExpectRefused(Token(c), "not yet valid");
  ExpectRefused(Sign(MakeRsa(), {{"alg", "RS256"}, {"kid", "k1"}}, Claims()),
                "signature verification failed");
  ExpectRefused(Unsigned({{"alg", "none"}, {"kid", "k1"}}, Claims()), "unsupported algorithm none");
  ExpectRefused(Token(Claims(), "nobody"), "unknown key id");
  ExpectRefused("not.a.jwt", "malformed JWT");

  auto missing_role = Do(Operation::kUpdate, "login", {{"role", "nope"}, {"jwt", "x.y.z"}});
  ASSERT_FALSE(missing_role.has_value());
  EXPECT_EQ(missing_role.error().message(), "role \"nope\" could not be found");
  EXPECT_FALSE(Do(Operation::kUpdate, "login", {{"role", "ci"}}).has_value());
  // No token, or an empty one: Vault's words for both.
  for (const Json& body : {Json{{"role", "ci"}}, Json{{"role", "ci"}, {"jwt", ""}}}) {
    auto none = Do(Operation::kUpdate, "login", body);
    ASSERT_FALSE(none.has_value()) << body.dump();
    EXPECT_EQ(none.error().message(), "missing token") << body.dump();
  }
}

TEST_F(JwtBackendTest, LeewaysComeFromTheRole) {
  Configure();
  Json c = Claims();
  c["exp"] = Now() - 100;  // inside the default 150 + 60
  EXPECT_TRUE(Do(Operation::kUpdate, "login", {{"role", "ci"}, {"jwt", Token(c)}}));
  ASSERT_TRUE(
      Do(Operation::kUpdate, "role/ci", {{"expiration_leeway", -1}, {"clock_skew_leeway", "0s"}}));
  ExpectRefused(Token(c), "token is expired");
}

TEST_F(JwtBackendTest, RotatedKeyIsFetchedAndRefetchesAreRateLimited) {
  Configure();
  ASSERT_EQ(web_.fetches.load(), 1);
  // Inside the interval after the config-time fetch, no refetch at all.
  ExpectRefused(Token(Claims(), "ghost"), "unknown key id");
  EXPECT_EQ(web_.fetches.load(), 1);
  clock_.Advance(std::chrono::seconds(11));
  // Unknown kids: one refetch, then rate-limited (10 s in this test).
  for (int i = 0; i < 5; ++i) ExpectRefused(Token(Claims(), "ghost"), "unknown key id");
  EXPECT_EQ(web_.fetches.load(), 2);

  Pkey next = MakeRsa();
  web_.Set(kJwksUrl, Jwks({Jwk(key_, "k1"), Jwk(next, "k2")}));
  std::string rotated = Sign(next, {{"alg", "RS256"}, {"kid", "k2"}}, Claims());
  ExpectRefused(rotated, "unknown key id");  // still inside the interval
  EXPECT_EQ(web_.fetches.load(), 2);
  clock_.Advance(std::chrono::seconds(11));
  auto r = Do(Operation::kUpdate, "login", {{"role", "ci"}, {"jwt", rotated}});
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_EQ(web_.fetches.load(), 3);
  // The old key still works from the cache, with no fetch.
  EXPECT_TRUE(Do(Operation::kUpdate, "login", {{"role", "ci"}, {"jwt", Token(Claims())}}));
  EXPECT_EQ(web_.fetches.load(), 3);
}

// An issuer that publishes no key yet (Coffer's own identity/oidc before
// its first key): the config is accepted, as Vault accepts it, tokens are
// refused, and the key is found once it is published.
TEST_F(JwtBackendTest, AJwksWithoutKeysYetIsAcceptedAndRefetched) {
  web_.Set(kJwksUrl, R"({"keys":[]})");
  Configure();
  ExpectRefused(Token(Claims()), "unknown key id");
  web_.Set(kJwksUrl, Jwks({Jwk(key_, "k1")}));
  clock_.Advance(std::chrono::seconds(11));
  auto r = Do(Operation::kUpdate, "login", {{"role", "ci"}, {"jwt", Token(Claims())}});
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  // A document that is not a JWKS is still refused at config.
  web_.Set(kJwksUrl, R"({"nokeys":1})");
  EXPECT_FALSE(Do(Operation::kUpdate, "config", {{"jwks_url", kJwksUrl}}).has_value());
}

TEST_F(JwtBackendTest, OidcDiscoveryUsesJwksUriAndIssuer) {
  const std::string issuer = "http://127.0.0.1:2/issuer";
  web_.Set(issuer + "/.well-known/openid-configuration",
           Json({{"issuer", issuer}, {"jwks_uri", "http://127.0.0.1:2/keys"}}).dump());
  Pkey ec = MakeEc();
  web_.Set("http://127.0.0.1:2/keys", Jwks({Jwk(ec, "e1")}));
  ASSERT_TRUE(Do(Operation::kUpdate, "config", {{"oidc_discovery_url", issuer}}));
  ASSERT_TRUE(Do(Operation::kUpdate, "role/ci",
                 {{"role_type", "jwt"}, {"user_claim", "sub"}, {"bound_subject", "svc"}}));
  Json c = {{"iss", issuer}, {"sub", "svc"}, {"exp", Now() + 60}};
  auto ok = Do(Operation::kUpdate, "login",
               {{"role", "ci"}, {"jwt", Sign(ec, {{"alg", "ES256"}, {"kid", "e1"}}, c)}});
  ASSERT_TRUE(ok.has_value()) << ok.error().ToString();
  EXPECT_EQ(ok->login->display_name, "svc");
  c["iss"] = "http://127.0.0.1:2/other";
  ExpectRefused(Sign(ec, {{"alg", "ES256"}, {"kid", "e1"}}, c), "iss claim");
  c["iss"] = issuer;
  c["sub"] = "other";
  ExpectRefused(Sign(ec, {{"alg", "ES256"}, {"kid", "e1"}}, c), "sub claim does not match");
  // A discovery document for another issuer is refused.
  web_.Set("http://127.0.0.1:3/.well-known/openid-configuration",
           Json({{"issuer", issuer}, {"jwks_uri", "http://127.0.0.1:2/keys"}}).dump());
  EXPECT_FALSE(
      Do(Operation::kUpdate, "config", {{"oidc_discovery_url", "http://127.0.0.1:3"}}).has_value());
}

TEST_F(JwtBackendTest, PemKeysAndDefaultRole) {
  Pkey ed = MakeEd25519();
  ASSERT_TRUE(Do(Operation::kUpdate, "config",
                 {{"jwt_validation_pubkeys", {PublicPem(ed)}}, {"default_role", "ci"}}));
  ASSERT_TRUE(Do(Operation::kUpdate, "role/ci",
                 {{"role_type", "jwt"}, {"user_claim", "sub"}, {"bound_audiences", "coffer"}}));
  Json c = {{"sub", "svc"}, {"aud", {"coffer"}}, {"exp", Now() + 60}};
  auto r = Do(Operation::kUpdate, "login", {{"jwt", Sign(ed, {{"alg", "EdDSA"}}, c)}});
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_EQ(r->login->metadata["role"], "ci");
  // An RS256 header cannot be verified by an Ed25519 key.
  auto bad = Do(Operation::kUpdate, "login", {{"jwt", Sign(key_, {{"alg", "RS256"}}, c)}});
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().message(), "error validating token: algorithm does not match the key type");
  EXPECT_EQ(web_.fetches.load(), 0);
}

TEST(KeySourceTest, ConcurrentLoginsShareOneFetch) {
  FakeClock clock;
  Pkey key = MakeRsa();
  std::string jwks = Jwks({Jwk(key, "k1")});
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::atomic<int> fetches{0};
  Fetcher slow = [&](const std::string&, const std::string&) -> Result<std::string> {
    ++fetches;
    released.wait();  // every other login arrives while this fetch is open
    return jwks;
  };
  Config config;
  config.jwks_url = kJwksUrl;
  KeySource source(config, slow, clock);
  auto jwt = ParseJwt(Sign(key, {{"alg", "RS256"}, {"kid", "k1"}}, {{"exp", 1}}));
  ASSERT_TRUE(jwt.has_value());
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] { ok += source.Verify(*jwt).ok() ? 1 : 0; });
  }
  release.set_value();
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 8);
  EXPECT_EQ(fetches.load(), 1);
}

TEST_F(JwtBackendTest, RegisteredAsJwtAuthMethod) {
  storage::InmemBackend storage;
  auto m = MakeMethod(storage, clock_, "jwt");
  EXPECT_TRUE(m->IsUnauthenticated("login"));
  auto r = m->HandleRequest(
      MakeRequest("jwt", Operation::kUpdate, "login", {{"role", "x"}, {"jwt", "a.b.c"}}));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().message(), "could not load configuration");
}

}  // namespace
}  // namespace coffer::auth::jwt
