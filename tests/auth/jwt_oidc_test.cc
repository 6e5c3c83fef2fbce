// The JWT/OIDC method's browser login (oidc/auth_url, oidc/callback) against
// a provider played by the test: its discovery document and keys through the
// method's Fetcher, its token and userinfo endpoints through its HttpDo.

#include <gtest/gtest.h>
#include <openssl/sha.h>

#include <map>
#include <mutex>

#include "auth/auth_test_util.h"
#include "auth/jwt/jwt_backend.h"
#include "auth/jwt_test_util.h"
#include "common/encoding.h"
#include "common/url.h"

namespace coffer::auth::jwt {
namespace {

using namespace ::coffer::auth::testing;       // NOLINT
using namespace ::coffer::auth::jwt::testing;  // NOLINT
using testing::Json;

constexpr char kIssuer[] = "https://idp.example";
constexpr char kClientId[] = "coffer-client";
constexpr char kClientSecret[] = "s3cret-of-the-client";
constexpr char kRedirect[] = "https://coffer.example/ui/callback";

// A URL's query (or a form body) → its decoded pairs.
std::map<std::string, std::string> ParseQuery(std::string_view text) {
  if (auto q = text.find('?'); q != std::string_view::npos) text = text.substr(q + 1);
  return ParseQueryPairs(text).value();
}

// The provider: what its authorization endpoint was asked (the test reads
// the auth_url), codes it issued and the claims of their ID tokens.
class Provider {
 public:
  explicit Provider(const Pkey& key) : key_(key) {}

  Fetcher fetcher() {
    return [this](const std::string& url, const std::string&) -> Result<std::string> {
      if (url == std::string(kIssuer) + "/.well-known/openid-configuration") {
        Json doc{{"issuer", kIssuer},
                 {"authorization_endpoint", std::string(kIssuer) + "/authorize"},
                 {"token_endpoint", std::string(kIssuer) + "/token"},
                 {"jwks_uri", std::string(kIssuer) + "/keys"}};
        if (userinfo) doc["userinfo_endpoint"] = std::string(kIssuer) + "/userinfo";
        return doc.dump();
      }
      if (url == std::string(kIssuer) + "/keys") return Jwks({Jwk(key_, "k1")});
      return Err(Unavailable("404"));
    };
  }

  HttpDo http() {
    return [this](const net::HttpRequest& r) -> Result<net::HttpResponse> {
      std::scoped_lock lock(mu);
      requests.push_back(r);
      if (r.url == std::string(kIssuer) + "/userinfo") {
        if (r.headers.at("Authorization") != "Bearer " + access_token) {
          return net::HttpResponse{401, "{}"};
        }
        return net::HttpResponse{200, userinfo_claims.dump()};
      }
      if (r.url != std::string(kIssuer) + "/token" || r.method != "POST") {
        return net::HttpResponse{404, ""};
      }
      auto form = ParseQuery(r.body);
      auto auth = r.headers.find("Authorization");
      const std::string basic =
          "Basic " + Base64Encode(std::string(kClientId) + ":" + kClientSecret);
      if (auth == r.headers.end() || auth->second != basic) {
        return net::HttpResponse{401, R"({"error":"invalid_client"})"};
      }
      if (form["grant_type"] != "authorization_code" || form["code"] != issued_code ||
          form["redirect_uri"] != redirect_uri) {
        return net::HttpResponse{400,
                                 R"({"error":"invalid_grant","error_description":"bad code"})"};
      }
      // PKCE: the verifier must hash to the challenge the login was sent with.
      if (Base64UrlEncode(Sha256(form["code_verifier"])) != challenge) {
        return net::HttpResponse{400, R"({"error":"invalid_grant","error_description":"pkce"})"};
      }
      issued_code.clear();  // a code is used once
      access_token = "at-" + form["code"];
      Json answer{{"access_token", access_token},
                  {"token_type", "Bearer"},
                  {"id_token", Sign(key_, {{"alg", "RS256"}, {"kid", "k1"}}, id_claims)}};
      return net::HttpResponse{200, answer.dump()};
    };
  }

