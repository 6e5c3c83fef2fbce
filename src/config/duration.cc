#include "config/duration.h"

#include <string>

#include "common/duration.h"

namespace coffer::config {
Result<std::chrono::milliseconds> ParseDuration(std::string_view text) {
  ASSIGN_OR_RETURN(std::chrono::nanoseconds d, ParseGoDuration(text));
  return std::chrono::duration_cast<std::chrono::milliseconds>(d);
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
