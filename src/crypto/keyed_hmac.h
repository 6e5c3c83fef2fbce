#pragma once
// KeyedHmac: HMAC-SHA256 (RFC 2104) under one key that is set up once.
//
// The key schedule — the SHA-256 states after the inner and the outer padded
// key block — is computed at construction. Each MAC copies those two states
// and hashes the value and the inner digest: two or three SHA-256
// compressions for a short value, no lock and no allocation. This is for
// keys that hash on every request (the token salt, an audit device's salt),
// where OpenSSL's EVP_MAC interface costs several times the hashing itself
// (its re-initialisation walks parameter lists and the contexts need a pool).
//
// The saved states are as secret as the key: they are wiped on destruction.
// Thread-safe after Create().

#include <array>
#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"

namespace coffer::crypto {

class KeyedHmac {
 public:
  static constexpr std::size_t kSize = 32;

  // Errors: kInternal if SHA-256 is not available.
  static Result<std::unique_ptr<KeyedHmac>> Create(std::string_view key);
  ~KeyedHmac();
  KeyedHmac(const KeyedHmac&) = delete;
  KeyedHmac& operator=(const KeyedHmac&) = delete;

  // The raw 32-byte MAC of `data`. Errors: none in practice (kept a Result
  // for callers written against the earlier interface).
  Result<std::string> Mac(std::string_view data) const;
  // The same into `out`, without allocating.
  void MacInto(std::string_view data, std::array<unsigned char, kSize>& out) const;

  // Whether the keyed states (as good as the key) sit in OpenSSL's secure
  // heap: mlocked and out of core dumps, once InitSecureMemory() succeeded.
  bool InSecureMemory() const;

 private:
  struct Impl;
  KeyedHmac();
  std::unique_ptr<Impl> impl_;
};

}  // namespace coffer::crypto
