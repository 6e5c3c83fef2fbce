#pragma once
// Transit key types and the primitives shared by every operation: hash
// algorithm names, HKDF key derivation and the "vault:vN:" envelope.
//
// Thread-safe (no shared state). Errors: kInvalidArgument for names or
// envelopes that are malformed (the message never quotes the input value);
// kInternal when OpenSSL fails.

#include <openssl/evp.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/secret_bytes.h"
#include "common/status.h"

namespace coffer::engines::transit {

enum class KeyType {
  kAes128Gcm96,
  kAes256Gcm96,
  kChaCha20Poly1305,
  kEd25519,
  kEcdsaP256,
  kEcdsaP384,
  kRsa2048,
  kRsa3072,
  kRsa4096,
  kHmac,
  kEcdsaP521,
};

// "aes256-gcm96" → kAes256Gcm96, ...; nullopt for an unknown name.
std::optional<KeyType> ParseKeyType(std::string_view name);
std::string_view KeyTypeName(KeyType type);

bool IsSymmetricAead(KeyType type);  // aes*-gcm96, chacha20-poly1305
bool IsEcdsa(KeyType type);
bool IsRsa(KeyType type);
bool IsAsymmetric(KeyType type);  // ed25519, ecdsa-*, rsa-*
bool SupportsEncryption(KeyType type);
bool SupportsSigning(KeyType type);
bool SupportsDerivation(KeyType type);  // symmetric AEAD and ed25519
// Key size in bytes of a symmetric AEAD key.
std::size_t AeadKeySize(KeyType type);
// RSA modulus bits.
int RsaBits(KeyType type);

// Vault's hash names: sha1, sha2-224, sha2-256, sha2-384, sha2-512,
// sha3-224, sha3-256, sha3-384, sha3-512. nullptr for anything else.
const EVP_MD* HashByName(std::string_view name);

// HKDF-SHA256(secret, salt = none, info = context), `length` bytes; how
// derived keys are made from a key version and a caller's context.
Result<SecretBytes> Hkdf(const SecretBytes& secret, std::string_view context, std::size_t length);

// "vault:v<version>:<payload>".
std::string FormatEnvelope(std::uint32_t version, std::string_view payload);

struct Envelope {
  std::uint32_t version = 0;
  std::string_view payload;  // still encoded (base64 or base64url)
};
// Parses "vault:vN:payload"; `what` names the field in errors ("ciphertext").
Result<Envelope> ParseEnvelope(std::string_view text, std::string_view what);

// Decodes a standard base64 field; kInvalidArgument naming `field` on error.
Result<SecretBytes> DecodeBase64Field(std::string_view value, std::string_view field);

}  // namespace coffer::engines::transit
