#include "common/json_numbers.h"

#include <gtest/gtest.h>

#include <string>

#include "common/encoding.h"

namespace coffer {
namespace {

using Json = nlohmann::json;

JsonNumbersParse Parse(std::string_view text, bool keep) {
  auto r = ParseJsonNumbers(text, {.max_depth = 64, .keep_number_text = keep});
  EXPECT_TRUE(r.has_value()) << text;
  return r ? *std::move(r) : JsonNumbersParse{};
}

TEST(JsonNumbersTest, NumbersADoubleChangesAreKeptAsWritten) {
  // Each of these reads back as written: what Vault's json.Number gives.
  for (std::string_view n :
       {"123456789012345678901234567890", "18446744073709551616", "-9223372036854775809", "1.50",
        "1e5", "1E5", "2.5e-3", "1e-07", "0.100000000000000000001"}) {
    const std::string text = std::string(R"({"a":[)") + std::string(n) + "]}";
    JsonNumbersParse plain = Parse(text, false);
    EXPECT_TRUE(plain.inexact_numbers) << n;
    EXPECT_FALSE(IsNumberText(plain.value["a"][0])) << n;
    JsonNumbersParse kept = Parse(text, true);
    EXPECT_TRUE(kept.inexact_numbers) << n;
    ASSERT_TRUE(IsNumberText(kept.value["a"][0])) << n;
    EXPECT_EQ(NumberTextOf(kept.value["a"][0]), n);
    EXPECT_EQ(DumpJsonWithNumberText(kept.value), text);
    EXPECT_TRUE(SameButForNumberText(plain.value, kept.value)) << n;
  }
}

TEST(JsonNumbersTest, NumbersThatPrintBackStayNumbers) {
  // 64-bit integers are exact, and these doubles print as written: the
  // common case builds the same tree as nlohmann's parser.
  const std::string text =
      R"({"d":[0.5,1.5,-2.25,100000.0,1e-7,1e+21,0.30000000000000004],"i":[0,7,-7,18446744073709551615,-9223372036854775808],"s":"1e5"})";
  JsonNumbersParse kept = Parse(text, true);
  EXPECT_FALSE(kept.inexact_numbers);
  EXPECT_EQ(kept.value, Json::parse(text));
  EXPECT_TRUE(kept.value["i"][3].is_number_unsigned());
  EXPECT_TRUE(kept.value["d"][0].is_number_float());
  EXPECT_EQ(DumpJsonWithNumberText(kept.value), text);
}

TEST(JsonNumbersTest, WritesWhatTheServerWritesForEverythingElse) {
  // Keys sorted as nlohmann keeps them, strings escaped as dump() escapes
  // them (invalid UTF-8 replaced), doubles with Go's exponents.
  Json j = {{"z", "q\"\n\x01"},
            {"a", {1, nullptr, true, 1e-5, 1e300}},
            {"m", Json::object()},
            {"e", Json::array()},
            {"bad", std::string("\xff")}};
  std::string expected = j.dump(-1, ' ', false, Json::error_handler_t::replace);
  GoStyleExponents(expected);
  EXPECT_EQ(DumpJsonWithNumberText(j), expected);
  std::string pretty = j.dump(2, ' ', false, Json::error_handler_t::replace);
  GoStyleExponents(pretty);
  EXPECT_EQ(DumpJsonWithNumberText(j, 2), pretty);
  j["n"] = MakeNumberText("1.50");
  EXPECT_NE(DumpJsonWithNumberText(j, 2).find("\"n\": 1.50,\n"), std::string::npos);
  EXPECT_NE(DumpJsonWithNumberText(j).find(R"("n":1.50)"), std::string::npos);
}

TEST(JsonNumbersTest, RefusesWhatTheParserRefuses) {
  for (std::string_view bad : {"{", "{\"a\":1}x", "[1,]", "{\"a\":\"\xff\"}", "01", "1e400"}) {
    auto r = ParseJsonNumbers(bad, {.max_depth = 64, .keep_number_text = true});
    ASSERT_FALSE(r.has_value()) << bad;
    EXPECT_EQ(r.error().code(), Code::kInvalidArgument);
    EXPECT_EQ(r.error().message().rfind("failed to parse JSON input", 0), 0u) << bad;
  }
  // The depth is checked before a container is built; the top level is 0.
  EXPECT_TRUE(ParseJsonNumbers("[[[]]]", {.max_depth = 3}).has_value());
  auto deep = ParseJsonNumbers("[[[[]]]]", {.max_depth = 3});
  ASSERT_FALSE(deep.has_value());
  EXPECT_EQ(deep.error().message(), "failed to parse JSON input: nesting too deep");
  // The last of duplicate keys wins, as in nlohmann's parser and Go's.
  EXPECT_EQ(Parse(R"({"a":1.50,"a":2})", true).value, Json::parse(R"({"a":2})"));
}

TEST(JsonNumbersTest, SameButForNumberTextSeesAnyOtherChange) {
  const Json kept = Parse(R"({"a":{"b":[1.50,"x"]},"c":true})", true).value;
  const Json plain = Json::parse(R"({"a":{"b":[1.5,"x"]},"c":true})");
  EXPECT_TRUE(SameButForNumberText(plain, kept));
  for (const char* other :
       {R"({"a":{"b":[1.6,"x"]},"c":true})", R"({"a":{"b":[1.5,"y"]},"c":true})",
        R"({"a":{"b":[1.5]},"c":true})", R"({"a":{"b":[1.5,"x"]},"c":false})",
        R"({"a":{"b":[1.5,"x"]},"c":true,"d":1})", R"({"a":{"b":["1.5","x"]},"c":true})"}) {
    EXPECT_FALSE(SameButForNumberText(Json::parse(other), kept)) << other;
  }
}

TEST(JsonNumbersTest, WithoutNumberTextGivesTheDoubles) {
  const Json kept = Parse(R"({"ttl":1e3,"l":[2.50]})", true).value;
  EXPECT_EQ(WithoutNumberText(kept), Json::parse(R"({"ttl":1000.0,"l":[2.5]})"));
}

}  // namespace
}  // namespace coffer
