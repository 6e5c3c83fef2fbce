#include "common/clock.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <chrono>
#include <ctime>
#include <random>
#include <string>

namespace coffer {
namespace {

using std::chrono::nanoseconds;
using std::chrono::system_clock;

system_clock::time_point At(std::int64_t ns) {
  return system_clock::time_point(
      std::chrono::duration_cast<system_clock::duration>(nanoseconds(ns)));
}

// The reference: the C library's calendar.
std::string ViaGmtime(std::int64_t ns) {
  std::int64_t secs = ns / 1'000'000'000;
  std::int64_t frac = ns % 1'000'000'000;
  if (frac < 0) {
    frac += 1'000'000'000;
    --secs;
  }
  std::time_t t = static_cast<std::time_t>(secs);
  std::tm tm{};
  gmtime_r(&t, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:09}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
}

TEST(FormatRfc3339Test, KnownInstants) {
  EXPECT_EQ(FormatRfc3339(At(0)), "1970-01-01T00:00:00.000000000Z");
  EXPECT_EQ(FormatRfc3339(At(951782400'000000001)), "2000-02-29T00:00:00.000000001Z");
  EXPECT_EQ(FormatRfc3339(At(4107542399'999999999)), "2100-02-28T23:59:59.999999999Z");
  EXPECT_EQ(FormatRfc3339(At(-1)), "1969-12-31T23:59:59.999999999Z");
}

TEST(FormatRfc3339Test, AppendKeepsWhatIsThere) {
  std::string out = "at ";
  AppendRfc3339(out, At(951782400'000000001));
  EXPECT_EQ(out, "at 2000-02-29T00:00:00.000000001Z");
  AppendRfc3339(out, At(-1));
  EXPECT_EQ(out, "at 2000-02-29T00:00:00.000000001Z1969-12-31T23:59:59.999999999Z");
}

TEST(FormatRfc3339Test, AgreesWithTheCLibraryOverRandomInstants) {
  std::mt19937_64 rng(20261128);
  // 1900 .. 2200 (int64 nanoseconds end in 2262).
  std::uniform_int_distribution<std::int64_t> secs(-2208988800LL, 7258118400LL);
  std::uniform_int_distribution<std::int64_t> frac(0, 999'999'999);
  for (int i = 0; i < 20000; ++i) {
    const std::int64_t ns = secs(rng) * 1'000'000'000 + frac(rng);
    ASSERT_EQ(FormatRfc3339(At(ns)), ViaGmtime(ns)) << ns;
  }
}

std::int64_t NsOf(system_clock::time_point t) {
  return std::chrono::duration_cast<nanoseconds>(t.time_since_epoch()).count();
}

TEST(ParseRfc3339Test, KnownInstantsAndOffsets) {
  auto p = ParseRfc3339("2000-02-29T00:00:00.000000001Z");
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(NsOf(*p), 951782400'000000001);
  EXPECT_EQ(NsOf(*ParseRfc3339("1970-01-01T00:00:00Z")), 0);
  EXPECT_EQ(NsOf(*ParseRfc3339("1970-01-01t00:00:01.5z")), 1'500'000'000);
  // An offset names local time east (+) or west (-) of UTC.
  EXPECT_EQ(NsOf(*ParseRfc3339("1970-01-01T02:30:00+02:30")), 0);
  EXPECT_EQ(NsOf(*ParseRfc3339("1969-12-31T19:00:00-05:00")), 0);
}

TEST(ParseRfc3339Test, RoundTripsWhatFormatPrints) {
  std::mt19937_64 rng(20261205);
  std::uniform_int_distribution<std::int64_t> secs(0, 7258118400LL);
  std::uniform_int_distribution<std::int64_t> frac(0, 999'999'999);
  for (int i = 0; i < 2000; ++i) {
    const std::int64_t ns = secs(rng) * 1'000'000'000 + frac(rng);
    auto back = ParseRfc3339(FormatRfc3339(At(ns)));
    ASSERT_TRUE(back.has_value()) << FormatRfc3339(At(ns));
    ASSERT_EQ(NsOf(*back), ns);
  }
}

TEST(ParseRfc3339Test, RefusesWhatIsNotATimestamp) {
  for (const char* bad :
       {"", "2026-12-05", "2026-12-05T10:00:00", "2026-12-05 10:00:00Z", "2026-13-01T00:00:00Z",
        "2026-02-29T00:00:00Z", "2026-12-05T24:00:00Z", "2026-12-05T10:60:00Z",
        "2026-12-05T10:00:60Z", "2026-12-05T10:00:00.Z", "2026-12-05T10:00:00.1234567890Z",
        "2026-12-05T10:00:00+0200", "2026-12-05T10:00:00+24:00", "2026-12-05T10:00:00Zjunk",
        "26-12-05T10:00:00Z", "2026-1-05T10:00:00Z", "1733392800", "9999-12-31T23:59:59Z",
        "0001-01-01T00:00:00Z"}) {
    EXPECT_FALSE(ParseRfc3339(bad).has_value()) << bad;
  }
}

}  // namespace
}  // namespace coffer
