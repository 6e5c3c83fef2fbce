#include "engines/transit/policy.h"

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <string_view>
#include <utility>

#include "common/clock.h"
#include "common/encoding.h"
#include "crypto/random.h"

namespace coffer::engines::transit {
namespace {

constexpr int kRecordVersion = 1;

std::shared_ptr<EVP_PKEY> Wrap(EVP_PKEY* pkey) {
  return std::shared_ptr<EVP_PKEY>(pkey, [](EVP_PKEY* k) { EVP_PKEY_free(k); });
}

// DER (traditional form) of a private key, in SecretBytes.
Result<SecretBytes> PrivateDer(EVP_PKEY* pkey) {
  unsigned char* buf = nullptr;
  int len = i2d_PrivateKey(pkey, &buf);
  if (len <= 0 || buf == nullptr) return Err(Internal("transit: cannot encode private key"));
  SecretBytes out(buf, static_cast<std::size_t>(len));
  OPENSSL_clear_free(buf, static_cast<std::size_t>(len));
  return out;
}

Result<std::shared_ptr<EVP_PKEY>> NewAsymmetric(KeyType type) {
  EVP_PKEY* pkey = nullptr;
  switch (type) {
    case KeyType::kEcdsaP256:
      pkey = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
      break;
    case KeyType::kEcdsaP384:
      pkey = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-384");
      break;
    case KeyType::kEcdsaP521:
      pkey = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-521");
      break;
    default:
      pkey = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<std::size_t>(RsaBits(type)));
      break;
  }
  if (pkey == nullptr) return Err(Internal("transit: key generation failed"));
  return Wrap(pkey);
}

// Whether a version's key material fits the key's type: a record that
// does not (a restored backup of the wrong shape) would have a cipher read
// past a short key, or sign with a key of another kind or size.
Status CheckKeyMaterial(KeyType type, std::size_t hmac_key_size, const KeyVersion& v) {
  if (v.hmac_key.size() != 32) return Internal("transit: corrupt key record (hmac key size)");
  if (IsSymmetricAead(type)) {
    if (v.key.size() != AeadKeySize(type))
      return Internal("transit: corrupt key record (key size)");
    return Status::Ok();
  }
  if (type == KeyType::kHmac) {
    if (hmac_key_size < 32 || hmac_key_size > 512 || v.key.size() != hmac_key_size) {
      return Internal("transit: corrupt key record (key size)");
    }
    return Status::Ok();
  }
  if (type == KeyType::kEd25519) return Status::Ok();  // LoadPrivateKey checks the seed
  EVP_PKEY* pkey = v.pkey.get();
  if (IsRsa(type)) {
    if (EVP_PKEY_get_base_id(pkey) != EVP_PKEY_RSA || EVP_PKEY_get_bits(pkey) != RsaBits(type)) {
      return Internal("transit: corrupt key record (not a key of its type)");
    }
    return Status::Ok();
  }
  const char* want = type == KeyType::kEcdsaP256   ? "prime256v1"
                     : type == KeyType::kEcdsaP384 ? "secp384r1"
                                                   : "secp521r1";
  char group[64] = {};
  std::size_t len = 0;
  if (EVP_PKEY_get_base_id(pkey) != EVP_PKEY_EC ||
      EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group, &len) !=
          1 ||
      std::string_view(group, len) != want) {
    return Internal("transit: corrupt key record (not a key of its type)");
  }
  return Status::Ok();
}

std::string TakeString(Json& j, const char* field) {
  auto it = j.find(field);
  if (it == j.end() || !it->is_string()) return {};
  return it->get<std::string>();
}

}  // namespace

const KeyVersion* Policy::Version(std::uint32_t v) const {
  auto it = versions.find(v);
  return it == versions.end() ? nullptr : it->second.get();
}

