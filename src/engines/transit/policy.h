#pragma once
// A named transit key ("policy" in Vault's terms): its type, its settings
// and every key version still kept, plus the storage record it round-trips
// through (JSON, stored under the barrier, so key material is encrypted at
// rest).
//
// A Policy is a value; the engine keeps immutable snapshots
// (shared_ptr<const Policy>) and changes a key by copy, edit, store, swap.
// KeyVersion objects are immutable once built and shared between snapshots.
//
// Errors: kInvalidArgument for bad settings, kInternal for a corrupt record
// or an OpenSSL failure. Messages never carry key material.

#include <openssl/evp.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "common/secret_bytes.h"
#include "common/status.h"
#include "crypto/aead.h"
#include "engines/transit/key_types.h"

namespace coffer::engines::transit {

using Json = nlohmann::json;

struct KeyVersion {
  std::uint32_t version = 0;
  // AEAD key; the key itself for type hmac; the 32-byte seed for ed25519;
  // DER private key (traditional form) for ECDSA and RSA.
  SecretBytes key;
  // 32 random bytes behind hmac/ and HMAC verify on every non-hmac type.
  SecretBytes hmac_key;
  std::int64_t creation_unix_ns = 0;
  // Asymmetric types: the parsed key, shared for signing (EVP_PKEY is
  // reference-counted and safe for concurrent sign/verify calls).
  std::shared_ptr<EVP_PKEY> pkey;
  // PEM SubjectPublicKeyInfo (ECDSA, RSA) or base64 of the raw key (ed25519).
  std::string public_key;
  // aes256-gcm96 without derivation: `key` prepared on its first encryption
  // (crypto/aead.h), shared by every thread.
  std::unique_ptr<crypto::LazyPreparedAesGcm> prepared =
      std::make_unique<crypto::LazyPreparedAesGcm>();
};

struct Policy {
  std::string name;
  KeyType type = KeyType::kAes256Gcm96;
  bool derived = false;
  bool convergent = false;
  bool exportable = false;
  bool allow_plaintext_backup = false;
  bool deletion_allowed = false;
  std::uint32_t min_decryption_version = 1;
  std::uint32_t min_encryption_version = 0;  // 0: the latest
  std::uint32_t min_available_version = 0;   // versions below were trimmed
  std::uint32_t latest_version = 0;
  std::int64_t auto_rotate_period_s = 0;  // 0: no automatic rotation
  std::size_t hmac_key_size = 32;         // type hmac only
  std::map<std::uint32_t, std::shared_ptr<const KeyVersion>> versions;

  // nullptr when the version does not exist (never made, or trimmed).
  const KeyVersion* Version(std::uint32_t v) const;
  // When the latest version was made (the clock of automatic rotation).
  std::chrono::system_clock::time_point LatestCreation() const;
};

// A fresh version of `type` with new random key material.
Result<std::shared_ptr<const KeyVersion>> GenerateVersion(KeyType type, std::uint32_t version,
                                                          std::int64_t now_unix_ns,
                                                          std::size_t hmac_key_size);

// Adds version latest+1 to `policy`.
Status RotatePolicy(Policy& policy, std::int64_t now_unix_ns);

// The storage record (also the payload of backup/). Contains key material:
// callers wipe the string (WipeString) when done with it.
std::string EncodePolicy(const Policy& policy);
Result<Policy> DecodePolicy(std::string_view record);

// The version to encrypt, sign or HMAC with: `requested`, or the latest when
// 0, within [min_encryption_version, latest]. kInvalidArgument otherwise.
Result<const KeyVersion*> SelectEncryptVersion(const Policy& policy, std::uint32_t requested);
// The version a ciphertext, signature or HMAC names, when it may still be
// used (>= min_decryption_version and not trimmed). kInvalidArgument
// otherwise.
Result<const KeyVersion*> SelectDecryptVersion(const Policy& policy, std::uint32_t version);

// Vault's body for GET keys/:name.
Json PolicyReadJson(const Policy& policy);

// Builds an EVP_PKEY for `type` from stored key material (`key` as in
// KeyVersion::key), and its public key text.
Result<std::shared_ptr<EVP_PKEY>> LoadPrivateKey(KeyType type, const SecretBytes& key);
Result<std::string> PublicKeyText(KeyType type, EVP_PKEY* pkey);

// A transit key name: non-empty, no '/', printable, at most 256 bytes.
Status ValidateKeyName(std::string_view name);

}  // namespace coffer::engines::transit
