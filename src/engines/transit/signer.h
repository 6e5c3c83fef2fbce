#pragma once
// Signatures, HMACs and key export under one key version.
//
// ed25519 signs the input itself (pure Ed25519; hash_algorithm is ignored);
// ECDSA and RSA sign a digest of the input (or the input as a digest when
// prehashed). ECDSA signatures are ASN.1 DER or, with marshaling "jws", the
// fixed-size r||s of RFC 7518. RSA uses PSS (default) or PKCS#1 v1.5.
//
// Thread-safe. Errors: kInvalidArgument for an option the key type does not
// take (named in the message), kInternal when OpenSSL fails. Verification
// answers false for a signature that does not verify or cannot be parsed.

#include <openssl/evp.h>

#include <string>
#include <string_view>

#include "common/status.h"
#include "engines/transit/policy.h"

namespace coffer::engines::transit {

struct SignOptions {
  std::string hash_algorithm = "sha2-256";
  bool prehashed = false;
  std::string signature_algorithm;   // RSA: "pss" (default) or "pkcs1v15"
  std::string marshaling = "asn1";   // ECDSA: "asn1" or "jws"
  std::string salt_length = "auto";  // RSA-PSS: "auto", "hash" or a number
  std::string context;               // derived ed25519 keys
};

// Checks options against the key type before any work is done.
Status CheckSignOptions(const Policy& policy, const SignOptions& options);

// The raw signature bytes.
Result<std::string> SignInput(const Policy& policy, const KeyVersion& version,
                              std::string_view input, const SignOptions& options);
Result<bool> VerifyInput(const Policy& policy, const KeyVersion& version, std::string_view input,
                         std::string_view signature, const SignOptions& options);

// The raw HMAC of `input` with the version's HMAC key (the key itself for
// type hmac).
Result<std::string> HmacInput(const Policy& policy, const KeyVersion& version, const EVP_MD* md,
                              std::string_view input);

// The exported form of one version for export/<export_type>/: "encryption-key",
// "signing-key", "hmac-key" or "public-key". kInvalidArgument when the key
// type has no such key.
Result<std::string> ExportKey(const Policy& policy, const KeyVersion& version,
                              std::string_view export_type);

}  // namespace coffer::engines::transit