std::chrono::system_clock::time_point Policy::LatestCreation() const {
  const KeyVersion* latest = Version(latest_version);
  std::int64_t ns = latest != nullptr ? latest->creation_unix_ns : 0;
  return std::chrono::system_clock::time_point(
      std::chrono::duration_cast<std::chrono::system_clock::duration>(
          std::chrono::nanoseconds(ns)));
}

Result<std::shared_ptr<EVP_PKEY>> LoadPrivateKey(KeyType type, const SecretBytes& key) {
  if (type == KeyType::kEd25519) {
    if (key.size() != 32) return Err(Internal("transit: bad ed25519 seed"));
    EVP_PKEY* pkey =
        EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, key.data(), key.size());
    if (pkey == nullptr) return Err(Internal("transit: cannot load ed25519 key"));
    return Wrap(pkey);
  }
  const unsigned char* p = key.data();
  EVP_PKEY* pkey = d2i_AutoPrivateKey(nullptr, &p, static_cast<long>(key.size()));
  if (pkey == nullptr) return Err(Internal("transit: cannot load private key"));
  return Wrap(pkey);
}

Result<std::string> PublicKeyText(KeyType type, EVP_PKEY* pkey) {
  if (type == KeyType::kEd25519) {
    unsigned char pub[32];
    std::size_t len = sizeof(pub);
    if (EVP_PKEY_get_raw_public_key(pkey, pub, &len) != 1) {
      return Err(Internal("transit: cannot read ed25519 public key"));
    }
    return Base64Encode(std::string_view(reinterpret_cast<const char*>(pub), len));
  }
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), &BIO_free);
  if (!bio || PEM_write_bio_PUBKEY(bio.get(), pkey) != 1) {
    return Err(Internal("transit: cannot encode public key"));
  }
  std::string pem(BIO_ctrl_pending(bio.get()), '\0');
  int n = BIO_read(bio.get(), pem.data(), static_cast<int>(pem.size()));
  if (n < 0) return Err(Internal("transit: cannot encode public key"));
  pem.resize(static_cast<std::size_t>(n));
  return pem;
}

Result<std::shared_ptr<const KeyVersion>> GenerateVersion(KeyType type, std::uint32_t version,
                                                          std::int64_t now_unix_ns,
                                                          std::size_t hmac_key_size) {
  auto v = std::make_shared<KeyVersion>();
  v->version = version;
  v->creation_unix_ns = now_unix_ns;
  ASSIGN_OR_RETURN(v->hmac_key, crypto::RandomSecret(32));
  if (IsSymmetricAead(type)) {
    ASSIGN_OR_RETURN(v->key, crypto::RandomSecret(AeadKeySize(type)));
  } else if (type == KeyType::kHmac) {
    ASSIGN_OR_RETURN(v->key, crypto::RandomSecret(hmac_key_size));
  } else if (type == KeyType::kEd25519) {
    ASSIGN_OR_RETURN(v->key, crypto::RandomSecret(32));
    ASSIGN_OR_RETURN(v->pkey, LoadPrivateKey(type, v->key));
  } else {
    ASSIGN_OR_RETURN(v->pkey, NewAsymmetric(type));
    ASSIGN_OR_RETURN(v->key, PrivateDer(v->pkey.get()));
  }
  if (v->pkey) {
    ASSIGN_OR_RETURN(v->public_key, PublicKeyText(type, v->pkey.get()));
  }
  return std::shared_ptr<const KeyVersion>(std::move(v));
}

Status RotatePolicy(Policy& policy, std::int64_t now_unix_ns) {
  ASSIGN_OR_RETURN(auto v, GenerateVersion(policy.type, policy.latest_version + 1, now_unix_ns,
                                           policy.hmac_key_size));
  policy.latest_version += 1;
  policy.versions[policy.latest_version] = std::move(v);
  return Status::Ok();
}

