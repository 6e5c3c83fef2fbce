// Fuzz target: duration/TTL strings, both parsers (common/duration.h, the
// API's seconds; config/duration.h, Go durations in config files), and RFC
// 3339 times (common/clock.h, policy expirations).
// Invariants: a parsed duration is not negative and its rendering parses
// back to the same value; so does a parsed time's.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "common/clock.h"
#include "common/duration.h"
#include "config/duration.h"
#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text = coffer::fuzz::View(data, size);
  if (auto d = coffer::ParseDuration(text)) {
    FUZZ_CHECK(d->count() >= 0);
    auto back = coffer::ParseDuration(coffer::FormatDuration(*d));
    FUZZ_CHECK(back.has_value() && *back == *d);
  }
  if (auto d = coffer::config::ParseDuration(text)) {
    FUZZ_CHECK(d->count() >= 0);
    auto back = coffer::config::ParseDuration(coffer::config::FormatDuration(*d));
    FUZZ_CHECK(back.has_value() && *back == *d);
  }
  if (auto t = coffer::ParseRfc3339(text)) {
    auto back = coffer::ParseRfc3339(coffer::FormatRfc3339(*t));
    FUZZ_CHECK(back.has_value() && *back == *t);
  }
  return 0;
}
