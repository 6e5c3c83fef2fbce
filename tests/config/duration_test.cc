#include "config/duration.h"

#include <gtest/gtest.h>

#include <cstdint>

namespace coffer::config {
namespace {

using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

TEST(DurationTest, ParsesVaultForms) {
  EXPECT_EQ(ParseDuration("768h").value(), hours(768));
  EXPECT_EQ(ParseDuration("30m").value(), minutes(30));
  EXPECT_EQ(ParseDuration("10s").value(), seconds(10));
  EXPECT_EQ(ParseDuration("1h30m").value(), minutes(90));
  EXPECT_EQ(ParseDuration("1.5h").value(), minutes(90));
  EXPECT_EQ(ParseDuration("250ms").value(), milliseconds(250));
  EXPECT_EQ(ParseDuration("2d").value(), hours(48));
  EXPECT_EQ(ParseDuration("30").value(), seconds(30));
  EXPECT_EQ(ParseDuration("0").value(), seconds(0));
  EXPECT_EQ(ParseDuration("0s").value(), seconds(0));
  EXPECT_EQ(ParseDuration("1500us").value(), milliseconds(1));
  EXPECT_EQ(ParseDuration("1m0.5s").value(), milliseconds(60500));
}

TEST(DurationTest, RejectsBadForms) {
  for (const char* bad : {"", "-1s", "-5", "10x", "h", "1h30", ".s", "1..5s", "s10", "10 s",
                          "99999999999999999999h", "1e3s"}) {
    auto d = ParseDuration(bad);
    EXPECT_FALSE(d.has_value()) << bad;
    if (!d.has_value()) {
      EXPECT_EQ(d.error().code(), Code::kInvalidArgument);
    }
  }
}

// Found by fuzz/fuzz_duration: fractions went through long double (so
// "0.007s" was 6 ms), and bare seconds were allowed 1000 times past the
// ~292-year limit of the unit forms, so FormatDuration's output of such a
// value did not parse back.
TEST(DurationTest, FractionsAreExactAndLimitsAgree) {
  EXPECT_EQ(ParseDuration("1.001s").value(), milliseconds(1001));
  EXPECT_EQ(ParseDuration("0.007s").value(), milliseconds(7));
  EXPECT_EQ(ParseDuration("2.999s").value(), milliseconds(2999));
  EXPECT_EQ(ParseDuration("1.0000001h").value(), milliseconds(3600000));
  EXPECT_EQ(ParseDuration("9223372036").value(), seconds(9223372036));
  EXPECT_FALSE(ParseDuration("9223372037").has_value());
  EXPECT_FALSE(ParseDuration("606033606033").has_value());
  EXPECT_FALSE(ParseDuration("2562048h").has_value());
  EXPECT_FALSE(ParseDuration("9223372036854775808ns").has_value());
  for (std::int64_t ms : {1001LL, 59999LL, 3600001LL, 9223372036000LL}) {
    EXPECT_EQ(ParseDuration(FormatDuration(milliseconds(ms))).value(), milliseconds(ms)) << ms;
  }
}

// Found by fuzz/fuzz_duration: the sign check ran before a leading '+' was
// dropped, so "+-7" parsed as -7 s (a negative TTL) and "+" as 0.
TEST(DurationTest, RejectsSignAfterPlus) {
  for (const char* bad : {"+-7", "+-1h", "+", "++1"}) {
    EXPECT_FALSE(ParseDuration(bad).has_value()) << bad;
  }
  EXPECT_EQ(ParseDuration("+7").value(), seconds(7));
  EXPECT_EQ(ParseDuration("+1h").value(), hours(1));
}

TEST(DurationTest, FormatsLikeVault) {
  EXPECT_EQ(FormatDuration(hours(768)), "768h0m0s");
  EXPECT_EQ(FormatDuration(seconds(90)), "1m30s");
  EXPECT_EQ(FormatDuration(seconds(0)), "0s");
  EXPECT_EQ(FormatDuration(milliseconds(1500)), "1.5s");
  EXPECT_EQ(FormatDuration(milliseconds(250)), "250ms");
  EXPECT_EQ(ParseDuration(FormatDuration(minutes(61))).value(), minutes(61));
}

}  // namespace
}  // namespace coffer::config
