#pragma once
// The barrier's keyring: every term's data key, which term is active, the
// encryption count of the active term and the automatic rotation settings.
//
// A Keyring is built once and then only read (the encryption counter is the
// one mutable field, an atomic), so the barrier shares it as a
// shared_ptr<const Keyring> snapshot and replaces it on change.
// Every key is in SecretBytes and is wiped when the last snapshot goes away.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "common/secret_bytes.h"
#include "common/status.h"
#include "crypto/aead.h"

namespace coffer::barrier {

// When the barrier rotates its data key by itself.
struct RotationConfig {
  // Rotate before a term has done more than this many encryptions (Vault's
  // default: about 90% of 2^32, the safe limit for random 96-bit GCM nonces).
  std::uint64_t max_operations = 3865470566;
  // Rotate once a term is this old; 0 means never on age.
  std::chrono::seconds interval{0};
  bool disabled = false;
};

struct KeyTerm {
  std::uint32_t term = 0;
  SecretBytes key;  // 32 bytes
  std::chrono::system_clock::time_point install_time;
  // `key` prepared for AES-GCM on the term's first use (crypto/aead.h); null
  // from Prepared() on a CPU without AES-NI.
  std::unique_ptr<crypto::LazyPreparedAesGcm> prepared =
      std::make_unique<crypto::LazyPreparedAesGcm>();

  const crypto::PreparedAesGcm* Prepared() const { return prepared->Get(key); }
};

class Keyring {
 public:
  // Term numbers in use, ascending.
  std::vector<KeyTerm> terms;
  std::uint32_t active_term = 0;
  RotationConfig rotation;
  // The root key that encrypts this keyring in storage.
  SecretBytes root_key;
  // Encryptions done under active_term (approximate across restarts).
  mutable std::atomic<std::uint64_t> encryptions{0};

  // The term's entry, or null.
  const KeyTerm* Find(std::uint32_t term) const;
  // The active term's entry (always present in a valid keyring).
  const KeyTerm& Active() const;
  std::uint32_t MaxTerm() const;

  // A deep copy (keys cloned), with the current encryption count.
  std::unique_ptr<Keyring> Clone() const;

  // The binary form stored (encrypted) at "core/keyring"; root_key is not
  // part of it.
  SecretBytes Serialize() const;
  // Parses Serialize()'s output. kInternal when malformed.
  static Result<std::unique_ptr<Keyring>> Parse(std::span<const std::uint8_t> bytes,
                                                SecretBytes root_key);
};

}  // namespace coffer::barrier
