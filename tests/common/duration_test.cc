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

TEST(DurationTest, RejectsGarbage) {
  for (const char* bad : {"", "h", "-5s", "5x", "1h30", "99999999999999999999s", "1.5h"}) {
    auto r = ParseDuration(bad);
    ASSERT_FALSE(r.has_value()) << bad;
    EXPECT_EQ(r.error().code(), Code::kInvalidArgument);
  }
}

TEST(DurationTest, Formats) { EXPECT_EQ(FormatDuration(std::chrono::seconds(5400)), "1h30m0s"); }

}  // namespace
}  // namespace coffer
