#include "common/cron.h"

#include <gtest/gtest.h>

namespace coffer {
namespace {

using namespace std::chrono;

system_clock::time_point At(int y, unsigned mo, unsigned d, int h, int mi) {
  return sys_days(year(y) / month(mo) / day(d)) + hours(h) + minutes(mi);
}

TEST(CronTest, EveryFifteenMinutes) {
  auto c = CronSchedule::Parse("*/15 * * * *");
  ASSERT_TRUE(c) << c.error().ToString();
  EXPECT_EQ(c->Next(At(2026, 1, 1, 10, 0)), At(2026, 1, 1, 10, 15));
  EXPECT_EQ(c->Next(At(2026, 1, 1, 10, 14) + seconds(59)), At(2026, 1, 1, 10, 15));
  EXPECT_EQ(c->Next(At(2026, 1, 1, 23, 45)), At(2026, 1, 2, 0, 0));
}

TEST(CronTest, DailyAndMonthBoundaries) {
  auto c = CronSchedule::Parse("30 2 * * *");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->Next(At(2026, 1, 31, 3, 0)), At(2026, 2, 1, 2, 30));
  auto leap = CronSchedule::Parse("0 0 29 2 *");
  ASSERT_TRUE(leap);
  EXPECT_EQ(leap->Next(At(2026, 3, 1, 0, 0)), At(2028, 2, 29, 0, 0));
  auto never = CronSchedule::Parse("0 0 31 2 *");
  ASSERT_TRUE(never);
  EXPECT_FALSE(never->Next(At(2026, 1, 1, 0, 0)));
}

TEST(CronTest, WeekdaysRangesListsAndOrSemantics) {
  // 2026-01-01 is a Thursday.
  auto mondays = CronSchedule::Parse("0 9 * * 1");
  ASSERT_TRUE(mondays);
  EXPECT_EQ(mondays->Next(At(2026, 1, 1, 0, 0)), At(2026, 1, 5, 9, 0));
  auto sunday7 = CronSchedule::Parse("0 0 * * 7");
  ASSERT_TRUE(sunday7);
  EXPECT_EQ(sunday7->Next(At(2026, 1, 1, 0, 0)), At(2026, 1, 4, 0, 0));
  auto either = CronSchedule::Parse("0 0 15 * 1");  // the 15th or any Monday
  ASSERT_TRUE(either);
  EXPECT_EQ(either->Next(At(2026, 1, 6, 0, 0)), At(2026, 1, 12, 0, 0));
  EXPECT_EQ(either->Next(At(2026, 1, 12, 0, 0)), At(2026, 1, 15, 0, 0));
  auto list = CronSchedule::Parse("5,10-12/2 8-9 * 1-3 *");
  ASSERT_TRUE(list);
  EXPECT_EQ(list->Next(At(2026, 1, 1, 8, 5)), At(2026, 1, 1, 8, 10));
  EXPECT_EQ(list->Next(At(2026, 1, 1, 8, 10)), At(2026, 1, 1, 8, 12));
  EXPECT_EQ(list->Next(At(2026, 1, 1, 9, 12)), At(2026, 1, 2, 8, 5));
  EXPECT_EQ(list->Next(At(2026, 3, 31, 9, 12)), At(2027, 1, 1, 8, 5));
}

TEST(CronTest, RejectsMalformed) {
  for (const char* bad :
       {"", "* * * *", "* * * * * *", "60 * * * *", "* 24 * * *", "* * 0 * *", "* * * 13 *",
        "* * * * 8", "*/0 * * * *", "a * * * *", "5-1 * * * *", "1,,2 * * * *"}) {
    EXPECT_FALSE(CronSchedule::Parse(bad)) << bad;
  }
}

}  // namespace
}  // namespace coffer
