// AeadSeal inside a SealScope (one batch) keys the context once per key and
// only sets nonces; interleaved keys, types and plaintexts must still give
// ciphertexts that open with the right key only, exactly as outside a scope.
#include <gtest/gtest.h>

#include "engines/transit/cipher.h"

namespace coffer::engines::transit {
namespace {

SecretBytes Key(char fill, std::size_t n = 32) {
  return SecretBytes::FromString(std::string(n, fill));
}

std::string Nonce(char fill) { return std::string(kAeadNonceSize, fill); }

TEST(TransitSealScopeTest, InterleavedKeysMatchUnscopedSealing) {
  struct Item {
    KeyType type;
    char key;
    std::size_t key_size;
    std::string plaintext;
  };
  std::vector<Item> items = {
      {KeyType::kAes256Gcm96, 'a', 32, "one"},   {KeyType::kAes256Gcm96, 'a', 32, "two"},
      {KeyType::kAes256Gcm96, 'b', 32, "three"}, {KeyType::kChaCha20Poly1305, 'b', 32, "four"},
      {KeyType::kAes128Gcm96, 'c', 16, ""},      {KeyType::kAes256Gcm96, 'a', 32, "six"},
  };
  std::vector<std::string> unscoped;
  for (std::size_t i = 0; i < items.size(); ++i) {
    auto c = AeadSeal(items[i].type, Key(items[i].key, items[i].key_size),
                      Nonce(static_cast<char>('0' + i)), items[i].plaintext, "");
    ASSERT_TRUE(c.has_value());
    unscoped.push_back(*c);
  }
  {
    SealScope scope;
    for (std::size_t i = 0; i < items.size(); ++i) {
      auto c = AeadSeal(items[i].type, Key(items[i].key, items[i].key_size),
                        Nonce(static_cast<char>('0' + i)), items[i].plaintext, "");
      ASSERT_TRUE(c.has_value());
      EXPECT_EQ(*c, unscoped[i]) << i;
      auto p = AeadOpen(items[i].type, Key(items[i].key, items[i].key_size), *c, "");
      ASSERT_TRUE(p.has_value()) << i;
      EXPECT_EQ(std::string(p->view()), items[i].plaintext);
      // Another key does not open it.
      EXPECT_FALSE(AeadOpen(items[i].type, Key('z', items[i].key_size), *c, "").has_value());
    }
  }
  // After the scope, sealing works as before.
  auto c = AeadSeal(items[0].type, Key('a'), Nonce('0'), "one", "");
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(*c, unscoped[0]);
}

}  // namespace
}  // namespace coffer::engines::transit
