#include "identity/oidc_keys.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <algorithm>
#include <memory>

#include "common/encoding.h"
#include "crypto/random.h"

namespace coffer::identity::oidc {
namespace {

using logical::Json;
using PkeyPtr = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;
using BioPtr = std::unique_ptr<BIO, decltype(&BIO_free)>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)>;
using BnPtr = std::unique_ptr<BIGNUM, decltype(&BN_free)>;

struct AlgInfo {
  std::string_view name;
  enum { kRsa, kEc, kEd } family;
  const char* digest;  // null for EdDSA
  const char* curve;   // EC only
  const char* crv;     // the JWK's name of the curve
  std::size_t coord;   // EC: bytes of r, s, x and y
};

constexpr AlgInfo kAlgs[] = {
    {"RS256", AlgInfo::kRsa, "SHA256", nullptr, nullptr, 0},
    {"RS384", AlgInfo::kRsa, "SHA384", nullptr, nullptr, 0},
    {"RS512", AlgInfo::kRsa, "SHA512", nullptr, nullptr, 0},
    {"ES256", AlgInfo::kEc, "SHA256", "P-256", "P-256", 32},
    {"ES384", AlgInfo::kEc, "SHA384", "P-384", "P-384", 48},
    {"ES512", AlgInfo::kEc, "SHA512", "P-521", "P-521", 66},
    {"EdDSA", AlgInfo::kEd, nullptr, nullptr, nullptr, 0},
};

const AlgInfo* Find(std::string_view alg) {
  for (const auto& a : kAlgs) {
    if (a.name == alg) return &a;
  }
  return nullptr;
}

Status OpenSslFailed(std::string_view what) {
  return Internal("OpenSSL failed to " + std::string(what));
}

Result<PkeyPtr> Load(const SigningKey& key) {
  BioPtr bio(BIO_new_mem_buf(key.pem.data(), static_cast<int>(key.pem.size())), BIO_free);
  if (!bio) return Err(OpenSslFailed("allocate a buffer"));
  PkeyPtr pkey(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr), EVP_PKEY_free);
  if (!pkey) return Err(InvalidArgument("a stored identity token key does not parse"));
  return pkey;
}

std::string BnBytes(const BIGNUM* bn, std::size_t width) {
  std::string out(std::max<std::size_t>(width, BN_num_bytes(bn)), '\0');
  BN_bn2binpad(bn, reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(out.size()));
  return out;
}

Result<std::string> BnParam(EVP_PKEY* pkey, const char* name, std::size_t width) {
  BIGNUM* raw = nullptr;
  if (EVP_PKEY_get_bn_param(pkey, name, &raw) != 1) return Err(OpenSslFailed("read a public key"));
  BnPtr bn(raw, BN_free);
  return BnBytes(bn.get(), width);
}

}  // namespace

const std::vector<std::string>& SupportedAlgorithms() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> v;
    for (const auto& a : kAlgs) v.emplace_back(a.name);
    return v;
  }();
  return names;
}

bool IsSupportedAlgorithm(std::string_view alg) { return Find(alg) != nullptr; }

Result<SigningKey> GenerateSigningKey(std::string_view alg) {
  const AlgInfo* info = Find(alg);
  if (info == nullptr)
    return Err(InvalidArgument("unknown signing algorithm \"" + std::string(alg) + "\""));
  EVP_PKEY* raw = nullptr;
  switch (info->family) {
    case AlgInfo::kRsa:
      raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<std::size_t>(2048));
      break;
    case AlgInfo::kEc:
      raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", info->curve);
      break;
    case AlgInfo::kEd:
      raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
      break;
  }
  PkeyPtr pkey(raw, EVP_PKEY_free);
  if (!pkey) return Err(OpenSslFailed("generate a key"));
  BioPtr bio(BIO_new(BIO_s_secmem()), BIO_free);
  if (!bio ||
      PEM_write_bio_PrivateKey(bio.get(), pkey.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return Err(OpenSslFailed("encode a key"));
  }
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio.get(), &data);
  SigningKey key;
  key.pem = SecretBytes(reinterpret_cast<const std::uint8_t*>(data), static_cast<std::size_t>(len));
  ASSIGN_OR_RETURN(key.kid, crypto::NewUuid());
  return key;
}

