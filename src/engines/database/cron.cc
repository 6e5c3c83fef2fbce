#include "engines/database/cron.h"

#include <charconv>
#include <string>
#include <vector>

namespace coffer::engines::database {
namespace {

using std::chrono::days;
using std::chrono::minutes;
using std::chrono::sys_days;

std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  for (;;) {
    std::size_t p = s.find(sep, start);
    out.push_back(s.substr(start, p == std::string_view::npos ? p : p - start));
    if (p == std::string_view::npos) break;
    start = p + 1;
  }
  return out;
}

bool ParseInt(std::string_view s, int& out) {
  if (s.empty() || s.size() > 4) return false;
  auto r = std::from_chars(s.data(), s.data() + s.size(), out);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

// Sets bits lo..hi of `bits` as `field` says; `star` tells whether it was "*".
template <std::size_t N>
Status ParseField(std::string_view field, int lo, int hi, const char* what, std::bitset<N>& bits,
                  bool* star = nullptr) {
  auto bad = [&] { return InvalidArgument(std::string("invalid cron ") + what + " field"); };
  if (star != nullptr) *star = field == "*";
  for (std::string_view part : Split(field, ',')) {
    int step = 1;
    auto slash = part.find('/');
    if (slash != std::string_view::npos) {
      if (!ParseInt(part.substr(slash + 1), step) || step <= 0) return bad();
      part = part.substr(0, slash);
    }
    int a = lo, b = hi;
    if (part == "*") {
    } else if (auto dash = part.find('-'); dash != std::string_view::npos) {
      if (!ParseInt(part.substr(0, dash), a) || !ParseInt(part.substr(dash + 1), b)) return bad();
    } else {
      if (!ParseInt(part, a)) return bad();
      b = slash != std::string_view::npos ? hi : a;
    }
    if (a < lo || b > hi || a > b) return bad();
    for (int v = a; v <= b; v += step) bits.set(static_cast<std::size_t>(v));
  }
  return Status::Ok();
}

}  // namespace

Result<CronSchedule> CronSchedule::Parse(std::string_view text) {
  std::vector<std::string_view> fields;
  for (std::string_view f : Split(text, ' ')) {
    if (!f.empty()) fields.push_back(f);
  }
  if (fields.size() != 5) {
    return Err(InvalidArgument("a cron schedule has five fields: minute hour day month weekday"));
  }
  CronSchedule c;
  TRY(ParseField(fields[0], 0, 59, "minute", c.minutes_));
  TRY(ParseField(fields[1], 0, 23, "hour", c.hours_));
  TRY(ParseField(fields[2], 1, 31, "day-of-month", c.mdays_, &c.mday_star_));
  TRY(ParseField(fields[3], 1, 12, "month", c.months_));
  std::bitset<8> wdays;
  TRY(ParseField(fields[4], 0, 7, "day-of-week", wdays, &c.wday_star_));
  for (std::size_t d = 0; d < 7; ++d) c.wdays_[d] = wdays[d];
  if (wdays[7]) c.wdays_.set(0);
  return c;
}

bool CronSchedule::DayMatches(int mday, int month, int year) const {
  std::chrono::year_month_day ymd{std::chrono::year(year),
                                  std::chrono::month(static_cast<unsigned>(month)),
                                  std::chrono::day(static_cast<unsigned>(mday))};
  unsigned wday = std::chrono::weekday(sys_days(ymd)).c_encoding();
  bool m = mdays_[static_cast<std::size_t>(mday)];
  bool w = wdays_[wday];
  if (mday_star_ || wday_star_) return m && w;
  return m || w;
}

std::chrono::system_clock::time_point CronSchedule::Next(
    std::chrono::system_clock::time_point after) const {
  auto t = std::chrono::floor<minutes>(after) + minutes(1);
  const auto limit = t + days(5 * 366);
  while (t < limit) {
    sys_days day = std::chrono::floor<days>(t);
    std::chrono::year_month_day ymd(day);
    int month = static_cast<int>(static_cast<unsigned>(ymd.month()));
    if (!months_[static_cast<std::size_t>(month)]) {
      t = sys_days((std::chrono::year_month(ymd.year(), ymd.month()) + std::chrono::months(1)) / 1);
      continue;
    }
    if (!DayMatches(static_cast<int>(static_cast<unsigned>(ymd.day())), month,
                    static_cast<int>(ymd.year()))) {
      t = day + days(1);
      continue;
    }
    auto since_midnight = t - day;
    int hour = static_cast<int>(std::chrono::floor<std::chrono::hours>(since_midnight).count());
    if (!hours_[static_cast<std::size_t>(hour)]) {
      t = day + std::chrono::hours(hour + 1);
      continue;
    }
    int minute = static_cast<int>(
        (std::chrono::floor<minutes>(since_midnight) - std::chrono::hours(hour)).count());
    if (!minutes_[static_cast<std::size_t>(minute)]) {
      t += minutes(1);
      continue;
    }
    return t;
  }
  return std::chrono::system_clock::time_point::max();
}

}  // namespace coffer::engines::database
