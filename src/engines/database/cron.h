#pragma once
// Cron schedules for static roles' rotation_schedule: the standard five
// fields "minute hour day-of-month month day-of-week", each `*`, a number,
// a range `a-b`, a step `*/n` or `a-b/n`, or a comma list of these. Day of
// week is 0-6 (Sunday 0; 7 also means Sunday). As in cron, when both day
// fields are restricted a day matching either one matches. Times are UTC.
//
// Thread-safety: an immutable value. Errors: kInvalidArgument naming the
// field.

#include <bitset>
#include <chrono>
#include <string_view>

#include "common/status.h"

namespace coffer::engines::database {

class CronSchedule {
 public:
  static Result<CronSchedule> Parse(std::string_view text);

  // The first minute strictly after `after` that matches (UTC), within the
  // next five years; time_point::max() when none does (e.g. Feb 30).
  std::chrono::system_clock::time_point Next(std::chrono::system_clock::time_point after) const;

 private:
  bool DayMatches(int mday, int month, int year) const;

  std::bitset<60> minutes_;
  std::bitset<24> hours_;
  std::bitset<32> mdays_;   // 1..31
  std::bitset<13> months_;  // 1..12
  std::bitset<7> wdays_;    // 0..6
  bool mday_star_ = false;
  bool wday_star_ = false;
};

}  // namespace coffer::engines::database
