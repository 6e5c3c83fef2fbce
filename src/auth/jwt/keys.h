#pragma once
// Public keys that verify JWT signatures: parsed from PEM
// (jwt_validation_pubkeys) or from a JWKS document (jwks_url, OIDC
// discovery). Supported key types: RSA (>= 2048 bits), EC P-256, P-384 and P-521,
// and Ed25519. Only public keys are ever held here.
//
// A PublicKey is immutable once built; sharing one across threads is safe
// (OpenSSL 3 EVP_PKEY verification is thread-safe for a const key).
//
// Errors: kInvalidArgument for a malformed PEM/JWK/JWKS or an unsupported
// key type or size.

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

typedef struct evp_pkey_st EVP_PKEY;

namespace coffer::auth::jwt {

enum class KeyType { kRsa, kEcP256, kEcP384, kEcP521, kEd25519 };

class PublicKey {
 public:
  PublicKey(std::shared_ptr<EVP_PKEY> pkey, KeyType type, std::string kid, std::string alg)
      : pkey_(std::move(pkey)), type_(type), kid_(std::move(kid)), alg_(std::move(alg)) {}

  EVP_PKEY* pkey() const { return pkey_.get(); }
  KeyType type() const { return type_; }
  // The JWK's "kid" ("" for PEM keys or JWKs without one).
  const std::string& kid() const { return kid_; }
  // The JWK's "alg" when it names one ("" otherwise): the key may then only
  // verify that algorithm.
  const std::string& alg() const { return alg_; }

 private:
  std::shared_ptr<EVP_PKEY> pkey_;
  KeyType type_;
  std::string kid_;
  std::string alg_;
};

using KeySet = std::vector<PublicKey>;

// One PEM "PUBLIC KEY" (SubjectPublicKeyInfo) block.
Result<PublicKey> ParsePemPublicKey(std::string_view pem);

// A JWKS document {"keys":[...]}. Keys whose "use" is not "sig", and keys of
// unsupported types, are skipped (as other verifiers do); a malformed key of
// a supported type is an error. An empty result is an error unless
// `allow_empty` (an issuer that has not published its keys yet).
Result<KeySet> ParseJwks(std::string_view json_text, bool allow_empty = false);

}  // namespace coffer::auth::jwt
