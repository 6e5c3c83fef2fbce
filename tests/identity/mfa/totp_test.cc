#include "identity/mfa/totp.h"

#include <gtest/gtest.h>

#include "identity/mfa/qr.h"

namespace coffer::identity::mfa {
namespace {

std::string Code(const std::string& key, const std::string& alg, std::int64_t time) {
  TotpParams p;
  p.digits = 8;
  p.algorithm = alg;
  auto code = TotpCode(SecretBytes::FromString(key), p, time / 30);
  EXPECT_TRUE(code);
  return code ? std::string(code->view()) : "";
}

// RFC 6238 appendix B.
TEST(TotpTest, Rfc6238Vectors) {
  const std::string sha1 = "12345678901234567890";
  const std::string sha256 = "12345678901234567890123456789012";
  const std::string sha512 = "1234567890123456789012345678901234567890123456789012345678901234";
  EXPECT_EQ(Code(sha1, "SHA1", 59), "94287082");
  EXPECT_EQ(Code(sha256, "SHA256", 59), "46119246");
  EXPECT_EQ(Code(sha512, "SHA512", 59), "90693936");
  EXPECT_EQ(Code(sha1, "SHA1", 1111111109), "07081804");
  EXPECT_EQ(Code(sha256, "SHA256", 1234567890), "91819424");
  EXPECT_EQ(Code(sha512, "SHA512", 20000000000), "47863826");
}

TEST(TotpTest, MatchWithinSkewOnly) {
  SecretBytes key = SecretBytes::FromString("12345678901234567890");
  TotpParams p;  // 30 s, 6 digits, SHA1, skew 1
  const std::int64_t now = 1'767'225'600;
  const std::int64_t counter = now / 30;
  for (std::int64_t d = -3; d <= 3; ++d) {
    auto code = TotpCode(key, p, counter + d);
    ASSERT_TRUE(code);
    auto m = MatchTotp(key, p, now, code->view());
    if (d >= -1 && d <= 1) {
      ASSERT_TRUE(m) << d;
      EXPECT_EQ(*m, counter + d);
    } else {
      EXPECT_FALSE(m) << d;
    }
  }
  EXPECT_FALSE(MatchTotp(key, p, now, "12345"));
  EXPECT_FALSE(MatchTotp(key, p, now, "1234567"));
}

TEST(TotpTest, BadParamsAreRefused) {
  SecretBytes key = SecretBytes::FromString("k");
  TotpParams p;
  p.digits = 7;
  EXPECT_FALSE(TotpCode(key, p, 1));
  p.digits = 6;
  p.algorithm = "MD5";
  EXPECT_FALSE(TotpCode(key, p, 1));
}

TEST(TotpTest, OtpauthUrlCarriesBase32Secret) {
  SecretBytes key = SecretBytes::FromString("12345678901234567890");
  EXPECT_EQ(Base32(key), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
  TotpParams p;
  std::string url = OtpauthUrl(key, p, "Coffer Co", "alice");
  EXPECT_EQ(url,
            "otpauth://totp/Coffer%20Co:alice?algorithm=SHA1&digits=6&issuer=Coffer%20Co&period=30"
            "&secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
}

TEST(QrTest, WritesAPng) {
  auto png = QrPng("otpauth://totp/x:y?secret=ABC", 200);
  ASSERT_TRUE(png) << png.error().ToString();
  ASSERT_GT(png->size(), 8u);
  EXPECT_EQ(png->substr(1, 3), "PNG");
}

}  // namespace
}  // namespace coffer::identity::mfa