std::string EncodePolicy(const Policy& p) {
  Json versions = Json::array();
  for (const auto& [n, v] : p.versions) {
    versions.push_back(Json{{"v", n},
                            {"key", Base64Encode(v->key.view())},
                            {"hmac_key", Base64Encode(v->hmac_key.view())},
                            {"time", v->creation_unix_ns}});
  }
  Json j{{"record_version", kRecordVersion},
         {"name", p.name},
         {"type", KeyTypeName(p.type)},
         {"derived", p.derived},
         {"convergent", p.convergent},
         {"exportable", p.exportable},
         {"allow_plaintext_backup", p.allow_plaintext_backup},
         {"deletion_allowed", p.deletion_allowed},
         {"min_decryption_version", p.min_decryption_version},
         {"min_encryption_version", p.min_encryption_version},
         {"min_available_version", p.min_available_version},
         {"latest_version", p.latest_version},
         {"auto_rotate_period", p.auto_rotate_period_s},
         {"hmac_key_size", p.hmac_key_size},
         {"versions", std::move(versions)}};
  std::string out = j.dump();
  for (auto& v : j["versions"]) {
    WipeString(v["key"].get_ref<std::string&>());
    WipeString(v["hmac_key"].get_ref<std::string&>());
  }
  return out;
}

