// `coffer secrets enable|disable|list|tune|move` (sys/mounts) and
// `coffer auth enable|disable|list|tune|move` (sys/auth).
#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <thread>
#include <tuple>

#include "cli/command_util.h"
#include "cli/secret_output.h"
#include "cli/status.h"

namespace coffer::cli {
namespace {

// sys/mounts and sys/auth answer with the table at the top level and, in
// newer versions, again under "data".
Json MountTable(const Json& body) {
  const Json& src = DataOf(body).is_object() ? DataOf(body) : body;
  Json out = Json::object();
  if (!src.is_object()) return out;
  for (auto it = src.begin(); it != src.end(); ++it) {
    if (it->is_object() && it.key().ends_with("/")) out[it.key()] = *it;
  }
  return out;
}

// A TTL column of `-detailed`, as Vault's calcTTL: seconds, "system" for
// the system's, nothing for the sys/ and cubbyhole/ mounts.
std::string TtlText(const Json& mount, const char* key) {
  const std::string type = JsonString(mount, "type");
  if (type == "system" || type == "cubbyhole") return "";
  const long long v = mount.contains("config") ? JsonInt(mount["config"], key) : 0;
  return v == 0 ? "system" : std::to_string(v);
}

class MountCommand : public Command {
 public:
  enum class Kind { kEnable, kDisable, kList, kTune, kMove };
  MountCommand(Kind kind, bool auth) : kind_(kind), auth_(auth) {}

  void AddFlags(CLI::App& app) override {
    app.add_option("args", args_, "arguments");
    if (kind_ == Kind::kList) app.add_flag("--detailed", detailed_, "Show more columns");
    if (kind_ == Kind::kEnable) app.add_option("--path", path_, "Where to mount (default: TYPE)");
    if (kind_ == Kind::kEnable || kind_ == Kind::kTune) {
      app.add_option("--description", description_, "Human-readable description");
      app.add_option("--default-lease-ttl", default_ttl_, "Default lease TTL");
      app.add_option("--max-lease-ttl", max_ttl_, "Maximum lease TTL");
      app.add_option("--version", version_, "Engine version (kv: 1 or 2); sent as options version");
      AddMountConfigFlags(app);
      plugin_version_flag_ = app.add_option(
          "--plugin-version", plugin_version_,
          "Plugin version to run; Coffer's engines are built in, so only \"\" is accepted");
      app.add_option("--options", options_, "K=V option for the engine; repeat for more")
          ->expected(1)
          ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)
          ->allow_extra_args(false);
    }
    if (kind_ == Kind::kEnable) {
      app.add_flag("--local", local_, "Do not replicate the mount (stored and reported only)");
      app.add_flag("--seal-wrap", seal_wrap_, "Stored and reported, as Vault does");
      app.add_flag("--external-entropy-access", external_entropy_,
                   "Stored and reported, as Vault does");
      app.add_option("--plugin-name", plugin_name_, "With the type \"plugin\": the engine's name");
      if (!auth_) {
        app.add_flag("--force-no-cache", force_no_cache_,
                     "Stored and reported (config.force_no_cache)");
      }
    }
    if (auth_ && (kind_ == Kind::kEnable || kind_ == Kind::kTune)) {
      token_type_flag_ = app.add_option("--token-type", token_type_,
                                        "Type of tokens its logins issue: service, batch, "
                                        "default-service or default-batch");
    }
    if (auth_ && kind_ == Kind::kTune) {
      for (LockoutFlag& f : lockout_flags_) {
        f.flag = f.kind == LockoutFlag::kBool ? app.add_flag(f.name, f.on, f.help)
                                              : app.add_option(f.name, f.value, f.help);
      }
    }
  }

