#include "common/json_fast.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/json_scratch.h"

namespace coffer {
namespace {

using Json = nlohmann::json;

// Same value, same types and same serialisation as nlohmann's own parser
// (the one documented exception, "-0", has its own test).
void ExpectSameAsNlohmann(const std::string& text) {
  SCOPED_TRACE(text);
  std::optional<Json> fast = ParseJsonFast(text);
  ASSERT_TRUE(fast.has_value());
  Json reference = Json::parse(text);
  EXPECT_EQ(*fast, reference);
  EXPECT_EQ(fast->dump(), reference.dump());
  EXPECT_EQ(fast->type(), reference.type());
}

TEST(JsonFastTest, MatchesNlohmannOnValidDocuments) {
  for (
      const std::string& text : std::vector<std::string>{
          R"({"data":{"user":"alice","password":"s3cr\"et","n":5},"created_time":1795000000000000000})",
          R"({"a":[1,-2,3.5,-0.25,1e3,2E-2,true,false,null,"x"],"b":{}})",
          R"([])",
          R"("just a string")",
          R"(18446744073709551615)",  // UINT64_MAX: unsigned in both
          R"(-9223372036854775808)",  // INT64_MIN
          R"(9223372036854775807)",
          R"(0)",
          R"(-0.0)",
          R"({"esc":"\u00e9\u4e2d\ud83d\ude00\n\t\\\/\u0000"})",
          "{\"utf8\":\"\xc3\xa9\xe4\xb8\xad\xf0\x9f\x98\x80\"}",
          R"({"dup":1,"dup":2})",  // the last one wins
          " \t\r\n{\"ws\" : [ 1 , 2 ] } \n",
      }) {
    ExpectSameAsNlohmann(text);
  }
}

TEST(JsonFastTest, NonNegativeIntegersAreUnsignedAsInNlohmann) {
  auto j = ParseJsonFast(R"({"p":7,"n":-7})");
  ASSERT_TRUE(j.has_value());
  EXPECT_TRUE((*j)["p"].is_number_unsigned());
  EXPECT_TRUE((*j)["n"].is_number_integer());
  EXPECT_FALSE((*j)["n"].is_number_unsigned());
}

TEST(JsonFastTest, MinusZeroIsTheSameValueWithAnotherIntegerType) {
  auto fast = ParseJsonFast("[-0]");
  ASSERT_TRUE(fast.has_value());
  Json reference = Json::parse("[-0]");
  EXPECT_EQ(*fast, reference);
  EXPECT_EQ(fast->dump(), "[0]");
  EXPECT_EQ(reference.dump(), "[0]");
  EXPECT_TRUE((*fast)[0].is_number_unsigned());
  EXPECT_TRUE(reference[0].is_number_integer());
}

TEST(JsonFastTest, RejectsInvalidText) {
  for (const std::string& text : std::vector<std::string>{
           "", "{", "{\"a\":}", "[1,]", "{\"a\":1} x", "nul", "'single'", "{\"a\":01}",
           "\"\xff\"",             // invalid UTF-8
           "{\"a\":\"\\ud800\"}",  // a lone surrogate
       }) {
    SCOPED_TRACE(text);
    EXPECT_FALSE(ParseJsonFast(text).has_value());
    EXPECT_TRUE(Json::parse(text, nullptr, false).is_discarded());
  }
}

TEST(JsonFastTest, LeavesIntegersBeyond64BitsToTheCaller) {
  // nlohmann reads these as doubles; the caller falls back to it.
  EXPECT_FALSE(ParseJsonFast("18446744073709551616").has_value());
  EXPECT_FALSE(ParseJsonFast("-9223372036854775809").has_value());
  EXPECT_TRUE(Json::parse("18446744073709551616").is_number_float());
}

// The parser kept per thread must not keep what it parsed: the text's copy,
// its unescaped strings and its numbers are wiped when the call returns,
// whether the text parsed or not.
TEST(JsonFastTest, TheKeptParserHoldsNothingOfATextAfterTheCall) {
  const std::string canary = "canary-7f3a9c1e";
  const std::uint64_t number = 0x1122334455667788ULL;  // 1234605616436508552
  char number_bytes[sizeof number];
  std::memcpy(number_bytes, &number, sizeof number);
  const std::string_view number_view(number_bytes, sizeof number);
  for (const std::string& text : {
           R"({"data":{"password":")" + canary + R"(","pin":1234605616436508552}})",
           R"({"data":{"password":")" + canary + R"(\n","pin":1234605616436508552,"x":})",
       }) {
    SCOPED_TRACE(text);
    (void)ParseJsonFast(text);
    EXPECT_FALSE(internal::ScratchHolds(canary));
    EXPECT_FALSE(internal::ScratchHolds(number_view));
  }
}

// Texts over the kept parser's size, and short texts after them, parse
// alike (a parser of their own for the first).
TEST(JsonFastTest, LargeTextsAndShortOnesAfterThemParseAlike) {
  std::string large = R"({"blob":")" + std::string(3 * internal::ScratchParse::kScratchBytes, 'x') +
                      R"(","n":[1,2,3]})";
  ExpectSameAsNlohmann(large);
  ExpectSameAsNlohmann(R"({"n":[1,2,3],"s":"short"})");
  std::string edge(internal::ScratchParse::kScratchBytes - 8, ' ');
  edge.replace(0, 7, R"({"a":1})");
  ExpectSameAsNlohmann(edge);
}

}  // namespace
}  // namespace coffer
