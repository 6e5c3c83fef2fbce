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
#include <memory>
#include <mutex>
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

// An AES-256-GCM key prepared once for many messages: the AES round keys
// and the GHASH key powers are computed when it is made, not per message.
// The one-shot functions above set up an OpenSSL context per call, which
// costs about as much again as opening a 300-byte value (two per KV read).
// OpenSSL can reuse a keyed context, but not from two threads at once and
// only in memory it allocates itself; libsodium's precomputed state
// (crypto_aead_aes256gcm_beforenm) is read-only after it is made, so every
// thread shares one, and it lives in a SecretBytes: the locked arena, wiped
// when the key goes. The ciphertexts are the same standard AES-256-GCM as
// above (96-bit nonce first, 128-bit tag last), so each side opens what the
// other sealed.
//
// libsodium implements it only with AES-NI and PCLMUL; Create answers null
// on a CPU without them and callers keep the one-shot path.
class PreparedAesGcm {
 public:
  // Null when the CPU lacks the instructions; kInvalidArgument-like misuse
  // (a key that is not 32 bytes) also answers null.
  static std::unique_ptr<PreparedAesGcm> Create(const SecretBytes& key);

  // As AesGcmSealAppend with the caller's nonce.
  Status SealAppend(std::string_view plaintext, std::string_view aad, std::string& out,
                    std::span<const std::uint8_t> fresh_nonce) const;
  // As AesGcmOpen.
  Result<std::string> Open(std::string_view sealed, std::string_view aad) const;

 private:
  explicit PreparedAesGcm(SecretBytes state) : state_(std::move(state)) {}
  SecretBytes state_;  // crypto_aead_aes256gcm_state, 16-byte aligned
};

// A PreparedAesGcm made on first use, for a key that may never be used (a
// keyring keeps every old term's key; most are never read again). Its state
// is 512 bytes of the locked arena, so only the keys in use get one.
class LazyPreparedAesGcm {
 public:
  // The prepared key for `key` (the same key on every call), or null when
  // the CPU cannot prepare one. Thread-safe.
  const PreparedAesGcm* Get(const SecretBytes& key) const {
    std::call_once(once_, [&] { prepared_ = PreparedAesGcm::Create(key); });
    return prepared_.get();
  }

 private:
  mutable std::once_flag once_;
  mutable std::unique_ptr<PreparedAesGcm> prepared_;
};

}  // namespace coffer::crypto
