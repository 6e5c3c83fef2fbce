#pragma once
// Cryptographically secure random bytes from OpenSSL's DRBG (RAND_bytes).
//
// Thread-safe. Errors: kInternal when the DRBG fails (it should not; a failing
// DRBG means the process must not produce keys).

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "common/secret_bytes.h"
#include "common/status.h"

namespace coffer::crypto {

// Fills `out` with random bytes.
Status RandomFill(std::span<std::uint8_t> out);

// `size` random bytes, for key material.
Result<SecretBytes> RandomSecret(std::size_t size);

// `size` random bytes in a std::string (nonces, salts, ids: not secret).
Result<std::string> RandomString(std::size_t size);

// A random RFC 4122 version-4 UUID, "xxxxxxxx-xxxx-4xxx-Yxxx-xxxxxxxxxxxx"
// in lower-case hex. Terminates the process if the DRBG fails: nothing can be
// trusted after that, and callers need ids in places that cannot fail.
std::string NewUuid();

}  // namespace coffer::crypto
