// Fuzz target: JWT parsing and verification (auth/jwt/token.h), JWKS
// documents (auth/jwt/keys.h) and base64url (auth/jwt/base64url.h).
// Modes, by the first byte: 0 a compact JWT, parsed then verified against
// fixed RSA, P-256 and Ed25519 keys; 1 a JWKS document; 2 base64url text.
// Invariants: no crash; none/HS* never parse; a fuzzed token never verifies;
// base64url decode/encode round-trips.
#include <openssl/evp.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "auth/jwt/keys.h"
#include "auth/jwt/token.h"
#include "common/encoding.h"
#include "fuzz_util.h"

namespace {

using namespace coffer::auth::jwt;

PublicKey MakeKey(EVP_PKEY* pkey, KeyType type) {
  FUZZ_CHECK(pkey != nullptr);
  return PublicKey(std::shared_ptr<EVP_PKEY>(pkey, EVP_PKEY_free), type, "", "");
}

const KeySet& Keys() {
  static const auto* keys = new KeySet{
      MakeKey(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{2048}), KeyType::kRsa),
      MakeKey(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"), KeyType::kEcP256),
      MakeKey(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"), KeyType::kEd25519),
  };
  return *keys;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const int mode = data[0] % 3;
  const std::string_view text = coffer::fuzz::View(data + 1, size - 1);
  if (mode == 0) {
    auto jwt = ParseJwt(text);
    if (!jwt) return 0;
    FUZZ_CHECK(jwt->header.is_object() && jwt->claims.is_object());
    FUZZ_CHECK(jwt->alg != "none" && !jwt->alg.starts_with("HS"));
    for (const PublicKey& key : Keys()) {
      if (KeyFitsAlg(key, jwt->alg)) FUZZ_CHECK(!VerifySignature(*jwt, key).ok());
    }
    FUZZ_CHECK(!VerifyWithKeySet(*jwt, Keys()).ok());
    (void)JoseToDerEcdsa(jwt->signature, 32);
  } else if (mode == 1) {
    auto keys = ParseJwks(text);
    if (keys) FUZZ_CHECK(!keys->empty());
  } else {
    auto raw = coffer::Base64UrlDecode(text);
    if (raw) FUZZ_CHECK(coffer::Base64UrlEncode(*raw) == text);
    FUZZ_CHECK(coffer::Base64UrlDecode(coffer::Base64UrlEncode(text)) == std::string(text));
  }
  return 0;
}