  // What the authorization endpoint does once the user has agreed: a code
  // for this login, and an ID token with the login's nonce.
  std::string Authorize(const std::map<std::string, std::string>& q, Json claims) {
    std::scoped_lock lock(mu);
    issued_code = "code-" + q.at("state").substr(0, 8);
    redirect_uri = q.at("redirect_uri");
    challenge = q.count("code_challenge") ? q.at("code_challenge") : "";
    claims["nonce"] = q.at("nonce");
    id_claims = std::move(claims);
    return issued_code;
  }

  static std::string Sha256(const std::string& s) {
    unsigned char d[32];
    SHA256(reinterpret_cast<const unsigned char*>(s.data()), s.size(), d);
    return std::string(reinterpret_cast<char*>(d), 32);
  }

  std::mutex mu;
  std::vector<net::HttpRequest> requests;
  bool userinfo = false;
  Json userinfo_claims;

 private:
  const Pkey& key_;
  std::string issued_code, redirect_uri, challenge, access_token;
  Json id_claims;
};

class JwtOidcTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Remount();
    ASSERT_TRUE(Do(Operation::kUpdate, "config",
                   {{"oidc_discovery_url", kIssuer},
                    {"oidc_client_id", kClientId},
                    {"oidc_client_secret", kClientSecret},
                    {"default_role", "web"}}));
    ASSERT_TRUE(Do(
        Operation::kUpdate, "role/web",
        {{"user_claim", "email"},
         {"groups_claim", "groups"},
         {"allowed_redirect_uris", Json::array({kRedirect, "http://localhost:8250/oidc/callback"})},
         {"oidc_scopes", "email,profile"},
         {"claim_mappings", {{"name", "name"}}},
         {"token_policies", "dev"}}));
  }

  // A method over the same storage and provider, as after a restart.
  void Remount() {
    logical::BackendConfig config{storage_, clock_, "auth/oidc/", "oidc", Json::object()};
    method_ = std::make_unique<JwtBackend>(config, provider_.fetcher(), std::chrono::seconds(10),
                                           provider_.http());
    ASSERT_TRUE(method_->Initialize().ok());
  }

  Result<Response> Do(Operation op, const std::string& path, Json body = Json::object()) {
    return method_->HandleRequest(MakeRequest("oidc", op, path, std::move(body)));
  }

  std::int64_t Now() const {
    return std::chrono::duration_cast<std::chrono::seconds>(clock_.Wall().time_since_epoch())
        .count();
  }

  Json Claims() const {
    return {{"iss", kIssuer}, {"aud", kClientId},
            {"sub", "u-1"},   {"email", "ada@example.com"},
            {"name", "Ada"},  {"groups", Json::array({"eng"})},
            {"iat", Now()},   {"exp", Now() + 300}};
  }

  // auth_url's answer, parsed; empty when it answered an empty URL.
  std::map<std::string, std::string> AuthUrl(Json body) {
    auto r = Do(Operation::kUpdate, "oidc/auth_url", std::move(body));
    EXPECT_TRUE(r.has_value()) << r.error().ToString();
    if (!r) return {};
    std::string url = r->data["auth_url"].get<std::string>();
    if (url.empty()) return {};
    EXPECT_TRUE(url.starts_with(std::string(kIssuer) + "/authorize?client_id=")) << url;
    return ParseQuery(url);
  }

  Result<Response> Callback(Json query) { return Do(Operation::kRead, "oidc/callback", query); }

  // A whole login: auth_url, the provider's consent, the callback.
  Result<Response> LogIn(Json claims,
                         Json auth_url_body = {{"role", "web"}, {"redirect_uri", kRedirect}}) {
    auto q = AuthUrl(std::move(auth_url_body));
    if (q.empty()) return Err(Internal("no auth_url"));
    std::string code = provider_.Authorize(q, std::move(claims));
    return Callback({{"state", q["state"]}, {"code", code}});
  }

  storage::InmemBackend storage_;
  FakeClock clock_;
  Pkey key_ = MakeRsa();
  Provider provider_{key_};
  std::unique_ptr<JwtBackend> method_;
};

