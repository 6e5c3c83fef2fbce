#include "token/batch_token.h"

#include <openssl/crypto.h>

#include <array>
#include <nlohmann/json.hpp>

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

constexpr std::string_view kB64Url =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

// base64url without padding: the token travels in headers and URLs.
void AppendBase64Url(std::string& out, std::string_view in) {
  std::size_t i = 0;
  auto byte = [&](std::size_t k) { return static_cast<unsigned char>(in[k]); };
  for (; i + 3 <= in.size(); i += 3) {
    const unsigned v = (byte(i) << 16) | (byte(i + 1) << 8) | byte(i + 2);
    out.push_back(kB64Url[(v >> 18) & 63]);
    out.push_back(kB64Url[(v >> 12) & 63]);
    out.push_back(kB64Url[(v >> 6) & 63]);
    out.push_back(kB64Url[v & 63]);
  }
  if (in.size() - i == 1) {
    const unsigned v = byte(i) << 16;
    out.push_back(kB64Url[(v >> 18) & 63]);
    out.push_back(kB64Url[(v >> 12) & 63]);
  } else if (in.size() - i == 2) {
    const unsigned v = (byte(i) << 16) | (byte(i + 1) << 8);
    out.push_back(kB64Url[(v >> 18) & 63]);
    out.push_back(kB64Url[(v >> 12) & 63]);
    out.push_back(kB64Url[(v >> 6) & 63]);
  }
}

int B64UrlValue(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '-') return 62;
  if (c == '_') return 63;
  return -1;
}

// Strict: only the canonical encoding of some byte string decodes (no
// padding, no stray bits in the last character), so one token has one
// spelling and its HMAC (the token's identity) is unambiguous.
bool DecodeBase64Url(std::string_view in, std::string& out) {
  if (in.size() % 4 == 1) return false;
  out.clear();
  out.reserve(in.size() * 3 / 4);
  unsigned acc = 0;
  int bits = 0;
  for (char c : in) {
    const int v = B64UrlValue(c);
    if (v < 0) return false;
    acc = (acc << 6) | static_cast<unsigned>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  return (acc & ((1u << bits) - 1)) == 0;
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
  AppendBase64Url(id, sealed);
  WipeString(sealed);
  SecretBytes out = SecretBytes::FromString(id);
  WipeString(id);
  return out;
}

Result<TokenEntry> OpenBatchToken(const SecretBytes& key, std::string_view token_id) {
  if (!IsBatchTokenId(token_id)) return Err(PermissionDenied());
  std::string sealed;
  if (!DecodeBase64Url(token_id.substr(kBatchTokenPrefix.size()), sealed) ||
      sealed.size() < 1 + crypto::kGcmOverhead ||
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
