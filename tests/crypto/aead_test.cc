#include "crypto/aead.h"

#include <gtest/gtest.h>

#include "crypto/random.h"

namespace coffer::crypto {
namespace {

SecretBytes Key() { return std::move(RandomSecret(32).value()); }

TEST(AeadTest, RoundTrip) {
  SecretBytes key = Key();
  auto sealed = AesGcmSeal(key, "attack at dawn", "path/a");
  ASSERT_TRUE(sealed.has_value());
  EXPECT_EQ(sealed->size(), 14 + kGcmOverhead);
  EXPECT_EQ(sealed->find("attack"), std::string::npos);
  auto opened = AesGcmOpen(key, *sealed, "path/a");
  ASSERT_TRUE(opened.has_value()) << opened.error().ToString();
  EXPECT_EQ(*opened, "attack at dawn");
  auto secret = AesGcmOpenSecret(key, *sealed, "path/a");
  ASSERT_TRUE(secret.has_value());
  EXPECT_TRUE(secret->Equals(std::string_view("attack at dawn")));
}

TEST(AeadTest, EmptyPlaintextAndAad) {
  SecretBytes key = Key();
  auto sealed = AesGcmSeal(key, "", "");
  ASSERT_TRUE(sealed.has_value());
  EXPECT_EQ(sealed->size(), kGcmOverhead);
  auto opened = AesGcmOpen(key, *sealed, "");
  ASSERT_TRUE(opened.has_value());
  EXPECT_TRUE(opened->empty());
  auto secret = AesGcmOpenSecret(key, *sealed, "");
  ASSERT_TRUE(secret.has_value());
  EXPECT_TRUE(AesGcmOpen(key, *sealed, "x").error().code() == Code::kPermissionDenied);
}

TEST(AeadTest, NoncesDiffer) {
  SecretBytes key = Key();
  auto a = AesGcmSeal(key, "same", "k");
  auto b = AesGcmSeal(key, "same", "k");
  ASSERT_TRUE(a.has_value() && b.has_value());
  EXPECT_NE(*a, *b);
  EXPECT_NE(a->substr(0, kGcmNonceSize), b->substr(0, kGcmNonceSize));
}

TEST(AeadTest, EveryFlippedByteFails) {
  SecretBytes key = Key();
  auto sealed = AesGcmSeal(key, "some plaintext", "aad");
  ASSERT_TRUE(sealed.has_value());
  for (std::size_t i = 0; i < sealed->size(); ++i) {
    std::string bad = *sealed;
    bad[i] = static_cast<char>(bad[i] ^ 0x01);
    auto r = AesGcmOpen(key, bad, "aad");
    ASSERT_FALSE(r.has_value()) << "byte " << i;
    EXPECT_EQ(r.error().code(), Code::kPermissionDenied);
    EXPECT_EQ(r.error().message(), "message authentication failed");
  }
}

TEST(AeadTest, WrongKeyAadOrTruncationFails) {
  SecretBytes key = Key();
  SecretBytes other = Key();
  auto sealed = AesGcmSeal(key, "value", "aad");
  ASSERT_TRUE(sealed.has_value());
  EXPECT_FALSE(AesGcmOpen(other, *sealed, "aad").has_value());
  EXPECT_FALSE(AesGcmOpen(key, *sealed, "aae").has_value());
  EXPECT_FALSE(AesGcmOpen(key, sealed->substr(0, sealed->size() - 1), "aad").has_value());
  EXPECT_FALSE(AesGcmOpen(key, "short", "aad").has_value());
  EXPECT_FALSE(AesGcmOpenSecret(other, *sealed, "aad").has_value());
}

TEST(AeadTest, RejectsBadKeySize) {
  SecretBytes short_key(16);
  auto r = AesGcmSeal(short_key, "v", "");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), Code::kInvalidArgument);
}

TEST(AeadTest, AppendKeepsHeader) {
  SecretBytes key = Key();
  std::string out = "HDR";
  ASSERT_TRUE(AesGcmSealAppend(key, "payload", "a", out).ok());
  EXPECT_EQ(out.substr(0, 3), "HDR");
  auto opened = AesGcmOpen(key, std::string_view(out).substr(3), "a");
  ASSERT_TRUE(opened.has_value());
  EXPECT_EQ(*opened, "payload");
}

TEST(AeadTest, SealWithTheCallersNonce) {
  SecretBytes key = Key();
  const std::uint8_t nonce[kGcmNonceSize] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
  std::string out = "H";
  ASSERT_TRUE(AesGcmSealAppend(key, "payload", "a", out, nonce).ok());
  EXPECT_EQ(out.substr(1, kGcmNonceSize),
            std::string(reinterpret_cast<const char*>(nonce), kGcmNonceSize));
  auto opened = AesGcmOpen(key, std::string_view(out).substr(1), "a");
  ASSERT_TRUE(opened.has_value());
  EXPECT_EQ(*opened, "payload");
  // Anything but 12 bytes is refused and leaves `out` as it was.
  std::string before = out;
  const std::uint8_t short_nonce[8] = {};
  EXPECT_EQ(AesGcmSealAppend(key, "v", "a", out, short_nonce).code(), Code::kInvalidArgument);
  EXPECT_EQ(AesGcmSealAppend(key, "v", "a", out, std::span<const std::uint8_t>()).code(),
            Code::kInvalidArgument);
  EXPECT_EQ(out, before);
}

}  // namespace
}  // namespace coffer::crypto
