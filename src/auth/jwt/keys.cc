#include "auth/jwt/keys.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>

#include <nlohmann/json.hpp>

#include "common/encoding.h"

namespace coffer::auth::jwt {
namespace {

using Json = nlohmann::json;

constexpr int kMinRsaBits = 2048;

std::shared_ptr<EVP_PKEY> Own(EVP_PKEY* p) { return {p, EVP_PKEY_free}; }

// What kind of key an EVP_PKEY is; kInvalidArgument for anything else.
Result<KeyType> Classify(EVP_PKEY* pkey) {
  if (EVP_PKEY_is_a(pkey, "RSA")) {
    if (EVP_PKEY_get_bits(pkey) < kMinRsaBits) {
      return Err(InvalidArgument("RSA keys must have at least 2048 bits"));
    }
    return KeyType::kRsa;
  }
  if (EVP_PKEY_is_a(pkey, "ED25519")) return KeyType::kEd25519;
  if (EVP_PKEY_is_a(pkey, "EC")) {
    char group[64] = {};
    std::size_t len = 0;
    if (EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group,
                                       &len) != 1) {
      return Err(InvalidArgument("EC key without a named curve"));
    }
    std::string_view g(group, len);
    if (g == "prime256v1" || g == "P-256") return KeyType::kEcP256;
    if (g == "secp384r1" || g == "P-384") return KeyType::kEcP384;
    if (g == "secp521r1" || g == "P-521") return KeyType::kEcP521;
    return Err(InvalidArgument("unsupported EC curve (only P-256, P-384 and P-521)"));
  }
  return Err(InvalidArgument("unsupported key type (RSA, EC P-256/P-384/P-521 or Ed25519 only)"));
}

Result<std::string> B64Field(const Json& jwk, const char* name) {
  auto it = jwk.find(name);
  if (it == jwk.end() || !it->is_string()) {
    return Err(InvalidArgument(std::string("JWK is missing \"") + name + "\""));
  }
  auto raw = Base64UrlDecode(it->get_ref<const std::string&>());
  if (!raw || raw->empty()) {
    return Err(InvalidArgument(std::string("JWK field \"") + name + "\" is not base64url"));
  }
  return *raw;
}

// Builds a public key of `type_name` from OSSL params.
Result<std::shared_ptr<EVP_PKEY>> FromParams(const char* type_name, OSSL_PARAM_BLD* bld) {
  OSSL_PARAM* params = OSSL_PARAM_BLD_to_param(bld);
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_name(nullptr, type_name, nullptr);
  EVP_PKEY* pkey = nullptr;
  bool ok = params != nullptr && ctx != nullptr && EVP_PKEY_fromdata_init(ctx) == 1 &&
            EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) == 1;
  EVP_PKEY_CTX_free(ctx);
  OSSL_PARAM_free(params);
  if (!ok) {
    EVP_PKEY_free(pkey);
    return Err(InvalidArgument(std::string("invalid ") + type_name + " JWK"));
  }
  return Own(pkey);
}

// A string member of a JWK; "" when it is absent or not a string (a JWKS is
// remote input: a number where a string belongs must not throw).
std::string StringMember(const Json& jwk, const char* name) {
  auto it = jwk.find(name);
  return it != jwk.end() && it->is_string() ? it->get<std::string>() : std::string();
}

Result<std::shared_ptr<EVP_PKEY>> RsaFromJwk(const Json& jwk) {
  ASSIGN_OR_RETURN(std::string n, B64Field(jwk, "n"));
  ASSIGN_OR_RETURN(std::string e, B64Field(jwk, "e"));
  BIGNUM* bn_n = BN_bin2bn(reinterpret_cast<const unsigned char*>(n.data()),
                           static_cast<int>(n.size()), nullptr);
  BIGNUM* bn_e = BN_bin2bn(reinterpret_cast<const unsigned char*>(e.data()),
                           static_cast<int>(e.size()), nullptr);
  OSSL_PARAM_BLD* bld = OSSL_PARAM_BLD_new();
  Result<std::shared_ptr<EVP_PKEY>> out = Err(InvalidArgument("invalid RSA JWK"));
  if (bn_n != nullptr && bn_e != nullptr && bld != nullptr &&
      OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n) == 1 &&
      OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e) == 1) {
    out = FromParams("RSA", bld);
  }
  OSSL_PARAM_BLD_free(bld);
  BN_free(bn_n);
  BN_free(bn_e);
  return out;
}

