#include "common/clock.h"

#include <fmt/format.h>

#include <cstdint>

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

}  // namespace coffer
