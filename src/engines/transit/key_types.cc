#include "engines/transit/key_types.h"

#include <openssl/core_names.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include <array>
#include <charconv>
#include <memory>
#include <utility>

#include "common/encoding.h"

namespace coffer::engines::transit {
namespace {

constexpr std::array<std::pair<std::string_view, KeyType>, 11> kTypes = {{
    {"aes128-gcm96", KeyType::kAes128Gcm96},
    {"aes256-gcm96", KeyType::kAes256Gcm96},
    {"chacha20-poly1305", KeyType::kChaCha20Poly1305},
    {"ed25519", KeyType::kEd25519},
    {"ecdsa-p256", KeyType::kEcdsaP256},
    {"ecdsa-p384", KeyType::kEcdsaP384},
    {"ecdsa-p521", KeyType::kEcdsaP521},
    {"rsa-2048", KeyType::kRsa2048},
    {"rsa-3072", KeyType::kRsa3072},
    {"rsa-4096", KeyType::kRsa4096},
    {"hmac", KeyType::kHmac},
}};

}  // namespace

std::optional<KeyType> ParseKeyType(std::string_view name) {
  for (const auto& [n, t] : kTypes) {
    if (n == name) return t;
  }
  return std::nullopt;
}

std::string_view KeyTypeName(KeyType type) {
  for (const auto& [n, t] : kTypes) {
    if (t == type) return n;
  }
  return "unknown";
}

bool IsSymmetricAead(KeyType type) {
  return type == KeyType::kAes128Gcm96 || type == KeyType::kAes256Gcm96 ||
         type == KeyType::kChaCha20Poly1305;
}
bool IsEcdsa(KeyType type) {
  return type == KeyType::kEcdsaP256 || type == KeyType::kEcdsaP384 || type == KeyType::kEcdsaP521;
}
bool IsRsa(KeyType type) {
  return type == KeyType::kRsa2048 || type == KeyType::kRsa3072 || type == KeyType::kRsa4096;
}
bool IsAsymmetric(KeyType type) {
  return type == KeyType::kEd25519 || IsEcdsa(type) || IsRsa(type);
}
bool SupportsEncryption(KeyType type) { return IsSymmetricAead(type) || IsRsa(type); }
bool SupportsSigning(KeyType type) { return IsAsymmetric(type); }
bool SupportsDerivation(KeyType type) { return IsSymmetricAead(type) || type == KeyType::kEd25519; }

std::size_t AeadKeySize(KeyType type) { return type == KeyType::kAes128Gcm96 ? 16 : 32; }

int RsaBits(KeyType type) {
  switch (type) {
    case KeyType::kRsa2048:
      return 2048;
    case KeyType::kRsa3072:
      return 3072;
    case KeyType::kRsa4096:
      return 4096;
    default:
      return 0;
  }
}

const EVP_MD* HashByName(std::string_view name) {
  if (name == "sha1") return EVP_sha1();
  if (name == "sha2-224") return EVP_sha224();
  if (name == "sha2-256") return EVP_sha256();
  if (name == "sha2-384") return EVP_sha384();
  if (name == "sha2-512") return EVP_sha512();
  if (name == "sha3-224") return EVP_sha3_224();
  if (name == "sha3-256") return EVP_sha3_256();
  if (name == "sha3-384") return EVP_sha3_384();
  if (name == "sha3-512") return EVP_sha3_512();
  return nullptr;
}

Result<SecretBytes> Hkdf(const SecretBytes& secret, std::string_view context, std::size_t length) {
  // The KDF object is fetched once; EVP_KDF is reference-counted and safe to
  // share between threads (each call gets its own context).
  static EVP_KDF* kdf = EVP_KDF_fetch(nullptr, "HKDF", nullptr);
  if (kdf == nullptr) return Err(Internal("HKDF unavailable"));
  std::unique_ptr<EVP_KDF_CTX, decltype(&EVP_KDF_CTX_free)> ctx(EVP_KDF_CTX_new(kdf),
                                                                &EVP_KDF_CTX_free);
  if (!ctx) return Err(Internal("HKDF context allocation failed"));
  char digest[] = "SHA256";
  OSSL_PARAM params[4];
  params[0] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0);
  params[1] = OSSL_PARAM_construct_octet_string(
      OSSL_KDF_PARAM_KEY, const_cast<std::uint8_t*>(secret.data()), secret.size());
  params[2] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO,
                                                const_cast<char*>(context.data()), context.size());
  params[3] = OSSL_PARAM_construct_end();
  SecretBytes out(length);
  if (EVP_KDF_derive(ctx.get(), out.data(), out.size(), params) != 1) {
    return Err(Internal("HKDF failed"));
  }
  return out;
}

std::string FormatEnvelope(std::uint32_t version, std::string_view payload) {
  std::string out = "vault:v";
  out += std::to_string(version);
  out += ':';
  out += payload;
  return out;
}

Result<Envelope> ParseEnvelope(std::string_view text, std::string_view what) {
  const std::string field(what);
  constexpr std::string_view kPrefix = "vault:v";
  if (text.substr(0, kPrefix.size()) != kPrefix) {
    return Err(InvalidArgument("invalid " + field + ": must start with \"vault:v\""));
  }
  text.remove_prefix(kPrefix.size());
  auto colon = text.find(':');
  if (colon == std::string_view::npos || colon == 0) {
    return Err(InvalidArgument("invalid " + field + ": missing version"));
  }
  std::uint32_t version = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + colon, version);
  if (ec != std::errc() || ptr != text.data() + colon || version == 0) {
    return Err(InvalidArgument("invalid " + field + ": bad version number"));
  }
  return Envelope{version, text.substr(colon + 1)};
}

Result<SecretBytes> DecodeBase64Field(std::string_view value, std::string_view field) {
  if (value.empty()) return SecretBytes();
  auto decoded = Base64Decode(value);
  if (!decoded) {
    return Err(InvalidArgument("invalid base64 in \"" + std::string(field) + "\""));
  }
  return std::move(*decoded);
}

}  // namespace coffer::engines::transit
