#pragma once
// KeyedHmac: HMAC-SHA256 under one key that is set up once.
//
// The key schedule (the inner and outer padded-key states) is computed at
// construction; each Mac() takes a context from a small pool (or duplicates
// the keyed one) and re-initialises it from those saved states, so hashing a
// short value costs two SHA-256 compressions and no allocation, instead of
// the one-shot HMAC()'s context setup, key schedule and frees. For keys that
// hash on every request (the token salt, an audit device's salt).
//
// The key is copied into OpenSSL's context (wiped by OpenSSL when freed).
// Thread-safe after Create().

#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"

namespace coffer::crypto {

class KeyedHmac {
 public:
  // Errors: kInternal if OpenSSL cannot set up the MAC.
  static Result<std::unique_ptr<KeyedHmac>> Create(std::string_view key);
  ~KeyedHmac();
  KeyedHmac(const KeyedHmac&) = delete;
  KeyedHmac& operator=(const KeyedHmac&) = delete;

  // The raw 32-byte MAC of `data`. Errors: kInternal if OpenSSL fails
  // (allocation failure only).
  Result<std::string> Mac(std::string_view data) const;

 private:
  struct Impl;
  KeyedHmac();
  std::unique_ptr<Impl> impl_;
};

}  // namespace coffer::crypto
