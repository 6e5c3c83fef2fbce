#pragma once
// Base64url without padding (RFC 7515 §2), as JWTs and JWKs use it.
// Strict: rejects '=' padding, characters outside the URL-safe alphabet, a
// length that leaves a single dangling character, and non-zero spare bits.

#include <optional>
#include <string>
#include <string_view>

namespace coffer::auth::jwt {

std::optional<std::string> Base64UrlDecode(std::string_view in);
std::string Base64UrlEncode(std::string_view bytes);

}  // namespace coffer::auth::jwt
