// keys/, keys/:name[/config|rotate|trim], export/, backup/, restore,
// cache-config.

#include <algorithm>

#include "common/encoding.h"
#include "engines/kv/params.h"
#include "engines/transit/fields.h"
#include "engines/transit/signer.h"
#include "engines/transit/transit_backend.h"

namespace coffer::engines::transit {
namespace {

using logical::Operation;

constexpr std::string_view kCacheConfigKey = "config/cache";
constexpr std::string_view kKeysConfigKey = "config/keys";

bool IsWrite(Operation op) { return op == Operation::kCreate || op == Operation::kUpdate; }

Status WrongMethod(std::string_view path) {
  return Status(Code::kMethodNotAllowed, "unsupported operation on " + std::string(path));
}

// Reads a version number that must lie in [0, latest].
Result<std::optional<std::uint32_t>> ConfigVersion(const Json& body, std::string_view field,
                                                   std::uint32_t latest) {
  ASSIGN_OR_RETURN(auto v, OptInt(body, field));
  if (!v) return std::optional<std::uint32_t>();
  if (*v < 0) return Err(InvalidArgument(std::string(field) + " must not be negative"));
  if (*v > latest) {
    return Err(InvalidArgument(std::string(field) + " cannot be greater than the latest version"));
  }
  return std::optional<std::uint32_t>(static_cast<std::uint32_t>(*v));
}

}  // namespace

Status TransitBackend::CheckRotatePeriod(std::int64_t seconds) const {
  if (seconds == 0) return Status::Ok();
  if (seconds < options_.min_auto_rotate_period_s) {
    return InvalidArgument("auto_rotate_period must be 0 to disable, or at least " +
                           kv::FormatDurationSeconds(options_.min_auto_rotate_period_s));
  }
  return Status::Ok();
}

Result<Response> TransitBackend::Keys(const Request& request, const std::string& name,
                                      const std::string& action) {
  TRY(ValidateKeyName(name));
  const Operation op = request.operation;
  if (action.empty()) {
    if (op == Operation::kRead) return ReadKey(name);
    if (IsWrite(op)) return CreateKey(request, name);
    if (op == Operation::kDelete) return DeleteKey(name);
    return Err(WrongMethod("keys/"));
  }
  if (!IsWrite(op)) return Err(WrongMethod("keys/:name/" + action));
  if (action == "config") return ConfigKey(request, name);
  if (action == "rotate") return RotateKey(name);
  if (action == "trim") return TrimKey(request, name);
  return Err(NotFound("unsupported path"));
}

Result<Response> TransitBackend::CreateKey(const Request& request, const std::string& name) {
  const Json& body = request.data;
  ASSIGN_OR_RETURN(std::string type_name, StringOr(body, "type", "aes256-gcm96"));
  auto type = ParseKeyType(type_name);
  if (!type) return Err(InvalidArgument("unknown key type"));
  Policy p;
  p.name = name;
  p.type = *type;
  ASSIGN_OR_RETURN(p.derived, BoolOr(body, "derived", false));
  ASSIGN_OR_RETURN(p.convergent, BoolOr(body, "convergent_encryption", false));
  ASSIGN_OR_RETURN(p.exportable, BoolOr(body, "exportable", false));
  ASSIGN_OR_RETURN(p.allow_plaintext_backup, BoolOr(body, "allow_plaintext_backup", false));
  ASSIGN_OR_RETURN(auto period, OptDurationSeconds(body, "auto_rotate_period"));
  if (period) {
    TRY(CheckRotatePeriod(*period));
    p.auto_rotate_period_s = *period;
  }
  if (p.derived && !SupportsDerivation(p.type)) {
    return Err(InvalidArgument("key derivation is not supported for key type " + type_name));
  }
  if (p.convergent) {
    if (!p.derived) {
      return Err(InvalidArgument("convergent encryption requires derivation to be enabled"));
    }
    if (!IsSymmetricAead(p.type)) {
      return Err(
          InvalidArgument("convergent encryption is not supported for key type " + type_name));
    }
  }
  ASSIGN_OR_RETURN(auto key_size, OptInt(body, "key_size"));
  if (key_size && *key_size != 0) {
    if (p.type != KeyType::kHmac) {
      return Err(InvalidArgument("key_size is only valid for hmac keys"));
    }
    if (*key_size < 32 || *key_size > 512) {
      return Err(InvalidArgument("key_size must be between 32 and 512 bytes"));
    }
    p.hmac_key_size = static_cast<std::size_t>(*key_size);
  }
  TRY(RotatePolicy(p, NowNs()));
  bool created = false;
  ASSIGN_OR_RETURN(auto stored, PutNewPolicy(std::move(p), /*overwrite=*/false, &created));
  if (created && stored->auto_rotate_period_s > 0) KickRotation();
  return DataResponse(PolicyReadJson(*stored));
}

Result<Response> TransitBackend::ReadKey(const std::string& name) {
  ASSIGN_OR_RETURN(auto policy, GetPolicy(name));
  if (!policy) return NotFoundResponse();
  return DataResponse(PolicyReadJson(*policy));
}

Result<Response> TransitBackend::ListKeys() {
  ASSIGN_OR_RETURN(auto names, storage_.List("policy/"));
  std::erase_if(names, [](const std::string& n) { return n.empty() || n.back() == '/'; });
  if (names.empty()) return NotFoundResponse();
  return DataResponse(Json{{"keys", std::move(names)}});
}

Result<Response> TransitBackend::DeleteKey(const std::string& name) {
  ASSIGN_OR_RETURN(auto policy, GetPolicy(name));
  if (!policy) return Err(InvalidArgument("could not delete key; not found"));
  if (!policy->deletion_allowed) {
    return Err(InvalidArgument("deletion is not allowed for this key"));
  }
  TRY(DeletePolicy(name));
  return NoContent();
}

Result<Response> TransitBackend::ConfigKey(const Request& request, const std::string& name) {
  const Json& body = request.data;
  bool kick = false;
  std::vector<std::string> kept_set;  // flags a false left set
  ASSIGN_OR_RETURN(
      auto policy, EditPolicy(name, [&](Policy& p) -> Result<bool> {
        bool changed = false;
        kept_set.clear();
        ASSIGN_OR_RETURN(auto min_dec,
                         ConfigVersion(body, "min_decryption_version", p.latest_version));
        ASSIGN_OR_RETURN(auto min_enc,
                         ConfigVersion(body, "min_encryption_version", p.latest_version));
        if (min_dec) {
          std::uint32_t v = std::max<std::uint32_t>(*min_dec, 1);
          if (v < p.min_available_version) {
            return Err(InvalidArgument(
                "min_decryption_version cannot be below min_available_version (trimmed versions)"));
          }
          changed |= v != p.min_decryption_version;
          p.min_decryption_version = v;
        }
        if (min_enc) {
          changed |= *min_enc != p.min_encryption_version;
          p.min_encryption_version = *min_enc;
        }
        if (p.min_encryption_version > 0 && p.min_encryption_version < p.min_decryption_version) {
          return Err(InvalidArgument(
              "min_encryption_version must not be lower than min_decryption_version"));
        }
        ASSIGN_OR_RETURN(auto deletion, OptBool(body, "deletion_allowed"));
        if (deletion) {
          changed |= *deletion != p.deletion_allowed;
          p.deletion_allowed = *deletion;
        }
        // Once set, exportable and allow_plaintext_backup stay set: a false
        // is ignored, as Vault ignores it (clients such as VaultSharp send
        // both with every config update), with a warning here.
        ASSIGN_OR_RETURN(auto exportable, OptBool(body, "exportable"));
        if (exportable && *exportable && !p.exportable) {
          p.exportable = true;
          changed = true;
        } else if (exportable && !*exportable && p.exportable) {
          kept_set.push_back("exportable");
        }
        ASSIGN_OR_RETURN(auto backup, OptBool(body, "allow_plaintext_backup"));
        if (backup && *backup && !p.allow_plaintext_backup) {
          p.allow_plaintext_backup = true;
          changed = true;
        } else if (backup && !*backup && p.allow_plaintext_backup) {
          kept_set.push_back("allow_plaintext_backup");
        }
        ASSIGN_OR_RETURN(auto period, OptDurationSeconds(body, "auto_rotate_period"));
        if (period) {
          TRY(CheckRotatePeriod(*period));
          kick = *period != p.auto_rotate_period_s;
          changed |= kick;
          p.auto_rotate_period_s = *period;
        }
        return changed;
      }));
  if (kick) KickRotation();
  Response r = DataResponse(PolicyReadJson(*policy));
  if (!kept_set.empty()) {
    r.warnings = Json::array();
    for (const std::string& flag : kept_set) {
      r.warnings.push_back(flag + " cannot be unset once set; it stays true");
    }
  }
  return r;
}

Result<Response> TransitBackend::RotateKey(const std::string& name) {
  const std::int64_t now = NowNs();
  ASSIGN_OR_RETURN(auto policy, EditPolicy(name, [&](Policy& p) -> Result<bool> {
                     TRY(RotatePolicy(p, now));
                     return true;
                   }));
  if (policy->auto_rotate_period_s > 0) KickRotation();
  return DataResponse(PolicyReadJson(*policy));
}

Result<Response> TransitBackend::TrimKey(const Request& request, const std::string& name) {
  ASSIGN_OR_RETURN(auto min_avail, OptInt(request.data, "min_available_version"));
  if (!min_avail) return Err(InvalidArgument("missing min_available_version"));
  if (*min_avail < 1) return Err(InvalidArgument("min_available_version must be positive"));
  ASSIGN_OR_RETURN(
      auto policy, EditPolicy(name, [&](Policy& p) -> Result<bool> {
        auto v = static_cast<std::uint32_t>(std::min<std::int64_t>(*min_avail, UINT32_MAX));
        if (v < p.min_available_version) {
          return Err(InvalidArgument("min_available_version cannot be decremented"));
        }
        if (v > p.min_decryption_version) {
          return Err(InvalidArgument(
              "min_available_version must not be greater than min_decryption_version"));
        }
        if (p.min_encryption_version > 0 && v > p.min_encryption_version) {
          return Err(InvalidArgument(
              "min_available_version must not be greater than min_encryption_version"));
        }
        std::erase_if(p.versions, [v](const auto& kv) { return kv.first < v; });
        p.min_available_version = v;
        return true;
      }));
  return DataResponse(PolicyReadJson(*policy));
}

Result<Response> TransitBackend::ExportKeyPath(const Request& request, const std::string& rest) {
  (void)request;
  // rest: "<type>/<name>" or "<type>/<name>/<version>"
  auto first = rest.find('/');
  if (first == std::string::npos) return Err(NotFound("unsupported path"));
  const std::string export_type = rest.substr(0, first);
  std::string name = rest.substr(first + 1);
  std::string version_text;
  if (auto second = name.find('/'); second != std::string::npos) {
    version_text = name.substr(second + 1);
    name.resize(second);
  }
  if (export_type != "encryption-key" && export_type != "signing-key" &&
      export_type != "hmac-key" && export_type != "public-key") {
    return Err(InvalidArgument(
        "invalid export type (use encryption-key, signing-key, hmac-key or public-key)"));
  }
  ASSIGN_OR_RETURN(auto policy, RequirePolicy(name));
  if (export_type != "public-key" && !policy->exportable) {
    return Err(InvalidArgument("key is not exportable"));
  }
  Json keys = Json::object();
  if (version_text.empty()) {
    for (const auto& [n, v] : policy->versions) {
      if (n < policy->min_decryption_version) continue;
      ASSIGN_OR_RETURN(std::string exported, ExportKey(*policy, *v, export_type));
      keys[std::to_string(n)] = std::move(exported);
    }
  } else {
    ASSIGN_OR_RETURN(std::uint32_t n, VersionField(Json{{"version", version_text}}, "version"));
    if (n == 0) n = policy->latest_version;
    const KeyVersion* v = policy->Version(n);
    if (v == nullptr || n < policy->min_decryption_version) {
      return Err(InvalidArgument("version does not exist or is no longer available"));
    }
    ASSIGN_OR_RETURN(std::string exported, ExportKey(*policy, *v, export_type));
    keys[std::to_string(n)] = std::move(exported);
  }
  return DataResponse(
      Json{{"name", policy->name}, {"type", KeyTypeName(policy->type)}, {"keys", std::move(keys)}});
}

Result<Response> TransitBackend::Backup(const std::string& name) {
  ASSIGN_OR_RETURN(auto policy, RequirePolicy(name));
  if (!policy->exportable) return Err(InvalidArgument("exporting is disallowed on the policy"));
  if (!policy->allow_plaintext_backup) {
    return Err(InvalidArgument("plaintext backup is disallowed on the policy"));
  }
  std::string record = EncodePolicy(*policy);
  std::string backup = Base64Encode(record);
  WipeString(record);
  return DataResponse(Json{{"backup", std::move(backup)}});
}

Result<Response> TransitBackend::Restore(const Request& request, const std::string& path_name) {
  const Json& body = request.data;
  ASSIGN_OR_RETURN(auto backup_text, OptString(body, "backup"));
  if (!backup_text || backup_text->empty()) return Err(InvalidArgument("missing backup"));
  ASSIGN_OR_RETURN(bool force, BoolOr(body, "force", false));
  // The name in the URL wins over one in the body (Vault's framework gives
  // URL fields priority): the ACL checked restore/<name>, so a body "name"
  // must not send the key material somewhere else. Only bare "restore" takes
  // the body's name, or else the backup's own.
  ASSIGN_OR_RETURN(std::string body_name, StringOr(body, "name", ""));
  std::string name = path_name.empty() ? std::move(body_name) : path_name;
  auto raw = Base64Decode(*backup_text);
  WipeString(*backup_text);
  if (!raw) return Err(InvalidArgument("invalid backup: not base64"));
  auto decoded = DecodePolicy(raw->view());
  if (!decoded) return Err(InvalidArgument("invalid backup: not a transit key backup"));
  Policy policy = std::move(*decoded);
  if (!name.empty()) policy.name = name;
  TRY(ValidateKeyName(policy.name));
  bool created = false;
  ASSIGN_OR_RETURN(auto stored, PutNewPolicy(std::move(policy), force, &created));
  if (!created) return Err(InvalidArgument("key \"" + stored->name + "\" already exists"));
  KickRotation();
  return NoContent();
}

Result<Response> TransitBackend::CacheConfig(const Request& request) {
  if (request.operation == Operation::kRead) {
    ASSIGN_OR_RETURN(auto entry, storage_.Get(kCacheConfigKey));
    std::int64_t size = 0;
    if (entry) {
      Json j = Json::parse(entry->value, nullptr, false);
      if (j.is_object()) size = j.value("size", std::int64_t{0});
    }
    return DataResponse(Json{{"size", size}});
  }
  if (!IsWrite(request.operation)) return Err(WrongMethod("cache-config"));
  ASSIGN_OR_RETURN(auto size, OptInt(request.data, "size"));
  std::int64_t n = size.value_or(0);
  if (n != 0 && n < 10) {
    return Err(InvalidArgument("size must be 0 (unlimited) or a value of at least 10"));
  }
  TRY(storage_.Put(kCacheConfigKey, Json{{"size", n}}.dump()));
  // As in Vault, the size applies when the engine is next initialised
  // (remount, unseal, restart); then at most `size` keys stay in memory.
  Response r = DataResponse(Json{{"size", n}});
  r.warnings = Json::array({"cache configurations will be applied when this backend is restarted"});
  return r;
}

Result<bool> TransitBackend::UpsertDisabled() {
  ASSIGN_OR_RETURN(auto entry, storage_.Get(kKeysConfigKey));
  if (!entry) return false;
  Json j = Json::parse(entry->value, nullptr, false);
  return j.is_object() && j.value("disable_upsert", false);
}

Result<Response> TransitBackend::ConfigKeys(const Request& request) {
  if (request.operation == Operation::kRead) {
    ASSIGN_OR_RETURN(bool disabled, UpsertDisabled());
    return DataResponse(Json{{"disable_upsert", disabled}});
  }
  if (!IsWrite(request.operation)) return Err(WrongMethod("config/keys"));
  // As Vault's: the write sets the flag, false when the field is absent.
  ASSIGN_OR_RETURN(auto disable, OptBool(request.data, "disable_upsert"));
  const bool value = disable.value_or(false);
  TRY(storage_.Put(kKeysConfigKey, Json{{"disable_upsert", value}}.dump()));
  return DataResponse(Json{{"disable_upsert", value}});
}

}  // namespace coffer::engines::transit
