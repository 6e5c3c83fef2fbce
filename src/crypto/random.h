#pragma once
// Cryptographically secure random bytes from OpenSSL's DRBG (RAND_bytes).
//
// Thread-safe. Errors: kInternal when the DRBG fails (it should not; a failing
// DRBG means the process must not produce keys).

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "common/secret_bytes.h"
#include "common/status.h"

namespace coffer::crypto {

// Fills `out` with random bytes.
Status RandomFill(std::span<std::uint8_t> out);

// Fills `out` (at most kMaxNonceSize bytes) with random bytes for a nonce:
// a public value that must never repeat. They come from a per-thread buffer
// that one DRBG call fills, instead of one call per nonce (~1 µs each in
// OpenSSL 3: the thread's DRBG lookup, its lock, an AES-CTR generate). A
// fork empties every buffer, so a child never repeats its parent's nonces.
// Never for secrets: the buffer holds the next nonces in memory. (The
// barrier draws each nonce from the DRBG itself, so that writes fail at
// once when the DRBG does: tests/integration/test_faults.py.)
inline constexpr std::size_t kMaxNonceSize = 32;
Status RandomNonce(std::span<std::uint8_t> out);

// `size` random bytes, for key material.
Result<SecretBytes> RandomSecret(std::size_t size);

// `size` random bytes in a std::string (nonces, salts, ids: not secret).
Result<std::string> RandomString(std::size_t size);

// The base62 digits, in ASCII order (so equal-length base62 numerals sort
// as their values do).
inline constexpr std::string_view kBase62Digits =
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

// `n` random characters of kBase62Digits, uniform (rejection sampling), from
// one DRBG call as a rule: ids, accessors, lease ids.
Result<std::string> RandomBase62(std::size_t n);

// A random RFC 4122 version-4 UUID, "xxxxxxxx-xxxx-4xxx-Yxxx-xxxxxxxxxxxx"
// in lower-case hex. Errors: kInternal when the DRBG fails (the request that
// needed the id fails; the server goes on).
Result<std::string> NewUuid();

}  // namespace coffer::crypto
