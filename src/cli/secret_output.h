#pragma once
// How Vault's CLI prints an API answer ("secret"): the Key/Value table with
// lease, auth, wrap_info and data rows, lists, maps, raw -field values, and
// Go's `%v` rendering of JSON values, so that table output matches `vault`.
// Pure functions plus Output* helpers that write to an Invocation.

#include <string>
#include <string_view>

#include "cli/command.h"

namespace coffer::cli {

// Go's fmt %v of a decoded JSON value: strings bare, null "<nil>", arrays
// "[a b]", objects "map[k:v ...]" with sorted keys.
std::string GoValue(const Json& value);

// Go's %q of a string list: ["a" "b"]; anything else as GoValue.
std::string GoQuotedList(const Json& value);

// Vault's humanDuration: 3600 -> "1h", 90 -> "1m30s", 0 -> "0s".
std::string HumanDuration(long long seconds);

// Integers become HumanDuration; anything else GoValue (Vault's humanDurationInt).
std::string HumanDurationValue(const Json& value);

// Keys Vault prints as durations: ttl, *_ttl, period, *_period, duration, ...
bool LooksLikeDuration(std::string_view key);

// RFC 3339 as Go's time.Time.String(): "2024-05-09 14:22:03.5 +0000 UTC".
std::string GoTime(std::string_view rfc3339);

// "=== Data ===" centred over `total` columns (Vault's padEqualSigns).
std::string PadEqualSigns(std::string_view header, std::size_t total);
// The header over a Key/Value table of `map` (Vault's getHeaderForMap).
std::string HeaderForMap(std::string_view header, const Json& map);

// The Key/Value table of a whole answer; "" when there is nothing to show.
std::string SecretTable(const Json& secret);
// The Key/Value table of one object (sorted keys); "" when empty.
std::string MapTable(const Json& map);

// `secret` (table with warnings on err, or JSON). An answer outside Vault's
// envelope (none of its request_id, lease_id, lease_duration, renewable,
// data, warnings, auth, wrap_info) is shown as one map.
// Returns 0.
int OutputSecret(Invocation& inv, const Json& secret);
// The answer's warnings on err, under Vault's heading; nothing when none.
void PrintWarnings(Invocation& inv, const Json& secret);
// An object as a Key/Value table, or as JSON. Returns 0.
int OutputData(Invocation& inv, const Json& data);
// data.keys of a LIST answer: "Keys\n----\n..." sorted, or a JSON array.
int OutputList(Invocation& inv, const Json& secret);

// A LIST answer as Vault's list and kv list print it; `secret` is null when
// the server answered 404. A wrapped answer is printed whole; without keys,
// formats other than table print {} and return 2, the table format says
// "No value found at PATH" (404) or "No entries found at PATH" on err and
// returns 2, or prints an answer that has no data at all. Otherwise
// OutputList.
int OutputListAnswer(Invocation& inv, const Json& secret, std::string_view path);

// The value -field=NAME selects from an answer: lease_id, request_id,
// renewable, token, wrapping_token, ... (Vault's RawSecretField) or
// data.NAME; "data" is data.data, or the whole data map when it has no
// "data" key. Null when absent.
Json RawField(const Json& secret, std::string_view field);

// Prints one value raw (table format) or as JSON; a final newline only on a
// terminal. Null: `Field "NAME" not present in secret` on err, returns 1.
int PrintRawField(Invocation& inv, const Json& value, std::string_view field);
// RawField of `secret`, printed so; in table format the answer's warnings go
// to err first, as Vault prints them with -field.
int PrintSecretField(Invocation& inv, const Json& secret, std::string_view field);

// The data object of an answer, or null.
const Json& DataOf(const Json& secret);

}  // namespace coffer::cli
