// `coffer kv metadata get|put|patch|delete` (KV version 2 only).
#include <CLI/CLI.hpp>
#include <algorithm>

#include "cli/command_util.h"
#include "cli/kv_command.h"
#include "cli/secret_output.h"

namespace coffer::cli {
namespace {

class KvMetadataCommand : public KvCommand {
 public:
  enum class Kind { kGet, kPut, kPatch, kDelete };
  explicit KvMetadataCommand(Kind kind) : kind_(kind) {}

  void AddFlags(CLI::App& app) override {
    KvCommand::AddFlags(app);
    if (kind_ != Kind::kPut && kind_ != Kind::kPatch) return;
    app.add_option("--max-versions", max_versions_, "Versions to keep (0: the mount's default)");
    AddBoolFlag(app, "--cas-required", cas_required_, "Require -cas on every write");
    app.add_option("--delete-version-after", delete_after_,
                   "Delete versions this long after they are written (0s: never)");
    app.add_option("--custom-metadata", custom_, "K=V metadata; repeat for more")
        ->expected(1)
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)
        ->allow_extra_args(false);
    if (kind_ == Kind::kPatch) {
      app.add_option("--remove-custom-metadata", remove_custom_,
                     "Custom metadata key to remove; repeat for more")
          ->expected(1)
          ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)
          ->allow_extra_args(false);
    }
  }

  int Run(Invocation& inv) override {
    if (!DurationFlagsValid(inv, {{"delete-version-after", &delete_after_}})) return kExitLocal;
    int code = 0;
    if (!Begin(inv, 1, 1, &code)) return code;
    if (target_.version != 2) {
      inv.err() << "Metadata not supported on KV Version 1\n";
      return kExitLocal;
    }
    const std::string path = target_.Path("metadata");
    switch (kind_) {
      case Kind::kGet:
        return Get(inv, path);
      case Kind::kDelete: {
        Result<Json> resp = client_->Request("DELETE", "/v1/" + path);
        if (!resp) {
          inv.err() << "Error deleting " << path << ": " << resp.error().message() << "\n";
          return kExitServer;
        }
        // Unlike put, Vault's kv metadata delete prints this in every format.
        inv.out() << "Success! Data deleted (if it existed) at: " << path << "\n";
        return 0;
      }
      case Kind::kPut:
      case Kind::kPatch:
        break;
    }
    Json body = Json::object();
    if (max_versions_ >= 0) body["max_versions"] = max_versions_;
    if (cas_required_) body["cas_required"] = *cas_required_;
    if (!delete_after_.empty()) body["delete_version_after"] = delete_after_;
    if (!custom_.empty()) {
      Json meta = Json::object();
      for (const std::string& kv : custom_) {
        std::size_t eq = kv.find('=');
        if (eq == std::string::npos) {
          inv.err() << "Invalid -custom-metadata: expected K=V\n";
          return kExitLocal;
        }
        meta[kv.substr(0, eq)] = kv.substr(eq + 1);
      }
      body["custom_metadata"] = std::move(meta);
    }
    Result<Json> resp = Json();
    if (kind_ == Kind::kPatch) {
      // A JSON merge patch: what is not given stays; a null removes a
      // custom_metadata key. Vault's command always sends custom_metadata.
      if (!body.contains("custom_metadata")) body["custom_metadata"] = Json::object();
      for (const std::string& k : remove_custom_) body["custom_metadata"][k] = nullptr;
      client_->SetHeader("Content-Type", "application/merge-patch+json");
      resp = client_->Request("PATCH", "/v1/" + path, body.dump());
    } else {
      resp = client_->Request("POST", "/v1/" + path, body.dump());
    }
    if (!resp) {
      inv.err() << "Error writing data to " << path << ": " << resp.error().message() << "\n";
      return kExitServer;
    }
    if (inv.format == OutputFormat::kTable)
      inv.out() << "Success! Data written to: " << path << "\n";
    return 0;
  }

 private:
  int Get(Invocation& inv, const std::string& path) {
    int code = 0;
    Json secret;
    if (!Read(inv, path, &secret, &code)) return code;
    if (secret.is_null() || !DataOf(secret).is_object()) {
      inv.err() << "No value found at " << path << "\n";
      return kExitServer;
    }
    Json data = DataOf(secret);
    if (!field_.empty()) {
      return PrintRawField(inv, data.contains(field_) ? data[field_] : Json(), field_);
    }
    if (IsStructured(inv.format)) return OutputSecret(inv, secret);
    Json versions = data.contains("versions") ? data["versions"] : Json::object();
    data.erase("versions");
    inv.out() << PadEqualSigns("Metadata Path", path.size()) << "\n" << path << "\n\n";
    inv.out() << HeaderForMap("Metadata", data) << "\n";
    OutputData(inv, data);
    std::vector<std::pair<long long, std::string>> order;
    if (versions.is_object()) {
      for (auto it = versions.begin(); it != versions.end(); ++it) {
        long long n = 0;
        try {
          n = std::stoll(it.key());
        } catch (const std::exception&) {
        }
        order.emplace_back(n, it.key());
      }
    }
    std::sort(order.begin(), order.end());
    for (const auto& [n, key] : order) {
      inv.out() << "\n" << HeaderForMap("Version " + key, versions[key]) << "\n";
      OutputData(inv, versions[key]);
    }
    return 0;
  }

  Kind kind_;
  long long max_versions_ = -1;
  std::optional<bool> cas_required_;
  std::string delete_after_;
  std::vector<std::string> custom_, remove_custom_;
};

}  // namespace

void RegisterKvMetadataCommands(Registry& registry) {
  using Kind = KvMetadataCommand::Kind;
  registry.Add({"kv metadata", "Interact with Coffer's Key-Value storage metadata",
                "Usage: coffer kv metadata <subcommand> [options] PATH", nullptr});
  registry.Add({"kv metadata get", "Retrieves key metadata from the KV store",
                "Usage: coffer kv metadata get [options] PATH\n\n"
                "  Shows the key's settings and every version's times and state.",
                [] { return std::make_unique<KvMetadataCommand>(Kind::kGet); }});
  registry.Add({"kv metadata put", "Sets or updates key settings in the KV store",
                "Usage: coffer kv metadata put [options] PATH",
                [] { return std::make_unique<KvMetadataCommand>(Kind::kPut); }});
  registry.Add({"kv metadata patch", "Patches key settings in the KV store",
                "Usage: coffer kv metadata patch [options] PATH\n\n"
                "  Changes only the settings given (HTTP PATCH, a JSON merge patch);\n"
                "  -remove-custom-metadata=K drops one custom metadata key.",
                [] { return std::make_unique<KvMetadataCommand>(Kind::kPatch); }});
  registry.Add({"kv metadata delete", "Deletes all versions and metadata for a key",
                "Usage: coffer kv metadata delete [options] PATH",
                [] { return std::make_unique<KvMetadataCommand>(Kind::kDelete); }});
}

}  // namespace coffer::cli
