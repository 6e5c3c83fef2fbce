// `coffer kv get|put|patch|list` and the shared KvCommand plumbing.
#include <CLI/CLI.hpp>

#include "cli/command_util.h"
#include "cli/data_args.h"
#include "cli/kv_command.h"
#include "cli/secret_output.h"
#include "common/json_numbers.h"

namespace coffer::cli {

void KvCommand::AddFlags(CLI::App& app) {
  app.add_option("--mount", mount_,
                 "The mount of the KV engine; the path argument is then relative to it");
  AddFieldFlag(app, field_);
  app.add_option("args", args_, "PATH [K=V ...]");
}

bool KvCommand::Begin(Invocation& inv, std::size_t min_args, std::size_t max_args, int* code) {
  if (!ArityOk(inv, args_.size(), min_args, max_args)) {
    *code = kExitLocal;
    return false;
  }
  client_ = ClientOrReport(inv);
  if (!client_) {
    *code = kExitServer;
    return false;
  }
  Result<KvTarget> t = ResolveKvTarget(*client_, args_[0], mount_);
  if (!t) {
    inv.err() << t.error().message() << "\n";
    *code = kExitServer;
    return false;
  }
  target_ = std::move(*t);
  return true;
}

bool KvCommand::Read(Invocation& inv, const std::string& path, Json* out, int* code) {
  Result<ApiResponse> resp = client_->Send("GET", "/v1/" + path);
  if (resp && resp->status == 404) {
    const Json& data = DataOf(resp->body);
    const bool has = (data.is_object() && !data.empty()) ||
                     (resp->body.is_object() && resp->body.contains("warnings") &&
                      resp->body["warnings"].is_array() && !resp->body["warnings"].empty());
    *out = has ? std::move(resp->body) : Json();
    return true;
  }
  if (resp && resp->status >= 200 && resp->status < 300) {
    *out = std::move(resp->body);
    return true;
  }
  inv.err() << "Error reading " << path << ": "
            << DescribeFailure(*client_, "GET", "/v1/" + path, resp) << "\n";
  *code = kExitServer;
  return false;
}

int KvCommand::PrintWritten(Invocation& inv, const Json& secret, const std::string& path) {
  if (secret.is_null()) {
    if (inv.format == OutputFormat::kTable)
      inv.out() << "Success! Data written to: " << path << "\n";
    return 0;
  }
  if (!field_.empty()) return PrintSecretField(inv, secret, field_);
  if (IsStructured(inv.format) || !DataOf(secret).is_object()) {
    return OutputSecret(inv, secret);
  }
  inv.out() << PadEqualSigns("Secret Path", path.size()) << "\n" << path << "\n\n";
  inv.out() << HeaderForMap("Metadata", DataOf(secret)) << "\n";
  return OutputData(inv, DataOf(secret));
}

bool ParseVersions(Invocation& inv, const std::vector<std::string>& raw, Json* out) {
  *out = Json::array();
  for (const std::string& v : SplitCommaList(raw)) {
    if (v.empty() || v.find_first_not_of("0123456789") != std::string::npos || v.size() > 18) {
      inv.err() << "Invalid version \"" << v << "\": expected a non-negative integer\n";
      return false;
    }
    out->push_back(std::stoll(v));
  }
  return true;
}

namespace {

class KvGetCommand : public KvCommand {
 public:
  void AddFlags(CLI::App& app) override {
    KvCommand::AddFlags(app);
    app.add_option("--version", version_, "The version to read (default: the latest)");
    AddWrapTtlFlag(app, wrap_ttl_);
  }

