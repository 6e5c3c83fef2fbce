#pragma once
// Five-field cron schedules ("minute hour day-of-month month day-of-week",
// UTC), as Vault's rotation_schedule uses them: numbers, `*`, ranges
// `a-b`, steps `*/n` and `a-b/n`, lists `a,b`; day-of-week 0-7 (0 and 7 are
// Sunday). When both day fields are restricted, a day matching either one
// matches (classic cron). Shared by KV rotation and the database engine's
// static roles.
//
// Thread safety: CronSchedule is immutable after Parse; Next is const.
// Errors: kInvalidArgument naming the bad field.

#include <bitset>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace coffer {

class CronSchedule {
 public:
  static Result<CronSchedule> Parse(std::string_view spec);

  // The first matching minute strictly after `after` (seconds dropped);
  // nullopt when none within ~5 years (e.g. "0 0 31 2 *").
  std::optional<std::chrono::system_clock::time_point> Next(
      std::chrono::system_clock::time_point after) const;

  const std::string& spec() const { return spec_; }

 private:
  std::string spec_;
  std::bitset<60> minutes_;
  std::bitset<24> hours_;
  std::bitset<32> days_;     // 1..31
  std::bitset<13> months_;   // 1..12
  std::bitset<7> weekdays_;  // 0..6, Sunday = 0
  bool any_day_ = true;      // day-of-month was "*"
  bool any_weekday_ = true;  // day-of-week was "*"
};

}  // namespace coffer
