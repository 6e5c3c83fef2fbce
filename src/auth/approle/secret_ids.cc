// AppRole secret IDs: generation, lookup, destruction, accessors, tidy and
// the use count spent at login.
#include <openssl/crypto.h>
#include <spdlog/spdlog.h>

#include "auth/approle/approle.h"
#include "auth/util.h"
#include "common/log.h"
#include "crypto/random.h"
#include "token/token_params.h"

namespace coffer::auth::approle {
namespace {

using logical::Json;
using logical::Operation;
using logical::Request;
using logical::Response;
namespace params = token::params;

std::string Rfc3339(std::int64_t unix) {
  if (unix == 0) return "0001-01-01T00:00:00Z";
  return FormatRfc3339(std::chrono::system_clock::time_point(std::chrono::seconds(unix)));
}

// metadata: a JSON object of strings, or (as Vault's CLI sends it) a string
// holding one.
Result<std::map<std::string, std::string>> MetadataField(const Request& request) {
  std::map<std::string, std::string> out;
  const Json* f = request.Field("metadata");
  if (f == nullptr || f->is_null()) return out;
  Json obj = *f;
  if (f->is_string()) {
    if (f->get_ref<const std::string&>().empty()) return out;
    obj = Json::parse(f->get<std::string>(), nullptr, false);
  }
  if (!obj.is_object()) return Err(InvalidArgument("failed to parse metadata: not a JSON object"));
  for (const auto& [k, v] : obj.items()) {
    if (!v.is_string()) return Err(InvalidArgument("metadata values must be strings"));
    out[k] = v.get<std::string>();
  }
  return out;
}

Json LookupData(const SecretIdEntry& e) {
  return Json{{"cidr_list", Json(e.cidr_list)},
              {"creation_time", Rfc3339(e.creation_time)},
              {"expiration_time", Rfc3339(e.expiration_time)},
              {"last_updated_time", Rfc3339(e.last_updated_time)},
              {"metadata", e.metadata},
              {"secret_id_accessor", e.accessor},
              {"secret_id_num_uses", e.num_uses},
              {"secret_id_ttl", e.ttl},
              {"token_bound_cidrs", Json(e.token_bound_cidrs)}};
}

}  // namespace

Json SecretIdToJson(const SecretIdEntry& e) {
  return Json{{"secret_id_hmac", e.secret_id_hmac},
              {"accessor", e.accessor},
              {"creation_time", e.creation_time},
              {"expiration_time", e.expiration_time},
              {"last_updated_time", e.last_updated_time},
              {"metadata", e.metadata},
              {"cidr_list", e.cidr_list},
              {"token_bound_cidrs", e.token_bound_cidrs},
              {"num_uses", e.num_uses},
              {"ttl", e.ttl}};
}

SecretIdEntry SecretIdFromJson(const Json& j) {
  SecretIdEntry e;
  e.secret_id_hmac = j.value("secret_id_hmac", "");
  e.accessor = j.value("accessor", "");
  e.creation_time = j.value("creation_time", std::int64_t{0});
  e.expiration_time = j.value("expiration_time", std::int64_t{0});
  e.last_updated_time = j.value("last_updated_time", std::int64_t{0});
  e.metadata = j.value("metadata", std::map<std::string, std::string>{});
  e.cidr_list = j.value("cidr_list", std::vector<std::string>{});
  e.token_bound_cidrs = j.value("token_bound_cidrs", std::vector<std::string>{});
  e.num_uses = j.value("num_uses", std::int64_t{0});
  e.ttl = j.value("ttl", std::int64_t{0});
  return e;
}

Result<std::optional<SecretIdEntry>> AppRoleBackend::ReadSecretId(const Role& role,
                                                                  const std::string& hmac) {
  ASSIGN_OR_RETURN(auto stored, storage_.Get("secret_id/" + role.name + "/" + hmac));
  if (!stored) return std::optional<SecretIdEntry>();
  ASSIGN_OR_RETURN(Json j, ParseStored(stored->value, "approle secret ID"));
  SecretIdEntry e = SecretIdFromJson(j);
  // The key already is the HMAC; comparing the stored copy in constant time
  // guards against an entry filed under the wrong key.
  if (!ConstantTimeEquals(e.secret_id_hmac, hmac)) return std::optional<SecretIdEntry>();
  return std::optional<SecretIdEntry>(std::move(e));
}

Status AppRoleBackend::DeleteSecretId(const Role& role, const SecretIdEntry& entry) {
  TRY(storage_.Delete("accessor/" + SaltedHex(entry.accessor)));
  return storage_.Delete("secret_id/" + role.name + "/" + entry.secret_id_hmac);
}

Result<Response> AppRoleBackend::GenerateSecretId(const Request& request, const Role& role,
                                                  bool custom) {
  std::string secret_id;
  if (custom) {
    ASSIGN_OR_RETURN(auto given, params::String(request, "secret_id"));
    if (!given || given->empty()) return Err(InvalidArgument("missing secret_id"));
    secret_id = *given;
    WipeString(*given);
  } else {
    ASSIGN_OR_RETURN(secret_id, crypto::NewUuid());
  }
  ASSIGN_OR_RETURN(auto metadata, MetadataField(request));
  ASSIGN_OR_RETURN(auto cidrs, params::List(request, "cidr_list"));
  ASSIGN_OR_RETURN(auto token_cidrs, params::List(request, "token_bound_cidrs"));
  ASSIGN_OR_RETURN(auto uses, params::Int(request, "num_uses"));
  ASSIGN_OR_RETURN(auto ttl, params::Duration(request, "ttl"));
  if (cidrs) TRY(ValidateCidrs(*cidrs));
  if (token_cidrs) TRY(ValidateCidrs(*token_cidrs));
  // A secret ID may narrow the role's CIDR blocks, never widen them: its
  // token_bound_cidrs replace the role's at login (Vault's subset rule).
  if (cidrs && !CidrsWithin(*cidrs, role.secret_id_bound_cidrs)) {
    return Err(InvalidArgument("cidr_list must be a subset of the role's secret_id_bound_cidrs"));
  }
  if (token_cidrs && !CidrsWithin(*token_cidrs, role.token.bound_cidrs)) {
    return Err(
        InvalidArgument("token_bound_cidrs must be a subset of the role's token_bound_cidrs"));
  }

  SecretIdEntry e;
  e.num_uses = role.secret_id_num_uses;
  if (uses) {
    if (*uses < 0) return Err(InvalidArgument("num_uses cannot be negative"));
    if (role.secret_id_num_uses > 0 && (*uses == 0 || *uses > role.secret_id_num_uses)) {
      return Err(InvalidArgument("num_uses cannot be higher than the role's secret_id_num_uses"));
    }
    e.num_uses = *uses;
  }
  e.ttl = role.secret_id_ttl;
  if (ttl && ttl->count() > 0) {
    if (role.secret_id_ttl > 0 && ttl->count() > role.secret_id_ttl) {
      return Err(InvalidArgument("ttl cannot be longer than the role's secret_id_ttl"));
    }
    e.ttl = ttl->count();
  }
  e.secret_id_hmac = SecretHmac(role, secret_id);
  if (e.secret_id_hmac.empty()) return Err(Internal("approle: HMAC failed"));
  ASSIGN_OR_RETURN(e.accessor, crypto::NewUuid());
  e.creation_time = Now();
  e.last_updated_time = e.creation_time;
  e.expiration_time = e.ttl > 0 ? e.creation_time + e.ttl : 0;
  e.metadata = std::move(metadata);
  e.cidr_list = cidrs.value_or(std::vector<std::string>{});
  e.token_bound_cidrs = token_cidrs.value_or(std::vector<std::string>{});

  std::scoped_lock lock(write_mu_);
  const std::string key = "secret_id/" + role.name + "/" + e.secret_id_hmac;
  ASSIGN_OR_RETURN(auto existing, storage_.Get(key));
  if (existing) return Err(InvalidArgument("SecretID is already registered"));
  TRY(storage_.Put("accessor/" + SaltedHex(e.accessor),
                   Json{{"role", role.name}, {"secret_id_hmac", e.secret_id_hmac}}.dump()));
  TRY(storage_.Put(key, SecretIdToJson(e).dump()));
  Response r;
  r.data = Json{{"secret_id", secret_id},
                {"secret_id_accessor", e.accessor},
                {"secret_id_ttl", e.ttl},
                {"secret_id_num_uses", e.num_uses}};
  WipeString(secret_id);
  return r;
}

Result<Response> AppRoleBackend::ListSecretIds(const Role& role) {
  ASSIGN_OR_RETURN(auto hmacs, storage_.List("secret_id/" + role.name + "/"));
  std::vector<std::string> accessors;
  for (const auto& hmac : hmacs) {
    ASSIGN_OR_RETURN(auto entry, ReadSecretId(role, hmac));
    if (entry) accessors.push_back(entry->accessor);
  }
  return KeysResponse(std::move(accessors));
}

Result<Response> AppRoleBackend::SecretIdLookup(const Request& request, const Role& role,
                                                bool destroy) {
  bool ok_op = IsWrite(request.operation) || (destroy && request.operation == Operation::kDelete);
  if (!ok_op) return Err(MethodNotAllowed());
  ASSIGN_OR_RETURN(auto secret_id, params::String(request, "secret_id"));
  if (!secret_id || secret_id->empty()) return Err(InvalidArgument("missing secret_id"));
  std::string hmac = SecretHmac(role, *secret_id);
  WipeString(*secret_id);
  if (destroy) {
    std::scoped_lock lock(write_mu_);
    ASSIGN_OR_RETURN(auto entry, ReadSecretId(role, hmac));
    if (entry) TRY(DeleteSecretId(role, *entry));
    return NoContent();
  }
  ASSIGN_OR_RETURN(auto entry, ReadSecretId(role, hmac));
  if (!entry) return NoContent();
  Response r;
  r.data = LookupData(*entry);
  return r;
}

Result<Response> AppRoleBackend::AccessorRoute(const Request& request, const Role& role,
                                               bool destroy) {
  bool ok_op = IsWrite(request.operation) || (destroy && request.operation == Operation::kDelete);
  if (!ok_op) return Err(MethodNotAllowed());
  ASSIGN_OR_RETURN(auto accessor, params::String(request, "secret_id_accessor"));
  if (!accessor || accessor->empty()) return Err(InvalidArgument("missing secret_id_accessor"));
  // A lookup of an unknown accessor answers 404, as Vault does since 1.9
  // (clients tell "gone" by it); a destroy of one answers 400.
  auto not_found = [&] {
    std::string message =
        "failed to find accessor entry for secret_id_accessor: \"" + *accessor + "\"";
    return Err(destroy ? InvalidArgument(std::move(message)) : NotFound(std::move(message)));
  };
  std::unique_lock lock(write_mu_, std::defer_lock);
  if (destroy) lock.lock();
  ASSIGN_OR_RETURN(auto index, storage_.Get("accessor/" + SaltedHex(*accessor)));
  if (!index) return not_found();
  ASSIGN_OR_RETURN(Json j, ParseStored(index->value, "approle accessor"));
  // An accessor acts only within the role it belongs to.
  if (j.value("role", "") != role.name) return not_found();
  ASSIGN_OR_RETURN(auto entry, ReadSecretId(role, j.value("secret_id_hmac", "")));
  if (!entry) return not_found();
  if (destroy) {
    TRY(DeleteSecretId(role, *entry));
    return NoContent();
  }
  Response r;
  r.data = LookupData(*entry);
  return r;
}

Result<std::optional<SecretIdEntry>> AppRoleBackend::UseSecretId(const Role& role,
                                                                 std::string_view secret_id) {
  using Out = std::optional<SecretIdEntry>;
  std::string hmac = SecretHmac(role, secret_id);
  if (hmac.empty()) return Err(Internal("approle: HMAC failed"));
  ASSIGN_OR_RETURN(auto entry, ReadSecretId(role, hmac));
  if (!entry) return Out();
  const bool expired = entry->expiration_time > 0 && Now() >= entry->expiration_time;
  if (entry->num_uses == 0 && !expired) return entry;  // unlimited: no write on the hot path

  // Limited or expired: re-read under the lock so two logins cannot spend
  // the same last use.
  std::scoped_lock lock(write_mu_);
  ASSIGN_OR_RETURN(entry, ReadSecretId(role, hmac));
  if (!entry) return Out();
  if (entry->expiration_time > 0 && Now() >= entry->expiration_time) {
    TRY(DeleteSecretId(role, *entry));
    return Out();
  }
  if (entry->num_uses == 1) {
    TRY(DeleteSecretId(role, *entry));
  } else if (entry->num_uses > 1) {
    SecretIdEntry updated = *entry;
    updated.num_uses -= 1;
    updated.last_updated_time = Now();
    TRY(storage_.Put("secret_id/" + role.name + "/" + hmac, SecretIdToJson(updated).dump()));
  }
  return entry;
}

bool AppRoleBackend::StartTidy() {
  return tidy_job_.Start([this](const std::atomic<bool>& stop) {
    Log(LogModule::kApprole).info("tidy of secret IDs started");
    Result<std::size_t> removed = TidySecretIds(&stop);
    if (!removed) {
      Log(LogModule::kApprole)
          .error("tidy of secret IDs ended early: {}", removed.error().ToString());
      return;
    }
    Log(LogModule::kApprole)
        .info("tidy of secret IDs finished: {} expired or orphaned secret IDs removed", *removed);
  });
}

// Takes the write lock for one entry at a time, so that logins and secret
// ID writes go on while a large mount is walked, and decides each entry on
// what it reads under that lock.
Result<std::size_t> AppRoleBackend::TidySecretIds(const std::atomic<bool>* stop) {
  auto stopped = [stop] { return stop != nullptr && stop->load(); };
  const Status kStopped = Unavailable("approle tidy stopped before it finished");
  std::size_t removed = 0;
  ASSIGN_OR_RETURN(auto role_dirs, storage_.List("secret_id/"));
  for (const auto& dir : role_dirs) {
    std::string name = dir;
    if (!name.empty() && name.back() == '/') name.pop_back();
    ASSIGN_OR_RETURN(auto hmacs, storage_.List("secret_id/" + dir));
    for (const auto& hmac : hmacs) {
      if (stopped()) return Err(kStopped);
      std::scoped_lock lock(write_mu_);
      ASSIGN_OR_RETURN(auto role, ReadRole(name));
      const std::string key = "secret_id/" + dir + hmac;
      ASSIGN_OR_RETURN(auto stored, storage_.Get(key));
      if (!stored) continue;
      auto parsed = ParseStored(stored->value, "approle secret ID");
      if (!parsed) continue;
      SecretIdEntry e = SecretIdFromJson(*parsed);
      bool expired = e.expiration_time > 0 && Now() >= e.expiration_time;
      if (role && !expired) continue;
      if (!e.accessor.empty()) TRY(storage_.Delete("accessor/" + SaltedHex(e.accessor)));
      TRY(storage_.Delete(key));
      ++removed;
    }
  }
  // Accessor entries whose secret ID is gone.
  ASSIGN_OR_RETURN(auto accessors, storage_.List("accessor/"));
  for (const auto& a : accessors) {
    if (stopped()) return Err(kStopped);
    std::scoped_lock lock(write_mu_);
    ASSIGN_OR_RETURN(auto stored, storage_.Get("accessor/" + a));
    if (!stored) continue;
    Json j = Json::parse(stored->value, nullptr, false);
    std::string target =
        j.is_object() ? "secret_id/" + j.value("role", "") + "/" + j.value("secret_id_hmac", "")
                      : "";
    ASSIGN_OR_RETURN(
        auto live, target.empty() ? Result<std::optional<storage::Entry>>() : storage_.Get(target));
    if (!live) TRY(storage_.Delete("accessor/" + a));
  }
  return removed;
}

}  // namespace coffer::auth::approle
