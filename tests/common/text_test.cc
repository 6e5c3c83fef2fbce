#include "common/text.h"

#include <gtest/gtest.h>

namespace coffer {
namespace {

TEST(TextTest, TrimTakesOnlyTheGivenCharactersFromBothEnds) {
  EXPECT_EQ(Trim(" \tvalue \t"), "value");
  EXPECT_EQ(Trim("a b"), "a b");              // inside stays
  EXPECT_EQ(Trim("value\r\n"), "value\r\n");  // blanks only by default
  EXPECT_EQ(Trim("value\r\n", kLineSpace), "value");
  EXPECT_EQ(Trim("\v x \f", kWhitespace), "x");
  EXPECT_EQ(Trim("//secret/app/", "/"), "secret/app");
  EXPECT_EQ(Trim("/ kv / ", "/ "), "kv");
}

TEST(TextTest, TrimOfNothingButPaddingIsEmpty) {
  EXPECT_EQ(Trim(""), "");
  EXPECT_EQ(Trim(" \t "), "");
  EXPECT_EQ(Trim("///", "/"), "");
  static_assert(Trim("  x ") == "x", "usable at compile time");
}

}  // namespace
}  // namespace coffer
