#include "crypto/aead.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

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

// The prepared key (libsodium) and the one-shot functions (OpenSSL) make
// the same ciphertexts: each opens what the other sealed, at every length
// around the AES block and GHASH boundaries, with and without AAD.
TEST(PreparedAesGcmTest, OpensWhatTheOneShotSealsAndTheOtherWay) {
  SecretBytes key = Key();
  auto prepared = PreparedAesGcm::Create(key);
  if (prepared == nullptr) GTEST_SKIP() << "no AES-NI/PCLMUL on this CPU";
  for (std::size_t n : {0, 1, 15, 16, 17, 63, 64, 65, 300, 4097}) {
    std::string plain(n, 'x');
    for (std::size_t i = 0; i < n; ++i) plain[i] = static_cast<char>(i * 7 + 3);
    for (std::string_view aad : {std::string_view(), std::string_view("versions/app/1")}) {
      auto one_shot = AesGcmSeal(key, plain, aad);
      ASSERT_TRUE(one_shot.has_value());
      auto opened = prepared->Open(*one_shot, aad);
      ASSERT_TRUE(opened.has_value()) << n;
      EXPECT_EQ(*opened, plain);

      const std::uint8_t nonce[kGcmNonceSize] = {9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 1, 2};
      std::string mine = "H";
      ASSERT_TRUE(prepared->SealAppend(plain, aad, mine, nonce).ok());
      std::string theirs = "H";
      ASSERT_TRUE(AesGcmSealAppend(key, plain, aad, theirs, nonce).ok());
      EXPECT_EQ(mine, theirs) << n;  // same key and nonce: the same bytes
      auto back = AesGcmOpen(key, std::string_view(mine).substr(1), aad);
      ASSERT_TRUE(back.has_value()) << n;
      EXPECT_EQ(*back, plain);
    }
  }
}

TEST(PreparedAesGcmTest, RefusesWhatDoesNotAuthenticate) {
  SecretBytes key = Key();
  auto prepared = PreparedAesGcm::Create(key);
  if (prepared == nullptr) GTEST_SKIP() << "no AES-NI/PCLMUL on this CPU";
  auto other = PreparedAesGcm::Create(Key());
  ASSERT_NE(other, nullptr);
  auto sealed = AesGcmSeal(key, "some plaintext", "aad");
  ASSERT_TRUE(sealed.has_value());
  for (std::size_t i = 0; i < sealed->size(); ++i) {
    std::string bad = *sealed;
    bad[i] = static_cast<char>(bad[i] ^ 0x01);
    auto r = prepared->Open(bad, "aad");
    ASSERT_FALSE(r.has_value()) << "byte " << i;
    EXPECT_EQ(r.error().code(), Code::kPermissionDenied);
    EXPECT_EQ(r.error().message(), "message authentication failed");
  }
  EXPECT_FALSE(other->Open(*sealed, "aad").has_value());
  EXPECT_FALSE(prepared->Open(*sealed, "aae").has_value());
  EXPECT_FALSE(prepared->Open(*sealed, "").has_value());
  EXPECT_FALSE(prepared->Open(sealed->substr(0, sealed->size() - 1), "aad").has_value());
  EXPECT_FALSE(prepared->Open("short", "aad").has_value());
  // A failure leaves the state as it was: the next good value opens.
  auto good = prepared->Open(*sealed, "aad");
  ASSERT_TRUE(good.has_value());
  EXPECT_EQ(*good, "some plaintext");
  EXPECT_EQ(PreparedAesGcm::Create(SecretBytes(16)), nullptr);
  std::string out = "keep";
  const std::uint8_t short_nonce[8] = {};
  EXPECT_EQ(prepared->SealAppend("v", "a", out, short_nonce).code(), Code::kInvalidArgument);
  EXPECT_EQ(out, "keep");
}

// One prepared key serves many threads at once: its state is read-only.
TEST(PreparedAesGcmTest, ThreadsShareOnePreparedKey) {
  SecretBytes key = Key();
  crypto::LazyPreparedAesGcm lazy;
  if (lazy.Get(key) == nullptr) GTEST_SKIP() << "no AES-NI/PCLMUL on this CPU";
  std::vector<std::thread> threads;
  std::vector<int> failures(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      const PreparedAesGcm* p = lazy.Get(key);
      for (int i = 0; i < 2000; ++i) {
        std::string plain = "thread " + std::to_string(t) + " value " + std::to_string(i);
        std::uint8_t nonce[kGcmNonceSize] = {};
        if (!RandomFill(nonce).ok()) ++failures[t];
        std::string sealed;
        if (!p->SealAppend(plain, "aad", sealed, nonce).ok()) ++failures[t];
        auto opened = AesGcmOpen(key, sealed, "aad");
        if (!opened || *opened != plain) ++failures[t];
        auto again = p->Open(sealed, "aad");
        if (!again || *again != plain) ++failures[t];
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures, std::vector<int>(4, 0));
  EXPECT_EQ(lazy.Get(key), lazy.Get(key));
}

}  // namespace
}  // namespace coffer::crypto
