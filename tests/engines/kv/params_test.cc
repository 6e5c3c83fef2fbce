#include "engines/kv/params.h"

#include <gtest/gtest.h>

#include <limits>

namespace coffer::engines::kv {
namespace {

TEST(KvParams, Durations) {
  auto secs = [](Json j) { return ParseDurationSeconds(j, "d"); };
  EXPECT_EQ(*secs(90), 90);
  EXPECT_EQ(*secs("90"), 90);
  EXPECT_EQ(*secs("90s"), 90);
  EXPECT_EQ(*secs("1h30m"), 5400);
  EXPECT_EQ(*secs("3h25m19s"), 12319);
  EXPECT_EQ(*secs("1.5h"), 5400);
  EXPECT_EQ(*secs("2d"), 172800);
  EXPECT_EQ(*secs("1500ms"), 1);
  EXPECT_EQ(*secs("-1s"), -1);
  EXPECT_EQ(*secs(""), 0);
  EXPECT_EQ(*secs("0"), 0);
  // A number of seconds is decimal, unlike an integer field ("010" is ten).
  EXPECT_EQ(*secs("010"), 10);
  EXPECT_FALSE(secs("0x10").has_value());
  EXPECT_FALSE(secs("soon").has_value());
  EXPECT_FALSE(secs("10x").has_value());
  EXPECT_FALSE(secs("h").has_value());
  EXPECT_FALSE(secs(true).has_value());

  EXPECT_EQ(FormatDurationSeconds(0), "0s");
  EXPECT_EQ(FormatDurationSeconds(45), "45s");
  EXPECT_EQ(FormatDurationSeconds(180), "3m0s");
  EXPECT_EQ(FormatDurationSeconds(3600), "1h0m0s");
  EXPECT_EQ(FormatDurationSeconds(12319), "3h25m19s");
  EXPECT_EQ(FormatDurationSeconds(-1), "-1s");
}

TEST(KvParams, VersionLists) {
  EXPECT_EQ(*ParseVersionList(Json{1, 2, "3"}, "v"), (std::vector<std::uint64_t>{1, 2, 3}));
  EXPECT_EQ(*ParseVersionList(Json("4, 5"), "v"), (std::vector<std::uint64_t>{4, 5}));
  EXPECT_EQ(*ParseVersionList(Json(6), "v"), (std::vector<std::uint64_t>{6}));
  EXPECT_FALSE(ParseVersionList(Json{1, -2}, "v").has_value());
  EXPECT_FALSE(ParseVersionList(Json("1,x"), "v").has_value());
  EXPECT_FALSE(ParseVersionList(Json{{"a", 1}}, "v").has_value());
}

TEST(KvParams, IntsBoolsAndKeys) {
  EXPECT_EQ(*ParseInt(Json("12"), "n"), 12);
  EXPECT_EQ(*ParseInt(Json(3.0), "n"), 3);
  EXPECT_FALSE(ParseInt(Json(3.5), "n").has_value());
  EXPECT_FALSE(ParseInt(Json("12a"), "n").has_value());
  // As Vault decodes an integer field from a string: "" is 0 (so
  // ?version= reads the latest), and Go's base prefixes count.
  EXPECT_EQ(*ParseInt(Json(""), "n"), 0);
  EXPECT_EQ(*ParseInt(Json("0x1f"), "n"), 31);
  EXPECT_EQ(*ParseInt(Json("0o17"), "n"), 15);
  EXPECT_EQ(*ParseInt(Json("017"), "n"), 15);
  EXPECT_EQ(*ParseInt(Json("0b101"), "n"), 5);
  EXPECT_EQ(*ParseInt(Json("-7"), "n"), -7);
  EXPECT_EQ(*ParseInt(Json("+7"), "n"), 7);
  EXPECT_EQ(*ParseInt(Json("0"), "n"), 0);
  EXPECT_EQ(*ParseInt(Json("-9223372036854775808"), "n"), std::numeric_limits<std::int64_t>::min());
  EXPECT_FALSE(ParseInt(Json("9223372036854775808"), "n").has_value());
  EXPECT_FALSE(ParseInt(Json("08"), "n").has_value());  // not octal
  EXPECT_FALSE(ParseInt(Json("0x"), "n").has_value());
  EXPECT_FALSE(ParseInt(Json("--1"), "n").has_value());
  EXPECT_FALSE(ParseInt(Json("-+1"), "n").has_value());
  EXPECT_FALSE(ParseInt(Json(" 1"), "n").has_value());
  EXPECT_TRUE(*ParseBool(Json("true"), "b"));
  EXPECT_FALSE(*ParseBool(Json(0), "b"));
  EXPECT_FALSE(ParseBool(Json("yes"), "b").has_value());

  EXPECT_TRUE(ValidateSecretKey("a/b-c.d").ok());
  EXPECT_FALSE(ValidateSecretKey("").ok());
  EXPECT_FALSE(ValidateSecretKey("/a").ok());
  EXPECT_FALSE(ValidateSecretKey("a/").ok());
  EXPECT_FALSE(ValidateSecretKey("a//b").ok());
  EXPECT_FALSE(ValidateSecretKey(std::string("a\0b", 3)).ok());
  EXPECT_FALSE(ValidateSecretKey(std::string(kMaxKeyLength + 1, 'a')).ok());
}

}  // namespace
}  // namespace coffer::engines::kv
