#pragma once
// Typed access to request fields for the transit paths, on a JSON object
// (the request body, or one item of batch_input). Lenient like Vault's
// field parser: numbers and booleans may arrive as strings. Errors are
// kInvalidArgument naming the field, never quoting its value.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/secret_bytes.h"
#include "common/status.h"
#include "logical/request.h"

namespace coffer::engines::transit {

using logical::Json;

// nullopt when absent or null.
Result<std::optional<std::string>> OptString(const Json& obj, std::string_view name);
Result<std::string> StringOr(const Json& obj, std::string_view name, std::string fallback);
Result<std::optional<std::int64_t>> OptInt(const Json& obj, std::string_view name);
Result<std::optional<bool>> OptBool(const Json& obj, std::string_view name);
Result<bool> BoolOr(const Json& obj, std::string_view name, bool fallback);
Result<std::optional<std::int64_t>> OptDurationSeconds(const Json& obj, std::string_view name);
// A base64 field decoded; empty when absent.
Result<SecretBytes> Base64Or(const Json& obj, std::string_view name);
// A required base64 field ("missing <name>" when absent).
Result<SecretBytes> RequiredBase64(const Json& obj, std::string_view name);

// A key version selector: absent, 0 or "latest" → 0 (the caller picks).
Result<std::uint32_t> VersionField(const Json& obj, std::string_view name);

}  // namespace coffer::engines::transit
