#include "identity/mfa/mfa_store.h"

#include <algorithm>

#include "common/encoding.h"
#include "common/secret_bytes.h"
#include "crypto/random.h"
#include "identity/mfa/qr.h"

namespace coffer::identity::mfa {
namespace {

constexpr std::string_view kMethod = "mfa/method/";
constexpr std::string_view kEnforcement = "mfa/enforcement/";
constexpr std::string_view kSecret = "mfa/secret/";
constexpr std::string_view kUsed = "mfa/used/";

std::vector<std::string> Strings(const Json& j, const char* name) {
  std::vector<std::string> out;
  if (auto it = j.find(name); it != j.end() && it->is_array()) {
    for (const auto& v : *it) {
      if (v.is_string()) out.push_back(v.get<std::string>());
    }
  }
  return out;
}

TotpMethod MethodFromJson(const Json& j) {
  TotpMethod m;
  m.id = j.value("id", "");
  m.name = j.value("name", "");
  m.issuer = j.value("issuer", "");
  m.params.period = j.value("period", std::int64_t{30});
  m.params.digits = j.value("digits", 6);
  m.params.algorithm = j.value("algorithm", "SHA1");
  m.params.skew = j.value("skew", 1);
  m.key_size = j.value("key_size", 20);
  m.qr_size = j.value("qr_size", 200);
  m.max_validation_attempts = j.value("max_validation_attempts", 5);
  return m;
}

Enforcement EnforcementFromJson(const Json& j) {
  Enforcement e;
  e.name = j.value("name", "");
  e.id = j.value("id", "");
  e.mfa_method_ids = Strings(j, "mfa_method_ids");
  e.auth_method_accessors = Strings(j, "auth_method_accessors");
  e.auth_method_types = Strings(j, "auth_method_types");
  e.identity_group_ids = Strings(j, "identity_group_ids");
  e.identity_entity_ids = Strings(j, "identity_entity_ids");
  return e;
}

bool Contains(const std::vector<std::string>& v, std::string_view x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

std::string PairKey(std::string_view method, std::string_view entity) {
  return std::string(method) + "/" + std::string(entity);
}

}  // namespace

Json TotpMethod::ToJson() const {
  return Json{{"id", id},
              {"name", name},
              {"type", "totp"},
              {"issuer", issuer},
              {"period", params.period},
              {"digits", params.digits},
              {"algorithm", params.algorithm},
              {"skew", params.skew},
              {"key_size", key_size},
              {"qr_size", qr_size},
              {"max_validation_attempts", max_validation_attempts},
              {"namespace_id", "root"},
              {"namespace_path", ""},
              {"mount_accessor", ""}};
}

Json Enforcement::ToJson() const {
  return Json{{"name", name},
              {"id", id},
              {"namespace_id", "root"},
              {"namespace_path", ""},
              {"mfa_method_ids", mfa_method_ids},
              {"auth_method_accessors", auth_method_accessors},
              {"auth_method_types", auth_method_types},
              {"identity_group_ids", identity_group_ids},
              {"identity_entity_ids", identity_entity_ids}};
}

MfaStore::MfaStore(storage::Backend& storage, Clock& clock)
    : storage_(storage), clock_(clock), snapshot_(std::make_shared<const Snapshot>()) {}

std::shared_ptr<const MfaStore::Snapshot> MfaStore::Current() const {
  std::scoped_lock lock(snap_mu_);
  return snapshot_;
}

void MfaStore::SwapIn(std::shared_ptr<Snapshot> next) {
  std::scoped_lock lock(snap_mu_);
  snapshot_ = std::move(next);
}

Status MfaStore::Load() {
  std::scoped_lock writer(writer_mu_);
  auto next = std::make_shared<Snapshot>();
  ASSIGN_OR_RETURN(auto methods, storage_.List(kMethod));
  for (const auto& k : methods) {
    ASSIGN_OR_RETURN(auto entry, storage_.Get(std::string(kMethod) + k));
    if (!entry) continue;
    TotpMethod m = MethodFromJson(Json::parse(entry->value, nullptr, false));
    next->methods[m.id] = std::move(m);
  }
  ASSIGN_OR_RETURN(auto enforcements, storage_.List(kEnforcement));
  for (const auto& k : enforcements) {
    ASSIGN_OR_RETURN(auto entry, storage_.Get(std::string(kEnforcement) + k));
    if (!entry) continue;
    Enforcement e = EnforcementFromJson(Json::parse(entry->value, nullptr, false));
    next->enforcements[e.name] = std::move(e);
  }
  SwapIn(std::move(next));
  return Status::Ok();
}

void MfaStore::Unload() {
  std::scoped_lock writer(writer_mu_);
  SwapIn(std::make_shared<Snapshot>());
  std::scoped_lock lock(attempts_mu_);
  attempts_.clear();
}

Result<TotpMethod> MfaStore::PutMethod(TotpMethod m) {
  if (m.issuer.empty()) return Err(InvalidArgument("issuer must be set"));
  if (m.params.period <= 0) return Err(InvalidArgument("period must be greater than zero"));
  if (m.params.digits != 6 && m.params.digits != 8) {
    return Err(InvalidArgument("digits can only be 6 or 8"));
  }
  if (m.params.algorithm != "SHA1" && m.params.algorithm != "SHA256" &&
      m.params.algorithm != "SHA512") {
    return Err(InvalidArgument("algorithm must be SHA1, SHA256 or SHA512"));
  }
  if (m.params.skew != 0 && m.params.skew != 1) {
    return Err(InvalidArgument("skew value must be 0 or 1"));
  }
  if (m.key_size < 16 || m.key_size > 64) {
    return Err(InvalidArgument("key_size must be between 16 and 64"));
  }
  if (m.qr_size < 0 || m.qr_size > 2000) return Err(InvalidArgument("invalid qr_size"));
  if (m.max_validation_attempts <= 0) m.max_validation_attempts = 5;
  std::scoped_lock writer(writer_mu_);
  auto cur = Current();
  if (m.id.empty()) {
    ASSIGN_OR_RETURN(m.id, crypto::NewUuid());
  } else if (!cur->methods.contains(m.id)) {
    return Err(NotFound("MFA method not found"));
  }
  if (!m.name.empty()) {
    for (const auto& [id, other] : cur->methods) {
      if (other.name == m.name && id != m.id) {
        return Err(InvalidArgument("a method with the same name already exists"));
      }
    }
  }
  TRY(storage_.Put(std::string(kMethod) + m.id, m.ToJson().dump()));
  auto next = std::make_shared<Snapshot>(*cur);
  next->methods[m.id] = m;
  SwapIn(std::move(next));
  return m;
}

std::optional<TotpMethod> MfaStore::Method(std::string_view id_or_name) const {
  auto s = Current();
  if (auto it = s->methods.find(std::string(id_or_name)); it != s->methods.end()) {
    return it->second;
  }
  for (const auto& [id, m] : s->methods) {
    if (!m.name.empty() && m.name == id_or_name) return m;
  }
  return std::nullopt;
}

std::vector<TotpMethod> MfaStore::Methods() const {
  auto s = Current();
  std::vector<TotpMethod> out;
  for (const auto& [id, m] : s->methods) out.push_back(m);
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
  return out;
}

Status MfaStore::DeleteMethod(std::string_view id) {
  std::scoped_lock writer(writer_mu_);
  auto cur = Current();
  if (!cur->methods.contains(std::string(id))) return Status::Ok();
  for (const auto& [name, e] : cur->enforcements) {
    if (Contains(e.mfa_method_ids, id)) {
      return InvalidArgument("method is used by login enforcement \"" + name + "\"");
    }
  }
  TRY(storage_.Delete(std::string(kMethod) + std::string(id)));
  auto next = std::make_shared<Snapshot>(*cur);
  next->methods.erase(std::string(id));
  SwapIn(std::move(next));
  return Status::Ok();
}

Result<bool> MfaStore::HasSecret(std::string_view method_id, std::string_view entity_id) {
  ASSIGN_OR_RETURN(auto names, storage_.List(std::string(kSecret) + std::string(method_id) + "/"));
  return std::find(names.begin(), names.end(), entity_id) != names.end();
}

Result<std::vector<storage::Op>> MfaStore::SecretMoveOps(const std::vector<std::string>& from,
                                                         const std::string& to, bool force) {
  std::vector<storage::Op> ops;
  auto wipe_on_error = [&ops](Status s) {
    for (auto& op : ops) WipeString(op.value);
    return s;
  };
  for (const auto& method : Methods()) {
    // One listing per method: the entities that have a secret for it.
    auto listed = storage_.List(std::string(kSecret) + method.id + "/");
    if (!listed) return Err(wipe_on_error(listed.error()));
    const std::set<std::string> enrolled(listed->begin(), listed->end());
    bool taken = enrolled.contains(to);
    for (const auto& id : from) {
      if (id == to || !enrolled.contains(id)) continue;
      if (taken && !force) {
        return Err(wipe_on_error(InvalidArgument("conflicting MFA config ID \"" + method.id +
                                                 "\" in entity ID \"" + id + "\"")));
      }
      auto secret = storage_.Get(std::string(kSecret) + PairKey(method.id, id));
      if (!secret) return Err(wipe_on_error(secret.error()));
      if (!*secret) continue;  // destroyed meanwhile
      ops.push_back({storage::Op::Kind::kPut, std::string(kSecret) + PairKey(method.id, to),
                     std::move((*secret)->value)});
      ops.push_back(
          {storage::Op::Kind::kDelete, std::string(kSecret) + PairKey(method.id, id), {}});
      ops.push_back({storage::Op::Kind::kDelete, std::string(kUsed) + PairKey(method.id, id), {}});
      ops.push_back({storage::Op::Kind::kDelete, std::string(kUsed) + PairKey(method.id, to), {}});
      taken = true;
    }
  }
  return ops;
}

Result<std::optional<Enrolment>> MfaStore::Generate(std::string_view method_id,
                                                    std::string_view entity_id,
                                                    std::string_view account_name) {
  auto method = Method(method_id);
  if (!method) return Err(NotFound("MFA method not found"));
  std::string key = std::string(kSecret) + PairKey(method->id, entity_id);
  auto pair_lock = PairLock(PairKey(method->id, entity_id));
  std::scoped_lock lock(*pair_lock);
  ASSIGN_OR_RETURN(auto existing, storage_.Get(key));
  if (existing) return std::optional<Enrolment>();
  ASSIGN_OR_RETURN(SecretBytes secret,
                   crypto::RandomSecret(static_cast<std::size_t>(method->key_size)));
  std::string hex = HexEncode(secret.view());
  std::string stored = Json{{"key", hex}}.dump();
  WipeString(hex);
  Status put = storage_.Put(key, stored);
  WipeString(stored);
  TRY(put);
  // A fresh secret starts with no used codes.
  TRY(storage_.Delete(std::string(kUsed) + PairKey(method->id, entity_id)));
  Enrolment out;
  out.url = OtpauthUrl(secret, method->params, method->issuer, account_name);
  if (method->qr_size > 0) {
    ASSIGN_OR_RETURN(std::string png, QrPng(out.url, method->qr_size));
    out.barcode = Base64Encode(png);
  }
  return std::optional<Enrolment>(std::move(out));
}

Status MfaStore::Destroy(std::string_view method_id, std::string_view entity_id) {
  auto method = Method(method_id);
  if (!method) return NotFound("MFA method not found");
  auto pair_lock = PairLock(PairKey(method->id, entity_id));
  std::scoped_lock lock(*pair_lock);
  TRY(storage_.Delete(std::string(kSecret) + PairKey(method->id, entity_id)));
  return storage_.Delete(std::string(kUsed) + PairKey(method->id, entity_id));
}

Result<Enforcement> MfaStore::PutEnforcement(Enforcement e) {
  if (e.name.empty()) return Err(InvalidArgument("missing enforcement name"));
  if (e.mfa_method_ids.empty()) return Err(InvalidArgument("missing method ids"));
  if (e.auth_method_accessors.empty() && e.auth_method_types.empty() &&
      e.identity_group_ids.empty() && e.identity_entity_ids.empty()) {
    return Err(
        InvalidArgument("One of auth_method_accessors, auth_method_types, identity_group_ids, "
                        "identity_entity_ids must be specified"));
  }
  std::scoped_lock writer(writer_mu_);
  auto cur = Current();
  for (const auto& id : e.mfa_method_ids) {
    if (!cur->methods.contains(id))
      return Err(InvalidArgument("MFA method \"" + id + "\" not found"));
  }
  if (auto it = cur->enforcements.find(e.name); it != cur->enforcements.end()) {
    e.id = it->second.id;
  } else {
    ASSIGN_OR_RETURN(e.id, crypto::NewUuid());
  }
  TRY(storage_.Put(std::string(kEnforcement) + e.name, e.ToJson().dump()));
  auto next = std::make_shared<Snapshot>(*cur);
  next->enforcements[e.name] = e;
  SwapIn(std::move(next));
  return e;
}

std::optional<Enforcement> MfaStore::GetEnforcement(std::string_view name) const {
  auto s = Current();
  auto it = s->enforcements.find(std::string(name));
  if (it == s->enforcements.end()) return std::nullopt;
  return it->second;
}

std::vector<Enforcement> MfaStore::Enforcements() const {
  auto s = Current();
  std::vector<Enforcement> out;
  for (const auto& [n, e] : s->enforcements) out.push_back(e);
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  return out;
}

Status MfaStore::DeleteEnforcement(std::string_view name) {
  std::scoped_lock writer(writer_mu_);
  auto cur = Current();
  if (!cur->enforcements.contains(std::string(name))) return Status::Ok();
  TRY(storage_.Delete(std::string(kEnforcement) + std::string(name)));
  auto next = std::make_shared<Snapshot>(*cur);
  next->enforcements.erase(std::string(name));
  SwapIn(std::move(next));
  return Status::Ok();
}

std::vector<Constraint> MfaStore::ConstraintsFor(std::string_view accessor, std::string_view type,
                                                 std::string_view entity_id,
                                                 const std::set<std::string>& groups) const {
  std::vector<Constraint> out;
  for (const auto& e : Enforcements()) {
    bool applies = Contains(e.auth_method_accessors, accessor) ||
                   Contains(e.auth_method_types, type) ||
                   (!entity_id.empty() && Contains(e.identity_entity_ids, entity_id));
    for (const auto& g : e.identity_group_ids) applies = applies || groups.contains(g);
    if (applies) out.push_back(Constraint{e.name, e.mfa_method_ids});
  }
  return out;
}

std::shared_ptr<std::mutex> MfaStore::PairLock(const std::string& key) {
  std::scoped_lock lock(attempts_mu_);
  auto& weak = pairs_[key];
  auto strong = weak.lock();
  if (!strong) {
    strong = std::make_shared<std::mutex>();
    weak = strong;
  }
  if (pairs_.size() > 10'000) {
    std::erase_if(pairs_, [](const auto& kv) { return kv.second.expired(); });
  }
  return strong;
}

Status MfaStore::ValidateTotp(std::string_view method_id, std::string_view entity_id,
                              std::string_view passcode) {
  auto method = Method(method_id);
  if (!method) return NotFound("MFA method not found");
  const std::string pair = PairKey(method->id, entity_id);
  const auto window = std::chrono::seconds(method->params.period * (2 * method->params.skew + 1));
  // The attempts are counted and checked under the pair's lock: checked
  // before it, guesses sent at once would all pass the check before the
  // first of them failed.
  auto pair_lock = PairLock(pair);
  std::scoped_lock lock(*pair_lock);
  const auto now_mono = clock_.Monotonic();
  {
    std::scoped_lock attempts_lock(attempts_mu_);
    if (auto it = attempts_.find(pair); it != attempts_.end()) {
      if (now_mono - it->second.last_failure >= window) {
        attempts_.erase(it);
      } else if (it->second.failures >= method->max_validation_attempts) {
        return Status(Code::kRateLimited,
                      "maximum TOTP validation attempts exceeded; try again later");
      }
    }
  }
  auto fail = [&](std::string message) {
    std::scoped_lock lock(attempts_mu_);
    Attempts& a = attempts_[pair];
    ++a.failures;
    a.last_failure = clock_.Monotonic();
    return PermissionDenied(std::move(message));
  };

  ASSIGN_OR_RETURN(auto stored, storage_.Get(std::string(kSecret) + pair));
  if (!stored) return fail("entity has no TOTP secret for this MFA method");
  Json j = Json::parse(stored->value, nullptr, false);
  WipeString(stored->value);
  std::string hex = j.is_object() ? j.value("key", "") : "";
  j = nullptr;
  auto key = HexDecode(hex);
  WipeString(hex);
  if (!key) return Internal("stored TOTP secret is corrupt");

  ASSIGN_OR_RETURN(auto used_entry, storage_.Get(std::string(kUsed) + pair));
  std::int64_t last_used = -1;
  if (used_entry) {
    Json u = Json::parse(used_entry->value, nullptr, false);
    if (u.is_object()) last_used = u.value("counter", std::int64_t{-1});
  }
  const std::int64_t now_unix =
      std::chrono::duration_cast<std::chrono::seconds>(clock_.Wall().time_since_epoch()).count();
  auto matched = MatchTotp(*key, method->params, now_unix, passcode);
  if (!matched) return fail("failed to validate TOTP passcode");
  if (*matched <= last_used) {
    std::int64_t next = (last_used + 1) * method->params.period - now_unix;
    return fail("code already used; new code is available in " +
                std::to_string(std::max<std::int64_t>(next, 1)) + " seconds");
  }
  TRY(storage_.Put(std::string(kUsed) + pair, Json{{"counter", *matched}}.dump()));
  std::scoped_lock alock(attempts_mu_);
  attempts_.erase(pair);
  return Status::Ok();
}

}  // namespace coffer::identity::mfa
