#include "engines/transit/signer.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <charconv>
#include <memory>

#include "common/encoding.h"

namespace coffer::engines::transit {
namespace {

using PkeyCtx = std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)>;
using MdCtx = std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)>;
using EcSig = std::unique_ptr<ECDSA_SIG, decltype(&ECDSA_SIG_free)>;

const unsigned char* U(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

// The size of a coordinate (and of r and s in a JWS signature): 66 bytes
// for P-521, whose 521 bits round up to 66 octets.
std::size_t EcFieldBytes(KeyType type) {
  switch (type) {
    case KeyType::kEcdsaP256:
      return 32;
    case KeyType::kEcdsaP384:
      return 48;
    default:
      return 66;
  }
}

// The Ed25519 key to use: the version's, or one derived from the context.
Result<std::shared_ptr<EVP_PKEY>> Ed25519Key(const Policy& p, const KeyVersion& v,
                                             std::string_view context) {
  if (!p.derived) return v.pkey;
  if (context.empty()) {
    return Err(
        InvalidArgument("missing 'context' for key derivation; the key was created "
                        "using a derived key, which means additional, per-request "
                        "information is required"));
  }
  ASSIGN_OR_RETURN(SecretBytes seed, Hkdf(v.key, context, 32));
  return LoadPrivateKey(KeyType::kEd25519, seed);
}

Result<std::string> Digest(const Policy& p, std::string_view input, const SignOptions& o) {
  if (o.prehashed) return std::string(input);
  const EVP_MD* md = HashByName(o.hash_algorithm);
  if (md == nullptr) return Err(Internal("transit: unchecked hash algorithm"));
  (void)p;
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(input.data(), input.size(), out, &len, md, nullptr) != 1) {
    return Err(Internal("transit: digest failed"));
  }
  return std::string(reinterpret_cast<const char*>(out), len);
}

Status ConfigureRsa(EVP_PKEY_CTX* ctx, const SignOptions& o, bool verify) {
  const bool pss = o.signature_algorithm.empty() || o.signature_algorithm == "pss";
  if (EVP_PKEY_CTX_set_rsa_padding(ctx, pss ? RSA_PKCS1_PSS_PADDING : RSA_PKCS1_PADDING) != 1) {
    return Internal("transit: RSA padding setup failed");
  }
  const EVP_MD* md = HashByName(o.hash_algorithm);
  if (md != nullptr && EVP_PKEY_CTX_set_signature_md(ctx, md) != 1) {
    return Internal("transit: RSA digest setup failed");
  }
  if (pss) {
    int salt = verify ? RSA_PSS_SALTLEN_AUTO : RSA_PSS_SALTLEN_MAX;
    if (o.salt_length == "hash") {
      salt = RSA_PSS_SALTLEN_DIGEST;
    } else if (o.salt_length != "auto" && !o.salt_length.empty()) {
      std::from_chars(o.salt_length.data(), o.salt_length.data() + o.salt_length.size(), salt);
    }
    if (EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx, salt) != 1) {
      return InvalidArgument("invalid salt_length for this key");
    }
  }
  return Status::Ok();
}

Result<std::string> PemPrivate(EVP_PKEY* pkey) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), &BIO_free);
  if (!bio || PEM_write_bio_PrivateKey_traditional(bio.get(), pkey, nullptr, nullptr, 0, nullptr,
                                                   nullptr) != 1) {
    return Err(Internal("transit: cannot encode private key"));
  }
  std::string pem(BIO_ctrl_pending(bio.get()), '\0');
  int n = BIO_read(bio.get(), pem.data(), static_cast<int>(pem.size()));
  if (n < 0) return Err(Internal("transit: cannot encode private key"));
  pem.resize(static_cast<std::size_t>(n));
  return pem;
}

}  // namespace

