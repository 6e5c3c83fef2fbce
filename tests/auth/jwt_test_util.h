#pragma once
// Keys and tokens for the JWT auth tests, made with OpenSSL: RSA, EC P-256 /
// P-384 / P-521 and Ed25519 key pairs, their PEM and JWK public forms, and signed
// compact JWTs (ECDSA signatures converted from DER to JOSE r||s).

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "common/encoding.h"

namespace coffer::auth::jwt::testing {

using Json = nlohmann::json;
using Pkey = std::shared_ptr<EVP_PKEY>;

inline Pkey MakeRsa(int bits = 2048) {
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wold-style-cast"
  return Pkey(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(bits)), EVP_PKEY_free);
#pragma GCC diagnostic pop
}
inline Pkey MakeEc(const char* curve = "P-256") {
  return Pkey(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", curve), EVP_PKEY_free);
}
inline Pkey MakeEd25519() {
  return Pkey(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"), EVP_PKEY_free);
}

inline std::string PublicPem(const Pkey& key) {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PUBKEY(bio, key.get());
  char* data = nullptr;
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wold-style-cast"
  long len = BIO_get_mem_data(bio, &data);
#pragma GCC diagnostic pop
  std::string out(data, static_cast<std::size_t>(len));
  BIO_free(bio);
  return out;
}

inline std::string BnBytes(const Pkey& key, const char* name, int pad = 0) {
  BIGNUM* bn = nullptr;
  EVP_PKEY_get_bn_param(key.get(), name, &bn);
  int len = pad > 0 ? pad : BN_num_bytes(bn);
  std::string out(static_cast<std::size_t>(len), '\0');
  BN_bn2binpad(bn, reinterpret_cast<unsigned char*>(out.data()), len);
  BN_free(bn);
  return out;
}

inline Json Jwk(const Pkey& key, const std::string& kid) {
  Json j;
  if (EVP_PKEY_is_a(key.get(), "RSA")) {
    j = {{"kty", "RSA"},
         {"n", Base64UrlEncode(BnBytes(key, OSSL_PKEY_PARAM_RSA_N))},
         {"e", Base64UrlEncode(BnBytes(key, OSSL_PKEY_PARAM_RSA_E))}};
  } else if (EVP_PKEY_is_a(key.get(), "EC")) {
    const int bits = EVP_PKEY_get_bits(key.get());
    const int size = bits == 521 ? 66 : bits == 384 ? 48 : 32;
    j = {{"kty", "EC"},
         {"crv", bits == 521   ? "P-521"
                 : bits == 384 ? "P-384"
                               : "P-256"},
         {"x", Base64UrlEncode(BnBytes(key, OSSL_PKEY_PARAM_EC_PUB_X, size))},
         {"y", Base64UrlEncode(BnBytes(key, OSSL_PKEY_PARAM_EC_PUB_Y, size))}};
  } else {
    unsigned char raw[32];
    std::size_t len = sizeof raw;
    EVP_PKEY_get_raw_public_key(key.get(), raw, &len);
    j = {{"kty", "OKP"},
         {"crv", "Ed25519"},
         {"x", Base64UrlEncode(std::string(reinterpret_cast<char*>(raw), len))}};
  }
  if (!kid.empty()) j["kid"] = kid;
  j["use"] = "sig";
  return j;
}

inline std::string Jwks(std::initializer_list<Json> keys) {
  Json doc = {{"keys", Json::array()}};
  for (const auto& k : keys) doc["keys"].push_back(k);
  return doc.dump();
}

// Signs header.claims with `key` for `alg` (RS*, ES256/384, EdDSA).
inline std::string Sign(const Pkey& key, const Json& header, const Json& claims) {
  std::string alg = header.value("alg", "");
  std::string input = Base64UrlEncode(header.dump()) + "." + Base64UrlEncode(claims.dump());
  const EVP_MD* md = nullptr;
  if (alg.ends_with("256") && alg != "EdDSA") md = EVP_sha256();
  if (alg.ends_with("384")) md = EVP_sha384();
  if (alg.ends_with("512")) md = EVP_sha512();
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_DigestSignInit(ctx, nullptr, md, nullptr, key.get());
  std::size_t len = 0;
  EVP_DigestSign(ctx, nullptr, &len, reinterpret_cast<const unsigned char*>(input.data()),
                 input.size());
  std::string sig(len, '\0');
  EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &len,
                 reinterpret_cast<const unsigned char*>(input.data()), input.size());
  sig.resize(len);
  EVP_MD_CTX_free(ctx);
  if (alg.starts_with("ES")) {
    int size = alg == "ES512" ? 66 : alg == "ES384" ? 48 : 32;
    const auto* p = reinterpret_cast<const unsigned char*>(sig.data());
    ECDSA_SIG* es = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(sig.size()));
    std::string raw(static_cast<std::size_t>(2 * size), '\0');
    BN_bn2binpad(ECDSA_SIG_get0_r(es), reinterpret_cast<unsigned char*>(raw.data()), size);
    BN_bn2binpad(ECDSA_SIG_get0_s(es), reinterpret_cast<unsigned char*>(raw.data()) + size, size);
    ECDSA_SIG_free(es);
    sig = raw;
  }
  return input + "." + Base64UrlEncode(sig);
}

// An unsigned token with the given header (for alg "none" and HS* cases).
inline std::string Unsigned(const Json& header, const Json& claims, const std::string& sig = "") {
  return Base64UrlEncode(header.dump()) + "." + Base64UrlEncode(claims.dump()) + "." +
         Base64UrlEncode(sig);
}

}  // namespace coffer::auth::jwt::testing
