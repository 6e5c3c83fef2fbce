#include "auth/jwt/token.h"

#include <openssl/bn.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>

#include "common/encoding.h"

namespace coffer::auth::jwt {
namespace {

using Json = nlohmann::json;

// A token larger than this is refused before any decoding.
constexpr std::size_t kMaxTokenBytes = 64 * 1024;

bool Supported(std::string_view alg) {
  return alg == "RS256" || alg == "RS384" || alg == "RS512" || alg == "ES256" || alg == "ES384" ||
         alg == "ES512" || alg == "EdDSA";
}

// The size of r and s (and of a JOSE signature's halves) for an EC key; 0
// for other keys.
std::size_t EcCoordinateBytes(KeyType type) {
  switch (type) {
    case KeyType::kEcP256:
      return 32;
    case KeyType::kEcP384:
      return 48;
    case KeyType::kEcP521:
      return 66;
    default:
      return 0;
  }
}

const EVP_MD* Digest(std::string_view alg) {
  if (alg == "RS256" || alg == "ES256") return EVP_sha256();
  if (alg == "RS384" || alg == "ES384") return EVP_sha384();
  if (alg == "RS512" || alg == "ES512") return EVP_sha512();
  return nullptr;  // EdDSA signs the message itself
}

Result<Json> DecodeObject(std::string_view part, const char* what) {
  auto raw = Base64UrlDecode(part);
  if (!raw)
    return Err(InvalidArgument(std::string("malformed JWT: ") + what + " is not base64url"));
  Json j = Json::parse(*raw, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return Err(InvalidArgument(std::string("malformed JWT: ") + what + " is not a JSON object"));
  }
  return j;
}

}  // namespace

Result<Jwt> ParseJwt(std::string_view token) {
  if (token.empty()) return Err(InvalidArgument("missing jwt"));
  if (token.size() > kMaxTokenBytes) return Err(InvalidArgument("malformed JWT: too large"));
  auto d1 = token.find('.');
  auto d2 = d1 == std::string_view::npos ? d1 : token.find('.', d1 + 1);
  if (d2 == std::string_view::npos || token.find('.', d2 + 1) != std::string_view::npos) {
    return Err(InvalidArgument("malformed JWT: expected three dot-separated parts"));
  }
  Jwt jwt;
  ASSIGN_OR_RETURN(jwt.header, DecodeObject(token.substr(0, d1), "header"));
  auto alg = jwt.header.find("alg");
  if (alg == jwt.header.end() || !alg->is_string()) {
    return Err(InvalidArgument("malformed JWT: header has no alg"));
  }
  jwt.alg = alg->get<std::string>();
  if (jwt.alg == "none" || jwt.alg.empty()) {
    return Err(InvalidArgument("unsupported algorithm none"));
  }
  if (jwt.alg.starts_with("HS")) {
    return Err(
        InvalidArgument("unsupported algorithm " + jwt.alg + ": HMAC algorithms are not accepted"));
  }
  if (!Supported(jwt.alg)) {
    // The alg is attacker-chosen: name it only when it is short and printable.
    bool printable = jwt.alg.size() <= 16;
    for (char c : jwt.alg) printable = printable && c > 0x20 && c < 0x7f;
    return Err(InvalidArgument("unsupported algorithm" + (printable ? " " + jwt.alg : "")));
  }
  if (jwt.header.contains("crit")) {
    return Err(InvalidArgument("malformed JWT: critical header extensions are not supported"));
  }
  if (auto kid = jwt.header.find("kid"); kid != jwt.header.end()) {
    if (!kid->is_string()) return Err(InvalidArgument("malformed JWT: kid is not a string"));
    jwt.kid = kid->get<std::string>();
  }
  ASSIGN_OR_RETURN(jwt.claims, DecodeObject(token.substr(d1 + 1, d2 - d1 - 1), "payload"));
  auto sig = Base64UrlDecode(token.substr(d2 + 1));
  if (!sig || sig->empty()) return Err(InvalidArgument("malformed JWT: bad signature encoding"));
  jwt.signature = std::move(*sig);
  jwt.signing_input = std::string(token.substr(0, d2));
  return jwt;
}

bool KeyFitsAlg(const PublicKey& key, std::string_view alg) {
  if (!key.alg().empty() && key.alg() != alg) return false;
  switch (key.type()) {
    case KeyType::kRsa:
      return alg == "RS256" || alg == "RS384" || alg == "RS512";
    case KeyType::kEcP256:
      return alg == "ES256";
    case KeyType::kEcP384:
      return alg == "ES384";
    case KeyType::kEcP521:
      return alg == "ES512";
    case KeyType::kEd25519:
      return alg == "EdDSA";
  }
  return false;
}

Result<std::string> JoseToDerEcdsa(std::string_view raw, std::size_t coord_size) {
  if (raw.size() != 2 * coord_size) return Err(InvalidArgument("signature verification failed"));
  const auto* p = reinterpret_cast<const unsigned char*>(raw.data());
  BIGNUM* r = BN_bin2bn(p, static_cast<int>(coord_size), nullptr);
  BIGNUM* s = BN_bin2bn(p + coord_size, static_cast<int>(coord_size), nullptr);
  ECDSA_SIG* sig = ECDSA_SIG_new();
  if (r == nullptr || s == nullptr || sig == nullptr || ECDSA_SIG_set0(sig, r, s) != 1) {
    BN_free(r);
    BN_free(s);
    ECDSA_SIG_free(sig);
    return Err(Internal("ECDSA_SIG allocation failed"));
  }
  unsigned char* der = nullptr;
  int len = i2d_ECDSA_SIG(sig, &der);
  ECDSA_SIG_free(sig);  // owns r and s now
  if (len <= 0) return Err(Internal("i2d_ECDSA_SIG failed"));
  std::string out(reinterpret_cast<char*>(der), static_cast<std::size_t>(len));
  OPENSSL_free(der);
  return out;
}

Status VerifySignature(const Jwt& jwt, const PublicKey& key) {
  if (!KeyFitsAlg(key, jwt.alg)) {
    return InvalidArgument("algorithm does not match the key type");
  }
  std::string sig = jwt.signature;
  if (std::size_t coord = EcCoordinateBytes(key.type()); coord != 0) {
    ASSIGN_OR_RETURN(sig, JoseToDerEcdsa(jwt.signature, coord));
  }
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  if (ctx == nullptr) return Internal("EVP_MD_CTX_new failed");
  int rc = EVP_DigestVerifyInit(ctx, nullptr, Digest(jwt.alg), nullptr, key.pkey());
  if (rc == 1) {
    // RS*: EVP's default RSA padding for verification is PKCS#1 v1.5.
    rc = EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(sig.data()), sig.size(),
                          reinterpret_cast<const unsigned char*>(jwt.signing_input.data()),
                          jwt.signing_input.size());
  }
  EVP_MD_CTX_free(ctx);
  if (rc != 1) return InvalidArgument("signature verification failed");
  return Status::Ok();
}

Status VerifyWithKeySet(const Jwt& jwt, const KeySet& keys) {
  std::vector<const PublicKey*> candidates;
  bool kid_known = false;
  for (const PublicKey& k : keys) {
    if (!jwt.kid.empty() && !k.kid().empty() && k.kid() != jwt.kid) continue;
    if (!jwt.kid.empty() && k.kid() == jwt.kid) kid_known = true;
    candidates.push_back(&k);
  }
  if (!jwt.kid.empty() && !kid_known) {
    // Keys without a kid (PEM keys) may still verify a token that has one.
    bool any_kidless = false;
    for (const PublicKey* k : candidates) any_kidless = any_kidless || k->kid().empty();
    if (!any_kidless) return NotFound("unknown key id");
  }
  bool any_fit = false;
  for (const PublicKey* k : candidates) {
    if (!KeyFitsAlg(*k, jwt.alg)) continue;
    any_fit = true;
    if (VerifySignature(jwt, *k).ok()) return Status::Ok();
  }
  if (!any_fit) return InvalidArgument("algorithm does not match the key type");
  return InvalidArgument("signature verification failed");
}

}  // namespace coffer::auth::jwt
