#include "common/cron.h"

#include <charconv>
#include <vector>

namespace coffer {
namespace {

std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  for (;;) {
    auto pos = s.find(sep, start);
    out.push_back(s.substr(start, pos == std::string_view::npos ? pos : pos - start));
    if (pos == std::string_view::npos) return out;
    start = pos + 1;
  }
}

std::optional<int> Number(std::string_view s) {
  int v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

// Sets bits lo..hi of one field from its text; *star tells whether it was "*".
template <std::size_t N>
Status ParseField(std::string_view text, int lo, int hi, std::string_view name, std::bitset<N>& out,
                  bool* star) {
  *star = text == "*";
  for (std::string_view item : Split(text, ',')) {
    auto bad = [&] { return InvalidArgument("invalid cron " + std::string(name) + " field"); };
    int step = 1;
    if (auto slash = item.find('/'); slash != std::string_view::npos) {
      auto s = Number(item.substr(slash + 1));
      if (!s || *s <= 0) return bad();
      step = *s;
      item = item.substr(0, slash);
    }
    int from = lo, to = hi;
    if (item != "*") {
      auto dash = item.find('-');
      auto a = Number(item.substr(0, dash));
      if (!a) return bad();
      from = to = *a;
      if (dash != std::string_view::npos) {
        auto b = Number(item.substr(dash + 1));
        if (!b) return bad();
        to = *b;
      } else if (step != 1) {
        to = hi;  // "5/15": from 5 to the end
      }
    }
    if (from < lo || to > hi || from > to) return bad();
    for (int v = from; v <= to; v += step) out.set(static_cast<std::size_t>(v));
  }
  return Status::Ok();
}

}  // namespace

Result<CronSchedule> CronSchedule::Parse(std::string_view spec) {
  std::vector<std::string_view> fields;
  std::size_t i = 0;
  while (i < spec.size()) {
    while (i < spec.size() && (spec[i] == ' ' || spec[i] == '\t')) ++i;
    std::size_t start = i;
    while (i < spec.size() && spec[i] != ' ' && spec[i] != '\t') ++i;
    if (i > start) fields.push_back(spec.substr(start, i - start));
  }
  if (fields.size() != 5) {
    return Err(InvalidArgument("cron schedule must have 5 fields: minute hour day month weekday"));
  }
  CronSchedule c;
  c.spec_ = std::string(spec);
  bool star = false;
  TRY(ParseField(fields[0], 0, 59, "minute", c.minutes_, &star));
  TRY(ParseField(fields[1], 0, 23, "hour", c.hours_, &star));
  TRY(ParseField(fields[2], 1, 31, "day-of-month", c.days_, &c.any_day_));
  TRY(ParseField(fields[3], 1, 12, "month", c.months_, &star));
  std::bitset<8> weekdays;
  TRY(ParseField(fields[4], 0, 7, "day-of-week", weekdays, &c.any_weekday_));
  for (std::size_t d = 0; d < 7; ++d) c.weekdays_[d] = weekdays[d];
  if (weekdays[7]) c.weekdays_[0] = true;
  return c;
}

std::optional<std::chrono::system_clock::time_point> CronSchedule::Next(
    std::chrono::system_clock::time_point after) const {
  using namespace std::chrono;
  auto t = floor<minutes>(after) + minutes(1);
  const auto limit = t + days(366 * 5);
  while (t < limit) {
    auto day = floor<days>(t);
    year_month_day ymd{day};
    unsigned month = static_cast<unsigned>(ymd.month());
    if (!months_[month]) {
      auto next_month = year_month_day{ymd.year() / ymd.month() / 1} + months(1);
      t = sys_days(next_month);
      continue;
    }
    bool dom = days_[static_cast<unsigned>(ymd.day())];
    bool dow = weekdays_[weekday(day).c_encoding()];
    bool day_ok = any_day_ && any_weekday_ ? true
                  : any_day_               ? dow
                  : any_weekday_           ? dom
                                           : (dom || dow);
    if (!day_ok) {
      t = day + days(1);
      continue;
    }
    auto tod = t - day;
    auto h = duration_cast<hours>(tod).count();
    if (!hours_[static_cast<std::size_t>(h)]) {
      t = day + hours(h + 1);
      continue;
    }
    auto m = duration_cast<minutes>(tod - hours(h)).count();
    if (!minutes_[static_cast<std::size_t>(m)]) {
      t += minutes(1);
      continue;
    }
    return time_point_cast<system_clock::duration>(t);
  }
  return std::nullopt;
}

}  // namespace coffer
