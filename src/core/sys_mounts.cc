// sys/mounts: list, enable, disable, read and tune secrets engine mounts.

#include <spdlog/spdlog.h>

#include "common/duration.h"
#include "common/log.h"
#include "core/core.h"
#include "core/system_backend.h"
#include "crypto/random.h"
#include "engines/kv/upgrade.h"
#include "logical/registry.h"

namespace coffer::core {
namespace {

using logical::Json;

Json MountConfigJson(const router::MountEntry& e) {
  Json config{{"default_lease_ttl", 0}, {"max_lease_ttl", 0}, {"force_no_cache", false}};
  config.update(e.config);
  return config;
}

// Every routed mount runs one of the engines built in, none of them
// deprecated: Vault reports those with deprecation_status "supported".
Json MountJson(const router::MountEntry& e) {
  return Json{{"type", e.type},
              {"description", e.description},
              {"accessor", e.accessor},
              {"uuid", e.uuid},
              {"config", MountConfigJson(e)},
              {"options", e.options.empty() ? Json(nullptr) : e.options},
              {"local", e.local},
              {"seal_wrap", e.seal_wrap},
              {"external_entropy_access", e.external_entropy_access},
              {"plugin_version", ""},
              {"running_plugin_version", ""},
              {"running_sha256", ""},
              {"deprecation_status", "supported"}};
}

Json SystemMountJson() {
  return Json{
      {"type", "system"},
      {"description", "system endpoints used for control, policy and debugging"},
      {"accessor", "system"},
      {"uuid", "system"},
      {"config", {{"default_lease_ttl", 0}, {"max_lease_ttl", 0}, {"force_no_cache", false}}},
      {"options", nullptr},
      {"local", false},
      {"seal_wrap", true},
      {"external_entropy_access", false}};
}

Json CubbyholeMountJson() {
  return Json{
      {"type", "cubbyhole"},
      {"description", "per-token private secret storage"},
      {"accessor", "cubbyhole_system"},
      {"uuid", "cubbyhole"},
      {"config", {{"default_lease_ttl", 0}, {"max_lease_ttl", 0}, {"force_no_cache", false}}},
      {"options", nullptr},
      {"local", true},
      {"seal_wrap", false},
      {"external_entropy_access", false}};
}

// The identity store: always mounted at identity/, outside the router, as
// Vault lists it.
Json IdentityMountJson() {
  return Json{{"type", "identity"},
              {"description", "identity store"},
              {"accessor", "identity_store"},
              {"uuid", "identity"},
              {"config",
               {{"default_lease_ttl", 0},
                {"max_lease_ttl", 0},
                {"force_no_cache", false},
                {"passthrough_request_headers", Json::array({"Authorization"})}}},
              {"options", nullptr},
              {"local", false},
              {"seal_wrap", false},
              {"external_entropy_access", false}};
}

// The secrets mounts that are always there and that the router does not
// hold, in the order sys/mounts lists them.
struct BuiltinMount {
  std::string_view path;
  Json (*json)();
};
constexpr BuiltinMount kBuiltinMounts[] = {{"sys/", SystemMountJson},
                                           {"cubbyhole/", CubbyholeMountJson},
                                           {"identity/", IdentityMountJson}};

// The entry of one of kBuiltinMounts; nullopt for any other path.
std::optional<Json> BuiltinMountJson(std::string_view path) {
  for (const BuiltinMount& m : kBuiltinMounts) {
    if (m.path == path) return m.json();
  }
  return std::nullopt;
}

Json TokenAuthJson() {
  return Json{{"type", "token"},
              {"description", "token based credentials"},
              {"accessor", internal::kTokenAuthAccessor},
              {"uuid", "token"},
              {"config",
               {{"default_lease_ttl", 0},
                {"max_lease_ttl", 0},
                {"force_no_cache", false},
                {"token_type", "default-service"}}},
              {"options", nullptr},
              {"local", false},
              {"seal_wrap", false},
              {"external_entropy_access", false}};
}

// The token auth method as sys/auth lists it, with what it was tuned to.
Json TunedTokenAuthJson(const Core& core) {
  Json j = TokenAuthJson();
  const std::shared_ptr<const Json> tune = core.token_mount_tune();
  if (auto it = tune->find("config"); it != tune->end() && it->is_object()) {
    j["config"].update(*it);
  }
  if (auto it = tune->find("description"); it != tune->end() && it->is_string()) {
    j["description"] = *it;
  }
  if (auto it = tune->find("options"); it != tune->end() && it->is_object() && !it->empty()) {
    j["options"] = *it;
  }
  return j;
}

bool IsAuthMount(const router::MountEntry& e) { return e.path.starts_with("auth/"); }

// An auth mount as sys/auth lists it: like a secrets mount, with the token
// type its logins issue.
// Its user lockout settings, when tuned, under Vault's names
// (user_lockout_threshold, ...), as Vault lists them.
Json AuthMountJson(const router::MountEntry& e) {
  Json j = MountJson(e);
  Json& config = j["config"];
  if (!config.contains("token_type")) config["token_type"] = "default-service";
  if (auto it = config.find("user_lockout_config"); it != config.end() && it->is_object()) {
    Json shown = Json::object();
    for (auto [stored, name] : {std::pair{"lockout_threshold", "user_lockout_threshold"},
                                {"lockout_duration", "user_lockout_duration"},
                                {"lockout_counter_reset", "user_lockout_counter_reset_duration"},
                                {"lockout_disable", "user_lockout_disable"}}) {
      if (auto v = it->find(stored); v != it->end()) shown[name] = *v;
    }
    *it = std::move(shown);
  }
  return j;
}

// Reads a TTL field given as seconds or a duration string; absent → nullopt.
Result<std::optional<long long>> TtlField(const Json& obj, const char* name) {
  auto it = obj.find(name);
  if (it == obj.end() || it->is_null()) return std::optional<long long>();
  if (it->is_number_integer() && it->get<long long>() >= 0) {
    return std::optional<long long>(it->get<long long>());
  }
  if (it->is_string()) {
    // "" leaves it as it is, as in Vault: its client sends "" for a TTL
    // not given (vault auth enable, secrets tune, Terraform's provider).
    if (it->get_ref<const std::string&>().empty()) return std::optional<long long>();
    if (it->get_ref<const std::string&>() == "system") return std::optional<long long>(0);
    ASSIGN_OR_RETURN(std::chrono::seconds d, ParseDuration(it->get<std::string>()));
    return std::optional<long long>(d.count());
  }
  return Err(InvalidArgument(std::string(name) + " must be a duration such as \"1h\""));
}

// The token type an auth mount's logins issue (Vault's token_type tune
// field): "default" is stored as "default-service"; absent → nullopt.
Result<std::optional<std::string>> TokenTypeField(const Json* v) {
  if (v == nullptr || v->is_null()) return std::optional<std::string>();
  if (v->is_string()) {
    std::string t = v->get<std::string>();
    if (t == "default") t = "default-service";
    if (t == "default-service" || t == "default-batch" || t == "service" || t == "batch") {
      return std::optional<std::string>(std::move(t));
    }
  }
  return Err(InvalidArgument(
      "token_type must be one of default, default-service, default-batch, service or batch"));
}

// The version a mount runs: a KV mount's options.version ("1" when unset),
// "" for other mounts.
std::string MountVersion(const router::MountEntry& e) {
  if (e.options.is_object() && e.options.contains("version") && e.options["version"].is_string()) {
    return e.options["version"].get<std::string>();
  }
  return e.type == "kv" ? "1" : "";
}

// The description and options a tune request changes. An option is stored
// as the mount's are at enable (a string). "version" changes only from 1 to
// 2 on a KV mount (Vault's kv enable-versioning), and only where the caller
// passes `upgrade_kv`, which is then set; the same version is no change.
Status TuneExtras(const logical::Request& request, const router::MountEntry& current,
                  std::optional<std::string>* description, Json* options,
                  bool* upgrade_kv = nullptr) {
  if (const Json* d = request.Field("description"); d != nullptr && !d->is_null()) {
    if (!d->is_string()) return InvalidArgument("description must be a string");
    *description = d->get<std::string>();
  }
  const Json* o = request.Field("options");
  if (o == nullptr || o->is_null()) return Status::Ok();
  if (!o->is_object()) return InvalidArgument("options must be an object");
  for (auto& [k, v] : o->items()) {
    Json value = v.is_string() ? v : Json(v.dump());
    if (k == "version") {
      const std::string now = MountVersion(current);
      const std::string& wanted = value.get_ref<const std::string&>();
      if (wanted == now) continue;
      if (current.type != "kv" || upgrade_kv == nullptr) {
        return InvalidArgument("the mount at \"" + current.path + "\" has no version to change");
      }
      if (wanted != "1" && wanted != "2") {
        return InvalidArgument("invalid KV version \"" + wanted + "\": it must be \"1\" or \"2\"");
      }
      if (wanted == "1") {
        return InvalidArgument("cannot downgrade the KV mount at \"" + current.path +
                               "\" from version 2 to version 1: versioned data cannot be "
                               "made unversioned in place");
      }
      *upgrade_kv = true;
    }
    (*options)[k] = std::move(value);
  }
  return Status::Ok();
}

// Picks the settable parts of a mount config from a request object.
Result<Json> ConfigFromRequest(const Json& in) {
  Json out = Json::object();
  if (!in.is_object()) return Err(InvalidArgument("config must be an object"));
  for (const char* ttl : {"default_lease_ttl", "max_lease_ttl"}) {
    ASSIGN_OR_RETURN(auto v, TtlField(in, ttl));
    if (v) out[ttl] = *v;
  }
  if (auto it = in.find("force_no_cache"); it != in.end() && it->is_boolean()) {
    out["force_no_cache"] = *it;
  }
  if (auto it = in.find("plugin_version");
      it != in.end() && it->is_string() && !it->get_ref<const std::string&>().empty()) {
    return Err(InvalidArgument("plugin version \"" + it->get<std::string>() +
                               "\" is not available: Coffer's engines are built in and have no "
                               "other versions to run"));
  }
  // Who sees the mount in the UI listing: "unauth" shows it to callers
  // without a token too; "hidden" (or "") only to tokens that reach it.
  if (auto it = in.find("listing_visibility"); it != in.end() && !it->is_null()) {
    const std::string v = it->is_string() ? it->get<std::string>() : it->dump();
    if (v != "unauth" && v != "hidden" && !v.empty()) {
      return Err(InvalidArgument("invalid listing_visibility " + v +
                                 ": it must be \"unauth\", \"hidden\" or empty"));
    }
    out["listing_visibility"] = v;
  }
  // Keys whose values audit devices log in the clear, and the headers a
  // mount's engine may see and answer with (a list, or a comma-separated
  // string as the CLI sends it). Coffer's engines are built in and read no
  // header, so the two header lists are stored and shown, as Vault does
  // for its built-in engines, and change nothing else.
  // allowed_managed_keys and delegated_auth_accessors are kept the same way:
  // Coffer has no managed keys and no delegated auth, and a client that set
  // them (Terraform's vault_mount) reads back what it wrote.
  for (const char* name : {"audit_non_hmac_request_keys", "audit_non_hmac_response_keys",
                           "passthrough_request_headers", "allowed_response_headers",
                           "allowed_managed_keys", "delegated_auth_accessors"}) {
    auto it = in.find(name);
    if (it == in.end() || it->is_null()) continue;
    Json keys = Json::array();
    if (it->is_string()) {
      std::string_view rest = it->get_ref<const std::string&>();
      while (!rest.empty()) {
        std::size_t comma = rest.find(',');
        std::string_view k = rest.substr(0, comma);
        if (!k.empty()) keys.push_back(std::string(k));
        rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
      }
    } else if (it->is_array()) {
      for (const auto& k : *it) {
        if (!k.is_string()) {
          return Err(InvalidArgument(std::string(name) + " must be a list of strings"));
        }
        keys.push_back(k);
      }
    } else {
      return Err(InvalidArgument(std::string(name) + " must be a list of strings"));
    }
    out[name] = std::move(keys);
  }
  return out;
}

// As in Vault, a mount's default lease TTL may not exceed its max lease TTL
// (0 for either means the system's). At a tune the fields not given keep the
// mount's current values (`current`); at an enable there are none.
Status CheckLeaseTtls(const Json& config, const Json* current) {
  auto seconds = [&](const char* key) -> long long {
    if (auto it = config.find(key); it != config.end()) return it->get<long long>();
    if (current == nullptr) return 0;
    auto it = current->find(key);
    return it != current->end() && it->is_number_integer() ? it->get<long long>() : 0;
  };
  const long long def = seconds("default_lease_ttl");
  const long long max = seconds("max_lease_ttl");
  if (max == 0 || def <= max) return Status::Ok();
  if (current == nullptr) {
    return InvalidArgument("given default lease TTL greater than given max lease TTL");
  }
  return InvalidArgument("backend max lease TTL of " + std::to_string(max) +
                         " would be less than backend default lease TTL of " + std::to_string(def));
}

// The fields every mount request shares (sys/mounts and sys/auth): type,
// description, config and local. `kind` names the mount in messages.
Result<router::MountEntry> MountEntryFromRequest(const logical::Request& request,
                                                 const std::string& path, std::string_view kind) {
  router::MountEntry entry;
  entry.path = path;
  const Json* type = request.Field("type");
  if (type == nullptr || !type->is_string() || type->get_ref<const std::string&>().empty()) {
    return Err(InvalidArgument("'type' must be set to the " + std::string(kind) + " type"));
  }
  entry.type = type->get<std::string>();
  if (const Json* d = request.Field("description"); d != nullptr && d->is_string()) {
    entry.description = d->get<std::string>();
  }
  if (const Json* c = request.Field("config"); c != nullptr && !c->is_null()) {
    ASSIGN_OR_RETURN(entry.config, ConfigFromRequest(*c));
    TRY(CheckLeaseTtls(entry.config, nullptr));
  }
  if (const Json* l = request.Field("local"); l != nullptr && l->is_boolean()) {
    entry.local = l->get<bool>();
  }
  if (const Json* w = request.Field("seal_wrap"); w != nullptr && w->is_boolean()) {
    entry.seal_wrap = w->get<bool>();
  }
  if (const Json* x = request.Field("external_entropy_access"); x != nullptr && x->is_boolean()) {
    entry.external_entropy_access = x->get<bool>();
  }
  return entry;
}

}  // namespace

Result<logical::Response> SystemBackend::Mounts(const logical::Request& request) {
  std::string_view rest = request.path;
  rest.remove_prefix(std::string_view("sys/mounts").size());
  if (!rest.empty()) rest.remove_prefix(1);  // the '/'

  if (rest.empty()) {
    if (request.operation != logical::Operation::kRead) {
      return Err(Status(Code::kMethodNotAllowed, "unsupported operation"));
    }
    Json data = Json::object();
    const auto snap = core_.router().snapshot();  // held while the loop runs
    for (const auto& m : snap->mounts) {
      if (IsAuthMount(m->entry)) continue;  // listed by sys/auth
      data[m->entry.path] = MountJson(m->entry);
    }
    for (const BuiltinMount& m : kBuiltinMounts) data[std::string(m.path)] = m.json();
    return LegacyResponse(request, std::move(data));
  }

  bool tune = false;
  std::string path(rest);
  if (path.size() > 5 && path.ends_with("/tune")) {
    tune = true;
    path.resize(path.size() - 5);
  }
  if (!path.empty() && path.back() != '/') path.push_back('/');

  // The mount itself, held: a concurrent tune or unmount publishes a new
  // table and frees the old one's entries.
  auto find = [&]() -> std::shared_ptr<const router::Router::Mounted> {
    auto m = core_.router().MountedAt(path);
    return m && !IsAuthMount(m->entry) ? m : nullptr;
  };

  if (tune && path.starts_with("auth/")) {
    // sys/mounts/auth/<path>/tune is sys/auth/<path>/tune, as in Vault
    // (whose `auth tune` command and Go client send it this way).
    logical::Request as_auth = request;
    as_auth.path = "sys/" + path + "tune";
    return AuthMounts(as_auth);
  }
  if (!tune && path.starts_with("auth/") && request.operation == logical::Operation::kRead) {
    // A read of sys/mounts/auth/<path> (or of a path below it: the longest
    // prefix) is the auth method's, as Vault's handleReadMount answers it
    // (its Go client's GetAuth reads it there); a missing one in the
    // secrets engines' words, which Terraform's provider takes for "gone".
    std::string mount_path;
    if (path.starts_with("auth/token/")) {
      mount_path = "auth/token/";
    } else if (auto match = core_.router().Route(path); match && IsAuthMount(match->mount->entry)) {
      mount_path = match->mount->entry.path;
    }
    if (mount_path.empty()) return Err(InvalidArgument("No secret engine mount at " + path));
    logical::Request as_auth = request;
    as_auth.path = "sys/" + mount_path;
    return AuthMounts(as_auth);
  }
  const std::optional<Json> builtin = BuiltinMountJson(path);
  if (tune && builtin) {
    if (request.operation != logical::Operation::kRead) {
      return Err(InvalidArgument("cannot tune \"" + path + "\""));
    }
    const Json& mount = *builtin;
    Json data = mount["config"];
    EffectiveLeaseTtls(router::MountEntry{}, data);
    data["description"] = mount["description"];
    return LegacyResponse(request, std::move(data));
  }
  if (tune) {
    if (request.operation == logical::Operation::kRead) {
      const auto m = find();
      if (!m) return Err(InvalidArgument("cannot fetch sysview for path \"" + path + "\""));
      const router::MountEntry& e = m->entry;
      Json data = MountConfigJson(e);
      EffectiveLeaseTtls(e, data);
      data["description"] = e.description;
      if (!e.options.empty()) data["options"] = e.options;
      return LegacyResponse(request, std::move(data));
    }
    ASSIGN_OR_RETURN(Json config, ConfigFromRequest(request.data));
    const auto m = find();
    if (!m)
      return Err(InvalidArgument("tune of path \"" + path + "\" failed: no mount entry found"));
    TRY(CheckLeaseTtls(config, &m->entry.config));
    std::optional<std::string> description;
    Json options = Json::object();
    bool upgrade_kv = false;
    TRY(TuneExtras(request, m->entry, &description, &options, &upgrade_kv));
    if (upgrade_kv) {
      TRY(UpgradeKvMount(path, config, description, options));
      // 200 with a warning, as Vault answers an upgrade (vault-java-driver's
      // upgrade() expects the 200); here the conversion is already done.
      logical::Response r;
      r.warnings = Json::array(
          {"Upgraded the mount from version 1 to version 2: its secrets are now versioned, each "
           "at version 1."});
      return r;
    }
    TRY(core_.router().Tune(path, config, description, options));
    return logical::Response{};
  }

  switch (request.operation) {
    case logical::Operation::kRead: {
      if (builtin) return LegacyResponse(request, *builtin);
      auto m = find();
      // A path below a mount reads that mount, as Vault's handleReadMount
      // matches the longest prefix (its Go client's GetMount).
      if (!m) {
        if (auto match = core_.router().Route(path); match && !IsAuthMount(match->mount->entry)) {
          m = match->mount;
        }
      }
      // Vault's words: the Terraform provider reads them as "the mount is gone".
      if (!m) return Err(InvalidArgument("No secret engine mount at " + path));
      return LegacyResponse(request, MountJson(m->entry));
    }
    case logical::Operation::kCreate:
    case logical::Operation::kUpdate: {
      ASSIGN_OR_RETURN(router::MountEntry entry,
                       MountEntryFromRequest(request, path, "secrets engine"));
      if (const Json* o = request.Field("options"); o != nullptr && !o->is_null()) {
        if (!o->is_object()) return Err(InvalidArgument("options must be an object"));
        for (auto& [k, v] : o->items()) {
          entry.options[k] = v.is_string() ? v : Json(v.dump());
        }
      }
      // kv-v1 and kv-v2 are kv of that version; no other engine takes a
      // version, as in Vault, whose older name for kv, generic, is kv too.
      if (entry.type == "kv-v1" || entry.type == "kv-v2") {
        entry.options["version"] = std::string(1, entry.type.back());
        entry.type = "kv";
      } else if (entry.type != "kv") {
        auto version = entry.options.find("version");
        if (version != entry.options.end() && version->is_string() &&
            !version->get_ref<const std::string&>().empty()) {
          return Err(InvalidArgument("secrets engine \"" + entry.type +
                                     "\" does not allow setting a version"));
        }
        if (entry.type == "generic") entry.type = "kv";
      }
      const std::string type = entry.type;
      TRY(core_.router().Mount(std::move(entry)));
      Log(LogModule::kCore).info("successful mount: path={} type={}", path, type);
      return logical::Response{};
    }
    case logical::Operation::kDelete: {
      if (builtin || path.starts_with("auth/")) {
        return Err(InvalidArgument("cannot unmount \"" + path + "\""));
      }
      // Vault answers 204 for a path that is not a mount, below one or not,
      // and revokes nothing for it.
      if (!find()) return logical::Response{};
      // Leases issued under the mount go first, so nothing outlives it; a
      // revocation that fails (a database that is down) stops the unmount,
      // as in Vault, rather than leave its credentials alive untracked.
      if (Status s = core_.expiration().RevokePrefix(path, /*force=*/false); !s.ok()) {
        return Err(Status(s.code(), "failed to revoke the leases of " + path + ": " + s.message()));
      }
      Status s = core_.router().Unmount(path);
      if (s.code() == Code::kNotFound) return logical::Response{};
      TRY(s);
      Log(LogModule::kCore).info("successfully unmounted: path={}", path);
      return logical::Response{};
    }
    default:
      return Err(Status(Code::kMethodNotAllowed, "unsupported operation"));
  }
}

}  // namespace coffer::core

