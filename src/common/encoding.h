#pragma once
// Hex and base64 (standard alphabet, padded) for keys and shares, and JSON
// string literals. Decoders reject malformed input instead of guessing.

#include <optional>
#include <string>
#include <string_view>

#include "common/secret_bytes.h"

namespace coffer {

std::string HexEncode(std::string_view bytes);
// Appends the lower-case hex of `bytes` to `out` (no temporary string).
void AppendHex(std::string& out, std::string_view bytes);
std::optional<SecretBytes> HexDecode(std::string_view hex);
std::string Base64Encode(std::string_view bytes);
std::optional<SecretBytes> Base64Decode(std::string_view b64);
// Base64url without padding (RFC 7515 §2; JWTs, JWKs, JWS signatures, batch
// tokens). Strict: '=' padding, characters outside the URL-safe alphabet, a
// length that leaves a single dangling character and non-zero spare bits are
// refused, so each byte string has exactly one encoding.
std::string Base64UrlEncode(std::string_view bytes);
std::optional<std::string> Base64UrlDecode(std::string_view in);

// Appends `s` as a double-quoted JSON string (also valid HCL): `"` and `\`
// escaped, control characters as \n, \r, \t or \u00XX, everything else copied
// as is (in runs). Writes straight into `out`, so a secret never passes
// through a temporary string.
void AppendJsonString(std::string& out, std::string_view s);

}  // namespace coffer
