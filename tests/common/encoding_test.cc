#include "common/encoding.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

namespace coffer {
namespace {

// sys/generate-root's encoding: XOR with the pad, base64 without padding.
TEST(EncodingTest, PadEncodingRoundTripsAndChecksLengths) {
  const std::string token = "hvs.abc";  // 7 bytes: base64 would end in '='
  const std::string pad = "0123456";
  std::optional<std::string> encoded = EncodeWithPad(token, pad);
  ASSERT_TRUE(encoded.has_value());
  EXPECT_EQ(encoded->find('='), std::string::npos);
  EXPECT_EQ(*encoded, "WEdBHVVXVQ");  // "hvs.abc" XOR "0123456"
  std::optional<SecretBytes> back = DecodeWithPad(*encoded, pad);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->view(), token);
  EXPECT_FALSE(EncodeWithPad(token, "short").has_value());
  EXPECT_FALSE(DecodeWithPad(*encoded, "short").has_value());
  EXPECT_FALSE(DecodeWithPad("not base64!", pad).has_value());
}

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

// As Go's decoder: CR and LF anywhere are skipped (base64(1) wraps lines),
// other whitespace is not.
TEST(EncodingTest, Base64IgnoresLineBreaks) {
  EXPECT_EQ(Base64Decode("YWJj\n")->view(), "abc");
  EXPECT_EQ(Base64Decode("YW\r\nJjZA\n==\n")->view(), "abcd");
  EXPECT_FALSE(Base64Decode("\r\n").has_value());
  EXPECT_FALSE(Base64Decode("YW Jj").has_value());
  EXPECT_FALSE(Base64Decode("YWJj\t").has_value());
  EXPECT_FALSE(Base64Decode("YQ=\n=A").has_value());
}

// The escaper skips eight plain bytes at a time: every byte that needs
// escaping ('"', '\\', each control character) must still be escaped at
// every position of a word, and the output must parse back to the input.
TEST(EncodingTest, JsonStringEscapesAtEveryPosition) {
  std::vector<char> specials = {'"', '\\', '\n', '\r', '\t', '\x01', '\x1f', '\x7f'};
  for (std::size_t len = 0; len <= 24; ++len) {
    for (std::size_t pos = 0; pos < len; ++pos) {
      for (char special : specials) {
        std::string in(len, 'a');
        in[pos] = special;
        std::string out;
        AppendJsonString(out, in);
        EXPECT_EQ(nlohmann::json::parse(out).get<std::string>(), in)
            << "length " << len << " position " << pos;
        if (static_cast<unsigned char>(special) < 0x20) {
          EXPECT_EQ(out.find(special), std::string::npos) << "raw control byte at " << pos;
        }
      }
    }
  }
  std::mt19937 rng(7);
  for (int round = 0; round < 2000; ++round) {
    std::string in(rng() % 40, ' ');
    for (char& c : in) c = static_cast<char>(rng() % 0x80);  // ASCII incl. controls
    std::string out = "prefix:";
    AppendJsonString(out, in);
    ASSERT_EQ(nlohmann::json::parse(out.substr(7)).get<std::string>(), in);
  }
  std::string utf8;
  AppendJsonString(utf8, "caf\xc3\xa9 \xe2\x82\xac");  // bytes >= 0x80 pass through
  EXPECT_EQ(utf8, "\"caf\xc3\xa9 \xe2\x82\xac\"");
}

TEST(EncodingTest, JsonObjectWriterPrintsWhatNlohmannPrints) {
  std::string out;
  JsonObjectWriter w(out);
  w.Bool("a", true);
  w.Int("b", -9223372036854775807 - 1);
  w.Raw("c", R"({"x":[1,2]})");
  w.StringMap("d", {{"k\"1", "v\n1"}, {"k2", ""}});
  w.StringArray("e", {"one", "t\\wo"});
  w.StringArray("f", {});
  w.String("g", "caf\xc3\xa9 \x01");
  w.StringMap("h", {});
  w.Close();
  nlohmann::json expected = {{"a", true},
                             {"b", INT64_MIN},
                             {"c", {{"x", {1, 2}}}},
                             {"d", {{"k\"1", "v\n1"}, {"k2", ""}}},
                             {"e", {"one", "t\\wo"}},
                             {"f", nlohmann::json::array()},
                             {"g", "caf\xc3\xa9 \x01"},
                             {"h", nlohmann::json::object()}};
  EXPECT_EQ(nlohmann::json::parse(out), expected);
  EXPECT_EQ(out, expected.dump());  // same bytes: keys sorted, same escapes here
}

TEST(EncodingTest, ParseGoBoolTakesGosFormsOnly) {
  for (const char* t : {"1", "t", "T", "TRUE", "true", "True"})
    EXPECT_EQ(ParseGoBool(t), true) << t;
  for (const char* f : {"0", "f", "F", "FALSE", "false", "False"}) {
    EXPECT_EQ(ParseGoBool(f), false) << f;
  }
  for (const char* bad : {"", "yes", "tRUE", " true", "2"})
    EXPECT_EQ(ParseGoBool(bad), std::nullopt) << bad;
}

TEST(EncodingTest, ParseInt64TakesTheWholeStringOrNothing) {
  EXPECT_EQ(ParseInt64("0"), 0);
  EXPECT_EQ(ParseInt64("42"), 42);
  EXPECT_EQ(ParseInt64("-7"), -7);
  EXPECT_EQ(ParseInt64("9223372036854775807"), INT64_MAX);
  for (const char* bad :
       {"", " 5", "5 ", "5abc", "+5", "0x10", "1e3", "9223372036854775808", "-"}) {
    EXPECT_FALSE(ParseInt64(bad).has_value()) << bad;
  }
}

// Numbers with an exponent as Go's encoding/json prints a float64, so that
// what a Go client wrote reads back as it wrote it; strings untouched.
TEST(EncodingTest, GoStyleExponentsPrintsNumbersAsGoDoes) {
  struct Case {
    const char* in;
    const char* want;
  };
  const Case cases[] = {
      {"1e-05", "0.00001"},
      {"2.5e-05", "0.000025"},
      {"1e-06", "0.000001"},
      {"9.99e-07", "9.99e-7"},
      {"1e-07", "1e-7"},
      {"-5e-324", "-5e-324"},
      {"1e+20", "100000000000000000000"},
      {"1.8446744073709552e+19", "18446744073709552000"},
      {"1.5e+16", "15000000000000000"},
      {"1e+21", "1e+21"},
      {"-1.2345e+300", "-1.2345e+300"},
      {"1.25E-10", "1.25e-10"},
      {"0e+00", "0"},
      {"1.5", "1.5"},
      {"0.0001", "0.0001"},
      {"-12", "-12"},
      {"1.0", "1.0"},
  };
  for (const Case& c : cases) {
    std::string text = c.in;
    GoStyleExponents(text);
    EXPECT_EQ(text, c.want) << c.in;
  }
  std::string doc = R"({"a":1e-05,"s":"1e-05 \" 2e+30","n":[1e+20,-3e-07,{"k":"x"}],"1e-05":true})";
  GoStyleExponents(doc);
  EXPECT_EQ(doc, R"({"a":0.00001,"s":"1e-05 \" 2e+30","n":[100000000000000000000,-3e-7,{"k":"x"}],)"
                 R"("1e-05":true})");
  // Only from the offset on; text without such a number is left as it is.
  std::string tail = "1e-05 then {\"v\":1e-05}";
  GoStyleExponents(tail, 11);
  EXPECT_EQ(tail, "1e-05 then {\"v\":0.00001}");
  std::string plain = R"({"type":"secret-e-1","v":12})";
  GoStyleExponents(plain);
  EXPECT_EQ(plain, R"({"type":"secret-e-1","v":12})");
}

}  // namespace
}  // namespace coffer
