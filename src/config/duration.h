#pragma once
// Duration strings in server config files, as Vault's parseutil reads them:
// Go durations ("768h", "1h30m", "10s", "1.5h", "250ms"; units ns, us, µs, ms,
// s, m, h, plus d for days) or a bare number of seconds ("30", or the JSON/HCL
// integer 30).
//
// The parse is common/duration.h's ParseGoDuration, which the API's
// durations fall back to as well.
//
// Errors: kInvalidArgument for an empty string, a negative value, an unknown
// unit or a value past ~292 years. Thread-safe (pure functions).

#include <chrono>
#include <string>
#include <string_view>

#include "common/status.h"

namespace coffer::config {

// Sub-millisecond parts are truncated.
Result<std::chrono::milliseconds> ParseDuration(std::string_view text);

// Renders as Vault prints durations: "768h0m0s", "1m30s", "0s", "1.5s".
std::string FormatDuration(std::chrono::milliseconds d);

}  // namespace coffer::config
