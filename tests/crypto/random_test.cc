#include "crypto/random.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cctype>
#include <regex>
#include <set>
#include <string>

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
    auto made = NewUuid();
    ASSERT_TRUE(made.has_value());
    std::string id = *made;
    ASSERT_TRUE(std::regex_match(id, kUuid)) << id;
    seen.insert(id);
  }
  EXPECT_EQ(seen.size(), 1000u);
}

TEST(RandomTest, NoncesNeverRepeatAcrossManyBufferRefills) {
  std::set<std::string> seen;
  for (int i = 0; i < 20000; ++i) {
    std::array<std::uint8_t, 12> nonce{};
    ASSERT_TRUE(RandomNonce(nonce).ok());
    ASSERT_TRUE(seen.emplace(reinterpret_cast<const char*>(nonce.data()), nonce.size()).second)
        << "nonce " << i << " repeated";
  }
  std::array<std::uint8_t, kMaxNonceSize + 1> too_long{};
  EXPECT_EQ(RandomNonce(too_long).code(), Code::kInvalidArgument);
}

TEST(RandomTest, AForkedChildDoesNotRepeatItsParentsNextNonce) {
  std::array<std::uint8_t, 12> first{};
  ASSERT_TRUE(RandomNonce(first).ok());  // the buffer now holds the next ones
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    std::array<std::uint8_t, 12> nonce{};
    bool ok = RandomNonce(nonce).ok() && write(fds[1], nonce.data(), nonce.size()) == 12;
    _exit(ok ? 0 : 1);
  }
  close(fds[1]);
  std::array<std::uint8_t, 12> in_child{};
  ASSERT_EQ(read(fds[0], in_child.data(), in_child.size()), 12);
  close(fds[0]);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  std::array<std::uint8_t, 12> in_parent{};
  ASSERT_TRUE(RandomNonce(in_parent).ok());
  EXPECT_NE(in_child, in_parent);
}

TEST(RandomTest, Base62IsUniformAlphabetOfTheAskedLength) {
  std::string a = RandomBase62(40).value();
  std::string b = RandomBase62(40).value();
  EXPECT_EQ(a.size(), 40u);
  EXPECT_NE(a, b);
  // More than one draw's worth of characters, and none.
  std::string big = RandomBase62(5000).value();
  EXPECT_EQ(big.size(), 5000u);
  EXPECT_EQ(RandomBase62(0).value(), "");
  // Every character is from [0-9A-Za-z], and all 62 appear in 5,000 draws.
  std::set<char> seen;
  for (char c : a + big) {
    EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c))) << c;
    seen.insert(c);
  }
  EXPECT_EQ(seen.size(), 62u);
}

}  // namespace
}  // namespace coffer::crypto