Result<std::shared_ptr<EVP_PKEY>> EcFromJwk(const Json& jwk) {
  std::string crv = StringMember(jwk, "crv");
  const char* group = nullptr;
  std::size_t coord = 0;
  if (crv == "P-256") {
    group = "prime256v1";
    coord = 32;
  } else if (crv == "P-384") {
    group = "secp384r1";
    coord = 48;
  } else if (crv == "P-521") {
    group = "secp521r1";
    coord = 66;
  } else {
    return Err(Unsupported("unsupported EC curve"));
  }
  ASSIGN_OR_RETURN(std::string x, B64Field(jwk, "x"));
  ASSIGN_OR_RETURN(std::string y, B64Field(jwk, "y"));
  if (x.size() != coord || y.size() != coord) {
    return Err(InvalidArgument("EC JWK coordinates have the wrong length"));
  }
  std::string point = "\x04" + x + y;  // uncompressed SEC1 point
  OSSL_PARAM_BLD* bld = OSSL_PARAM_BLD_new();
  Result<std::shared_ptr<EVP_PKEY>> out = Err(InvalidArgument("invalid EC JWK"));
  if (bld != nullptr &&
      OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, group, 0) == 1 &&
      OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size()) ==
          1) {
    out = FromParams("EC", bld);
  }
  OSSL_PARAM_BLD_free(bld);
  return out;
}

Result<std::shared_ptr<EVP_PKEY>> OkpFromJwk(const Json& jwk) {
  if (StringMember(jwk, "crv") != "Ed25519") return Err(Unsupported("unsupported OKP curve"));
  ASSIGN_OR_RETURN(std::string x, B64Field(jwk, "x"));
  if (x.size() != 32) return Err(InvalidArgument("Ed25519 JWK key has the wrong length"));
  EVP_PKEY* pkey = EVP_PKEY_new_raw_public_key(
      EVP_PKEY_ED25519, nullptr, reinterpret_cast<const unsigned char*>(x.data()), x.size());
  if (pkey == nullptr) return Err(InvalidArgument("invalid Ed25519 JWK"));
  return Own(pkey);
}

}  // namespace

Result<PublicKey> ParsePemPublicKey(std::string_view pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  if (bio == nullptr) return Err(Internal("BIO_new_mem_buf failed"));
  EVP_PKEY* raw = PEM_read_bio_PUBKEY(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (raw == nullptr) return Err(InvalidArgument("error parsing public key: not a PEM PUBLIC KEY"));
  auto pkey = Own(raw);
  ASSIGN_OR_RETURN(KeyType type, Classify(pkey.get()));
  return PublicKey(std::move(pkey), type, "", "");
}

Result<KeySet> ParseJwks(std::string_view json_text, bool allow_empty) {
  Json doc = Json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object() || !doc.contains("keys") || !doc["keys"].is_array()) {
    return Err(InvalidArgument("JWKS is not a JSON object with a \"keys\" array"));
  }
  KeySet out;
  for (const Json& jwk : doc["keys"]) {
    if (!jwk.is_object()) return Err(InvalidArgument("JWKS entry is not an object"));
    std::string use =
        jwk.contains("use") && jwk["use"].is_string() ? jwk["use"].get<std::string>() : "sig";
    if (use != "sig") continue;
    std::string kty = StringMember(jwk, "kty");
    Result<std::shared_ptr<EVP_PKEY>> pkey = Err(Unsupported("unsupported kty"));
    if (kty == "RSA") {
      pkey = RsaFromJwk(jwk);
    } else if (kty == "EC") {
      pkey = EcFromJwk(jwk);
    } else if (kty == "OKP") {
      pkey = OkpFromJwk(jwk);
    }
    if (!pkey) {
      if (pkey.error().code() == Code::kUnsupported) continue;
      return Err(pkey.error());
    }
    ASSIGN_OR_RETURN(KeyType type, Classify(pkey->get()));
    std::string kid =
        jwk.contains("kid") && jwk["kid"].is_string() ? jwk["kid"].get<std::string>() : "";
    std::string alg =
        jwk.contains("alg") && jwk["alg"].is_string() ? jwk["alg"].get<std::string>() : "";
    out.emplace_back(std::move(*pkey), type, std::move(kid), std::move(alg));
  }
  if (out.empty() && !allow_empty) return Err(InvalidArgument("JWKS holds no usable signing key"));
  return out;
}

}  // namespace coffer::auth::jwt
