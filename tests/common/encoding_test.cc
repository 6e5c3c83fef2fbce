#include "common/encoding.h"

#include <gtest/gtest.h>

#include <vector>

namespace coffer {
namespace {

TEST(EncodingTest, HexRoundTrip) {
  std::string bytes("\x00\x01\xfe\xff zz", 7);
  std::string hex = HexEncode(bytes);
  EXPECT_EQ(hex, "0001feff207a7a");
  auto back = HexDecode(hex);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->view(), bytes);
  EXPECT_TRUE(HexDecode("0A0b").has_value());
}

TEST(EncodingTest, HexRejectsMalformed) {
  EXPECT_FALSE(HexDecode("abc").has_value());
  EXPECT_FALSE(HexDecode("zz").has_value());
  EXPECT_FALSE(HexDecode("0g").has_value());
}

TEST(EncodingTest, Base64RoundTripAllPaddings) {
  for (const std::string& s :
       std::vector<std::string>{"", "a", "ab", "abc", "abcd", std::string("\x00\xff\x10", 3)}) {
    std::string enc = Base64Encode(s);
    if (s.empty()) {
      EXPECT_EQ(enc, "");
      continue;
    }
    auto dec = Base64Decode(enc);
    ASSERT_TRUE(dec.has_value()) << enc;
    EXPECT_EQ(dec->view(), s);
  }
  EXPECT_EQ(Base64Encode("ab"), "YWI=");
}

TEST(EncodingTest, Base64RejectsMalformed) {
  EXPECT_FALSE(Base64Decode("YWI").has_value());
  EXPECT_FALSE(Base64Decode("Y!I=").has_value());
  EXPECT_FALSE(Base64Decode("").has_value());
  // Found by fuzz/fuzz_encoding: '=' anywhere but the last two places was
  // decoded ("====" as one zero byte, "AA==AAAA" as six bytes).
  for (const char* bad : {"====", "=AAA", "a===", "AA=A", "ab=c", "AA==AAAA", "YQ==YQ=="}) {
    EXPECT_FALSE(Base64Decode(bad).has_value()) << bad;
  }
  EXPECT_EQ(Base64Decode("YQ==")->view(), "a");
  EXPECT_EQ(Base64Decode("YWI=")->view(), "ab");
}

}  // namespace
}  // namespace coffer
