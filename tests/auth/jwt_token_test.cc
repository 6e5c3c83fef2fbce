#include <gtest/gtest.h>
#include <openssl/hmac.h>

#include "auth/jwt/claims.h"
#include "auth/jwt/keys.h"
#include "auth/jwt/token.h"
#include "auth/jwt_test_util.h"
#include "common/encoding.h"

namespace coffer::auth::jwt {
namespace {

using namespace ::coffer::auth::jwt::testing;  // NOLINT

const Json kClaims = {{"sub", "repo:acme/app:ref:refs/heads/main"}, {"exp", 2000000000}};

Status VerifyPem(const Pkey& key, const std::string& token) {
  auto pub = ParsePemPublicKey(PublicPem(key));
  if (!pub) return pub.error();
  auto jwt = ParseJwt(token);
  if (!jwt) return jwt.error();
  return VerifyWithKeySet(*jwt, KeySet{*pub});
}

TEST(Base64UrlTest, RoundTripsAndIsStrict) {
  for (std::string s : {"", "f", "fo", "foo", "foob", "fooba", "foobar", "\xff\xfe\x00"}) {
    auto enc = Base64UrlEncode(s);
    EXPECT_EQ(enc.find('='), std::string::npos);
    auto dec = Base64UrlDecode(enc);
    ASSERT_TRUE(dec.has_value()) << enc;
    EXPECT_EQ(*dec, s);
  }
  EXPECT_EQ(Base64UrlEncode("\xfb\xff"), "-_8");
  EXPECT_FALSE(Base64UrlDecode("Zg==").has_value());   // padding
  EXPECT_FALSE(Base64UrlDecode("Zm9v+").has_value());  // standard alphabet
  EXPECT_FALSE(Base64UrlDecode("Z").has_value());      // dangling character
  EXPECT_FALSE(Base64UrlDecode("Zh").has_value());     // non-zero spare bits
}

TEST(JwtVerifyTest, RsaAlgorithmsVerifyWithPemKey) {
  Pkey key = MakeRsa();
  for (const char* alg : {"RS256", "RS384", "RS512"}) {
    std::string token = Sign(key, {{"alg", alg}, {"typ", "JWT"}}, kClaims);
    EXPECT_TRUE(VerifyPem(key, token).ok()) << alg;
  }
}

TEST(JwtVerifyTest, EcAndEd25519VerifyWithJwks) {
  Pkey p256 = MakeEc("P-256"), p384 = MakeEc("P-384"), p521 = MakeEc("P-521"), ed = MakeEd25519(),
       rsa = MakeRsa();
  auto keys = ParseJwks(
      Jwks({Jwk(p256, "a"), Jwk(p384, "b"), Jwk(ed, "c"), Jwk(rsa, "d"), Jwk(p521, "e")}));
  ASSERT_TRUE(keys.has_value()) << keys.error().ToString();
  ASSERT_EQ(keys->size(), 5u);
  struct Case {
    Pkey key;
    const char* alg;
    const char* kid;
  };
  for (const Case& c : {Case{p256, "ES256", "a"}, Case{p384, "ES384", "b"}, Case{ed, "EdDSA", "c"},
                        Case{rsa, "RS256", "d"}, Case{p521, "ES512", "e"}}) {
    auto jwt = ParseJwt(Sign(c.key, {{"alg", c.alg}, {"kid", c.kid}}, kClaims));
    ASSERT_TRUE(jwt.has_value());
    EXPECT_TRUE(VerifyWithKeySet(*jwt, *keys).ok()) << c.alg;
    // Without a kid every fitting key is tried.
    auto no_kid = ParseJwt(Sign(c.key, {{"alg", c.alg}}, kClaims));
    EXPECT_TRUE(VerifyWithKeySet(*no_kid, *keys).ok()) << c.alg;
  }
  EXPECT_TRUE(VerifyPem(ed, Sign(ed, {{"alg", "EdDSA"}}, kClaims)).ok());
  EXPECT_TRUE(VerifyPem(p256, Sign(p256, {{"alg", "ES256"}}, kClaims)).ok());
  EXPECT_TRUE(VerifyPem(p521, Sign(p521, {{"alg", "ES512"}}, kClaims)).ok());
  // A P-521 key verifies ES512 only.
  EXPECT_FALSE(VerifyPem(p521, Sign(p521, {{"alg", "ES384"}}, kClaims)).ok());
}

TEST(JwtVerifyTest, TamperedTokenFails) {
  for (Pkey key : {MakeRsa(), MakeEc(), MakeEd25519()}) {
    std::string alg = EVP_PKEY_is_a(key.get(), "RSA")  ? "RS256"
                      : EVP_PKEY_is_a(key.get(), "EC") ? "ES256"
                                                       : "EdDSA";
    std::string good = Sign(key, {{"alg", alg}}, kClaims);
    Json evil = kClaims;
    evil["sub"] = "repo:evil/app";
    std::string forged = Sign(key, {{"alg", alg}}, kClaims);
    auto dot = forged.find('.');
    auto dot2 = forged.find('.', dot + 1);
    forged = forged.substr(0, dot + 1) + Base64UrlEncode(evil.dump()) + forged.substr(dot2);
    Status s = VerifyPem(key, forged);
    EXPECT_EQ(s.message(), "signature verification failed") << alg;
    // A signature from another key of the same type fails too.
    Pkey other = EVP_PKEY_is_a(key.get(), "RSA")  ? MakeRsa()
                 : EVP_PKEY_is_a(key.get(), "EC") ? MakeEc()
                                                  : MakeEd25519();
    EXPECT_EQ(VerifyPem(other, good).message(), "signature verification failed") << alg;
  }
}

TEST(JwtVerifyTest, NoneAndHmacAreRefused) {
  Pkey rsa = MakeRsa();
  auto none = ParseJwt(Unsigned({{"alg", "none"}}, kClaims));
  ASSERT_FALSE(none.has_value());
  EXPECT_EQ(none.error().message(), "unsupported algorithm none");
  EXPECT_FALSE(ParseJwt(Unsigned({{"alg", "none"}}, kClaims, "x")).has_value());
  EXPECT_FALSE(ParseJwt(Unsigned({{"alg", "None"}}, kClaims, "x")).has_value());
  EXPECT_FALSE(ParseJwt(Unsigned({{"typ", "JWT"}}, kClaims, "x")).has_value());

  // The classic confusion: HS256 keyed with the RSA public key's PEM.
  std::string pem = PublicPem(rsa);
  std::string input =
      Base64UrlEncode(Json({{"alg", "HS256"}}).dump()) + "." + Base64UrlEncode(kClaims.dump());
  unsigned char mac[32];
  unsigned int mac_len = 0;
  HMAC(EVP_sha256(), pem.data(), static_cast<int>(pem.size()),
       reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &mac_len);
  std::string token =
      input + "." + Base64UrlEncode(std::string(reinterpret_cast<char*>(mac), mac_len));
  auto hs = ParseJwt(token);
  ASSERT_FALSE(hs.has_value());
  EXPECT_NE(hs.error().message().find("unsupported algorithm HS256"), std::string::npos);
  for (const char* alg : {"HS384", "HS512", "PS256", "ES256K"}) {
    EXPECT_FALSE(ParseJwt(Unsigned({{"alg", alg}}, kClaims, "sig")).has_value()) << alg;
  }
}

TEST(JwtVerifyTest, AlgMustFitKeyType) {
  Pkey rsa = MakeRsa(), ec = MakeEc(), p384 = MakeEc("P-384");
  // An ES256 header over an RSA key, an RS256 header over an EC key, a
  // P-384 key claimed as ES256.
  auto a = ParseJwt(Sign(ec, {{"alg", "ES256"}}, kClaims));
  EXPECT_EQ(VerifyWithKeySet(*a, KeySet{*ParsePemPublicKey(PublicPem(rsa))}).message(),
            "algorithm does not match the key type");
  auto b = ParseJwt(Sign(rsa, {{"alg", "RS256"}}, kClaims));
  EXPECT_EQ(VerifyWithKeySet(*b, KeySet{*ParsePemPublicKey(PublicPem(ec))}).message(),
            "algorithm does not match the key type");
  auto c = ParseJwt(Sign(p384, {{"alg", "ES384"}}, kClaims));
  c->alg = "ES256";
  EXPECT_FALSE(VerifyWithKeySet(*c, KeySet{*ParsePemPublicKey(PublicPem(p384))}).ok());
  // A JWK that names its alg verifies only that alg.
  Json jwk = Jwk(rsa, "k");
  jwk["alg"] = "RS512";
  auto keys = ParseJwks(Jwks({jwk}));
  EXPECT_EQ(VerifyWithKeySet(*b, *keys).message(), "algorithm does not match the key type");
}

TEST(JwtVerifyTest, UnknownKidIsNotFound) {
  Pkey rsa = MakeRsa();
  auto keys = ParseJwks(Jwks({Jwk(rsa, "k1")}));
  auto jwt = ParseJwt(Sign(rsa, {{"alg", "RS256"}, {"kid", "k2"}}, kClaims));
  Status s = VerifyWithKeySet(*jwt, *keys);
  EXPECT_EQ(s.code(), Code::kNotFound);
  EXPECT_EQ(s.message(), "unknown key id");
}

TEST(JwtVerifyTest, MalformedTokensAndKeys) {
  for (const char* t :
       {"", "a.b", "a.b.c.d", "!!.e30.c", "e30.e30.", "eyJhbGciOiJSUzI1NiJ9.W10.c2ln"}) {
    EXPECT_FALSE(ParseJwt(t).has_value()) << t;
  }
  EXPECT_FALSE(ParsePemPublicKey("not a pem").has_value());
  EXPECT_FALSE(ParsePemPublicKey(PublicPem(MakeRsa(1024))).has_value());  // too small
  EXPECT_FALSE(ParseJwks("{}").has_value());
  EXPECT_FALSE(ParseJwks(R"({"keys":[{"kty":"RSA","n":"AQ"}]})").has_value());
  EXPECT_FALSE(ParseJwks(R"({"keys":[{"kty":"oct","k":"c2VjcmV0"}]})").has_value());
  EXPECT_FALSE(JoseToDerEcdsa(std::string(63, 'x'), 32).has_value());
}

TEST(JwtClaimsTest, TimesWithLeeways) {
  Leeways l;  // 60 / 150 / 150
  const std::int64_t now = 1'800'000'000;
  EXPECT_TRUE(CheckTimes({{"exp", now + 10}}, now, l).ok());
  EXPECT_TRUE(CheckTimes({{"exp", now - 200}}, now, l).ok());  // within 150 + 60
  EXPECT_EQ(CheckTimes({{"exp", now - 211}}, now, l).message(), "token is expired");
  EXPECT_EQ(CheckTimes(Json::object(), now, l).message(), "token has no exp claim");
  EXPECT_TRUE(CheckTimes({{"exp", now + 999}, {"nbf", now + 200}}, now, l).ok());
  EXPECT_FALSE(CheckTimes({{"exp", now + 999}, {"nbf", now + 211}}, now, l).ok());
  EXPECT_TRUE(CheckTimes({{"exp", now + 999}, {"iat", now + 60}}, now, l).ok());
  EXPECT_FALSE(CheckTimes({{"exp", now + 999}, {"iat", now + 61}}, now, l).ok());
  EXPECT_FALSE(CheckTimes({{"exp", "soon"}}, now, l).ok());
  Leeways none{0, 0, 0};
  EXPECT_FALSE(CheckTimes({{"exp", now - 1}}, now, none).ok());
  EXPECT_TRUE(CheckTimes({{"exp", now + 0.5}}, now, none).ok());
}

TEST(JwtClaimsTest, AudienceAndBoundClaims) {
  EXPECT_TRUE(CheckAudience({{"aud", "coffer"}}, {"other", "coffer"}).ok());
  EXPECT_TRUE(CheckAudience({{"aud", {"x", "coffer"}}}, {"coffer"}).ok());
  EXPECT_EQ(CheckAudience({{"aud", "x"}}, {"coffer"}).message(),
            "aud claim does not match any bound audience");
  EXPECT_FALSE(CheckAudience(Json::object(), {"coffer"}).ok());
  EXPECT_FALSE(CheckAudience({{"aud", "x"}}, {}).ok());
  EXPECT_TRUE(CheckAudience(Json::object(), {}).ok());

  Json claims = {{"repository", "acme/app"},
                 {"ref", "refs/heads/main"},
                 {"groups", {"dev", "ops"}},
                 {"run", 42},
                 {"nested", {{"env", "prod"}}}};
  EXPECT_TRUE(CheckBoundClaims(claims, {{"repository", "acme/app"}}, false).ok());
  EXPECT_TRUE(CheckBoundClaims(claims, {{"groups", {"ops", "x"}}, {"run", "42"}}, false).ok());
  EXPECT_TRUE(CheckBoundClaims(claims, {{"/nested/env", "prod"}}, false).ok());
  EXPECT_FALSE(CheckBoundClaims(claims, {{"repository", "acme/*"}}, false).ok());
  EXPECT_TRUE(CheckBoundClaims(claims, {{"repository", "acme/*"}}, true).ok());
  EXPECT_TRUE(CheckBoundClaims(claims, {{"ref", {"refs/tags/*", "refs/heads/ma*"}}}, true).ok());
  EXPECT_EQ(CheckBoundClaims(claims, {{"ref", "refs/tags/*"}}, true).message(),
            "claim \"ref\" does not match any associated bound claim values");
  EXPECT_EQ(CheckBoundClaims(claims, {{"environment", "prod"}}, false).message(),
            "claim \"environment\" is missing");
}

TEST(JwtClaimsTest, Glob) {
  EXPECT_TRUE(GlobMatch("*", ""));
  EXPECT_TRUE(GlobMatch("a*c", "abbbc"));
  EXPECT_TRUE(GlobMatch("*main", "refs/heads/main"));
  EXPECT_TRUE(GlobMatch("a*b*c", "aXbYc"));
  EXPECT_FALSE(GlobMatch("a*b*c", "aXcYb"));
  EXPECT_FALSE(GlobMatch("abc", "abcd"));
  EXPECT_FALSE(GlobMatch("a?c", "abc"));  // only '*' is special
  EXPECT_TRUE(GlobMatch("a?c", "a?c"));
}

// Found by fuzz_jwt: a JWKS member of the wrong JSON type (a remote
// document) threw out of ParseJwks and ended the process.
TEST(JwtVerifyTest, JwksMembersOfTheWrongTypeAreNotKeys) {
  for (const char* doc :
       {R"({"keys":[{"kty":"EC","crv":1,"x":"AA","y":"AA"}]})", R"({"keys":[{"kty":7}]})",
        R"({"keys":[{"kty":"OKP","crv":["Ed25519"],"x":"AA"}]})"}) {
    auto keys = ParseJwks(doc);
    if (keys) {
      EXPECT_TRUE(keys->empty()) << doc;
    } else {
      EXPECT_EQ(keys.error().code(), Code::kInvalidArgument) << doc;
    }
  }
}

}  // namespace
}  // namespace coffer::auth::jwt
