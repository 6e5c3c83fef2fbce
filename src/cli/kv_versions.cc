// `coffer kv delete|undelete|destroy|rollback`: version management.
#include <CLI/CLI.hpp>

#include "cli/command_util.h"
#include "cli/kv_command.h"
#include "cli/secret_output.h"
#include "common/json_numbers.h"

namespace coffer::cli {
namespace {

// delete, undelete, destroy: the same shape with different rules.
class KvVersionsCommand : public KvCommand {
 public:
  enum class Kind { kDelete, kUndelete, kDestroy };
  explicit KvVersionsCommand(Kind kind) : kind_(kind) {}

  void AddFlags(CLI::App& app) override {
    KvCommand::AddFlags(app);
    app.add_option("--versions", versions_, "Versions to act on, comma separated")
        ->expected(1)
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)
        ->allow_extra_args(false);
  }

  int Run(Invocation& inv) override {
    int code = 0;
    if (!Begin(inv, 1, 1, &code)) return code;
    const bool v2 = target_.version == 2;
    if (kind_ != Kind::kDelete && !v2) {
      inv.err() << (kind_ == Kind::kDestroy ? "Destroy" : "Undelete")
                << " not supported on KV Version 1\n";
      return kExitLocal;
    }
    Json versions;
    if (!ParseVersions(inv, versions_, &versions)) return kExitLocal;
    if (kind_ != Kind::kDelete && versions.empty()) {
      inv.err() << "No versions provided, use the \"-versions\" flag to specify the version to "
                << (kind_ == Kind::kDestroy ? "destroy" : "undelete") << ".\n";
      return kExitLocal;
    }
    std::string path;
    Result<Json> resp;
    if (kind_ == Kind::kDelete && (!v2 || versions.empty())) {
      path = target_.Path("data");
      resp = client_->Request("DELETE", "/v1/" + path);
    } else {
      const char* prefix = kind_ == Kind::kDelete     ? "delete"
                           : kind_ == Kind::kUndelete ? "undelete"
                                                      : "destroy";
      path = target_.Path(prefix);
      resp = client_->Request("PUT", "/v1/" + path, Json{{"versions", versions}}.dump());
    }
    if (!resp) {
      inv.err() << (kind_ == Kind::kDelete ? "Error deleting " : "Error writing data to ") << path
                << ": " << resp.error().message() << "\n";
      return kExitServer;
    }
    // Vault prints these only with the table format.
    if (inv.format != OutputFormat::kTable) return 0;
    if (kind_ == Kind::kDelete) {
      // Vault names the secret's data path, whichever endpoint deleted it.
      inv.out() << "Success! Data deleted (if it existed) at: "
                << (v2 ? target_.Path("data") : path) << "\n";
    } else {
      inv.out() << "Success! Data written to: " << path << "\n";
    }
    return 0;
  }

 private:
  Kind kind_;
  std::vector<std::string> versions_;
};

class KvRollbackCommand : public KvCommand {
 public:
  void AddFlags(CLI::App& app) override {
    KvCommand::AddFlags(app);
    app.add_option("--version", version_, "The version to roll back to");
  }

  int Run(Invocation& inv) override {
    if (version_ <= 0) {
      inv.err() << "Must specify a version to rollback to\n";
      return kExitLocal;
    }
    int code = 0;
    if (!Begin(inv, 1, 1, &code)) return code;
    if (target_.version != 2) {
      inv.err() << "Rollback not supported on KV Version 1\n";
      return kExitLocal;
    }
    // As Vault's rollback: only data/ is read (a policy for data/ is
    // enough), first the latest version for check-and-set, then the one to
    // roll back to.
    const std::string path = target_.Path("data");
    Json latest, old;
    if (!Read(inv, path, &latest, &code)) return code;
    const Json* meta = nullptr;
    if (!Metadata(inv, latest, path, &meta)) return kExitServer;
    const Json current = meta->value("version", Json(0));
    if (!Read(inv, path + "?version=" + std::to_string(version_), &old, &code)) return code;
    if (!Metadata(inv, old, path, &meta)) return kExitServer;
    if (!meta->value("deletion_time", std::string()).empty()) {
      inv.err() << "Cannot roll back to a version that has been deleted\n";
      return kExitServer;
    }
    if (meta->value("destroyed", false)) {
      inv.err() << "Cannot roll back to a version that has been destroyed\n";
      return kExitServer;
    }
    const Json& od = DataOf(old);
    if (!od.contains("data") || !od["data"].is_object()) {
      inv.err() << "No data found at " << path << "; rollback only works on existing data\n";
      return kExitServer;
    }
    Json body = {{"data", od["data"]}, {"options", {{"cas", current}}}};
    WipeJson(old);
    std::string text = DumpJsonWithNumberText(body);
    WipeJson(body);
    Result<Json> resp = SendWiped(*client_, "PUT", "/v1/" + path, text);
    if (!resp) {
      inv.err() << "Error writing data to " << path << ": " << resp.error().message() << "\n";
      return kExitServer;
    }
    if (resp->is_null()) return PrintWritten(inv, *resp, path);  // "Success! ..."
    if (!field_.empty()) return PrintSecretField(inv, *resp, field_);
    return OutputSecret(inv, *resp);  // Vault shows the new version's metadata so
  }

 private:
  // The metadata of a KV v2 read (Vault's messages when it has none).
  static bool Metadata(Invocation& inv, const Json& secret, const std::string& path,
                       const Json** meta) {
    const Json& data = DataOf(secret);
    if (!data.is_object()) {
      inv.err() << "No value found at " << path << "\n";
      return false;
    }
    if (!data.contains("metadata") || !data["metadata"].is_object()) {
      inv.err() << "No metadata found at " << path << "; rollback only works on existing data\n";
      return false;
    }
    *meta = &data["metadata"];
    return true;
  }

  long long version_ = 0;
};

}  // namespace

void RegisterKvVersionCommands(Registry& registry) {
  using Kind = KvVersionsCommand::Kind;
  registry.Add({"kv delete", "Deletes versions in the KV store",
                "Usage: coffer kv delete [options] PATH\n\n"
                "  Soft-deletes the latest version, or -versions=1,2 (KV v2; undelete\n"
                "  restores them). On KV v1 the key is removed.",
                [] { return std::make_unique<KvVersionsCommand>(Kind::kDelete); }});
  registry.Add({"kv undelete", "Undeletes versions in the KV store",
                "Usage: coffer kv undelete -versions=N[,N...] [options] PATH",
                [] { return std::make_unique<KvVersionsCommand>(Kind::kUndelete); }});
  registry.Add({"kv destroy", "Permanently removes one or more versions in the KV store",
                "Usage: coffer kv destroy -versions=N[,N...] [options] PATH\n\n"
                "  Removes the data of those versions for good (KV v2 only).",
                [] { return std::make_unique<KvVersionsCommand>(Kind::kDestroy); }});
  registry.Add({"kv rollback", "Rolls back to a previous version of data",
                "Usage: coffer kv rollback -version=N [options] PATH\n\n"
                "  Writes the data of version N as a new version (KV v2 only).",
                [] { return std::make_unique<KvRollbackCommand>(); }});
}

}  // namespace coffer::cli