  int Run(Invocation& inv) override {
    int code = 0;
    if (!Begin(inv, 1, 1, &code)) return code;
    if (!ApplyWrapTtl(inv, *client_, wrap_ttl_)) return kExitLocal;
    const bool v2 = target_.version == 2;
    std::string path = target_.Path("data");
    std::string query = v2 && version_ > 0 ? "?version=" + std::to_string(version_) : "";
    Json secret;
    if (!Read(inv, path + query, &secret, &code)) return code;
    if (secret.is_null()) {
      inv.err() << "No value found at " << path << "\n";
      return kExitServer;
    }
    const Json& data = DataOf(secret);
    const bool wrapped = secret.contains("wrap_info") && !secret["wrap_info"].is_null();
    if (!field_.empty()) {
      // A wrapped answer has no data, only the wrap's fields
      // (-field=wrapping_token), which `coffer read` prints too. Vault's kv
      // get answers "No data found" here; printing the field is what the
      // flag asks for.
      if (!v2 || wrapped) return PrintSecretField(inv, secret, field_);
      const Json& inner = data.is_object() && data.contains("data") ? data["data"] : Json();
      if (!inner.is_object()) {
        inv.err() << "No data found at " << path << "\n";
        return kExitServer;
      }
      // -field=data is the secret's data map, unless the secret has a key
      // named "data" (Vault's kv get does the same).
      if (field_ == "data" && !inner.contains("data")) return PrintRawField(inv, inner, field_);
      return PrintRawField(inv, inner.contains(field_) ? inner[field_] : Json(), field_);
    }
    if (IsStructured(inv.format) || wrapped) {
      return OutputSecret(inv, secret);
    }
    PrintWarnings(inv, secret);  // one header for all of them, as Vault prints it
    if (v2) inv.out() << PadEqualSigns("Secret Path", path.size()) << "\n" << path << "\n\n";
    if (v2 && data.is_object() && data.contains("metadata") && data["metadata"].is_object()) {
      inv.out() << HeaderForMap("Metadata", data["metadata"]) << "\n";
      OutputData(inv, data["metadata"]);
      inv.out() << "\n";
    }
    const Json& shown =
        v2 ? (data.is_object() && data.contains("data") ? data["data"] : Json()) : data;
    if (shown.is_object()) {
      inv.out() << HeaderForMap("Data", shown) << "\n";
      OutputData(inv, shown);
    }
    return 0;
  }

 private:
  int version_ = 0;
  std::string wrap_ttl_;
};

// put and patch: data from key=value arguments, written with optional CAS.
class KvWriteCommand : public KvCommand {
 public:
  explicit KvWriteCommand(bool patch) : patch_(patch) {}

  void AddFlags(CLI::App& app) override {
    KvCommand::AddFlags(app);
    app.add_option("--cas", cas_,
                   "Check-and-set: write only if the current version is this (0: only if "
                   "the key does not exist)");
    if (!patch_) {
      // Not on patch: its read-then-write fallback must read the secret itself.
      AddWrapTtlFlag(app, wrap_ttl_);
      return;
    }
    app.add_option("--method", method_,
                   "patch (HTTP PATCH) or rw (read, then write); by default PATCH, then a "
                   "read and write when the server answers 403 or 405");
    app.add_option("--remove-data", remove_data_, "A key to remove; repeat for more")
        ->expected(1)
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)
        ->allow_extra_args(false);
  }

  int Run(Invocation& inv) override {
    if (args_.size() == 1 && remove_data_.empty()) {
      inv.err() << "Must supply data\n";
      return kExitLocal;
    }
    int code = 0;
    if (!Begin(inv, remove_data_.empty() ? 2 : 1, static_cast<std::size_t>(-1), &code)) {
      return code;
    }
    std::vector<std::string> kvs(args_.begin() + 1, args_.end());
    Result<Json> data = ParseDataArgs(kvs, inv.env.in);
    for (std::string& a : kvs) WipeString(a);
    if (!data) {
      inv.err() << "Failed to parse K=V data: " << data.error().message() << "\n";
      return kExitLocal;
    }
    const bool v2 = target_.version == 2;
    if (patch_ && !v2) {
      inv.err() << "KV engine mount must be version 2 for patch support\n";
      return kExitServer;
    }
    const std::string path = target_.Path("data");
    if (patch_) {
      // A null in a merge patch removes the key.
      for (const std::string& key : remove_data_) (*data)[key] = nullptr;
      return Patch(inv, path, *data);
    }
    if (!ApplyWrapTtl(inv, *client_, wrap_ttl_)) return kExitLocal;
    Json body = Json::object();
    if (v2) {
      body["data"] = std::move(*data);
      if (cas_ >= 0) body["options"] = Json{{"cas", cas_}};
    } else {
      body = std::move(*data);
    }
    return Write(inv, path, body);
  }

 private:
  // PUTs `body` (wiped) and prints the answer.
  int Write(Invocation& inv, const std::string& path, Json& body) {
    std::string text = DumpJsonWithNumberText(body);
    WipeJson(body);
    Result<Json> resp = SendWiped(*client_, "PUT", "/v1/" + path, text);
    if (!resp) {
      inv.err() << "Error writing data to " << path << ": " << resp.error().message() << "\n";
      return kExitServer;
    }
    return PrintWritten(inv, *resp, path);
  }

