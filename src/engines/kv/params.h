#pragma once
// Request-parameter parsing shared by the KV engines, with Vault's lenient
// ("weak") typing: numbers may come as strings, booleans as "true"/"1",
// durations as seconds or Go duration strings ("1h30m", "90s", "2d").
// Every parser answers kInvalidArgument with a message naming the field
// (never its value).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "logical/request.h"

namespace coffer::engines::kv {

using Json = nlohmann::json;

// The parameter from the query string, else from the body; nullopt when
// absent or JSON null.
std::optional<Json> Param(const logical::Request& request, std::string_view name);

Result<std::int64_t> ParseInt(const Json& value, std::string_view field);
Result<bool> ParseBool(const Json& value, std::string_view field);
// Seconds (fractions truncated). Negative values are returned as such.
Result<std::int64_t> ParseDurationSeconds(const Json& value, std::string_view field);
// Go's time.Duration.String() for whole seconds: "0s", "45s", "3m0s", "3h25m19s".
std::string FormatDurationSeconds(std::int64_t seconds);
// An array of integers, one integer, or a comma-separated string "1,2,3".
Result<std::vector<std::uint64_t>> ParseVersionList(const Json& value, std::string_view field);

// A secret's key below the mount: non-empty, no leading or trailing '/', no
// empty segment, no NUL, at most kMaxKeyLength bytes.
inline constexpr std::size_t kMaxKeyLength = 896;
Status ValidateSecretKey(std::string_view key);

// Vault's bodies for the common answers.
using logical::NoContent;
using logical::NotFoundResponse;  // 404 {"errors":[]}
// {keys:[...]} or, when empty, a 404 as Vault answers an empty LIST.
logical::Response ListResponse(std::vector<std::string> keys);

}  // namespace coffer::engines::kv