TEST_F(JwtOidcTest, AuthUrlAsksForACodeWithPkceStateAndNonce) {
  auto q = AuthUrl({{"role", "web"}, {"redirect_uri", kRedirect}});
  ASSERT_FALSE(q.empty());
  EXPECT_EQ(q["client_id"], kClientId);
  EXPECT_EQ(q["response_type"], "code");
  EXPECT_EQ(q["redirect_uri"], kRedirect);
  EXPECT_EQ(q["scope"], "openid email profile");
  EXPECT_EQ(q["code_challenge_method"], "S256");
  EXPECT_EQ(q["code_challenge"].size(), 43u);
  EXPECT_GE(q["state"].size(), 43u);
  EXPECT_GE(q["nonce"].size(), 43u);
  EXPECT_EQ(q.count("max_age"), 0u);
  // Each login has its own state and nonce.
  auto again = AuthUrl({{"redirect_uri", kRedirect}});  // the default role
  EXPECT_NE(again["state"], q["state"]);
  EXPECT_NE(again["nonce"], q["nonce"]);
  EXPECT_NE(again["code_challenge"], q["code_challenge"]);
  // A loopback redirect URI matches on any port (the CLI's listener).
  EXPECT_FALSE(AuthUrl({{"redirect_uri", "http://localhost:49152/oidc/callback"}}).empty());
  // The host is still compared: 127.0.0.1 is not localhost (Vault's rule).
  EXPECT_TRUE(AuthUrl({{"redirect_uri", "http://127.0.0.1:8250/oidc/callback"}}).empty());
}

TEST_F(JwtOidcTest, AuthUrlRefusals) {
  auto message = [&](Json body) {
    auto r = Do(Operation::kUpdate, "oidc/auth_url", std::move(body));
    return r.has_value() ? r->data.dump() : r.error().message();
  };
  EXPECT_EQ(message({{"role", "web"}}), "missing redirect_uri");
  EXPECT_EQ(message({{"role", "nope"}, {"redirect_uri", kRedirect}}),
            "role \"nope\" could not be found");
  // What a caller without a token may not learn more about: an empty URL.
  EXPECT_EQ(message({{"redirect_uri", "https://evil.example/cb"}}), R"({"auth_url":""})");
  EXPECT_EQ(message({{"redirect_uri", "https://coffer.example:444/ui/callback"}}),
            R"({"auth_url":""})");
  EXPECT_EQ(message({{"redirect_uri", "http://localhost:8250/other"}}), R"({"auth_url":""})");
  // A loopback port that is not a port.
  for (const char* uri :
       {"http://localhost:junk/oidc/callback", "http://localhost:99999/oidc/callback",
        "http://localhost:/oidc/callback"}) {
    EXPECT_EQ(message({{"redirect_uri", uri}}), R"({"auth_url":""})") << uri;
  }
  // What a pending login keeps is bounded: auth_url needs no token.
  EXPECT_EQ(message({{"redirect_uri", "http://localhost:" + std::string(3000, '9') + "/x"}}),
            "redirect_uri is longer than 2048 characters");
  EXPECT_EQ(message({{"redirect_uri", kRedirect}, {"client_nonce", std::string(257, 'n')}}),
            "client_nonce is longer than 256 characters");
  EXPECT_EQ(method_->PendingLoginCount(), 0u);
  ASSERT_TRUE(Do(Operation::kUpdate, "role/ci",
                 {{"role_type", "jwt"},
                  {"user_claim", "sub"},
                  {"bound_audiences", "x"},
                  {"allowed_redirect_uris", kRedirect}}));
  EXPECT_EQ(message({{"role", "ci"}, {"redirect_uri", kRedirect}}), R"({"auth_url":""})");
  // And the JWT login refuses an oidc role.
  auto login = Do(Operation::kUpdate, "login", {{"role", "web"}, {"jwt", "a.b.c"}});
  ASSERT_FALSE(login.has_value());
  EXPECT_EQ(login.error().message(), "role with oidc role_type is not allowed");
  // A method configured without a client has no browser login.
  ASSERT_TRUE(Do(Operation::kUpdate, "config", {{"oidc_discovery_url", kIssuer}}));
  EXPECT_EQ(message({{"redirect_uri", kRedirect}, {"role", "web"}}),
            "OIDC login is not configured for this mount");
}