  int Run(Invocation& inv) override {
    const std::size_t want = kind_ == Kind::kList ? 0 : kind_ == Kind::kMove ? 2 : 1;
    if (!ArityOk(inv, args_.size(), want, want)) return kExitLocal;
    if (!DurationFlagsValid(inv,
                            {{"default-lease-ttl", &default_ttl_}, {"max-lease-ttl", &max_ttl_}},
                            {"system"})) {
      return kExitLocal;
    }
    for (const LockoutFlag& f : lockout_flags_) {
      if (f.kind != LockoutFlag::kDuration) continue;
      if (!DurationFlagsValid(inv, {{f.name + 2, &f.value}})) return kExitLocal;  // no "--"
    }
    std::unique_ptr<ApiClient> client = ClientOrReport(inv);
    if (!client) return kExitServer;
    const std::string base = auth_ ? "/v1/sys/auth/" : "/v1/sys/mounts/";
    const std::string noun = auth_ ? "auth method" : "secrets engine";
    switch (kind_) {
      case Kind::kEnable: {
        std::string type = SanitizePath(args_[0]);
        if (type == "plugin") type = plugin_name_;  // as Vault's CLI: the plugin's own name
        if (type.empty()) {
          inv.err() << "Missing the plugin's name: give -plugin-name with the type \"plugin\"\n";
          return kExitLocal;
        }
        std::string mount = EnsureTrailingSlash(SanitizePath(path_.empty() ? type : path_));
        Json body = {{"type", type}};
        if (type == "kv-v2") {
          body["type"] = "kv";
          version_ = 2;
        }
        if (!description_.empty()) body["description"] = description_;
        if (local_) body["local"] = true;
        if (seal_wrap_) body["seal_wrap"] = true;
        if (external_entropy_) body["external_entropy_access"] = true;
        Json config = Json::object();
        if (!default_ttl_.empty()) config["default_lease_ttl"] = default_ttl_;
        if (!max_ttl_.empty()) config["max_lease_ttl"] = max_ttl_;
        if (force_no_cache_) config["force_no_cache"] = true;
        PutMountConfig(config);
        if (!config.empty()) body["config"] = std::move(config);
        Json options;
        if (!Options(inv, &options)) return kExitLocal;
        if (!options.empty()) body["options"] = std::move(options);
        Result<Json> r = client->Request("POST", base + SanitizePath(mount), body.dump());
        if (!r) {
          inv.err() << "Error enabling" << (auth_ ? " " + type + " auth" : "") << ": "
                    << r.error().message() << "\n";
          return kExitServer;
        }
        inv.out() << "Success! Enabled "
                  << (auth_ ? type + " auth method" : "the " + type + " secrets engine")
                  << " at: " << mount << "\n";
        return 0;
      }
      case Kind::kDisable: {
        std::string mount = EnsureTrailingSlash(SanitizePath(args_[0]));
        Result<Json> r = client->Request("DELETE", base + SanitizePath(mount));
        if (!r) {
          inv.err() << "Error disabling " << noun << " at " << mount << ": " << r.error().message()
                    << "\n";
          return kExitServer;
        }
        inv.out() << "Success! Disabled the " << noun << " (if it existed) at: " << mount << "\n";
        return 0;
      }
      case Kind::kTune: {
        std::string mount = EnsureTrailingSlash(SanitizePath(args_[0]));
        Json body = Json::object();
        if (!default_ttl_.empty()) body["default_lease_ttl"] = default_ttl_;
        if (!max_ttl_.empty()) body["max_lease_ttl"] = max_ttl_;
        if (!description_.empty()) body["description"] = description_;
        PutMountConfig(body);
        Json lockout = Json::object();
        for (const LockoutFlag& f : lockout_flags_) {
          if (f.flag == nullptr || f.flag->count() == 0) continue;
          lockout[f.field] = f.kind == LockoutFlag::kBool ? Json(f.on) : Json(f.value);
        }
        if (!lockout.empty()) body["user_lockout_config"] = std::move(lockout);
        Json options;
        if (!Options(inv, &options)) return kExitLocal;
        if (!options.empty()) body["options"] = std::move(options);
        Result<Json> r = client->Request("POST", base + SanitizePath(mount) + "/tune", body.dump());
        if (!r) {
          inv.err() << "Error tuning " << noun << " " << mount << ": " << r.error().message()
                    << "\n";
          return kExitServer;
        }
        inv.out() << "Success! Tuned the " << noun << " at: " << mount << "\n";
        return 0;
      }
      case Kind::kMove: {
        std::string from = EnsureTrailingSlash(SanitizePath(args_[0]));
        std::string to = EnsureTrailingSlash(SanitizePath(args_[1]));
        const std::string moving = noun + " " + from + " to " + to;
        Result<Json> r =
            client->Request("POST", "/v1/sys/remount", Json{{"from", from}, {"to", to}}.dump());
        if (!r) {
          inv.err() << "Error moving " << moving << ": " << r.error().message() << "\n";
          return kExitServer;
        }
        std::string id = JsonString(DataOf(*r).is_object() ? DataOf(*r) : *r, "migration_id");
        if (id.empty()) {  // a server that moves without recording it
          inv.out() << "Success! Moved " << moving << "\n";
          return 0;
        }
        inv.out() << "Started moving " << moving << ", with migration ID " << id << "\n";
        // As Vault's CLI does: poll the move's status until it is final.
        while (true) {
          Result<Json> st = client->Request("GET", "/v1/sys/remount/status/" + id);
          if (!st) {
            inv.err() << "Error checking migration status of " << moving << ": "
                      << st.error().message() << "\n";
            return kExitServer;
          }
          const Json& info = DataOf(*st).is_object() ? DataOf(*st) : *st;
          std::string status =
              info.contains("migration_info") ? JsonString(info["migration_info"], "status") : "";
          if (status == "success") {
            inv.out() << "Success! Finished moving " << moving << ", with migration ID " << id
                      << "\n";
            return 0;
          }
          if (status != "in-progress") {
            inv.err() << "Failure! Error encountered moving " << moving << ", with migration ID "
                      << id << "\n";
            return kExitServer;
          }
          std::this_thread::sleep_for(std::chrono::seconds(2));
        }
      }
      case Kind::kList:
        return List(inv, *client);
    }
    return kExitLocal;
  }

