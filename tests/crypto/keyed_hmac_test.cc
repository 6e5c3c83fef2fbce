#include "crypto/keyed_hmac.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "crypto/hmac.h"

namespace coffer::crypto {
namespace {

// The pre-keyed MAC must equal the one-shot HMAC for every key shape
// (empty, short, exactly one block, longer than a block: hashed first) and
// stay equal when contexts are reused from the pool.
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
