#include "crypto/random.h"

#include <gtest/gtest.h>

#include <regex>
#include <set>

namespace coffer::crypto {
namespace {

TEST(RandomTest, SecretHasSizeAndDiffers) {
  auto a = RandomSecret(32);
  auto b = RandomSecret(32);
  ASSERT_TRUE(a.has_value());
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(a->size(), 32u);
  EXPECT_FALSE(a->Equals(*b));
}

TEST(RandomTest, StringHasSize) {
  auto s = RandomString(17);
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->size(), 17u);
  auto empty = RandomString(0);
  ASSERT_TRUE(empty.has_value());
  EXPECT_TRUE(empty->empty());
}

TEST(RandomTest, UuidIsVersion4AndUnique) {
  static const std::regex kUuid(
      "^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$");
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    std::string id = NewUuid();
    ASSERT_TRUE(std::regex_match(id, kUuid)) << id;
    seen.insert(id);
  }
  EXPECT_EQ(seen.size(), 1000u);
}

}  // namespace
}  // namespace coffer::crypto
