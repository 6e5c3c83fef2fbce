#pragma once
// Field parsing for the token backend: Vault accepts lists as JSON arrays or
// comma-separated strings, booleans as JSON booleans or "true"/"false", and
// durations as seconds or "1h30m".

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "logical/request.h"

namespace coffer::token::params {

Result<std::optional<std::string>> String(const logical::Request& r, std::string_view name);
Result<std::optional<bool>> Bool(const logical::Request& r, std::string_view name);
Result<std::optional<std::int64_t>> Int(const logical::Request& r, std::string_view name);
Result<std::optional<std::chrono::seconds>> Duration(const logical::Request& r,
                                                     std::string_view name);
Result<std::optional<std::vector<std::string>>> List(const logical::Request& r,
                                                     std::string_view name);
Result<std::map<std::string, std::string>> Meta(const logical::Request& r, std::string_view name);

}  // namespace coffer::token::params
