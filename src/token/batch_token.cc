#include "token/batch_token.h"

#include <openssl/crypto.h>

#include <array>
#include <nlohmann/json.hpp>

#include "common/encoding.h"
#include "crypto/aead.h"

namespace coffer::token {
namespace {

using Json = nlohmann::json;

constexpr std::uint8_t kVersion = 1;
// Binds the ciphertext to this use of the key and to the version byte.
constexpr std::string_view kAadPrefix = "coffer/batch-token";

std::string Aad(std::uint8_t version) {
  std::string aad(kAadPrefix);
  aad.push_back(static_cast<char>(version));
  return aad;
}

Json EntryToJson(const TokenEntry& e) {
  // Short keys and no defaults keep the token short.
  Json j = Json::object();
  j["p"] = e.policies;
  j["c"] = e.creation_time;
  j["t"] = e.ttl;
  j["x"] = e.expire_time;
  if (!e.parent_hmac.empty()) j["pa"] = e.parent_hmac;
  if (e.display_name != "token") j["d"] = e.display_name;
  if (e.path != "auth/token/create") j["pt"] = e.path;
  if (!e.meta.empty()) j["m"] = e.meta;
  if (!e.entity_id.empty()) j["en"] = e.entity_id;
  if (!e.role.empty()) j["r"] = e.role;
  if (!e.bound_cidrs.empty()) j["b"] = e.bound_cidrs;
  return j;
}

Result<TokenEntry> EntryFromJson(const Json& j) {
  try {
    if (!j.is_object()) return Err(PermissionDenied());
    TokenEntry e;
    e.batch = true;
    e.renewable = false;
    e.policies = j.at("p").get<std::vector<std::string>>();
    e.creation_time = j.at("c").get<std::int64_t>();
    e.ttl = j.at("t").get<std::int64_t>();
    e.expire_time = j.at("x").get<std::int64_t>();
    e.parent_hmac = j.value("pa", "");
    e.display_name = j.value("d", "token");
    e.path = j.value("pt", "auth/token/create");
    e.meta = j.value("m", std::map<std::string, std::string>{});
    e.entity_id = j.value("en", "");
    e.role = j.value("r", "");
    e.bound_cidrs = j.value("b", std::vector<std::string>{});
    return e;
  } catch (const Json::exception&) {
    // Only reachable with a valid tag, i.e. a bug in the writer; still no
    // 500 for the caller.
    return Err(PermissionDenied());
  }
}

}  // namespace

Result<SecretBytes> SealBatchToken(const SecretBytes& key, const TokenEntry& entry) {
  std::vector<std::uint8_t> plain = Json::to_cbor(EntryToJson(entry));
  std::string sealed(1, static_cast<char>(kVersion));
  Status s = crypto::AesGcmSealAppend(
      key, std::string_view(reinterpret_cast<const char*>(plain.data()), plain.size()),
      Aad(kVersion), sealed);
  OPENSSL_cleanse(plain.data(), plain.size());
  TRY(s);
  std::string id(kBatchTokenPrefix);
  id.reserve(kBatchTokenPrefix.size() + (sealed.size() * 4 + 2) / 3);
  std::string encoded = Base64UrlEncode(sealed);
  id += encoded;
  WipeString(encoded);
  WipeString(sealed);
  SecretBytes out = SecretBytes::FromString(id);
  WipeString(id);
  return out;
}

Result<TokenEntry> OpenBatchToken(const SecretBytes& key, std::string_view token_id) {
  if (!IsBatchTokenId(token_id)) return Err(PermissionDenied());
  std::string sealed;
  if (auto decoded = Base64UrlDecode(token_id.substr(kBatchTokenPrefix.size()))) {
    sealed = std::move(*decoded);
  } else {
    return Err(PermissionDenied());
  }
  if (sealed.size() < 1 + crypto::kGcmOverhead ||
      static_cast<std::uint8_t>(sealed[0]) != kVersion) {
    WipeString(sealed);
    return Err(PermissionDenied());
  }
  auto plain = crypto::AesGcmOpen(key, std::string_view(sealed).substr(1), Aad(kVersion));
  WipeString(sealed);
  // Any failure to open (tampered, truncated, other key) is an unknown token.
  if (!plain) return Err(PermissionDenied());
  Json j = Json::from_cbor(*plain, /*strict=*/true, /*allow_exceptions=*/false);
  WipeString(*plain);
  if (j.is_discarded()) return Err(PermissionDenied());
  return EntryFromJson(j);
}

}  // namespace coffer::token