  // -method: rw reads and writes; patch sends a merge patch; without
  // -method a merge patch that the server refuses with 403 (no "patch"
  // capability) or 405 (no PATCH support) is retried as rw, as Vault does.
  int Patch(Invocation& inv, const std::string& path, Json& patch) {
    if (method_ == "rw") return ReadThenWrite(inv, path, patch);
    if (method_ != "patch" && !method_.empty()) {
      inv.err() << "Unsupported method provided to -method flag: " << method_ << "\n";
      return kExitServer;  // Vault's exit status for it
    }
    Json body = {{"data", patch}};
    // As Vault's kv patch: -cas=0 (its default) means no check-and-set.
    if (cas_ > 0) body["options"] = Json{{"cas", cas_}};
    std::string text = DumpJsonWithNumberText(body);
    WipeJson(body);
    client_->SetHeader("Content-Type", "application/merge-patch+json");
    Result<ApiResponse> resp = client_->Send("PATCH", "/v1/" + path, text);
    WipeString(text);
    const int status = resp ? resp->status : 0;
    if (method_.empty() && (status == 403 || status == 405)) {
      if (status == 403) {
        // Vault's wording, printed before the write is tried.
        inv.err() << "Data was written to " << path
                  << " but we recommend that you add the \"patch\" capability to your ACL "
                     "policy in order to use HTTP PATCH in the future.\n";
      }
      client_->SetHeader("Content-Type", "application/json");
      return ReadThenWrite(inv, path, patch);
    }
    WipeJson(patch);
    if (!resp || status < 200 || status >= 300) {
      inv.err() << "Error writing data to " << path << ": "
                << DescribeFailure(*client_, "PATCH", "/v1/" + path, resp) << "\n";
      return kExitServer;
    }
    return PrintWritten(inv, resp->body, path);
  }

  // Reads the latest version, merges `patch` into its data (a null removes
  // the key) and writes it with check-and-set on the version read.
  int ReadThenWrite(Invocation& inv, const std::string& path, Json& patch) {
    int code = 0;
    Json current;
    {
      UncapturedScope read(*client_);  // -output-policy shows the write's policy
      if (!Read(inv, path, &current, &code)) return code;
    }
    const Json& cur = DataOf(current);
    if (!cur.is_object() || !cur.contains("data") || !cur["data"].is_object()) {
      inv.err() << "No value found at " << path << "\n";
      return kExitServer;
    }
    Json merged = cur["data"];
    for (auto it = patch.begin(); it != patch.end(); ++it) {
      if (it->is_null()) {
        merged.erase(it.key());
      } else {
        merged[it.key()] = it.value();
      }
    }
    WipeJson(patch);
    long long version = cur.contains("metadata") ? JsonIntOf(cur["metadata"]) : 0;
    // Check-and-set on the version read, whatever -cas says, as Vault's rw.
    Json body = {{"data", std::move(merged)}, {"options", {{"cas", version}}}};
    WipeJson(current);
    return Write(inv, path, body);
  }

  static long long JsonIntOf(const Json& metadata) {
    auto it = metadata.find("version");
    return it != metadata.end() && it->is_number_integer() ? it->get<long long>() : 0;
  }

  bool patch_;
  long long cas_ = -1;
  std::string method_, wrap_ttl_;
  std::vector<std::string> remove_data_;
};

// `kv list`, and `kv scan` (OpenBao's recursive list: every key below PATH).
class KvListCommand : public KvCommand {
 public:
  explicit KvListCommand(bool scan) : scan_(scan) {}

  void AddFlags(CLI::App& app) override {
    KvCommand::AddFlags(app);
    AddWrapTtlFlag(app, wrap_ttl_);
  }

  int Run(Invocation& inv) override {
    // With -mount, no path lists the mount's root.
    if (args_.empty() && !mount_.empty()) args_.emplace_back();
    int code = 0;
    if (!Begin(inv, 1, 1, &code)) return code;
    if (!ApplyWrapTtl(inv, *client_, wrap_ttl_)) return kExitLocal;
    const std::string path = target_.Path("metadata");
    const std::string api = "/v1/" + path + "/";
    const char* method = scan_ ? "SCAN" : "LIST";
    Result<ApiResponse> resp = client_->Send(method, api);
    if (resp && resp->status == 404) return OutputListAnswer(inv, Json(), path);
    if (!resp || resp->status < 200 || resp->status >= 300) {
      inv.err() << (scan_ ? "Error scanning " : "Error listing ") << path << ": "
                << DescribeFailure(*client_, method, api, resp) << "\n";
      return kExitServer;
    }
    if (!field_.empty()) return PrintSecretField(inv, resp->body, field_);
    return OutputListAnswer(inv, resp->body, path);
  }

