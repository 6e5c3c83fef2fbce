#pragma once
// Shamir's secret sharing over GF(2^8) (the AES field, x^8 + x^4 + x^3 + x + 1).
//
// A share is the secret's length plus one byte: share[i] = P_i(x) for each
// secret byte i, and the trailing byte is x, as Vault lays them out, so shares
// are interchangeable with Vault's for the same secret.
//
// The arithmetic is constant time with no lookup tables: multiplication is
// shift-and-xor over all 8 bits with masks, inversion is a^254 by a fixed
// chain of multiplications. Polynomial coefficients come from RAND_bytes and
// are wiped after use, as are the intermediate values of Combine.
//
// Thread-safe (no shared state). Errors: kInvalidArgument for bad parameters
// or parts; kInternal if the random generator fails.

#include <cstdint>
#include <span>
#include <vector>

#include "common/secret_bytes.h"
#include "common/status.h"

namespace coffer::crypto::shamir {

// Field operations, exposed for tests.
std::uint8_t GfAdd(std::uint8_t a, std::uint8_t b);
std::uint8_t GfMul(std::uint8_t a, std::uint8_t b);
// The multiplicative inverse; GfInv(0) is 0.
std::uint8_t GfInv(std::uint8_t a);
// a / b; b must be non-zero (a / 0 yields 0).
std::uint8_t GfDiv(std::uint8_t a, std::uint8_t b);

// Splits `secret` (non-empty) into `parts` shares (2..255), any `threshold`
// (2..parts) of which recover it. x coordinates are distinct, non-zero and in
// random order.
Result<std::vector<SecretBytes>> Split(const SecretBytes& secret, int parts, int threshold);

// Recovers the secret from at least two shares of equal length (>= 2 bytes)
// with distinct x coordinates. Wrong or too few shares give a wrong secret,
// not an error: detecting that is the caller's job (the seal decrypts the root
// key with the result).
Result<SecretBytes> Combine(std::span<const SecretBytes> parts);

}  // namespace coffer::crypto::shamir