TEST_F(JwtOidcTest, CallbackLogsInOnceWithTheRolesRules) {
  auto r = LogIn(Claims());
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  ASSERT_TRUE(r->login.has_value());
  EXPECT_EQ(r->login->display_name, "ada@example.com");
  EXPECT_EQ(r->login->alias_name, "ada@example.com");
  EXPECT_EQ(r->login->metadata["role"], "web");
  EXPECT_EQ(r->login->metadata["name"], "Ada");
  EXPECT_EQ(r->login->policies, std::vector<std::string>{"dev"});
  ASSERT_TRUE(r->login->group_aliases.has_value());
  EXPECT_EQ(*r->login->group_aliases, std::vector<std::string>{"eng"});
  {
    // The code went to the token endpoint with the client's credentials in
    // a Basic header, never in the URL.
    std::scoped_lock lock(provider_.mu);
    ASSERT_EQ(provider_.requests.size(), 1u);
    EXPECT_EQ(provider_.requests[0].url, std::string(kIssuer) + "/token");
    EXPECT_EQ(provider_.requests[0].body.find(kClientSecret), std::string::npos);
  }

  // A state is used once, whatever the callback's outcome.
  auto q = AuthUrl({{"redirect_uri", kRedirect}});
  std::string code = provider_.Authorize(q, Claims());
  ASSERT_TRUE(Callback({{"state", q["state"]}, {"code", code}}));
  auto replay = Callback({{"state", q["state"]}, {"code", code}});
  ASSERT_FALSE(replay.has_value());
  EXPECT_EQ(replay.error().message(), "Coffer login failed. Expired or missing OAuth state.");
  EXPECT_FALSE(Callback({{"state", "made-up"}, {"code", code}}).has_value());

  // Expired after ten minutes.
  q = AuthUrl({{"redirect_uri", kRedirect}});
  code = provider_.Authorize(q, Claims());
  clock_.Advance(std::chrono::minutes(11));
  EXPECT_FALSE(Callback({{"state", q["state"]}, {"code", code}}).has_value());
}

TEST_F(JwtOidcTest, CallbackRefusesWhatTheIdTokenOrTheProviderGetsWrong) {
  auto refused = [&](Json claims, const std::string& want) {
    auto r = LogIn(std::move(claims));
    ASSERT_FALSE(r.has_value()) << "logged in; expected " << want;
    EXPECT_EQ(r.error().code(), Code::kInvalidArgument);
    EXPECT_NE(r.error().message().find(want), std::string::npos) << r.error().message();
  };
  Json c = Claims();
  c["aud"] = "another-client";
  refused(c, "aud claim does not match");
  c = Claims();
  c["iss"] = "https://evil.example";
  refused(c, "iss claim does not match");
  c = Claims();
  c["exp"] = Now() - 1000;
  refused(c, "token is expired");
  c = Claims();
  c["azp"] = "another-client";
  refused(c, "azp claim does not name the client");
  // Several audiences: the client must be the authorized party.
  c = Claims();
  c["aud"] = Json::array({kClientId, "other-app"});
  refused(c, "several audiences and no azp claim");
  c["azp"] = kClientId;
  EXPECT_TRUE(LogIn(c).has_value());
  // A huge auth_time is refused, not overflowed (with max_age below).
  c = Claims();
  c.erase("email");
  refused(c, "claim \"email\" not found");

  // A code issued for another login: its PKCE verifier does not fit.
  auto first = AuthUrl({{"redirect_uri", kRedirect}});
  auto second = AuthUrl({{"redirect_uri", kRedirect}});
  std::string code = provider_.Authorize(first, Claims());
  auto mixed = Callback({{"state", second["state"]}, {"code", code}});
  ASSERT_FALSE(mixed.has_value());
  EXPECT_EQ(mixed.error().message(),
            "Coffer login failed. Error exchanging oidc code: \"invalid_grant: pkce\".");
  // An ID token with another login's nonce.
  first = AuthUrl({{"redirect_uri", kRedirect}});
  second = AuthUrl({{"redirect_uri", kRedirect}});
  auto replayed = second;
  replayed["nonce"] = first["nonce"];
  code = provider_.Authorize(replayed, Claims());
  auto wrong_nonce = Callback({{"state", second["state"]}, {"code", code}});
  ASSERT_FALSE(wrong_nonce.has_value());
  EXPECT_NE(wrong_nonce.error().message().find("invalid ID token nonce"), std::string::npos);

  // The provider's own refusal, sent back instead of a code.
  auto q = AuthUrl({{"redirect_uri", kRedirect}});
  auto denied = Callback({{"state", q["state"]}, {"error", "access_denied"}});
  ASSERT_FALSE(denied.has_value());
  EXPECT_EQ(denied.error().message(), "Coffer login failed. access_denied");

  // The CLI's client_nonce must come back with the callback.
  q = AuthUrl({{"redirect_uri", kRedirect}, {"client_nonce", "cli-nonce"}});
  code = provider_.Authorize(q, Claims());
  auto no_nonce = Callback({{"state", q["state"]}, {"code", code}});
  ASSERT_FALSE(no_nonce.has_value());
  EXPECT_EQ(no_nonce.error().message(), "invalid client_nonce");
  q = AuthUrl({{"redirect_uri", kRedirect}, {"client_nonce", "cli-nonce"}});
  code = provider_.Authorize(q, Claims());
  EXPECT_TRUE(Callback({{"state", q["state"]}, {"code", code}, {"client_nonce", "cli-nonce"}}));

  // max_age needs a recent auth_time.
  ASSERT_TRUE(Do(Operation::kUpdate, "role/web", {{"max_age", "5m"}}));
  c = Claims();
  refused(c, "auth_time claim is required");
  c["auth_time"] = Now() - 3600;
  refused(c, "auth_time claim is older");
  c["auth_time"] = Now() - 10;
  EXPECT_TRUE(LogIn(c).has_value());
  c["auth_time"] = 1e300;
  refused(c, "auth_time\\\" is out of range");
  EXPECT_EQ(AuthUrl({{"redirect_uri", kRedirect}})["max_age"], "300");
}

