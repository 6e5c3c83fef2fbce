#pragma once
// Encryption under one key version: AES-128/256-GCM and ChaCha20-Poly1305
// (payload nonce (12 B) | ciphertext | tag (16 B), as Vault lays it out, so a
// ciphertext decrypts with the exported key in any AEAD library), and
// RSA-OAEP with SHA-256 for RSA keys.
//
// Thread-safe. Errors: kInvalidArgument for a missing/forbidden context or
// nonce, a payload that is too short, or authentication failure ("cipher:
// message authentication failed"); kInternal when OpenSSL fails. No error
// carries plaintext, and no unauthenticated plaintext is ever returned.

#include <string>
#include <string_view>

#include "common/secret_bytes.h"
#include "common/status.h"
#include "engines/transit/policy.h"

namespace coffer::engines::transit {

inline constexpr std::size_t kAeadNonceSize = 12;
inline constexpr std::size_t kAeadTagSize = 16;

// The symmetric key for `version` and `context`: the version's key, or its
// HKDF derivation for derived keys (kInvalidArgument when a derived key gets
// no context).
Result<SecretBytes> EncryptionKey(const Policy& policy, const KeyVersion& version,
                                  std::string_view context);

// The payload for `plaintext` (not yet base64). Convergent keys derive the
// nonce from the plaintext, context and associated data, so equal inputs
// give equal output.
Result<std::string> EncryptPayload(const Policy& policy, const KeyVersion& version,
                                   std::string_view plaintext, std::string_view context,
                                   std::string_view aad);

Result<SecretBytes> DecryptPayload(const Policy& policy, const KeyVersion& version,
                                   std::string_view payload, std::string_view context,
                                   std::string_view aad);

// Raw AEAD with an explicit key and nonce (for tests and benchmarks).
// While one is alive on a thread (one batch of encrypt items), AeadSeal keys
// its cipher context once per key and only sets a new nonce per item; the
// context is wiped when the last scope ends. Not copyable.
class SealScope {
 public:
  SealScope();
  ~SealScope();
  SealScope(const SealScope&) = delete;
  SealScope& operator=(const SealScope&) = delete;
};

// `prepared` (optional): `key`'s lazily prepared AES-GCM state, used for an
// aes256-gcm96 seal outside a SealScope instead of keying a context per call.
Result<std::string> AeadSeal(KeyType type, const SecretBytes& key, std::string_view nonce,
                             std::string_view plaintext, std::string_view aad,
                             const crypto::LazyPreparedAesGcm* prepared = nullptr);
Result<SecretBytes> AeadOpen(KeyType type, const SecretBytes& key, std::string_view payload,
                             std::string_view aad);

}  // namespace coffer::engines::transit
