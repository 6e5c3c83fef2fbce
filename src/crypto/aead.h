#pragma once
// AES-256-GCM authenticated encryption (OpenSSL EVP).
//
// Sealed layout: nonce (12 B, random per message) | ciphertext | tag (16 B).
// The AAD is authenticated but not stored; Open must be given the same AAD.
//
// Thread-safe (no shared state). Errors: kInvalidArgument for a key that is
// not 32 bytes; kPermissionDenied "message authentication failed" when Open
// fails for any reason (wrong key, wrong AAD, tampered or truncated input) —
// the status says nothing else, and no plaintext is returned; kInternal if
// OpenSSL itself fails.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "common/secret_bytes.h"
#include "common/status.h"

namespace coffer::crypto {

inline constexpr std::size_t kAes256KeySize = 32;
inline constexpr std::size_t kGcmNonceSize = 12;
inline constexpr std::size_t kGcmTagSize = 16;
inline constexpr std::size_t kGcmOverhead = kGcmNonceSize + kGcmTagSize;

// Appends nonce | ciphertext | tag to `out` (which may already hold a header).
Status AesGcmSealAppend(const SecretBytes& key, std::string_view plaintext, std::string_view aad,
                        std::string& out);

// The same with a nonce the caller drew from RandomFill for this one message
// (kGcmNonceSize bytes; kInvalidArgument otherwise). For callers that seal
// several messages at once and draw all their nonces in one DRBG call; a
// nonce must never be used twice with the same key.
Status AesGcmSealAppend(const SecretBytes& key, std::string_view plaintext, std::string_view aad,
                        std::string& out, std::span<const std::uint8_t> fresh_nonce);

// nonce | ciphertext | tag as a new string.
Result<std::string> AesGcmSeal(const SecretBytes& key, std::string_view plaintext,
                               std::string_view aad);

// Opens nonce | ciphertext | tag into a std::string (for values that are
// handed to callers as strings anyway).
Result<std::string> AesGcmOpen(const SecretBytes& key, std::string_view sealed,
                               std::string_view aad);

// Opens into SecretBytes, for key material.
Result<SecretBytes> AesGcmOpenSecret(const SecretBytes& key, std::string_view sealed,
                                     std::string_view aad);

}  // namespace coffer::crypto