TEST_F(JwtOidcTest, ConfigKeepsTheClientSecretToItselfAndChecksTheFlow) {
  auto read = Do(Operation::kRead, "config");
  ASSERT_TRUE(read.has_value());
  EXPECT_EQ(read->data["oidc_client_id"], kClientId);
  EXPECT_FALSE(read->data.contains("oidc_client_secret"));
  EXPECT_EQ(read->data.dump().find(kClientSecret), std::string::npos);
  auto stored = storage_.Get("config");
  ASSERT_TRUE(stored.has_value() && stored->has_value());

  auto refusal = [&](Json body) {
    auto r = Do(Operation::kUpdate, "config", std::move(body));
    return r.has_value() ? std::string("accepted") : r.error().message();
  };
  EXPECT_EQ(refusal({{"oidc_discovery_url", kIssuer}, {"oidc_client_id", kClientId}}),
            "both 'oidc_client_id' and 'oidc_client_secret' must be set for OIDC");
  EXPECT_EQ(refusal({{"jwks_url", std::string(kIssuer) + "/keys"},
                     {"oidc_client_id", kClientId},
                     {"oidc_client_secret", "x"}}),
            "'oidc_discovery_url' must be set for OIDC");
  EXPECT_EQ(
      refusal({{"oidc_discovery_url", std::string(kIssuer) + "/.well-known/openid-configuration"}}),
      "'oidc_discovery_url' contains '.well-known' component");
  Json base{{"oidc_discovery_url", kIssuer},
            {"oidc_client_id", kClientId},
            {"oidc_client_secret", kClientSecret}};
  Json bad = base;
  bad["oidc_response_types"] = "token";
  EXPECT_EQ(refusal(bad), "invalid response_types: 'code' and 'id_token' are allowed");
  bad = base;
  bad["oidc_response_types"] = "id_token";
  EXPECT_EQ(refusal(bad), "query response_mode may not be used with an id_token response_type");
  bad["oidc_response_mode"] = "fragment";
  EXPECT_EQ(refusal(bad), "invalid response_mode: \"fragment\"");
  // Nothing refused was kept: the method still logs in.
  EXPECT_TRUE(LogIn(Claims()).has_value());

  // After a restart the provider's endpoints are fetched again.
  Remount();
  EXPECT_TRUE(LogIn(Claims()).has_value());
}