 private:
  // -listing-visibility, -audit-non-hmac-*-keys and the header lists, sent only when given
  // (an empty value clears the setting), as Vault's CLI does.
  void AddMountConfigFlags(CLI::App& app) {
    listing_flag_ = app.add_option("--listing-visibility", listing_visibility_,
                                   "unauth (listed for callers without a token) or hidden");
    const char* keys_help =
        "Keys whose values audit devices log in the clear; repeat or comma-separate";
    const char* headers_help =
        "Stored and shown as Vault does; Coffer's built-in engines read no header";
    for (ListFlag& f : list_flags_) {
      f.flag = app.add_option(f.name, f.values, f.audit ? keys_help : headers_help)
                   ->expected(1)
                   ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)
                   ->allow_extra_args(false);
    }
  }

  // Into a mount's config (enable) or a tune body.
  void PutMountConfig(Json& config) const {
    if (listing_flag_->count() > 0) config["listing_visibility"] = listing_visibility_;
    if (plugin_version_flag_->count() > 0) config["plugin_version"] = plugin_version_;
    if (token_type_flag_ != nullptr && token_type_flag_->count() > 0) {
      config["token_type"] = token_type_;
    }
    for (const ListFlag& f : list_flags_) {
      if (f.flag->count() > 0) config[f.field] = SplitCommaList(f.values);
    }
  }

  // -options K=V pairs and -version. False after printing an error for a
  // pair without '=' (the value is not repeated).
  bool Options(Invocation& inv, Json* out) const {
    *out = Json::object();
    for (const std::string& kv : options_) {
      std::size_t eq = kv.find('=');
      if (eq == std::string::npos || eq == 0) {
        inv.err() << "Invalid -options: expected K=V\n";
        return false;
      }
      (*out)[kv.substr(0, eq)] = kv.substr(eq + 1);
    }
    if (version_ > 0) (*out)["version"] = std::to_string(version_);
    return true;
  }

