#pragma once
// The signing keys of identity tokens (identity/oidc, oidc.h): generation,
// their public half as a JWK, and compact JWS signing, over OpenSSL 3.
//
// Algorithms, as Vault names them: RS256, RS384, RS512 (RSA 2048), ES256
// (P-256), ES384 (P-384), ES512 (P-521) and EdDSA (Ed25519). An ECDSA
// signature is written as JOSE's fixed-size r || s, not DER.
//
// A private key lives as PKCS#8 PEM in a SecretBytes (wiped when released);
// it is stored only through the barrier. Errors: kInvalidArgument for an
// unknown algorithm or a key that does not parse, kInternal when OpenSSL
// fails. Pure functions; thread-safe.

#include <string>
#include <string_view>
#include <vector>

#include "common/secret_bytes.h"
#include "common/status.h"
#include "logical/request.h"

namespace coffer::identity::oidc {

// The algorithms a key may have, in Vault's order.
const std::vector<std::string>& SupportedAlgorithms();
bool IsSupportedAlgorithm(std::string_view alg);

struct SigningKey {
  std::string kid;  // a UUID, as Vault's
  SecretBytes pem;  // PKCS#8 private key
};

Result<SigningKey> GenerateSigningKey(std::string_view alg);

// {"use":"sig","kty":...,"kid":...,"alg":...,<the public parameters>}.
Result<logical::Json> PublicJwk(const SigningKey& key, std::string_view alg);

// "<header>.<payload>.<signature>", the header {"alg","kid"}.
Result<std::string> SignJws(const SigningKey& key, std::string_view alg, std::string_view payload);

}  // namespace coffer::identity::oidc