TEST_F(JwtOidcTest, FormPostAndTheImplicitFlow) {
  // Without form_post, a POST to the callback is not allowed.
  auto post = Do(Operation::kUpdate, "oidc/callback", {{"state", "x"}, {"code", "y"}});
  ASSERT_FALSE(post.has_value());
  EXPECT_EQ(post.error().code(), Code::kMethodNotAllowed);

  ASSERT_TRUE(Do(Operation::kUpdate, "config",
                 {{"oidc_discovery_url", kIssuer},
                  {"oidc_client_id", kClientId},
                  {"oidc_client_secret", kClientSecret},
                  {"oidc_response_mode", "form_post"}}));
  // The provider posts the code; the GET that follows (the CLI's) logs in.
  auto q = AuthUrl({{"role", "web"}, {"redirect_uri", kRedirect}});
  EXPECT_EQ(q["response_mode"], "form_post");
  std::string code = provider_.Authorize(q, Claims());
  auto posted = Do(Operation::kUpdate, "oidc/callback", {{"state", q["state"]}, {"code", code}});
  ASSERT_TRUE(posted.has_value()) << posted.error().ToString();
  EXPECT_EQ(posted->http_status, 204);
  auto r = Callback({{"state", q["state"]}});
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_TRUE(r->login.has_value());
  EXPECT_FALSE(Do(Operation::kUpdate, "oidc/callback", {{"state", q["state"]}}).has_value());

  // The implicit flow: the ID token itself is posted, no code, no PKCE.
  ASSERT_TRUE(Do(Operation::kUpdate, "config",
                 {{"oidc_discovery_url", kIssuer},
                  {"oidc_client_id", kClientId},
                  {"oidc_client_secret", kClientSecret},
                  {"oidc_response_mode", "form_post"},
                  {"oidc_response_types", "id_token"}}));
  q = AuthUrl({{"role", "web"}, {"redirect_uri", kRedirect}});
  EXPECT_EQ(q["response_type"], "id_token");
  EXPECT_EQ(q.count("code_challenge"), 0u);
  Json c = Claims();
  c["nonce"] = q["nonce"];
  std::string id_token = Sign(key_, {{"alg", "RS256"}, {"kid", "k1"}}, c);
  ASSERT_TRUE(
      Do(Operation::kUpdate, "oidc/callback", {{"state", q["state"]}, {"id_token", id_token}}));
  r = Callback({{"state", q["state"]}});
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_EQ(r->login->display_name, "ada@example.com");
  // A forged one (another key) is refused.
  q = AuthUrl({{"role", "web"}, {"redirect_uri", kRedirect}});
  c["nonce"] = q["nonce"];
  Pkey other = MakeRsa();
  ASSERT_TRUE(
      Do(Operation::kUpdate, "oidc/callback",
         {{"state", q["state"]}, {"id_token", Sign(other, {{"alg", "RS256"}, {"kid", "k1"}}, c)}}));
  auto forged = Callback({{"state", q["state"]}});
  ASSERT_FALSE(forged.has_value());
  EXPECT_NE(forged.error().message().find("Token verification failed."), std::string::npos);
}

// A login begun under one config does not complete under the next.
TEST_F(JwtOidcTest, AConfigChangeEndsTheLoginsInProgress) {
  auto q = AuthUrl({{"redirect_uri", kRedirect}});
  std::string code = provider_.Authorize(q, Claims());
  EXPECT_EQ(method_->PendingLoginCount(), 1u);
  ASSERT_TRUE(Do(Operation::kUpdate, "config",
                 {{"oidc_discovery_url", kIssuer},
                  {"oidc_client_id", kClientId},
                  {"oidc_client_secret", kClientSecret},
                  {"default_role", "web"}}));
  EXPECT_EQ(method_->PendingLoginCount(), 0u);
  auto r = Callback({{"state", q["state"]}, {"code", code}});
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().message(), "Coffer login failed. Expired or missing OAuth state.");
}

