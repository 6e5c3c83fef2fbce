#include "engines/database/cron.h"

#include <gtest/gtest.h>

namespace coffer::engines::database {
namespace {

using std::chrono::sys_days;
using namespace std::chrono_literals;

std::chrono::system_clock::time_point At(int y, unsigned m, unsigned d, int hh, int mm) {
  return sys_days(std::chrono::year(y) / m / d) + std::chrono::hours(hh) + std::chrono::minutes(mm);
}

TEST(CronTest, EveryMinute) {
  auto c = CronSchedule::Parse("* * * * *");
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->Next(At(2024, 1, 1, 0, 0) + 30s), At(2024, 1, 1, 0, 1));
}

TEST(CronTest, DailyAtTime) {
  auto c = CronSchedule::Parse("30 2 * * *");
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->Next(At(2024, 1, 1, 3, 0)), At(2024, 1, 2, 2, 30));
  EXPECT_EQ(c->Next(At(2024, 1, 1, 2, 29)), At(2024, 1, 1, 2, 30));
  // Strictly after.
  EXPECT_EQ(c->Next(At(2024, 1, 1, 2, 30)), At(2024, 1, 2, 2, 30));
}

TEST(CronTest, StepsRangesAndLists) {
  auto c = CronSchedule::Parse("*/15 9-17 * * 1-5");
  ASSERT_TRUE(c.has_value());
  // 2024-01-06 is a Saturday: next is Monday 09:00.
  EXPECT_EQ(c->Next(At(2024, 1, 6, 10, 0)), At(2024, 1, 8, 9, 0));
  EXPECT_EQ(c->Next(At(2024, 1, 8, 9, 0)), At(2024, 1, 8, 9, 15));
  auto l = CronSchedule::Parse("0,30 0 1,15 * *");
  ASSERT_TRUE(l.has_value());
  EXPECT_EQ(l->Next(At(2024, 1, 1, 0, 30)), At(2024, 1, 15, 0, 0));
}

TEST(CronTest, MonthRollsOverYear) {
  auto c = CronSchedule::Parse("0 0 1 1 *");
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->Next(At(2024, 3, 5, 0, 0)), At(2025, 1, 1, 0, 0));
}

TEST(CronTest, DayOfMonthOrDayOfWeekWhenBothSet) {
  // The 13th or any Friday.
  auto c = CronSchedule::Parse("0 0 13 * 5");
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->Next(At(2024, 1, 1, 0, 0)), At(2024, 1, 5, 0, 0));  // Friday the 5th
  EXPECT_EQ(c->Next(At(2024, 1, 12, 0, 0)), At(2024, 1, 13, 0, 0));
  auto sunday = CronSchedule::Parse("0 0 * * 7");
  ASSERT_TRUE(sunday.has_value());
  EXPECT_EQ(sunday->Next(At(2024, 1, 1, 0, 0)), At(2024, 1, 7, 0, 0));
}

TEST(CronTest, ImpossibleDateNeverMatches) {
  auto c = CronSchedule::Parse("0 0 30 2 *");
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->Next(At(2024, 1, 1, 0, 0)), std::chrono::system_clock::time_point::max());
}

TEST(CronTest, RejectsBadSchedules) {
  for (const char* s :
       {"", "* * * *", "* * * * * *", "60 * * * *", "* 24 * * *", "* * 0 * *", "* * * 13 *",
        "* * * * 8", "*/0 * * * *", "5-1 * * * *", "a * * * *", "1,,2 * * * *", "-1 * * * *"}) {
    EXPECT_FALSE(CronSchedule::Parse(s).has_value()) << s;
  }
}

}  // namespace
}  // namespace coffer::engines::database
