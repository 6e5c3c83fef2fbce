#include "token/token_store.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "crypto/hmac.h"

namespace coffer::token {
namespace {

using Json = nlohmann::json;

constexpr std::string_view kSaltKey = "salt";
constexpr std::string_view kBase62 =
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

Json ToJson(const TokenEntry& e) {
  return Json{{"id_hmac", e.id_hmac},   {"accessor", e.accessor},
              {"policies", e.policies}, {"parent_hmac", e.parent_hmac},
              {"path", e.path},         {"display_name", e.display_name},
              {"meta", e.meta},         {"creation_time", e.creation_time},
              {"ttl", e.ttl},           {"num_uses", e.num_uses}};
}

Result<TokenEntry> FromJson(std::string_view text) {
  try {
    Json j = Json::parse(text);
    TokenEntry e;
    e.id_hmac = j.at("id_hmac").get<std::string>();
    e.accessor = j.at("accessor").get<std::string>();
    e.policies = j.at("policies").get<std::vector<std::string>>();
    e.parent_hmac = j.value("parent_hmac", "");
    e.path = j.value("path", "");
    e.display_name = j.value("display_name", "");
    e.meta = j.value("meta", std::map<std::string, std::string>{});
    e.creation_time = j.value("creation_time", std::int64_t{0});
    e.ttl = j.value("ttl", std::int64_t{0});
    e.num_uses = j.value("num_uses", std::int64_t{0});
    return e;
  } catch (const Json::exception& ex) {
    return Err(Internal(std::string("corrupt token entry: ") + ex.what()));
  }
}

}  // namespace

bool TokenEntry::IsRoot() const {
  return std::find(policies.begin(), policies.end(), "root") != policies.end();
}

std::string RandomBase62(std::size_t n) {
  std::string out;
  out.reserve(n);
  unsigned char buf[64];
  while (out.size() < n) {
    if (RAND_bytes(buf, sizeof(buf)) != 1) std::terminate();
    for (unsigned char b : buf) {
      // Rejection sampling keeps the characters uniform: 248 = 4 * 62.
      if (b < 248 && out.size() < n) out.push_back(kBase62[b % 62]);
    }
  }
  OPENSSL_cleanse(buf, sizeof(buf));
  return out;
}

SecretBytes NewTokenId() {
  std::string id = "hvs." + RandomBase62(32);
  SecretBytes out = SecretBytes::FromString(id);
  WipeString(id);
  return out;
}

TokenStore::TokenStore(storage::Backend& view, Clock& clock) : view_(view), clock_(clock) {}

Status TokenStore::Load() {
  ASSIGN_OR_RETURN(auto existing, view_.Get(kSaltKey));
  std::scoped_lock lock(mu_);
  cache_.clear();
  if (existing) {
    salt_ = SecretBytes::FromString(existing->value);
    WipeString(existing->value);
    return Status::Ok();
  }
  SecretBytes salt(32);
  if (RAND_bytes(salt.data(), static_cast<int>(salt.size())) != 1) {
    return Internal("random generator failed");
  }
  // Create-if-absent, so two nodes loading at once agree on one salt.
  storage::Compare absent{std::string(kSaltKey), 0};
  storage::Op put{storage::Op::Kind::kPut, std::string(kSaltKey), std::string(salt.view())};
  Status s = view_.Transact({&absent, 1}, {&put, 1});
  WipeString(put.value);
  if (s.code() == Code::kConflict) {
    ASSIGN_OR_RETURN(auto now, view_.Get(kSaltKey));
    if (!now) return Internal("token salt vanished");
    salt_ = SecretBytes::FromString(now->value);
    WipeString(now->value);
    return Status::Ok();
  }
  TRY(s);
  salt_ = std::move(salt);
  return Status::Ok();
}

void TokenStore::Unload() {
  std::scoped_lock lock(mu_);
  salt_.Clear();
  cache_.clear();
}

Result<std::string> TokenStore::Hmac(std::string_view token_id) {
  std::scoped_lock lock(mu_);
  if (salt_.empty()) return Err(Sealed());
  ASSIGN_OR_RETURN(std::string mac, crypto::HmacSha256(salt_, token_id));
  return crypto::ToHex(mac);
}

Status TokenStore::Store(const TokenEntry& entry) {
  storage::Op id_op{storage::Op::Kind::kPut, "id/" + entry.id_hmac, ToJson(entry).dump()};
  storage::Op acc_op{storage::Op::Kind::kPut, "accessor/" + entry.accessor, entry.id_hmac};
  storage::Op ops[] = {std::move(id_op), std::move(acc_op)};
  TRY(view_.Transact({}, ops));
  std::scoped_lock lock(mu_);
  cache_[entry.id_hmac] = std::make_shared<const TokenEntry>(entry);
  return Status::Ok();
}

Result<SecretBytes> TokenStore::CreateRoot(std::string_view requested_id) {
  SecretBytes id = requested_id.empty() ? NewTokenId() : SecretBytes::FromString(requested_id);
  ASSIGN_OR_RETURN(std::string hmac, Hmac(id.view()));
  TokenEntry e;
  e.id_hmac = hmac;
  e.accessor = RandomBase62(24);
  e.policies = {"root"};
  e.path = "auth/token/root";
  e.display_name = "root";
  e.creation_time =
      std::chrono::duration_cast<std::chrono::seconds>(clock_.Wall().time_since_epoch()).count();
  TRY(Store(e));
  return id;
}

Result<std::shared_ptr<const TokenEntry>> TokenStore::Lookup(std::string_view token_id) {
  if (token_id.empty()) return std::shared_ptr<const TokenEntry>();
  ASSIGN_OR_RETURN(std::string hmac, Hmac(token_id));
  {
    std::scoped_lock lock(mu_);
    auto it = cache_.find(hmac);
    if (it != cache_.end()) return it->second;
  }
  ASSIGN_OR_RETURN(auto stored, view_.Get("id/" + hmac));
  if (!stored) return std::shared_ptr<const TokenEntry>();
  ASSIGN_OR_RETURN(TokenEntry entry, FromJson(stored->value));
  auto shared = std::make_shared<const TokenEntry>(std::move(entry));
  std::scoped_lock lock(mu_);
  cache_[hmac] = shared;
  return shared;
}

Status TokenStore::Revoke(std::string_view token_id) {
  ASSIGN_OR_RETURN(std::string hmac, Hmac(token_id));
  ASSIGN_OR_RETURN(auto entry, Lookup(token_id));
  if (!entry) return Status::Ok();
  storage::Op ops[] = {{storage::Op::Kind::kDelete, "id/" + hmac, {}},
                       {storage::Op::Kind::kDelete, "accessor/" + entry->accessor, {}}};
  TRY(view_.Transact({}, ops));
  std::scoped_lock lock(mu_);
  cache_.erase(hmac);
  return Status::Ok();
}

}  // namespace coffer::token
