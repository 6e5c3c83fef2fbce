#include "common/duration.h"

#include <gtest/gtest.h>

namespace coffer {
namespace {

TEST(DurationTest, ParsesVaultForms) {
  EXPECT_EQ(ParseDuration("30s")->count(), 30);
  EXPECT_EQ(ParseDuration("15m")->count(), 900);
  EXPECT_EQ(ParseDuration("768h")->count(), 768 * 3600);
  EXPECT_EQ(ParseDuration("1h30m")->count(), 5400);
  EXPECT_EQ(ParseDuration("2d")->count(), 172800);
  EXPECT_EQ(ParseDuration("45")->count(), 45);
}

// Go's forms, as Vault's parseutil reads them (clients built on Go print a
// time.Duration so: "1.5s", "1m30.5s", "500ms"), truncated to seconds.
TEST(DurationTest, ParsesGoFormsTruncatedToSeconds) {
  EXPECT_EQ(ParseDuration("1.5h")->count(), 5400);
  EXPECT_EQ(ParseDuration("1m30.5s")->count(), 90);
  EXPECT_EQ(ParseDuration("1.5s")->count(), 1);
  EXPECT_EQ(ParseDuration("1500ms")->count(), 1);
  EXPECT_EQ(ParseDuration("500ms")->count(), 0);
  EXPECT_EQ(ParseDuration("2h0m0.000001s")->count(), 7200);
  EXPECT_EQ(ParseDuration("+30s")->count(), 30);
  EXPECT_EQ(ParseDuration("90000000us")->count(), 90);
  // The whole-unit forms up to Go's range (EndsWhereGosDurationEnds).
  EXPECT_EQ(ParseDuration("2562047h")->count(), 2562047LL * 3600);
  EXPECT_EQ(ParseGoDuration("1.001s")->count(), 1'001'000'000);
}

TEST(DurationTest, RejectsGarbage) {
  for (const char* bad : {"", "h", "-5s", "5x", "1h30", "99999999999999999999s", "1.5", ".s",
                          "-1.5h", "1.5x", "2562048.5h"}) {
    auto r = ParseDuration(bad);
    ASSERT_FALSE(r.has_value()) << bad;
    EXPECT_EQ(r.error().code(), Code::kInvalidArgument);
  }
}

// Go's time.Duration ends at 9,223,372,036 s; Vault's fields end there too,
// and so does ParseDuration (a longer TTL overflowed expiry arithmetic).
TEST(DurationTest, EndsWhereGosDurationEnds) {
  EXPECT_EQ(ParseDuration("9223372036")->count(), kMaxDurationSeconds);
  for (const char* bad : {"9223372037", "100000000000", "2562048h", "9223372036854775s"}) {
    auto r = ParseDuration(bad);
    ASSERT_FALSE(r.has_value()) << bad;
    EXPECT_EQ(r.error().code(), Code::kInvalidArgument);
  }
}

TEST(DurationTest, Formats) { EXPECT_EQ(FormatDuration(std::chrono::seconds(5400)), "1h30m0s"); }

TEST(DurationTest, HumanFormsDropZeroUnits) {
  using std::chrono::seconds;
  EXPECT_EQ(HumanDuration(seconds(768 * 3600)), "768h");
  EXPECT_EQ(HumanDuration(seconds(5400)), "1h30m");
  EXPECT_EQ(HumanDuration(seconds(3605)), "1h5s");
  EXPECT_EQ(HumanDuration(seconds(90)), "1m30s");
  EXPECT_EQ(HumanDuration(seconds(0)), "0s");
  EXPECT_EQ(HumanDuration(seconds(-300)), "-5m");
}

TEST(DurationTest, CappedWarningNamesBothDurations) {
  EXPECT_EQ(CappedTtlWarning("period", std::chrono::seconds(7200), std::chrono::seconds(3600)),
            "period of \"2h\" exceeded the effective max_ttl of \"1h\"; period value is capped "
            "accordingly");
}

}  // namespace
}  // namespace coffer
