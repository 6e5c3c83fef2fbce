#include "config/duration.h"

#include <charconv>
#include <cstdint>
#include <string>

namespace coffer::config {
namespace {

constexpr std::int64_t kNanosPerUnit[] = {
    1, 1'000, 1'000'000, 1'000'000'000, 60'000'000'000, 3'600'000'000'000, 86'400'000'000'000};
// The largest duration: what fits in int64 nanoseconds (~292 years), for the
// bare-seconds form too.
constexpr std::int64_t kMaxNanos = INT64_MAX;

// Index into kNanosPerUnit for the unit at the start of `s`, and its length.
bool MatchUnit(std::string_view s, int* index, std::size_t* length) {
  static constexpr struct {
    std::string_view name;
    int index;
  } kUnits[] = {{"ns", 0}, {"us", 1}, {"\xC2\xB5s", 1}, {"\xCE\xBCs", 1}, {"ms", 2},
                {"s", 3},  {"m", 4},  {"h", 5},         {"d", 6}};
  // Longest match first: "ms" before "m" and "s".
  for (const auto& unit : kUnits) {
    if (s.starts_with(unit.name) && unit.name.size() > 1) {
      *index = unit.index;
      *length = unit.name.size();
      return true;
    }
  }
  for (const auto& unit : kUnits) {
    if (s.starts_with(unit.name)) {
      *index = unit.index;
      *length = unit.name.size();
      return true;
    }
  }
  return false;
}

Status Invalid(std::string_view why) {
  return InvalidArgument("invalid duration: " + std::string(why) +
                         " (use forms like \"30s\", \"15m\", \"768h\" or a number of seconds)");
}

}  // namespace

Result<std::chrono::milliseconds> ParseDuration(std::string_view text) {
  if (!text.empty() && text[0] == '+') text.remove_prefix(1);
  // Checked after the '+': "+-7" must not reach from_chars as -7.
  if (text.empty()) return Err(Invalid("empty"));
  if (text[0] == '-') return Err(Invalid("must not be negative"));

  // A bare integer is a number of seconds.
  std::int64_t seconds = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), seconds);
  if (ec == std::errc() && end == text.data() + text.size()) {
    if (seconds > kMaxNanos / 1'000'000'000) return Err(Invalid("too large"));
    return std::chrono::milliseconds(seconds * 1000);
  }

  // Exact integer arithmetic, as Go's time.ParseDuration: "1.001s" must give
  // 1001 ms, not a binary floating-point 1000.999... truncated to 1000.
  std::int64_t total_ns = 0;
  std::size_t i = 0;
  while (i < text.size()) {
    const std::size_t start = i;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i;
    std::size_t int_end = i;
    std::size_t frac_start = i, frac_end = i;
    if (i < text.size() && text[i] == '.') {
      frac_start = ++i;
      while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i;
      frac_end = i;
    }
    if (int_end == start && frac_end == frac_start) return Err(Invalid("expected a number"));
    int unit = 0;
    std::size_t unit_length = 0;
    if (!MatchUnit(text.substr(i), &unit, &unit_length)) {
      return Err(Invalid(i == text.size() ? "missing unit" : "unknown unit"));
    }
    i += unit_length;
    const std::int64_t per_unit = kNanosPerUnit[unit];
    std::int64_t value = 0;  // the integer part, in units
    for (std::size_t k = start; k < int_end; ++k) {
      const int digit = text[k] - '0';
      if (value > (kMaxNanos / per_unit - digit) / 10) return Err(Invalid("too large"));
      value = value * 10 + digit;
    }
    std::int64_t nanos = value * per_unit;
    // The fraction adds less than one unit; digits past the nanosecond are dropped.
    std::int64_t scale = per_unit;
    for (std::size_t k = frac_start; k < frac_end && scale >= 10; ++k) {
      scale /= 10;
      const std::int64_t add = scale * (text[k] - '0');
      if (nanos > kMaxNanos - add) return Err(Invalid("too large"));
      nanos += add;
    }
    if (nanos > kMaxNanos - total_ns) return Err(Invalid("too large"));
    total_ns += nanos;
  }
  return std::chrono::milliseconds(total_ns / 1'000'000);
}

std::string FormatDuration(std::chrono::milliseconds d) {
  std::int64_t ms = d.count();
  std::string out;
  if (ms < 0) {
    out = "-";
    ms = -ms;
  }
  const std::int64_t hours = ms / 3'600'000;
  const std::int64_t minutes = (ms / 60'000) % 60;
  const std::int64_t whole_seconds = (ms / 1000) % 60;
  const std::int64_t millis = ms % 1000;
  if (ms > 0 && ms < 1000) return out + std::to_string(ms) + "ms";  // as Go prints it
  if (hours > 0) out += std::to_string(hours) + "h";
  if (hours > 0 || minutes > 0) out += std::to_string(minutes) + "m";
  out += std::to_string(whole_seconds);
  if (millis > 0) {
    std::string frac = std::to_string(1000 + millis).substr(1);
    while (frac.ends_with('0')) frac.pop_back();
    out += "." + frac;
  }
  out += "s";
  return out;
}

}  // namespace coffer::config