Status CheckSignOptions(const Policy& p, const SignOptions& o) {
  if (!SupportsSigning(p.type)) {
    return InvalidArgument("key type " + std::string(KeyTypeName(p.type)) +
                           " does not support signing");
  }
  if (o.marshaling != "asn1" && o.marshaling != "jws") {
    return InvalidArgument("unsupported marshaling_algorithm (use asn1 or jws)");
  }
  if (o.marshaling == "jws" && !IsEcdsa(p.type)) {
    return InvalidArgument("marshaling_algorithm jws is only supported for ECDSA keys");
  }
  if (!o.signature_algorithm.empty() && o.signature_algorithm != "pss" &&
      o.signature_algorithm != "pkcs1v15") {
    return InvalidArgument("unsupported signature_algorithm (use pss or pkcs1v15)");
  }
  if (p.type == KeyType::kEd25519) {
    if (o.prehashed) return InvalidArgument("prehashed input is not supported for ed25519 keys");
    return Status::Ok();
  }
  const bool none = o.hash_algorithm == "none";
  if (HashByName(o.hash_algorithm) == nullptr && !none) {
    return InvalidArgument("unsupported hash_algorithm");
  }
  if (none) {
    bool pkcs1 = IsRsa(p.type) && o.signature_algorithm == "pkcs1v15";
    if (!pkcs1 || !o.prehashed) {
      return InvalidArgument(
          "hash_algorithm none requires an RSA key, pkcs1v15 and prehashed input");
    }
  }
  return Status::Ok();
}

Result<std::string> SignInput(const Policy& p, const KeyVersion& v, std::string_view input,
                              const SignOptions& o) {
  TRY(CheckSignOptions(p, o));
  if (p.type == KeyType::kEd25519) {
    ASSIGN_OR_RETURN(auto pkey, Ed25519Key(p, v, o.context));
    MdCtx ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
    std::string sig(64, '\0');
    std::size_t len = sig.size();
    if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, pkey.get()) != 1 ||
        EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len, U(input),
                       input.size()) != 1) {
      return Err(Internal("transit: ed25519 signing failed"));
    }
    sig.resize(len);
    return sig;
  }
  ASSIGN_OR_RETURN(std::string digest, Digest(p, input, o));
  PkeyCtx ctx(EVP_PKEY_CTX_new(v.pkey.get(), nullptr), &EVP_PKEY_CTX_free);
  if (!ctx || EVP_PKEY_sign_init(ctx.get()) != 1) return Err(Internal("transit: sign failed"));
  if (IsRsa(p.type)) TRY(ConfigureRsa(ctx.get(), o, /*verify=*/false));
  std::size_t len = 0;
  if (EVP_PKEY_sign(ctx.get(), nullptr, &len, U(digest), digest.size()) != 1) {
    return Err(InvalidArgument("signing failed: input digest does not fit the key and options"));
  }
  std::string sig(len, '\0');
  if (EVP_PKEY_sign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len, U(digest),
                    digest.size()) != 1) {
    return Err(InvalidArgument("signing failed: input digest does not fit the key and options"));
  }
  sig.resize(len);
  if (IsEcdsa(p.type) && o.marshaling == "jws") {
    const unsigned char* der = U(sig);
    EcSig es(d2i_ECDSA_SIG(nullptr, &der, static_cast<long>(sig.size())), &ECDSA_SIG_free);
    if (!es) return Err(Internal("transit: bad ECDSA signature"));
    const std::size_t n = EcFieldBytes(p.type);
    std::string raw(2 * n, '\0');
    auto* out = reinterpret_cast<unsigned char*>(raw.data());
    if (BN_bn2binpad(ECDSA_SIG_get0_r(es.get()), out, static_cast<int>(n)) < 0 ||
        BN_bn2binpad(ECDSA_SIG_get0_s(es.get()), out + n, static_cast<int>(n)) < 0) {
      return Err(Internal("transit: bad ECDSA signature"));
    }
    return raw;
  }
  return sig;
}

