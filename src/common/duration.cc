#include "common/duration.h"

#include <fmt/format.h>

#include <cctype>
#include <charconv>
#include <cstdint>
#include <limits>
#include <optional>

namespace coffer {

namespace {

constexpr std::int64_t kNanosPerUnit[] = {
    1, 1'000, 1'000'000, 1'000'000'000, 60'000'000'000, 3'600'000'000'000, 86'400'000'000'000};
// The largest duration: what fits in int64 nanoseconds (~292 years), for the
// bare-seconds form too.
constexpr std::int64_t kMaxNanos = INT64_MAX;

// Index into kNanosPerUnit for the unit at the start of `s`, and its length.
bool MatchUnit(std::string_view s, int* index, std::size_t* length) {
  // The two-character units come first, so the first match is the longest:
  // "ms" before "m" and "s".
  static constexpr struct {
    std::string_view name;
    int index;
  } kUnits[] = {{"ns", 0}, {"us", 1}, {"\xC2\xB5s", 1}, {"\xCE\xBCs", 1}, {"ms", 2},
                {"s", 3},  {"m", 4},  {"h", 5},         {"d", 6}};
  for (const auto& unit : kUnits) {
    if (s.starts_with(unit.name)) {
      *index = unit.index;
      *length = unit.name.size();
      return true;
    }
  }
  return false;
}

Status InvalidGoDuration(std::string_view why) {
  return InvalidArgument("invalid duration: " + std::string(why) +
                         " (use forms like \"30s\", \"15m\", \"768h\" or a number of seconds)");
}

}  // namespace

Result<std::chrono::nanoseconds> ParseGoDuration(std::string_view text) {
  if (!text.empty() && text[0] == '+') text.remove_prefix(1);
  // Checked after the '+': "+-7" must not reach from_chars as -7.
  if (text.empty()) return Err(InvalidGoDuration("empty"));
  if (text[0] == '-') return Err(InvalidGoDuration("must not be negative"));

  // A bare integer is a number of seconds.
  std::int64_t seconds = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), seconds);
  if (ec == std::errc() && end == text.data() + text.size()) {
    if (seconds > kMaxNanos / 1'000'000'000) return Err(InvalidGoDuration("too large"));
    return std::chrono::nanoseconds(seconds * 1'000'000'000);
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
    if (int_end == start && frac_end == frac_start) {
      return Err(InvalidGoDuration("expected a number"));
    }
    int unit = 0;
    std::size_t unit_length = 0;
    if (!MatchUnit(text.substr(i), &unit, &unit_length)) {
      return Err(InvalidGoDuration(i == text.size() ? "missing unit" : "unknown unit"));
    }
    i += unit_length;
    const std::int64_t per_unit = kNanosPerUnit[unit];
    std::int64_t value = 0;  // the integer part, in units
    for (std::size_t k = start; k < int_end; ++k) {
      const int digit = text[k] - '0';
      if (value > (kMaxNanos / per_unit - digit) / 10) return Err(InvalidGoDuration("too large"));
      value = value * 10 + digit;
    }
    std::int64_t nanos = value * per_unit;
    // The fraction adds less than one unit; digits past the nanosecond are dropped.
    std::int64_t scale = per_unit;
    for (std::size_t k = frac_start; k < frac_end && scale >= 10; ++k) {
      scale /= 10;
      const std::int64_t add = scale * (text[k] - '0');
      if (nanos > kMaxNanos - add) return Err(InvalidGoDuration("too large"));
      nanos += add;
    }
    if (nanos > kMaxNanos - total_ns) return Err(InvalidGoDuration("too large"));
    total_ns += nanos;
  }
  return std::chrono::nanoseconds(total_ns);
}

namespace {

// Whole numbers of s, m, h and d, or a bare number of seconds: nullopt for
// anything else.
std::optional<long long> ParseWholeSeconds(std::string_view text) {
  if (text.empty() || text.size() > 64) return std::nullopt;
  constexpr long long kMax = std::numeric_limits<long long>::max() / 1000;
  long long total = 0;
  std::size_t i = 0;
  bool any = false;
  while (i < text.size()) {
    if (!std::isdigit(static_cast<unsigned char>(text[i]))) return std::nullopt;
    long long n = 0;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
      n = n * 10 + (text[i] - '0');
      if (n > kMax) return std::nullopt;
      ++i;
    }
    long long unit = 1;
    if (i < text.size()) {
      char c = text[i++];
      switch (c) {
        case 's':
          unit = 1;
          break;
        case 'm':
          unit = 60;
          break;
        case 'h':
          unit = 3600;
          break;
        case 'd':
          unit = 86400;
          break;
        default:
          return std::nullopt;
      }
    } else if (any) {
      return std::nullopt;  // "1h30" has no unit on its last number
    }
    if (n > kMax / unit) return std::nullopt;
    total += n * unit;
    if (total > kMax) return std::nullopt;
    any = true;
  }
  return total;
}

}  // namespace

Result<std::chrono::seconds> ParseDuration(std::string_view text) {
  if (text.size() <= 64) {
    if (std::optional<long long> whole = ParseWholeSeconds(text)) {
      if (*whole <= kMaxDurationSeconds) return std::chrono::seconds(*whole);
      return Err(
          InvalidArgument("invalid duration \"" + std::string(text) + "\": longer than 292 years"));
    }
    // Go's forms, as Vault's parseutil reads them: "1.5h", "90m30.5s",
    // "1500ms" (clients built on Go print durations so). Truncated to whole
    // seconds, as Vault's fields take them.
    if (Result<std::chrono::nanoseconds> go = ParseGoDuration(text)) {
      return std::chrono::duration_cast<std::chrono::seconds>(*go);
    }
  }
  return Err(InvalidArgument("invalid duration \"" + std::string(text) +
                             "\": use a number of seconds or units like 30s, 15m, 768h"));
}

std::string FormatDuration(std::chrono::seconds d) {
  long long s = d.count();
  return fmt::format("{}h{}m{}s", s / 3600, (s % 3600) / 60, s % 60);
}

std::string HumanDuration(std::chrono::seconds d) {
  const long long total = d.count();
  if (total == 0) return "0s";
  const unsigned long long a = total < 0 ? 0ULL - static_cast<unsigned long long>(total)
                                         : static_cast<unsigned long long>(total);
  const unsigned long long h = a / 3600, m = (a % 3600) / 60, sec = a % 60;
  std::string out = total < 0 ? "-" : "";
  if (h > 0) out += fmt::format("{}h", h);
  if (h > 0 || m > 0) out += fmt::format("{}m", m);
  out += fmt::format("{}s", sec);
  if (out.ends_with("m0s")) out.resize(out.size() - 2);
  if (auto at = out.find("h0m"); at != std::string::npos) out.erase(at + 1, 2);
  return out;
}

std::string CappedTtlWarning(std::string_view what, std::chrono::seconds asked,
                             std::chrono::seconds max) {
  return fmt::format(
      "{} of \"{}\" exceeded the effective max_ttl of \"{}\"; {} value is capped accordingly", what,
      HumanDuration(asked), HumanDuration(max), what);
}

}  // namespace coffer
