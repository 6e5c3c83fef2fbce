#pragma once
// Small helpers the auth methods share: Vault's empty answers and path
// splitting.

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "logical/request.h"

namespace coffer::auth {

using logical::NoContent;
using logical::NotFoundResponse;
// A LIST answer {keys}, or 404 when there are none (as Vault).
logical::Response KeysResponse(std::vector<std::string> keys);
bool IsWrite(logical::Operation op);

// Splits "a/b/c" into its segments (empty segments kept).
std::vector<std::string_view> Segments(std::string_view path);

// A JSON object from a stored value; kInternal naming `what` when corrupt.
Result<logical::Json> ParseStored(std::string_view text, std::string_view what);

}  // namespace coffer::auth
