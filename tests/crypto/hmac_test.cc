#include "crypto/hmac.h"

#include <gtest/gtest.h>

namespace coffer::crypto {
namespace {

// RFC 4231 test case 2.
TEST(HmacTest, Rfc4231Case2) {
  auto mac = HmacSha256(std::string_view("Jefe"), "what do ya want for nothing?");
  ASSERT_TRUE(mac.has_value());
  EXPECT_EQ(ToHex(*mac), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

// RFC 4231 test case 1.
TEST(HmacTest, Rfc4231Case1) {
  SecretBytes key = SecretBytes::FromString(std::string(20, '\x0b'));
  auto mac = HmacSha256(key, "Hi There");
  ASSERT_TRUE(mac.has_value());
  EXPECT_EQ(ToHex(*mac), "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
}

TEST(HmacTest, EmptyKeyAndData) {
  auto mac = HmacSha256(std::string_view(""), "");
  ASSERT_TRUE(mac.has_value());
  EXPECT_EQ(ToHex(*mac), "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
}

TEST(HmacTest, Verify) {
  SecretBytes key = SecretBytes::FromString("k");
  auto mac = HmacSha256(key, "data");
  ASSERT_TRUE(mac.has_value());
  EXPECT_TRUE(HmacSha256Verify(key, "data", *mac));
  EXPECT_FALSE(HmacSha256Verify(key, "datb", *mac));
  std::string bad = *mac;
  bad[0] = static_cast<char>(bad[0] ^ 1);
  EXPECT_FALSE(HmacSha256Verify(key, "data", bad));
  EXPECT_FALSE(HmacSha256Verify(key, "data", mac->substr(1)));
}

}  // namespace
}  // namespace coffer::crypto