TEST_F(JwtOidcTest, UserinfoClaimsJoinTheIdTokens) {
  provider_.userinfo = true;
  provider_.userinfo_claims = {{"sub", "u-1"}, {"groups", Json::array({"eng", "ops"})}};
  Remount();  // the discovery document now names a userinfo endpoint
  auto r = LogIn(Claims());
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_EQ(*r->login->group_aliases, (std::vector<std::string>{"eng", "ops"}));
  // Userinfo adds claims; it never changes what the ID token says of
  // itself and its subject.
  ASSERT_TRUE(Do(Operation::kUpdate, "role/web",
                 {{"claim_mappings", {{"name", "name"}, {"iss", "issuer"}}}}));
  provider_.userinfo_claims = {{"sub", "u-1"}, {"iss", "https://evil.example"}, {"exp", 1}};
  r = LogIn(Claims());
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_EQ(r->login->metadata["issuer"], kIssuer);
  // Another subject's userinfo is not used, and does not fail the login.
  provider_.userinfo_claims = {{"sub", "u-2"}, {"groups", Json::array({"admins"})}};
  r = LogIn(Claims());
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_EQ(*r->login->group_aliases, std::vector<std::string>{"eng"});
}

TEST(OidcFlowTest, RedirectsAndPendingLogins) {
  const std::vector<std::string> allowed{"https://app.example/cb", "http://localhost:8250/cb",
                                         "http://[::1]:8250/cb"};
  EXPECT_TRUE(RedirectAllowed("https://app.example/cb", allowed));
  EXPECT_FALSE(RedirectAllowed("https://app.example/cb/", allowed));
  EXPECT_FALSE(RedirectAllowed("https://app.example:8443/cb", allowed));
  EXPECT_FALSE(RedirectAllowed("https://user@app.example/cb", allowed));
  EXPECT_TRUE(RedirectAllowed("http://localhost:1234/cb", allowed));
  EXPECT_TRUE(RedirectAllowed("http://localhost/cb", allowed));
  EXPECT_FALSE(RedirectAllowed("https://localhost:8250/cb", allowed));
  EXPECT_TRUE(RedirectAllowed("http://[::1]:9/cb", allowed));
  EXPECT_FALSE(RedirectAllowed("http://127.0.0.1:8250/cb", allowed));
  EXPECT_FALSE(RedirectAllowed("not a uri", allowed));

  // base64url(SHA-256(verifier)), as Python's hashlib computes it.
  EXPECT_EQ(CodeChallenge("dBjftJeZ4CVP-mB92K9uhvpwbjKSCWRWmkeYqvIaZkY"),
            "lxeALYdZoDBLpVxYEI98hmK7xDuKMVFWRnr4FHA91r8");
  EXPECT_EQ(WithQuery("https://idp/authorize", {{"b", "x y"}, {"a", "1&2"}}),
            "https://idp/authorize?a=1%262&b=x%20y");
  EXPECT_EQ(WithQuery("https://idp/authorize?tenant=t", {{"a", "1"}}),
            "https://idp/authorize?tenant=t&a=1");

  FakeClock clock;
  PendingLogins pending(clock, /*capacity=*/2);
  PendingLogin a;
  a.role = "a";
  auto sa = pending.Add(a);
  auto sb = pending.Add(a);
  ASSERT_TRUE(sa && sb);
  auto full = pending.Add(a);
  ASSERT_FALSE(full.has_value());
  EXPECT_EQ(full.error().code(), Code::kUnavailable);
  EXPECT_TRUE(pending.Take(*sa).has_value());
  EXPECT_FALSE(pending.Take(*sa).has_value());
  EXPECT_TRUE(pending.Add(a).has_value());  // room again
  clock.Advance(PendingLogins::kLifetime + std::chrono::seconds(1));
  EXPECT_TRUE(pending.Add(a).has_value());  // the expired are swept to make room
  EXPECT_FALSE(pending.Take(*sb).has_value());
  EXPECT_EQ(pending.Size(), 1u);

  // Abandoned logins go within a minute of expiring, full or not.
  PendingLogins roomy(clock, /*capacity=*/100);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(roomy.Add(a).has_value());
  clock.Advance(PendingLogins::kLifetime + std::chrono::minutes(1));
  ASSERT_TRUE(roomy.Add(a).has_value());
  EXPECT_EQ(roomy.Size(), 1u);
  roomy.Clear();
  EXPECT_EQ(roomy.Size(), 0u);
}

}  // namespace
}  // namespace coffer::auth::jwt
