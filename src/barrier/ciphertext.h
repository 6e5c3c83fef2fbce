#pragma once
// The barrier's ciphertext format (docs/ciphertext-format.md):
//
//   term (4 B, big-endian) | version (1 B, = 1) | nonce (12 B) | ciphertext | tag (16 B)
//
// AES-256-GCM with the storage key as AAD. Term 0 is reserved for values
// encrypted directly under a root or unseal key (the keyring, the sealed root
// key); data terms start at 1.
//
// Thread-safe (no shared state).

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "common/secret_bytes.h"
#include "common/status.h"
#include "crypto/aead.h"

namespace coffer::barrier {

inline constexpr std::uint8_t kCiphertextVersion = 1;
inline constexpr std::size_t kTermSize = 4;
inline constexpr std::size_t kHeaderSize = kTermSize + 1;
// Header + nonce + tag.
inline constexpr std::size_t kCiphertextOverhead = kHeaderSize + 12 + 16;

// header | nonce | ciphertext | tag. The nonce is drawn from the DRBG, or is
// `fresh_nonce` when given (12 bytes the caller drew for this value alone).
// Errors: kInvalidArgument (key or nonce size), kInternal (OpenSSL or the
// random generator). With `prepared` (the same key, prepared once:
// crypto::PreparedAesGcm) the value is sealed through it; the result is the
// same format either way.
Result<std::string> EncryptValue(std::uint32_t term, const SecretBytes& key,
                                 std::string_view plaintext, std::string_view aad,
                                 std::span<const std::uint8_t> fresh_nonce = {},
                                 const crypto::PreparedAesGcm* prepared = nullptr);

// The term in the header. kInternal when the value is too short to be a
// ciphertext or has an unknown version.
Result<std::uint32_t> CiphertextTerm(std::string_view ciphertext);

// Opens a ciphertext (header included) whose term's key is `key`.
// kInternal "failed to decrypt" for any failure; nothing else is revealed.
// With `prepared` (`key` prepared once) it is opened through that.
Result<std::string> DecryptValue(const SecretBytes& key, std::string_view ciphertext,
                                 std::string_view aad,
                                 const crypto::PreparedAesGcm* prepared = nullptr);
Result<SecretBytes> DecryptSecret(const SecretBytes& key, std::string_view ciphertext,
                                  std::string_view aad);

}  // namespace coffer::barrier
