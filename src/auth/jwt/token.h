#pragma once
// A compact-serialised JWS JWT: parsing and signature verification.
//
// Accepted algorithms: RS256/RS384/RS512 (RSA keys), ES256 (P-256), ES384
// (P-384), ES512 (P-521) and EdDSA (Ed25519). "none" and every HMAC algorithm (HS*) are
// always refused, so a public key can never be used as an HMAC secret; a
// header alg that does not fit the key's type is refused too.
//
// Error messages never contain the token or any part of it.
// Pure functions; thread-safe.

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "auth/jwt/keys.h"
#include "common/status.h"

namespace coffer::auth::jwt {

struct Jwt {
  nlohmann::json header;      // object
  nlohmann::json claims;      // object
  std::string alg;            // header "alg"
  std::string kid;            // header "kid", "" when absent
  std::string signing_input;  // "<header b64>.<payload b64>"
  std::string signature;      // raw bytes
};

// Splits and decodes a token. kInvalidArgument "malformed JWT: ..." for a
// bad shape, encoding or JSON; "unsupported algorithm <alg>" for none, HS*
// and anything not listed above; a "crit" header is refused.
Result<Jwt> ParseJwt(std::string_view token);

// Whether `key` may verify `alg` (type, curve, and the JWK's own alg).
bool KeyFitsAlg(const PublicKey& key, std::string_view alg);

// Verifies the signature with one key. kInvalidArgument "signature
// verification failed" on a bad signature; "algorithm does not match the key
// type" when KeyFitsAlg is false.
Status VerifySignature(const Jwt& jwt, const PublicKey& key);

// Verifies with the keys that could have signed it: those with the token's
// kid when it has one (all keys when it has none or the keys have no kids),
// restricted to keys fitting the alg. kNotFound "unknown key id" when the
// kid matches no key (the caller may refresh its JWKS and retry).
Status VerifyWithKeySet(const Jwt& jwt, const KeySet& keys);

// Raw JOSE ECDSA signature r||s → DER, for EVP (exposed for tests).
Result<std::string> JoseToDerEcdsa(std::string_view raw, std::size_t coord_size);

}  // namespace coffer::auth::jwt
