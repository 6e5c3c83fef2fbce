#include "common/clock.h"

#include <fmt/format.h>

#include <cstdint>
#include <limits>

#include "common/time_bounds.h"

namespace coffer {

// By hand rather than gmtime_r + fmt: every KV read formats a few times, and
// glibc's gmtime_r takes the process-wide time-zone lock. Civil date from days
// since the epoch after H. Hinnant's days_from_civil inverse (proleptic
// Gregorian, valid for every year 0..9999 this prints).
void AppendRfc3339(std::string& out, std::chrono::system_clock::time_point t) {
  using namespace std::chrono;
  const std::int64_t ns = duration_cast<nanoseconds>(t.time_since_epoch()).count();
  std::int64_t secs = ns / 1'000'000'000;
  std::int64_t frac = ns % 1'000'000'000;
  if (frac < 0) {
    frac += 1'000'000'000;
    --secs;
  }
  std::int64_t days = secs / 86400;
  std::int64_t sod = secs % 86400;
  if (sod < 0) {
    sod += 86400;
    --days;
  }
  const std::int64_t z = days + 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const std::int64_t doe = z - era * 146097;
  const std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const std::int64_t mp = (5 * doy + 2) / 153;
  const std::int64_t day = doy - (153 * mp + 2) / 5 + 1;
  const std::int64_t month = mp < 10 ? mp + 3 : mp - 9;
  const std::int64_t year = yoe + era * 400 + (month <= 2 ? 1 : 0);

  // "YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ"
  char buf[30];
  auto put = [&buf](int pos, std::int64_t value, int width) {
    for (int i = width - 1; i >= 0; --i) {
      buf[pos + i] = static_cast<char>('0' + value % 10);
      value /= 10;
    }
  };
  if (year < 0 || year > 9999) {
    out += fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:09}Z", year, month, day, sod / 3600,
                       sod / 60 % 60, sod % 60, frac);
    return;
  }
  put(0, year, 4);
  buf[4] = '-';
  put(5, month, 2);
  buf[7] = '-';
  put(8, day, 2);
  buf[10] = 'T';
  put(11, sod / 3600, 2);
  buf[13] = ':';
  put(14, sod / 60 % 60, 2);
  buf[16] = ':';
  put(17, sod % 60, 2);
  buf[19] = '.';
  put(20, frac, 9);
  buf[29] = 'Z';
  out.append(buf, sizeof(buf));
}

std::string FormatRfc3339(std::chrono::system_clock::time_point t) {
  std::string out;
  AppendRfc3339(out, t);
  return out;
}

namespace {

// `n` decimal digits at text[*pos], advancing *pos; false when they are not
// all digits.
bool Digits(std::string_view text, std::size_t* pos, std::size_t n, int* out) {
  if (*pos + n > text.size()) return false;
  int v = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const char c = text[*pos + i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *pos += n;
  *out = v;
  return true;
}

bool Expect(std::string_view text, std::size_t* pos, char c) {
  if (*pos >= text.size() || text[*pos] != c) return false;
  ++*pos;
  return true;
}

}  // namespace

std::optional<std::chrono::system_clock::time_point> ParseRfc3339(std::string_view text) {
  using namespace std::chrono;
  std::size_t pos = 0;
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
  if (!Digits(text, &pos, 4, &y) || !Expect(text, &pos, '-') || !Digits(text, &pos, 2, &mo) ||
      !Expect(text, &pos, '-') || !Digits(text, &pos, 2, &d)) {
    return std::nullopt;
  }
  if (pos >= text.size() || (text[pos] != 'T' && text[pos] != 't')) return std::nullopt;
  ++pos;
  if (!Digits(text, &pos, 2, &h) || !Expect(text, &pos, ':') || !Digits(text, &pos, 2, &mi) ||
      !Expect(text, &pos, ':') || !Digits(text, &pos, 2, &s)) {
    return std::nullopt;
  }
  std::int64_t frac_ns = 0;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    std::size_t digits = 0;
    std::int64_t scale = 100'000'000;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      if (++digits > 9) return std::nullopt;
      frac_ns += (text[pos] - '0') * scale;
      scale /= 10;
      ++pos;
    }
    if (digits == 0) return std::nullopt;
  }
  int offset_minutes = 0;
  if (pos < text.size() && (text[pos] == 'Z' || text[pos] == 'z')) {
    ++pos;
  } else if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
    const int sign = text[pos] == '-' ? -1 : 1;
    ++pos;
    int oh = 0, om = 0;
    if (!Digits(text, &pos, 2, &oh) || !Expect(text, &pos, ':') || !Digits(text, &pos, 2, &om) ||
        oh > 23 || om > 59) {
      return std::nullopt;
    }
    offset_minutes = sign * (oh * 60 + om);
  } else {
    return std::nullopt;
  }
  if (pos != text.size()) return std::nullopt;
  const year_month_day date{year{y}, month{static_cast<unsigned>(mo)},
                            day{static_cast<unsigned>(d)}};
  if (!date.ok() || h > 23 || mi > 59 || s > 59) return std::nullopt;
  const std::int64_t secs = std::int64_t{sys_days(date).time_since_epoch().count()} * 86400 +
                            h * 3600 + mi * 60 + s - std::int64_t{offset_minutes} * 60;
  if (secs > kMaxClockSeconds || secs < -kMaxClockSeconds) return std::nullopt;
  return system_clock::time_point(
      duration_cast<system_clock::duration>(nanoseconds(secs * 1'000'000'000 + frac_ns)));
}

}  // namespace coffer