  int List(Invocation& inv, ApiClient& client) {
    Result<Json> r = client.Request("GET", auth_ ? "/v1/sys/auth" : "/v1/sys/mounts");
    if (!r) {
      inv.err() << "Error listing " << (auth_ ? "enabled authentications" : "secrets engines")
                << ": " << r.error().message() << "\n";
      return kExitServer;
    }
    Json table = MountTable(*r);
    if (IsStructured(inv.format)) {
      inv.out() << FormatStructured(inv.format, table);
      return 0;
    }
    std::vector<Row> rows;
    // Vault's columns: auth methods show their token type where secrets
    // engines show force_no_cache, and their short list has a Version.
    if (detailed_) {
      rows.push_back({"Path", "Plugin", "Accessor", "Default TTL", "Max TTL",
                      auth_ ? "Token Type" : "Force No Cache", "Replication", "Seal Wrap",
                      "External Entropy Access", "Options", "Description", "UUID", "Version",
                      "Running Version", "Running SHA256", "Deprecation Status"});
    } else if (auth_) {
      rows.push_back({"Path", "Type", "Accessor", "Description", "Version"});
    } else {
      rows.push_back({"Path", "Type", "Accessor", "Description"});
    }
    std::vector<std::string> paths;
    for (auto it = table.begin(); it != table.end(); ++it) paths.push_back(it.key());
    std::sort(paths.begin(), paths.end());
    for (const std::string& p : paths) {
      const Json& m = table[p];
      if (!detailed_) {
        rows.push_back(
            {p, JsonString(m, "type"), JsonString(m, "accessor"), JsonString(m, "description")});
        if (auth_) rows.back().push_back(JsonString(m, "plugin_version"));
        continue;
      }
      const Json& cfg = m.contains("config") ? m["config"] : Json();
      const Json& opts = m.contains("options") ? m["options"] : Json();
      rows.push_back({p, JsonString(m, "type"), JsonString(m, "accessor"),
                      TtlText(m, "default_lease_ttl"), TtlText(m, "max_lease_ttl"),
                      auth_ ? JsonString(cfg, "token_type")
                            : (JsonBool(cfg, "force_no_cache") ? "true" : "false"),
                      JsonBool(m, "local") ? "local" : "replicated",
                      JsonBool(m, "seal_wrap") ? "true" : "false",
                      JsonBool(m, "external_entropy_access") ? "true" : "false",
                      opts.is_object() ? GoValue(opts) : "map[]", JsonString(m, "description"),
                      JsonString(m, "uuid"), JsonString(m, "plugin_version"),
                      JsonString(m, "running_plugin_version"), JsonString(m, "running_sha256"),
                      JsonString(m, "deprecation_status")});
    }
    inv.out() << FormatTable(rows);
    return 0;
  }

