// Identity tokens (identity/oidc): keys, roles, signed tokens for the
// caller's entity, their verification with the published keys, rotation,
// introspection, and Vault's refusals.
#include <gtest/gtest.h>

#include "auth/jwt/keys.h"
#include "auth/jwt/token.h"
#include "common/encoding.h"
#include "core/core_fixture.h"

namespace coffer::core {
namespace {

using logical::Json;
using logical::Operation;

class IdentityTokensTest : public CoreFixture {
 protected:
  void SetUp() override {
    CoreFixture::SetUp();
    ASSERT_EQ(Call(Operation::kUpdate, "sys/auth/userpass", {{"type", "userpass"}}).http_status,
              204);
    ASSERT_EQ(Call(Operation::kUpdate, "sys/policies/acl/idt",
                   {{"policy", R"(path "identity/oidc/token/*" { capabilities = ["read"] })"}})
                  .http_status,
              204);
    ASSERT_EQ(Call(Operation::kUpdate, "auth/userpass/users/alice",
                   {{"password", "pw"}, {"token_policies", "idt"}})
                  .http_status,
              204);
    auto login = Call(Operation::kUpdate, "auth/userpass/login/alice", {{"password", "pw"}});
    ASSERT_EQ(login.http_status, 200) << login.data.dump();
    alice_ = login.auth["client_token"];
    entity_ = login.auth["entity_id"];
    ASSERT_FALSE(entity_.empty());
  }

  // The whole answer of a raw route (the well-known documents, introspect).
  static Json Raw(const logical::Response& r) { return r.raw ? *r.raw : Json(); }
  static std::string Error(const logical::Response& r) {
    return r.raw ? r.raw->dump() : r.data.dump();
  }

  Json Claims(const std::string& jwt) {
    auto parsed = auth::jwt::ParseJwt(jwt);
    EXPECT_TRUE(parsed.has_value());
    return parsed ? parsed->claims : Json();
  }

  // Whether `jwt` verifies with the keys published now (no token needed).
  bool VerifiesWithPublishedKeys(const std::string& jwt) {
    auto keys = Call(Operation::kRead, "identity/oidc/.well-known/keys", Json::object(), "");
    EXPECT_EQ(keys.http_status, 200);
    auto set = auth::jwt::ParseJwks(Raw(keys).dump());
    auto parsed = auth::jwt::ParseJwt(jwt);
    return set && parsed && auth::jwt::VerifyWithKeySet(*parsed, *set).ok();
  }

  std::string IssueAs(const std::string& token, const std::string& role) {
    auto r = Call(Operation::kRead, "identity/oidc/token/" + role, Json::object(), token);
    EXPECT_EQ(r.http_status, 200) << Error(r);
    return r.data.value("token", "");
  }

  std::string alice_;
  std::string entity_;
};

TEST_F(IdentityTokensTest, EveryAlgorithmSignsTokensThePublishedKeysVerify) {
  for (const char* alg : {"RS256", "RS384", "RS512", "ES256", "ES384", "ES512", "EdDSA"}) {
    SCOPED_TRACE(alg);
    const std::string key = std::string("k-") + alg;
    ASSERT_EQ(Call(Operation::kUpdate, "identity/oidc/key/" + key,
                   {{"algorithm", alg}, {"allowed_client_ids", "*"}})
                  .http_status,
              204);
    ASSERT_EQ(Call(Operation::kUpdate, "identity/oidc/role/r-" + std::string(alg),
                   {{"key", key}, {"ttl", "30m"}})
                  .http_status,
              204);
    const std::string jwt = IssueAs(alice_, std::string("r-") + alg);
    auto parsed = auth::jwt::ParseJwt(jwt);
    ASSERT_TRUE(parsed.has_value());
    EXPECT_EQ(parsed->alg, alg);
    EXPECT_TRUE(VerifiesWithPublishedKeys(jwt));
    // A changed claim no longer verifies.
    std::string forged = jwt;
    const std::size_t dot = forged.find('.');
    forged[dot + 5] = forged[dot + 5] == 'A' ? 'B' : 'A';
    EXPECT_FALSE(VerifiesWithPublishedKeys(forged));
  }
}

TEST_F(IdentityTokensTest, ATokenCarriesTheEntityAndTheRolesClaims) {
  ASSERT_EQ(Call(Operation::kUpdate, "identity/entity/id/" + entity_,
                 {{"metadata", {{"team", "payments"}}}})
                .http_status,
            204);
  auto group = Call(Operation::kUpdate, "identity/group",
                    {{"name", "devs"}, {"member_entity_ids", {entity_}}});
  ASSERT_EQ(group.http_status, 200) << group.data.dump();
  ASSERT_EQ(
      Call(Operation::kUpdate, "identity/oidc/key/k", {{"allowed_client_ids", "*"}}).http_status,
      204);
  const std::string tpl =
      R"({"team": {{identity.entity.metadata.team}}, "groups": {{identity.entity.groups.names}},
          "md": {{identity.entity.metadata}}, "nbf": {{time.now}}})";
  ASSERT_EQ(Call(Operation::kUpdate, "identity/oidc/role/app",
                 {{"key", "k"}, {"template", tpl}, {"ttl", 600}, {"client_id", "app-client"}})
                .http_status,
            204);
  auto role = Call(Operation::kRead, "identity/oidc/role/app");
  EXPECT_EQ(role.data["client_id"], "app-client");
  EXPECT_EQ(role.data["ttl"], 600);
  EXPECT_EQ(role.data["template"], tpl);

  const std::int64_t now = UnixSeconds(clock_.Wall());
  Json c = Claims(IssueAs(alice_, "app"));
  EXPECT_EQ(c["sub"], entity_);
  EXPECT_EQ(c["aud"], "app-client");
  EXPECT_EQ(c["namespace"], "root");
  EXPECT_EQ(c["iat"], now);
  EXPECT_EQ(c["exp"], now + 600);
  EXPECT_EQ(c["iss"], "/v1/identity/oidc");  // no api_addr, no configured issuer
  EXPECT_EQ(c["team"], "payments");
  EXPECT_EQ(c["groups"], Json::array({"devs"}));
  EXPECT_EQ(c["md"], Json({{"team", "payments"}}));
  EXPECT_EQ(c["nbf"], now);

  // A configured issuer is the base of iss and of the discovery document.
  ASSERT_EQ(Call(Operation::kUpdate, "identity/oidc/config",
                 {{"issuer", "https://coffer.example.com:8200"}})
                .http_status,
            200);
  EXPECT_EQ(Claims(IssueAs(alice_, "app"))["iss"],
            "https://coffer.example.com:8200/v1/identity/oidc");
  auto disc =
      Call(Operation::kRead, "identity/oidc/.well-known/openid-configuration", Json::object(), "");
  ASSERT_EQ(disc.http_status, 200);
  EXPECT_EQ(Raw(disc)["jwks_uri"],
            "https://coffer.example.com:8200/v1/identity/oidc/.well-known/keys");
  auto bad = Call(Operation::kUpdate, "identity/oidc/config",
                  {{"issuer", "https://coffer.example.com/path"}});
  EXPECT_EQ(bad.http_status, 400);
  EXPECT_NE(Error(bad).find("invalid issuer"), std::string::npos);
}

TEST_F(IdentityTokensTest, RefusalsChangeNothing) {
  ASSERT_EQ(Call(Operation::kUpdate, "identity/oidc/key/k",
                 {{"allowed_client_ids", "only-this"}, {"verification_ttl", "1h"}})
                .http_status,
            204);
  auto expect400 = [&](const logical::Response& r, const std::string& says) {
    EXPECT_EQ(r.http_status, 400) << Error(r);
    EXPECT_NE(Error(r).find(says), std::string::npos) << Error(r);
  };
  expect400(Call(Operation::kUpdate, "identity/oidc/key/x", {{"algorithm", "HS256"}}),
            "unknown signing algorithm \\\"HS256\\\"");
  expect400(Call(Operation::kUpdate, "identity/oidc/key/x", {{"rotation_period", 30}}),
            "rotation_period must be at least one minute");
  expect400(Call(Operation::kUpdate, "identity/oidc/key/x", {{"verification_ttl", -5}}),
            "verification_ttl is out of range");
  expect400(Call(Operation::kUpdate, "identity/oidc/key/x", {{"rotation_period", 9e18}}),
            "rotation_period is out of range");
  expect400(Call(Operation::kUpdate, "identity/oidc/config", {{"issuer", 5}}),
            "issuer must be a string");
  expect400(Call(Operation::kUpdate, "identity/oidc/role/r", Json::object()),
            "the key parameter is required");
  expect400(Call(Operation::kUpdate, "identity/oidc/role/r", {{"key", "nope"}}), "cannot find key");
  expect400(Call(Operation::kUpdate, "identity/oidc/role/r", {{"key", "k"}, {"ttl", "2h"}}),
            "cannot be longer than the verification_ttl");
  expect400(Call(Operation::kUpdate, "identity/oidc/role/r",
                 {{"key", "k"}, {"template", R"({"sub": 1})"}}),
            "top level key \\\"sub\\\" not allowed");
  expect400(Call(Operation::kUpdate, "identity/oidc/role/r",
                 {{"key", "k"}, {"template", R"({"a": {{identity.entity.nope}}})"}}),
            "error parsing template");
  expect400(Call(Operation::kUpdate, "identity/oidc/role/r", {{"key", "k"}, {"template", "[1]"}}),
            "error parsing template JSON");
  EXPECT_EQ(Call(Operation::kList, "identity/oidc/role").http_status, 404);
  EXPECT_EQ(Call(Operation::kList, "identity/oidc/key").data["keys"], Json::array({"k"}));

  // A role whose client ID the key does not list; a token without an entity.
  ASSERT_EQ(
      Call(Operation::kUpdate, "identity/oidc/role/r", {{"key", "k"}, {"ttl", "1h"}}).http_status,
      204);
  expect400(Call(Operation::kRead, "identity/oidc/token/r", Json::object(), alice_),
            "does not list the client ID of the role");
  ASSERT_EQ(
      Call(Operation::kUpdate, "identity/oidc/key/k", {{"allowed_client_ids", "*"}}).http_status,
      204);
  expect400(Call(Operation::kRead, "identity/oidc/token/r"),
            "no entity associated with the request's token");
  expect400(Call(Operation::kRead, "identity/oidc/token/none", Json::object(), alice_),
            "role \\\"none\\\" not found");
  // The key's verification TTL cannot drop below a role's TTL.
  expect400(Call(Operation::kUpdate, "identity/oidc/key/k", {{"verification_ttl", "30m"}}),
            "currently referenced by one or more roles");
  // A key in use, and the default key, are not deleted.
  expect400(Call(Operation::kDelete, "identity/oidc/key/k"),
            "currently referenced by these roles: r");
  expect400(Call(Operation::kDelete, "identity/oidc/key/default"),
            "deletion of key \\\"default\\\" not allowed");
  EXPECT_EQ(Call(Operation::kRead, "identity/oidc/key/k").data["verification_ttl"], 3600);
  // Only alice's policy reaches her tokens: another role's path is refused.
  EXPECT_EQ(Call(Operation::kUpdate, "identity/oidc/key/evil", Json::object(), alice_).http_status,
            403);
}

TEST_F(IdentityTokensTest, RotationKeepsOldTokensVerifiableForTheVerificationTtl) {
  ASSERT_EQ(
      Call(Operation::kUpdate, "identity/oidc/key/k",
           {{"allowed_client_ids", "*"}, {"rotation_period", "1h"}, {"verification_ttl", "2h"}})
          .http_status,
      204);
  ASSERT_EQ(
      Call(Operation::kUpdate, "identity/oidc/role/r", {{"key", "k"}, {"ttl", "1h"}}).http_status,
      204);
  auto kid_of = [](const std::string& jwt) { return auth::jwt::ParseJwt(jwt)->kid; };
  const std::string first = IssueAs(alice_, "r");
  // By hand: a new key signs; the old one is still published.
  ASSERT_EQ(Call(Operation::kUpdate, "identity/oidc/key/k/rotate").http_status, 204);
  const std::string second = IssueAs(alice_, "r");
  EXPECT_NE(kid_of(first), kid_of(second));
  EXPECT_TRUE(VerifiesWithPublishedKeys(first));
  EXPECT_TRUE(VerifiesWithPublishedKeys(second));
  // After the rotation period the key rotates by itself; after the
  // verification TTL the first key is no longer published.
  clock_.Advance(std::chrono::minutes(61));
  const std::string third = IssueAs(alice_, "r");
  EXPECT_NE(kid_of(third), kid_of(second));
  EXPECT_TRUE(VerifiesWithPublishedKeys(first));
  clock_.Advance(std::chrono::minutes(60));
  EXPECT_FALSE(VerifiesWithPublishedKeys(first));
  EXPECT_TRUE(VerifiesWithPublishedKeys(second));
  EXPECT_TRUE(VerifiesWithPublishedKeys(IssueAs(alice_, "r")));
}

TEST_F(IdentityTokensTest, IntrospectionChecksSignatureClaimsAndEntity) {
  ASSERT_EQ(Call(Operation::kUpdate, "identity/oidc/role/r", {{"key", "default"}}).http_status,
            204);
  const std::string client = Call(Operation::kRead, "identity/oidc/role/r").data["client_id"];
  EXPECT_EQ(client.size(), 26u);
  const std::string jwt = IssueAs(alice_, "r");
  auto introspect = [&](Json body) {
    auto r = Call(Operation::kUpdate, "identity/oidc/introspect", std::move(body));
    EXPECT_EQ(r.http_status, 200);
    return Raw(r);
  };
  EXPECT_EQ(introspect({{"token", jwt}}), Json({{"active", true}}));
  EXPECT_EQ(introspect({{"token", jwt}, {"client_id", client}}), Json({{"active", true}}));
  EXPECT_EQ(introspect({{"token", jwt}, {"client_id", "other"}})["active"], false);
  EXPECT_NE(
      introspect({{"token", "not.a.jwt"}})["error"].get<std::string>().find("error parsing token"),
      std::string::npos);
  // Another key's signature over the same claims.
  ASSERT_EQ(Call(Operation::kUpdate, "identity/oidc/key/other", {{"allowed_client_ids", "*"}})
                .http_status,
            204);
  ASSERT_EQ(Call(Operation::kUpdate, "identity/oidc/role/o", {{"key", "other"}}).http_status, 204);
  const std::string foreign = IssueAs(alice_, "o");
  const std::string spliced = jwt.substr(0, jwt.rfind('.')) + foreign.substr(foreign.rfind('.'));
  EXPECT_EQ(introspect({{"token", spliced}})["error"], "unable to validate the token signature");
  // Expired (beyond a minute's leeway), then a disabled entity.
  clock_.Advance(std::chrono::hours(25));
  EXPECT_EQ(introspect({{"token", jwt}})["active"], false);
  const std::string fresh = IssueAs(alice_, "r");
  ASSERT_EQ(
      Call(Operation::kUpdate, "identity/entity/id/" + entity_, {{"disabled", true}}).http_status,
      204);
  EXPECT_EQ(introspect({{"token", fresh}})["error"], "entity is disabled");
  ASSERT_EQ(
      Call(Operation::kUpdate, "identity/entity/id/" + entity_, {{"disabled", false}}).http_status,
      204);
  // nbf is not reserved: a template may take it from entity metadata, which
  // is text. Such a token is not active (go-jose reads a NumericDate).
  ASSERT_EQ(
      Call(Operation::kUpdate, "identity/entity/id/" + entity_, {{"metadata", {{"nbf", "1"}}}})
          .http_status,
      204);
  ASSERT_EQ(Call(Operation::kUpdate, "identity/oidc/role/r",
                 {{"key", "default"}, {"template", R"({"nbf": {{identity.entity.metadata.nbf}}})"}})
                .http_status,
            204);
  const std::string templated = IssueAs(alice_, "r");
  EXPECT_EQ(Claims(templated)["nbf"], "1");
  EXPECT_EQ(introspect({{"token", templated}})["error"],
            "error validating claims: nbf is not a NumericDate");
}

}  // namespace
}  // namespace coffer::core