Result<bool> VerifyInput(const Policy& p, const KeyVersion& v, std::string_view input,
                         std::string_view signature, const SignOptions& o) {
  TRY(CheckSignOptions(p, o));
  if (p.type == KeyType::kEd25519) {
    ASSIGN_OR_RETURN(auto pkey, Ed25519Key(p, v, o.context));
    MdCtx ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
    if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, pkey.get()) != 1) {
      return Err(Internal("transit: verify failed"));
    }
    return EVP_DigestVerify(ctx.get(), U(signature), signature.size(), U(input), input.size()) == 1;
  }
  std::string der(signature);
  if (IsEcdsa(p.type) && o.marshaling == "jws") {
    const std::size_t n = EcFieldBytes(p.type);
    if (signature.size() != 2 * n) return false;
    EcSig es(ECDSA_SIG_new(), &ECDSA_SIG_free);
    BIGNUM* r = BN_bin2bn(U(signature), static_cast<int>(n), nullptr);
    BIGNUM* s = BN_bin2bn(U(signature) + n, static_cast<int>(n), nullptr);
    if (!es || r == nullptr || s == nullptr || ECDSA_SIG_set0(es.get(), r, s) != 1) {
      BN_free(r);
      BN_free(s);
      return Err(Internal("transit: verify failed"));
    }
    unsigned char* buf = nullptr;
    int len = i2d_ECDSA_SIG(es.get(), &buf);
    if (len <= 0) return Err(Internal("transit: verify failed"));
    der.assign(reinterpret_cast<const char*>(buf), static_cast<std::size_t>(len));
    OPENSSL_free(buf);
  }
  ASSIGN_OR_RETURN(std::string digest, Digest(p, input, o));
  PkeyCtx ctx(EVP_PKEY_CTX_new(v.pkey.get(), nullptr), &EVP_PKEY_CTX_free);
  if (!ctx || EVP_PKEY_verify_init(ctx.get()) != 1) return Err(Internal("transit: verify failed"));
  if (IsRsa(p.type)) TRY(ConfigureRsa(ctx.get(), o, /*verify=*/true));
  return EVP_PKEY_verify(ctx.get(), U(der), der.size(), U(digest), digest.size()) == 1;
}

Result<std::string> HmacInput(const Policy& p, const KeyVersion& v, const EVP_MD* md,
                              std::string_view input) {
  const SecretBytes& key = p.type == KeyType::kHmac ? v.key : v.hmac_key;
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  static const unsigned char kEmpty = 0;
  if (HMAC(md, key.data(), static_cast<int>(key.size()), input.empty() ? &kEmpty : U(input),
           input.size(), out, &len) == nullptr) {
    return Err(Internal("transit: HMAC failed"));
  }
  return std::string(reinterpret_cast<const char*>(out), len);
}

Result<std::string> ExportKey(const Policy& p, const KeyVersion& v, std::string_view export_type) {
  if (export_type == "hmac-key") {
    return Base64Encode(p.type == KeyType::kHmac ? v.key.view() : v.hmac_key.view());
  }
  if (export_type == "public-key") {
    if (!IsAsymmetric(p.type)) return Err(InvalidArgument("key type has no public key"));
    return v.public_key;
  }
  if (export_type == "encryption-key") {
    if (!SupportsEncryption(p.type)) {
      return Err(InvalidArgument("encryption-key export is not supported for this key type"));
    }
    if (IsRsa(p.type)) return PemPrivate(v.pkey.get());
    return Base64Encode(v.key.view());
  }
  if (export_type == "signing-key") {
    if (!SupportsSigning(p.type)) {
      return Err(InvalidArgument("signing-key export is not supported for this key type"));
    }
    if (p.type == KeyType::kEd25519) {
      // Go's ed25519.PrivateKey layout, as Vault exports it: seed || public.
      unsigned char pub[32];
      std::size_t len = sizeof(pub);
      if (EVP_PKEY_get_raw_public_key(v.pkey.get(), pub, &len) != 1) {
        return Err(Internal("transit: cannot read ed25519 public key"));
      }
      SecretBytes both(64);
      std::copy_n(v.key.data(), 32, both.data());
      std::copy_n(pub, 32, both.data() + 32);
      return Base64Encode(both.view());
    }
    return PemPrivate(v.pkey.get());
  }
  return Err(InvalidArgument(
      "invalid export type (use encryption-key, signing-key, hmac-key or public-key)"));
}

}  // namespace coffer::engines::transit