  Kind kind_;
  bool auth_;
  std::vector<std::string> args_;
  std::string path_, description_, default_ttl_, max_ttl_, listing_visibility_;
  std::vector<std::string> options_;
  // The config's lists, each a repeatable (or comma-separated) flag.
  struct ListFlag {
    const char* name;
    const char* field;
    bool audit;
    std::vector<std::string> values;
    CLI::Option* flag = nullptr;
  };
  ListFlag list_flags_[4] = {
      {"--audit-non-hmac-request-keys", "audit_non_hmac_request_keys", true, {}},
      {"--audit-non-hmac-response-keys", "audit_non_hmac_response_keys", true, {}},
      // Vault's names, and the singular ones Coffer first had.
      {"--passthrough-request-headers,--passthrough-request-header",
       "passthrough_request_headers",
       false,
       {}},
      {"--allowed-response-headers,--allowed-response-header",
       "allowed_response_headers",
       false,
       {}}};
  // `auth tune`'s -user-lockout-* flags, into user_lockout_config.
  struct LockoutFlag {
    const char* name;
    const char* field;
    const char* help;
    enum Kind { kNumber, kDuration, kBool } kind;
    std::string value;
    bool on = false;
    CLI::Option* flag = nullptr;
  };
  LockoutFlag lockout_flags_[4] = {{"--user-lockout-threshold",
                                    "lockout_threshold",
                                    "Failed logins after which a user is locked out",
                                    LockoutFlag::kNumber,
                                    {}},
                                   {"--user-lockout-duration",
                                    "lockout_duration",
                                    "How long a lockout lasts",
                                    LockoutFlag::kDuration,
                                    {}},
                                   {"--user-lockout-counter-reset-duration",
                                    "lockout_counter_reset_duration",
                                    "After how long failed logins are forgotten",
                                    LockoutFlag::kDuration,
                                    {}},
                                   {"--user-lockout-disable",
                                    "lockout_disable",
                                    "Turn lockout off for this method",
                                    LockoutFlag::kBool,
                                    {}}};
  CLI::Option* listing_flag_ = nullptr;
  CLI::Option* plugin_version_flag_ = nullptr;
  std::string plugin_name_, plugin_version_;
  bool seal_wrap_ = false, external_entropy_ = false, force_no_cache_ = false;
  CLI::Option* token_type_flag_ = nullptr;
  std::string token_type_;
  int version_ = 0;
  bool detailed_ = false, local_ = false;
};

void Add(Registry& r, const char* name, const char* synopsis, const char* help,
         MountCommand::Kind kind, bool auth) {
  r.Add(
      {name, synopsis, help, [kind, auth] { return std::make_unique<MountCommand>(kind, auth); }});
}

}  // namespace

void RegisterMountCommands(Registry& registry) {
  using Kind = MountCommand::Kind;
  registry.Add({"secrets", "Interact with secrets engines",
                "Usage: coffer secrets <subcommand> [options] [args]", nullptr});
  Add(registry, "secrets enable", "Enable a secrets engine",
      "Usage: coffer secrets enable [options] TYPE\n\n"
      "      $ coffer secrets enable -path=kv2 -version=2 kv\n"
      "      $ coffer secrets enable -path=kv2 -options=version=2 kv",
      Kind::kEnable, false);
  Add(registry, "secrets disable", "Disable a secrets engine",
      "Usage: coffer secrets disable [options] PATH\n\n  Unmounts it and deletes its data.",
      Kind::kDisable, false);
  Add(registry, "secrets list", "List enabled secrets engines",
      "Usage: coffer secrets list [options]", Kind::kList, false);
  Add(registry, "secrets tune", "Tune a secrets engine configuration",
      "Usage: coffer secrets tune [options] PATH", Kind::kTune, false);
  Add(registry, "secrets move", "Move a secrets engine to a new path",
      "Usage: coffer secrets move [options] SOURCE DESTINATION\n\n"
      "  Leases issued by the engine are revoked; its data and configuration are kept.",
      Kind::kMove, false);
  registry.Add({"auth", "Interact with auth methods",
                "Usage: coffer auth <subcommand> [options] [args]", nullptr});
  Add(registry, "auth enable", "Enables a new auth method",
      "Usage: coffer auth enable [options] TYPE\n\n"
      "      $ coffer auth enable -path=users userpass",
      Kind::kEnable, true);
  Add(registry, "auth disable", "Disables an auth method",
      "Usage: coffer auth disable [options] PATH", Kind::kDisable, true);
  Add(registry, "auth list", "Lists enabled auth methods", "Usage: coffer auth list [options]",
      Kind::kList, true);
  Add(registry, "auth tune", "Tunes an auth method configuration",
      "Usage: coffer auth tune [options] PATH\n\n"
      "      $ coffer auth tune -max-lease-ttl=8h userpass/",
      Kind::kTune, true);
  Add(registry, "auth move", "Move an auth method to a new path",
      "Usage: coffer auth move [options] SOURCE DESTINATION\n\n"
      "      $ coffer auth move auth/userpass auth/people\n\n"
      "  Tokens issued by its logins are revoked; its configuration is kept.",
      Kind::kMove, true);
}

}  // namespace coffer::cli