namespace coffer::core {

// Vault's kv enable-versioning, synchronous: the tune answers once every
// secret is converted. The v1 engine is closed first (its requests in flight
// finish, later ones get 503), then the table switch and the upgrade marker
// commit together and the v2 engine converts the data before it is
// published (engines/kv/upgrade.h has the crash-safety argument).
Status SystemBackend::UpgradeKvMount(const std::string& path, const Json& config,
                                     const std::optional<std::string>& description,
                                     const Json& options) {
  auto mount = core_.router().MountedAt(path);
  if (!mount) return InvalidArgument("tune of path \"" + path + "\" failed: no mount entry found");
  TRY(engines::kv::CloseForUpgrade(*mount->engine));
  const storage::Op marker = engines::kv::UpgradeMarkerOp();
  bool committed = false;
  Status s = core_.router().Retune(path, config, description, options, *mount->engine,
                                   std::span<const storage::Op>(&marker, 1), &committed);
  if (!committed) engines::kv::ReopenAfterUpgrade(*mount->engine);
  if (s.ok()) {
    // The new engine loaded, but its conversion may have stopped short.
    if (auto upgraded = core_.router().MountedAt(path)) {
      s = engines::kv::UnfinishedUpgrade(*upgraded->engine);
    }
  }
  if (!s.ok()) {
    Log(LogModule::kCore)
        .error("upgrade of the KV mount at {} to version 2: {}", path, s.ToString());
    if (committed) {
      return Unavailable("the upgrade of \"" + path +
                         "\" to KV version 2 started but did not finish; it resumes when the "
                         "mount is next loaded (restart or unseal)");
    }
  }
  return s;
}

void SystemBackend::EffectiveLeaseTtls(const router::MountEntry& mount, logical::Json& out) {
  auto [def, max] = core_.MountLeaseTtls(mount);
  out["default_lease_ttl"] = def.count();
  out["max_lease_ttl"] = max.count();
}

Result<logical::Response> SystemBackend::Remount(const logical::Request& request) {
  std::string_view rest = request.path;
  rest.remove_prefix(std::string_view("sys/remount").size());
  if (rest.starts_with("/status/")) {
    // GET sys/remount/status/:migration_id, which Vault's clients poll
    // after starting a move (`vault secrets move`, the Go API's Remount).
    if (request.operation != logical::Operation::kRead) {
      return Err(Status(Code::kMethodNotAllowed, "unsupported operation"));
    }
    std::string id(rest.substr(std::string_view("/status/").size()));
    if (id.empty()) return Err(InvalidArgument("migrationID must be specified"));
    auto migration = core_.router().FindMigration(id);
    if (!migration) return logical::NotFoundResponse();
    logical::Response r;
    r.data = logical::Json{{"migration_id", id},
                           {"migration_info",
                            {{"source_mount", migration->source},
                             {"target_mount", migration->target},
                             {"status", "success"}}}};
    return r;
  }
  // Only the exact path moves: the sudo check is made on "sys/remount".
  if (!rest.empty()) return Err(NotFound("unsupported path"));
  if (request.operation != logical::Operation::kUpdate &&
      request.operation != logical::Operation::kCreate) {
    return Err(Status(Code::kMethodNotAllowed, "unsupported operation"));
  }
  const logical::Json* from = request.Field("from");
  const logical::Json* to = request.Field("to");
  if (from == nullptr || !from->is_string() || from->get_ref<const std::string&>().empty() ||
      to == nullptr || !to->is_string() || to->get_ref<const std::string&>().empty()) {
    return Err(InvalidArgument("both 'from' and 'to' path must be specified as a string"));
  }
  const std::string& src_given = from->get_ref<const std::string&>();
  const std::string& dst_given = to->get_ref<const std::string&>();
  // As in Vault, the leases issued under the source (for an auth method:
  // the tokens of its logins) are revoked first; a revocation that fails
  // stops the move.
  ASSIGN_OR_RETURN(router::Router::Migration move,
                   core_.router().CheckRemount(src_given, dst_given));
  const std::string& src = move.source;
  TRY(core_.expiration().RevokePrefix(src, /*force=*/false));
  ASSIGN_OR_RETURN(std::string id, core_.router().Remount(src_given, dst_given));
  // Leases issued through the old path while the first pass ran (Vault
  // stops routing to the source meanwhile) go now; they are found by the
  // mount's id, so their revocation still reaches the moved engine.
  if (Status s = core_.expiration().RevokePrefix(src, /*force=*/false); !s.ok()) {
    Log(LogModule::kCore)
        .warn("remount of {}: a lease issued during the move could not be revoked: {}", src,
              s.ToString());
  }
  // Rate limit quotas on the source's paths follow it, as in Vault.
  RateLimiter& quotas = core_.quotas();
  for (const std::string& name : quotas.List()) {
    auto quota = quotas.Get(name);
    if (!quota || !quota->path.starts_with(src)) continue;
    quota->path = move.target + quota->path.substr(src.size());
    if (Status s = quotas.Put(*quota); !s.ok()) {
      Log(LogModule::kCore)
          .error("remount of {}: rate limit quota {} still names the old path: {}", src, name,
                 s.ToString());
    }
  }
  // Also at the top level, as Vault answers it: Quarkus's client reads
  // migration_id there.
  return LegacyResponse(request, logical::Json{{"migration_id", id}});
}

Result<logical::Response> SystemBackend::UiMounts(const logical::Request& request) {
  if (request.operation != logical::Operation::kRead) {
    return Err(Status(Code::kMethodNotAllowed, "unsupported operation"));
  }
  std::string_view rest = request.path;
  rest.remove_prefix(std::string_view("sys/internal/ui/mounts").size());
  if (!rest.empty()) rest.remove_prefix(1);
  if (rest.empty() && request.auth == nullptr) {
    // No token: only what is tuned to be listed to anyone, and only its
    // type, description and options (Vault's unauthenticated listing).
    logical::Json secret = logical::Json::object();
    logical::Json auth = logical::Json::object();
    const auto snap = core_.router().snapshot();  // held while the loop runs
    for (const auto& m : snap->mounts) {
      if (m->entry.config.value("listing_visibility", "") != "unauth") continue;
      logical::Json brief{{"type", m->entry.type},
                          {"description", m->entry.description},
                          {"options", m->entry.options.empty() ? Json(nullptr) : m->entry.options}};
      if (IsAuthMount(m->entry)) {
        auth[m->entry.path.substr(5)] = std::move(brief);
      } else {
        secret[m->entry.path] = std::move(brief);
      }
    }
    logical::Response r;
    r.data = logical::Json{{"secret", std::move(secret)}, {"auth", std::move(auth)}};
    return r;
  }
  if (rest.empty()) {
    logical::Json secret = logical::Json::object();
    logical::Json auth{{"token/", TunedTokenAuthJson(core_)}};
    const auto snap = core_.router().snapshot();  // held while the loop runs
    for (const auto& m : snap->mounts) {
      ASSIGN_OR_RETURN(bool visible,
                       core_.authorizer().HasMountAccess(*request.auth, m->entry.path));
      if (!visible) continue;
      if (IsAuthMount(m->entry)) {
        auth[m->entry.path.substr(5)] = AuthMountJson(m->entry);
      } else {
        secret[m->entry.path] = MountJson(m->entry);
      }
    }
    secret["sys/"] = SystemMountJson();
    secret["cubbyhole/"] = CubbyholeMountJson();
    ASSIGN_OR_RETURN(bool identity, core_.authorizer().HasMountAccess(*request.auth, "identity/"));
    if (identity) secret["identity/"] = IdentityMountJson();
    logical::Response r;
    r.data = logical::Json{{"secret", std::move(secret)}, {"auth", std::move(auth)}};
    return r;
  }
  // One mount's entry. Vault names the path in its error with one trailing
  // slash, and answers 403 for a path no mount serves, so that this cannot
  // be used to find out which mounts exist.
  std::string asked(rest);
  if (!asked.ends_with('/')) asked.push_back('/');
  const auto under = [&](std::string_view mount) { return asked.starts_with(mount); };
  std::string mount_path;
  logical::Json data;
  if (under("cubbyhole/")) {
    logical::Json cubbyhole = CubbyholeMountJson();
    cubbyhole["path"] = "cubbyhole/";
    logical::Response r;
    r.data = std::move(cubbyhole);
    return r;
  }
  if (under("sys/") || under("identity/")) {
    mount_path = under("sys/") ? "sys/" : "identity/";
    data = *BuiltinMountJson(mount_path);
  } else if (under("auth/token/")) {
    mount_path = "auth/token/";
    data = TunedTokenAuthJson(core_);
  } else if (auto match = core_.router().Route(rest)) {
    mount_path = match->mount->entry.path;
    data = IsAuthMount(match->mount->entry) ? AuthMountJson(match->mount->entry)
                                            : MountJson(match->mount->entry);
  }
  bool visible = false;
  if (!mount_path.empty()) {
    ASSIGN_OR_RETURN(visible, core_.authorizer().HasMountAccess(*request.auth, mount_path));
  }
  if (!visible) {
    return Err(
        PermissionDenied("preflight capability check returned 403, please ensure client's "
                         "policies grant access to path \"" +
                         asked + "\""));
  }
  data["path"] = mount_path;
  logical::Response r;
  r.data = std::move(data);
  return r;
}

// sys/auth/token/tune: the token store's TTLs, its description, audit
// keys, listing visibility and header lists, as any auth method's; not the
// token type or a user lockout, as in Vault.
Result<logical::Response> SystemBackend::TuneTokenAuth(const logical::Request& request) {
  if (request.operation == logical::Operation::kRead) {
    const Json current = TunedTokenAuthJson(core_);
    router::MountEntry mount;
    mount.config = current["config"];
    Json data = mount.config;
    EffectiveLeaseTtls(mount, data);
    data["description"] = current["description"];
    if (current["options"].is_object()) data["options"] = current["options"];
    return LegacyResponse(request, std::move(data));
  }
  if (const Json* t = request.Field("token_type"); t != nullptr && !t->is_null()) {
    return Err(InvalidArgument("'token_type' cannot be set for the 'token' auth method"));
  }
  if (const Json* l = request.Field("user_lockout_config"); l != nullptr && !l->is_null()) {
    return Err(InvalidArgument(
        "tuning of user lockout configuration for auth type \"token\" not allowed"));
  }
  ASSIGN_OR_RETURN(Json config, ConfigFromRequest(request.data));
  const Json stored = core_.token_mount_tune()->value("config", Json::object());
  TRY(CheckLeaseTtls(config, &stored));
  router::MountEntry entry;
  entry.path = "auth/token/";
  entry.type = "token";
  std::optional<std::string> description;
  Json options = Json::object();
  TRY(TuneExtras(request, entry, &description, &options));
  TRY(core_.TuneTokenMount(config, description, options));
  return logical::Response{};
}

Result<logical::Response> SystemBackend::AuthMounts(const logical::Request& request) {
  std::string_view rest = request.path;
  rest.remove_prefix(std::string_view("sys/auth").size());
  if (!rest.empty()) rest.remove_prefix(1);
  if (rest.empty()) {
    if (request.operation != logical::Operation::kRead) {
      return Err(Status(Code::kMethodNotAllowed, "unsupported operation"));
    }
    Json data{{"token/", TunedTokenAuthJson(core_)}};
    const auto snap = core_.router().snapshot();  // held while the loop runs
    for (const auto& m : snap->mounts) {
      if (IsAuthMount(m->entry)) data[m->entry.path.substr(5)] = AuthMountJson(m->entry);
    }
    return LegacyResponse(request, std::move(data));
  }
  std::string path(rest);
  bool tune = false;
  if (path.ends_with("/tune")) {
    tune = true;
    path.resize(path.size() - 5);
  }
  if (path.empty()) return Err(InvalidArgument("missing auth method path"));
  if (path.back() != '/') path.push_back('/');
  if (path == "token/") {
    if (!tune && request.operation == logical::Operation::kRead) {
      return LegacyResponse(request, TunedTokenAuthJson(core_));
    }
    if (!tune) return Err(InvalidArgument("the token auth method cannot be changed"));
    return TuneTokenAuth(request);
  }
  const std::string full = "auth/" + path;
  auto find = [&] { return core_.router().MountedAt(full); };

  if (tune) {
    if (request.operation == logical::Operation::kRead) {
      auto m = find();
      if (!m) return Err(InvalidArgument("cannot fetch sysview for path \"" + full + "\""));
      Json data = AuthMountJson(m->entry)["config"];
      // The tune read gives the user lockout settings at the top level.
      if (auto it = data.find("user_lockout_config"); it != data.end()) {
        Json lockout = std::move(*it);
        data.erase(it);
        data.update(lockout);
      }
      EffectiveLeaseTtls(m->entry, data);
      data["description"] = m->entry.description;
      if (!m->entry.options.empty()) data["options"] = m->entry.options;
      return LegacyResponse(request, std::move(data));
    }
    auto m = find();
    if (!m)
      return Err(InvalidArgument("cannot tune \"" + full + "\": no auth method mounted there"));
    ASSIGN_OR_RETURN(Json config, ConfigFromRequest(request.data));
    TRY(CheckLeaseTtls(config, &m->entry.config));
    if (const Json* lockout = request.Field("user_lockout_config");
        lockout != nullptr && !lockout->is_null()) {
      ASSIGN_OR_RETURN(Json parsed, ParseLockoutConfig(*lockout));
      Json merged = m->entry.config.value("user_lockout_config", Json::object());
      merged.update(parsed);
      config["user_lockout_config"] = std::move(merged);
    }
    ASSIGN_OR_RETURN(std::optional<std::string> token_type,
                     TokenTypeField(request.Field("token_type")));
    if (token_type) config["token_type"] = *token_type;
    std::optional<std::string> description;
    Json options = Json::object();
    TRY(TuneExtras(request, m->entry, &description, &options));
    Status s = core_.router().Tune(full, config, description, options);
    if (s.code() == Code::kNotFound) {
      return Err(InvalidArgument("cannot tune \"" + full + "\": no auth method mounted there"));
    }
    TRY(s);
    return logical::Response{};
  }

  switch (request.operation) {
    case logical::Operation::kRead: {
      auto m = find();
      if (!m) return Err(InvalidArgument("No auth engine at " + path));
      return LegacyResponse(request, AuthMountJson(m->entry));
    }
    case logical::Operation::kCreate:
    case logical::Operation::kUpdate: {
      ASSIGN_OR_RETURN(router::MountEntry entry,
                       MountEntryFromRequest(request, path, "auth method"));
      if (!logical::IsAuthMethod(entry.type)) {
        // Vault's words, as for a secrets engine it has not.
        return Err(InvalidArgument("plugin not found in the catalog: " + entry.type));
      }
      if (const Json* c = request.Field("config"); c != nullptr && !c->is_null()) {
        if (auto it = c->find("user_lockout_config"); it != c->end() && !it->is_null()) {
          ASSIGN_OR_RETURN(entry.config["user_lockout_config"], ParseLockoutConfig(*it));
        }
        if (c->is_object()) {
          auto it = c->find("token_type");
          ASSIGN_OR_RETURN(std::optional<std::string> token_type,
                           TokenTypeField(it == c->end() ? nullptr : &*it));
          if (token_type) entry.config["token_type"] = *token_type;
        }
      }
      ASSIGN_OR_RETURN(std::string id, crypto::NewUuid());
      entry.accessor = "auth_" + entry.type + "_" + id.substr(0, 8);
      const std::string type = entry.type;
      TRY(core_.router().MountAuth(std::move(entry)));
      Log(LogModule::kCore).info("enabled credential backend: path={} type={}", full, type);
      return logical::Response{};
    }
    case logical::Operation::kDelete: {
      auto m = find();
      if (!m) return logical::Response{};  // Vault answers 204 when nothing is mounted
      // Tokens issued by the method's logins go first (their leases are
      // registered under the login path), so none outlives the mount; a
      // revocation that fails stops the disable, as in Vault.
      if (Status s = core_.expiration().RevokePrefix(full, /*force=*/false); !s.ok()) {
        return Err(Status(s.code(), "failed to revoke the leases of " + full + ": " + s.message()));
      }
      Status s = core_.router().UnmountAuth(path);
      if (s.code() != Code::kNotFound) TRY(s);
      core_.logins().ForgetMount(m->entry.accessor);
      Log(LogModule::kCore).info("disabled credential backend: path={}", full);
      return logical::Response{};
    }
    default:
      return Err(Status(Code::kMethodNotAllowed, "unsupported operation"));
  }
}

}  // namespace coffer::core