Result<Policy> DecodePolicy(std::string_view record) {
  Json j = Json::parse(record, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return Err(Internal("transit: corrupt key record"));
  Policy p;
  try {
    auto type = ParseKeyType(j.at("type").get<std::string>());
    if (!type) return Err(Internal("transit: corrupt key record (type)"));
    p.type = *type;
    p.name = j.at("name").get<std::string>();
    p.derived = j.value("derived", false);
    p.convergent = j.value("convergent", false);
    p.exportable = j.value("exportable", false);
    p.allow_plaintext_backup = j.value("allow_plaintext_backup", false);
    p.deletion_allowed = j.value("deletion_allowed", false);
    p.min_decryption_version = j.value("min_decryption_version", 1u);
    p.min_encryption_version = j.value("min_encryption_version", 0u);
    p.min_available_version = j.value("min_available_version", 0u);
    p.latest_version = j.value("latest_version", 0u);
    p.auto_rotate_period_s = j.value("auto_rotate_period", std::int64_t{0});
    p.hmac_key_size = j.value("hmac_key_size", std::size_t{32});
    for (auto& jv : j.at("versions")) {
      auto v = std::make_shared<KeyVersion>();
      v->version = jv.at("v").get<std::uint32_t>();
      v->creation_unix_ns = jv.value("time", std::int64_t{0});
      std::string key_b64 = TakeString(jv, "key");
      std::string hmac_b64 = TakeString(jv, "hmac_key");
      auto key = Base64Decode(key_b64);
      auto hmac_key = Base64Decode(hmac_b64);
      WipeString(key_b64);
      WipeString(hmac_b64);
      WipeString(jv["key"].get_ref<std::string&>());
      WipeString(jv["hmac_key"].get_ref<std::string&>());
      if (!key || !hmac_key) return Err(Internal("transit: corrupt key record (key material)"));
      v->key = std::move(*key);
      v->hmac_key = std::move(*hmac_key);
      if (IsAsymmetric(p.type)) {
        ASSIGN_OR_RETURN(v->pkey, LoadPrivateKey(p.type, v->key));
        ASSIGN_OR_RETURN(v->public_key, PublicKeyText(p.type, v->pkey.get()));
      }
      TRY(CheckKeyMaterial(p.type, p.hmac_key_size, *v));
      if (v->version == 0 || v->version > p.latest_version) {
        return Err(Internal("transit: corrupt key record (version number)"));
      }
      p.versions[v->version] = std::move(v);
    }
  } catch (const Json::exception&) {
    return Err(Internal("transit: corrupt key record"));
  }
  if (p.latest_version == 0 || p.Version(p.latest_version) == nullptr) {
    return Err(Internal("transit: corrupt key record (no latest version)"));
  }
  if (p.min_decryption_version == 0 || p.min_decryption_version > p.latest_version ||
      p.min_encryption_version > p.latest_version) {
    return Err(Internal("transit: corrupt key record (minimum versions)"));
  }
  return p;
}

Result<const KeyVersion*> SelectEncryptVersion(const Policy& p, std::uint32_t requested) {
  const std::uint32_t v = requested == 0 ? p.latest_version : requested;
  if (v > p.latest_version) {
    return Err(InvalidArgument("requested version is higher than the latest key version"));
  }
  if (p.min_encryption_version > 0 && v < p.min_encryption_version) {
    return Err(InvalidArgument("requested version is less than the minimum encryption version"));
  }
  const KeyVersion* kv = p.Version(v);
  if (kv == nullptr || v < p.min_decryption_version) {
    return Err(InvalidArgument("requested version is no longer available"));
  }
  return kv;
}

Result<const KeyVersion*> SelectDecryptVersion(const Policy& p, std::uint32_t version) {
  if (version > p.latest_version) {
    return Err(InvalidArgument("invalid key version: v" + std::to_string(version) +
                               " does not exist for this key"));
  }
  const KeyVersion* kv = p.Version(version);
  if (version < p.min_decryption_version || kv == nullptr) {
    return Err(
        InvalidArgument("ciphertext or signature version is disallowed by policy (too old)"));
  }
  return kv;
}

Json PolicyReadJson(const Policy& p) {
  Json keys = Json::object();
  for (const auto& [n, v] : p.versions) {
    if (n < p.min_decryption_version) continue;
    const std::int64_t secs = v->creation_unix_ns / 1'000'000'000;
    if (IsAsymmetric(p.type)) {
      std::string curve = p.type == KeyType::kEd25519     ? "ed25519"
                          : p.type == KeyType::kEcdsaP256 ? "P-256"
                          : p.type == KeyType::kEcdsaP384 ? "P-384"
                          : p.type == KeyType::kEcdsaP521 ? "P-521"
                                                          : std::string(KeyTypeName(p.type));
      auto t = std::chrono::system_clock::time_point(
          std::chrono::duration_cast<std::chrono::system_clock::duration>(
              std::chrono::nanoseconds(v->creation_unix_ns)));
      keys[std::to_string(n)] = Json{{"name", curve},
                                     {"public_key", v->public_key},
                                     {"creation_time", FormatRfc3339(t)},
                                     {"certificate_chain", ""}};
    } else {
      keys[std::to_string(n)] = secs;
    }
  }
  Json out{{"name", p.name},
           {"type", KeyTypeName(p.type)},
           {"keys", std::move(keys)},
           {"derived", p.derived},
           {"exportable", p.exportable},
           {"allow_plaintext_backup", p.allow_plaintext_backup},
           {"deletion_allowed", p.deletion_allowed},
           {"min_decryption_version", p.min_decryption_version},
           {"min_encryption_version", p.min_encryption_version},
           {"min_available_version", p.min_available_version},
           {"latest_version", p.latest_version},
           {"auto_rotate_period", p.auto_rotate_period_s},
           {"imported_key", false},
           {"supports_encryption", SupportsEncryption(p.type)},
           {"supports_decryption", SupportsEncryption(p.type)},
           {"supports_derivation", SupportsDerivation(p.type)},
           {"supports_signing", SupportsSigning(p.type)}};
  if (p.derived) {
    out["kdf"] = "hkdf_sha256";
    out["convergent_encryption"] = p.convergent;
    if (p.convergent) out["convergent_encryption_version"] = 3;
  }
  if (p.type == KeyType::kHmac) out["key_size"] = p.hmac_key_size;
  return out;
}

Status ValidateKeyName(std::string_view name) {
  if (name.empty()) return InvalidArgument("missing key name");
  if (name.size() > 256) return InvalidArgument("key name is too long (at most 256 bytes)");
  for (char c : name) {
    auto u = static_cast<unsigned char>(c);
    if (c == '/' || u < 0x20 || u == 0x7f) {
      return InvalidArgument("key name must not contain '/' or control characters");
    }
  }
  return Status::Ok();
}

}  // namespace coffer::engines::transit