 private:
  bool scan_;
  std::string wrap_ttl_;
};

// `kv enable-versioning PATH`: Vault's shortcut for tuning a KV version 1
// mount to version 2, which converts its secrets in place.
class KvEnableVersioningCommand : public Command {
 public:
  void AddFlags(CLI::App& app) override { app.add_option("args", args_, "arguments"); }

  int Run(Invocation& inv) override {
    if (!ArityOk(inv, args_.size(), 1, 1)) return kExitLocal;
    std::unique_ptr<ApiClient> client = ClientOrReport(inv);
    if (!client) return kExitServer;
    std::string mount = EnsureTrailingSlash(SanitizePath(args_[0]));
    Json body = {{"options", {{"version", "2"}}}};
    Result<Json> r =
        client->Request("POST", "/v1/sys/mounts/" + SanitizePath(mount) + "/tune", body.dump());
    if (!r) {
      inv.err() << "Error tuning secrets engine " << mount << ": " << r.error().message() << "\n";
      return kExitServer;
    }
    inv.out() << "Success! Tuned the secrets engine at: " << mount << "\n";
    return 0;
  }

 private:
  std::vector<std::string> args_;
};

}  // namespace

void RegisterKvCommands(Registry& registry) {
  registry.Add({"kv", "Interact with Coffer's Key-Value storage",
                "Usage: coffer kv <subcommand> [options] [args]\n\n"
                "  Reads and writes secrets in a KV secrets engine, version 1 or 2 (found\n"
                "  automatically from the mount).\n\n"
                "      $ coffer kv put secret/app user=admin pass=@pass.txt\n"
                "      $ coffer kv get -field=user secret/app",
                nullptr});
  registry.Add({"kv get", "Retrieves data from the KV store",
                "Usage: coffer kv get [options] KEY\n\n"
                "  Reads the latest version (or -version=N) of a secret.",
                [] { return std::make_unique<KvGetCommand>(); }});
  registry.Add({"kv put", "Sets or updates data in the KV store",
                "Usage: coffer kv put [options] KEY [DATA]\n\n"
                "  Writes a new version. DATA is K=V pairs; K=@FILE reads the value from a\n"
                "  file and K=- from stdin (keeping secrets out of the process list); a lone\n"
                "  - reads a JSON object from stdin.",
                [] { return std::make_unique<KvWriteCommand>(false); }});
  registry.Add({"kv patch", "Sets or updates data in the KV store without overwriting",
                "Usage: coffer kv patch [options] KEY [DATA]\n\n"
                "  Merges K=V pairs into the latest version (KV version 2 only);\n"
                "  -remove-data=K removes a key.",
                [] { return std::make_unique<KvWriteCommand>(true); }});
  registry.Add({"kv list", "List data or secrets",
                "Usage: coffer kv list [options] PATH\n\n"
                "  Lists the keys under a path; with -mount, PATH may be left out to list\n"
                "  the mount's root.",
                [] { return std::make_unique<KvListCommand>(false); }});
  registry.Add({"kv scan", "Lists every key under a path, recursively",
                "Usage: coffer kv scan [options] PATH\n\n"
                "  Lists every secret below a path, at any depth, as paths relative to it\n"
                "  (OpenBao's SCAN; the token needs the \"scan\" capability on the folder).\n\n"
                "      $ coffer kv scan secret/my-app",
                [] { return std::make_unique<KvListCommand>(true); }});
  registry.Add({"kv enable-versioning", "Turns on versioning for a KV store",
                "Usage: coffer kv enable-versioning [options] PATH\n\n"
                "  Upgrades the KV version 1 secrets engine at PATH to version 2: every\n"
                "  secret becomes version 1 of a versioned secret. The mount answers 503\n"
                "  while its secrets are converted.",
                [] { return std::make_unique<KvEnableVersioningCommand>(); }});
  RegisterKvVersionCommands(registry);
  RegisterKvMetadataCommands(registry);
}

}  // namespace coffer::cli
