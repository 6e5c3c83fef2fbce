#pragma once
// Durations as Vault writes them: "30s", "15m", "768h", "1h30m", "2d" (days,
// an extension Vault also accepts), or a bare number of seconds.

#include <chrono>
#include <string>
#include <string_view>

#include "common/status.h"

namespace coffer {

// The longest duration Go's time.Duration holds, in whole seconds (~292
// years): what Vault's fields accept.
inline constexpr long long kMaxDurationSeconds = 9'223'372'036;

// Also Go's forms, as Vault's parseutil.ParseDurationSecond reads them
// ("1.5h", "90m30.5s", "1500ms", units ns, us, µs, ms), truncated to whole
// seconds. kInvalidArgument for anything else (negative, longer than
// kMaxDurationSeconds, unknown unit).
Result<std::chrono::seconds> ParseDuration(std::string_view text);

// A Go duration ("768h", "1h30m", "10s", "1.5h", "250ms"; units ns, us, µs,
// ms, s, m, h, plus d for days; an optional leading '+') or a bare number of
// seconds, in exact integer arithmetic as Go's time.ParseDuration; at most
// what int64 nanoseconds hold (~292 years). kInvalidArgument ("invalid
// duration: ...") for an empty string, a negative value, an unknown or
// missing unit, or a larger value. (config/duration.h reads config files
// with it.)
Result<std::chrono::nanoseconds> ParseGoDuration(std::string_view text);

// "768h0m0s"-style rendering as Vault prints durations.
std::string FormatDuration(std::chrono::seconds d);

// As Vault's warnings print a duration (Go's Duration.String without zero
// minutes or seconds): "768h", "1h30m", "1h5s", "1m30s", "0s", "-5m".
std::string HumanDuration(std::chrono::seconds d);

// Vault's CalculateTTL warning when an asked duration was capped at the
// effective max: `what` is "TTL" or "period".
std::string CappedTtlWarning(std::string_view what, std::chrono::seconds asked,
                             std::chrono::seconds max);

}  // namespace coffer
