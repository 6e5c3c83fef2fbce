#pragma once
// HMAC-SHA256 (OpenSSL).
//
// Thread-safe. Errors: kInternal only if OpenSSL fails.

#include <cstddef>
#include <string>
#include <string_view>

#include "common/secret_bytes.h"
#include "common/status.h"

namespace coffer::crypto {

inline constexpr std::size_t kHmacSha256Size = 32;

// The 32-byte raw MAC of `data` under `key`.
Result<std::string> HmacSha256(const SecretBytes& key, std::string_view data);
Result<std::string> HmacSha256(std::string_view key, std::string_view data);

// Constant-time check of `mac` against HMAC-SHA256(key, data).
bool HmacSha256Verify(const SecretBytes& key, std::string_view data, std::string_view mac);

// Lower-case hex of bytes (for "hmac-sha256:<hex>" style output).
std::string ToHex(std::string_view bytes);

}  // namespace coffer::crypto