Result<Json> PublicJwk(const SigningKey& key, std::string_view alg) {
  const AlgInfo* info = Find(alg);
  if (info == nullptr)
    return Err(InvalidArgument("unknown signing algorithm \"" + std::string(alg) + "\""));
  ASSIGN_OR_RETURN(PkeyPtr pkey, Load(key));
  Json jwk{{"use", "sig"}, {"kid", key.kid}, {"alg", std::string(alg)}};
  switch (info->family) {
    case AlgInfo::kRsa: {
      jwk["kty"] = "RSA";
      ASSIGN_OR_RETURN(std::string n, BnParam(pkey.get(), OSSL_PKEY_PARAM_RSA_N, 0));
      ASSIGN_OR_RETURN(std::string e, BnParam(pkey.get(), OSSL_PKEY_PARAM_RSA_E, 0));
      jwk["n"] = Base64UrlEncode(n);
      jwk["e"] = Base64UrlEncode(e);
      break;
    }
    case AlgInfo::kEc: {
      jwk["kty"] = "EC";
      jwk["crv"] = info->crv;
      ASSIGN_OR_RETURN(std::string x, BnParam(pkey.get(), OSSL_PKEY_PARAM_EC_PUB_X, info->coord));
      ASSIGN_OR_RETURN(std::string y, BnParam(pkey.get(), OSSL_PKEY_PARAM_EC_PUB_Y, info->coord));
      jwk["x"] = Base64UrlEncode(x);
      jwk["y"] = Base64UrlEncode(y);
      break;
    }
    case AlgInfo::kEd: {
      jwk["kty"] = "OKP";
      jwk["crv"] = "Ed25519";
      std::string x(32, '\0');
      std::size_t len = x.size();
      if (EVP_PKEY_get_raw_public_key(pkey.get(), reinterpret_cast<unsigned char*>(x.data()),
                                      &len) != 1) {
        return Err(OpenSslFailed("read a public key"));
      }
      x.resize(len);
      jwk["x"] = Base64UrlEncode(x);
      break;
    }
  }
  return jwk;
}

Result<std::string> SignJws(const SigningKey& key, std::string_view alg, std::string_view payload) {
  const AlgInfo* info = Find(alg);
  if (info == nullptr)
    return Err(InvalidArgument("unknown signing algorithm \"" + std::string(alg) + "\""));
  ASSIGN_OR_RETURN(PkeyPtr pkey, Load(key));
  const Json header{{"alg", std::string(alg)}, {"kid", key.kid}};
  std::string out = Base64UrlEncode(header.dump()) + "." + Base64UrlEncode(payload);
  MdCtxPtr ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  if (!ctx || EVP_DigestSignInit_ex(ctx.get(), nullptr, info->digest, nullptr, nullptr, pkey.get(),
                                    nullptr) != 1) {
    return Err(OpenSslFailed("start a signature"));
  }
  const auto* in = reinterpret_cast<const unsigned char*>(out.data());
  std::size_t sig_len = 0;
  if (EVP_DigestSign(ctx.get(), nullptr, &sig_len, in, out.size()) != 1) {
    return Err(OpenSslFailed("size a signature"));
  }
  std::string sig(sig_len, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &sig_len, in,
                     out.size()) != 1) {
    return Err(OpenSslFailed("sign"));
  }
  sig.resize(sig_len);
  if (info->family == AlgInfo::kEc) {
    // DER → JOSE's r || s, each padded to the curve's size.
    const auto* p = reinterpret_cast<const unsigned char*>(sig.data());
    std::unique_ptr<ECDSA_SIG, decltype(&ECDSA_SIG_free)> ecdsa(
        d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(sig.size())), ECDSA_SIG_free);
    if (!ecdsa) return Err(OpenSslFailed("decode a signature"));
    sig = BnBytes(ECDSA_SIG_get0_r(ecdsa.get()), info->coord) +
          BnBytes(ECDSA_SIG_get0_s(ecdsa.get()), info->coord);
  }
  out += ".";
  out += Base64UrlEncode(sig);
  return out;
}

}  // namespace coffer::identity::oidc
