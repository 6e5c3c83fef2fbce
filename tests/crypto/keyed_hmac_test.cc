#include "crypto/keyed_hmac.h"

#include <gtest/gtest.h>

#include <array>
#include <string>
#include <thread>
#include <vector>

#include "common/secret_bytes.h"
#include "crypto/hmac.h"

namespace coffer::crypto {
namespace {

// The keyed states are as good as the key (the token and audit salts):
// they sit in the secure heap, as SecretBytes do, not in the ordinary one
// that a core dump or swap would carry.
TEST(KeyedHmacTest, TheKeyedStatesLiveInTheSecureHeap) {
  if (!InitSecureMemory(1 << 16)) GTEST_SKIP() << "mlock refused: no secure arena";
  auto keyed = KeyedHmac::Create(std::string(32, 's'));
  ASSERT_TRUE(keyed.has_value());
  EXPECT_TRUE((*keyed)->InSecureMemory());
}

// The pre-keyed MAC must equal the one-shot HMAC for every key shape
// (empty, short, exactly one block, longer than a block: hashed first) and
// stay equal when the saved states are reused.
TEST(KeyedHmacTest, MatchesOneShotHmacForEveryKeyShape) {
  const std::vector<std::string> keys = {"", "k", std::string(64, 'b'), std::string(200, 'c')};
  const std::vector<std::string> values = {"", "hvs.token", std::string(1000, 'v')};
  for (const auto& key : keys) {
    auto keyed = KeyedHmac::Create(key);
    ASSERT_TRUE(keyed.has_value());
    for (int round = 0; round < 3; ++round) {
      for (const auto& value : values) {
        auto got = (*keyed)->Mac(value);
        auto want = HmacSha256(key, value);
        ASSERT_TRUE(got.has_value() && want.has_value());
        EXPECT_EQ(ToHex(*got), ToHex(*want)) << "key size " << key.size();
      }
    }
  }
}

// RFC 4231 test cases 1 and 6 (a key longer than the block is hashed first),
// independent of OpenSSL's own HMAC.
TEST(KeyedHmacTest, Rfc4231Vectors) {
  auto short_key = KeyedHmac::Create(std::string(20, '\x0b'));
  ASSERT_TRUE(short_key.has_value());
  EXPECT_EQ(ToHex((*short_key)->Mac("Hi There").value()),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  auto long_key = KeyedHmac::Create(std::string(131, '\xaa'));
  ASSERT_TRUE(long_key.has_value());
  std::array<unsigned char, KeyedHmac::kSize> mac{};
  (*long_key)->MacInto("Test Using Larger Than Block-Size Key - Hash Key First", mac);
  EXPECT_EQ(ToHex(std::string_view(reinterpret_cast<const char*>(mac.data()), mac.size())),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

TEST(KeyedHmacTest, ConcurrentCallersGetTheirOwnMac) {
  auto keyed = KeyedHmac::Create("salt");
  ASSERT_TRUE(keyed.has_value());
  std::vector<std::thread> threads;
  std::vector<int> mismatches(8, 0);
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 500; ++i) {
        const std::string value = "value-" + std::to_string(t) + "-" + std::to_string(i);
        if ((*keyed)->Mac(value).value() != HmacSha256(std::string_view("salt"), value).value()) {
          ++mismatches[t];
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  for (int m : mismatches) EXPECT_EQ(m, 0);
}

}  // namespace
}  // namespace coffer::crypto
