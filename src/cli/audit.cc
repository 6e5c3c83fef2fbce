// `coffer audit enable|disable|list|verify` (sys/audit, sys/audit-verify).
#include <CLI/CLI.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "audit/chain.h"
#include "cli/command_util.h"
#include "cli/data_args.h"
#include "cli/secret_output.h"
#include "cli/status.h"

namespace coffer::cli {
namespace {

class AuditCommand : public Command {
 public:
  enum class Kind { kEnable, kDisable, kList };
  explicit AuditCommand(Kind kind) : kind_(kind) {}

  void AddFlags(CLI::App& app) override {
    app.add_option("args", args_, "arguments");
    if (kind_ == Kind::kEnable) {
      app.add_option("--path", path_, "Where to enable the device (default: TYPE)");
      app.add_option("--description", description_, "Human-readable description");
      app.add_flag("--local", local_, "Do not replicate the device");
    }
    if (kind_ == Kind::kList) app.add_flag("--detailed", detailed_, "Show the options too");
  }

  int Run(Invocation& inv) override {
    std::size_t min = kind_ == Kind::kList ? 0 : 1;
    std::size_t max = kind_ == Kind::kEnable ? 1000 : min;
    if (!ArityOk(inv, args_.size(), min, max)) return kExitLocal;
    std::unique_ptr<ApiClient> client = ClientOrReport(inv);
    if (!client) return kExitServer;
    switch (kind_) {
      case Kind::kEnable: {
        std::string type = SanitizePath(args_[0]);
        std::string path = EnsureTrailingSlash(SanitizePath(path_.empty() ? type : path_));
        Result<Json> options =
            ParseDataArgs(std::vector<std::string>(args_.begin() + 1, args_.end()), &std::cin);
        if (!options) {
          inv.err() << "Failed to parse options: " << options.error().message() << "\n";
          return kExitLocal;
        }
        Json body{{"type", type}, {"options", *options}, {"local", local_}};
        if (!description_.empty()) body["description"] = description_;
        Result<Json> r = client->Request("PUT", "/v1/sys/audit/" + SanitizePath(path), body.dump());
        if (!r) {
          inv.err() << "Error enabling audit device: " << r.error().message() << "\n";
          return kExitServer;
        }
        inv.out() << "Success! Enabled the " << type << " audit device at: " << path << "\n";
        return 0;
      }
      case Kind::kDisable: {
        std::string path = EnsureTrailingSlash(SanitizePath(args_[0]));
        Result<Json> r = client->Request("DELETE", "/v1/sys/audit/" + SanitizePath(path));
        if (!r) {
          inv.err() << "Error disabling audit device: " << r.error().message() << "\n";
          return kExitServer;
        }
        inv.out() << "Success! Disabled audit device (if it was enabled) at: " << path << "\n";
        return 0;
      }
      case Kind::kList: {
        Result<Json> r = client->Request("GET", "/v1/sys/audit");
        if (!r) {
          inv.err() << "Error listing audit devices: " << r.error().message() << "\n";
          return kExitServer;
        }
        const Json& table = DataOf(*r).is_object() ? DataOf(*r) : *r;
        if (IsStructured(inv.format)) {
          inv.out() << FormatStructured(inv.format, table);
          return 0;
        }
        if (table.empty()) {
          inv.out() << "No audit devices are enabled.\n";
          return 0;
        }
        std::vector<Row> rows;
        rows.push_back(detailed_ ? Row{"Path", "Type", "Description", "Replication", "Options"}
                                 : Row{"Path", "Type", "Description"});
        for (auto it = table.begin(); it != table.end(); ++it) {
          if (!it->is_object()) continue;
          Row row{it.key(), JsonString(*it, "type"), JsonString(*it, "description")};
          if (detailed_) {
            row.push_back(it->value("local", false) ? "local" : "replicated");
            std::string opts;
            auto found = it->find("options");
            if (found != it->end() && found->is_object()) {
              for (const auto& [k, v] : found->items()) {
                if (!opts.empty()) opts += ' ';
                opts += k + "=" + (v.is_string() ? v.get<std::string>() : v.dump());
              }
            }
            row.push_back(opts);
          }
          rows.push_back(std::move(row));
        }
        inv.out() << FormatColumns(rows);
        return 0;
      }
    }
    return kExitLocal;
  }

 private:
  Kind kind_;
  std::vector<std::string> args_;
  std::string path_;
  std::string description_;
  bool local_ = false;
  bool detailed_ = false;
};

// Checks audit log files (oldest first) for removed, inserted, edited or
// reordered lines, and asks the server to check checkpoint signatures and
// where the device's chain ends now.
class VerifyCommand : public Command {
 public:
  void AddFlags(CLI::App& app) override {
    app.add_option("files", files_, "Log files, oldest first")->required();
    app.add_option("--device", device_, "The device path (default: from the log's checkpoints)");
    app.add_flag("--offline", offline_,
                 "Check the chain only, without the server (checkpoint signatures are not "
                 "checked; the log must end with a close or rotate checkpoint)");
  }

  int Run(Invocation& inv) override {
    audit::ChainVerifier first;
    if (!ReadInto(inv, first)) return kExitLocal;
    std::string device = device_.empty() ? first.device() : device_;
    if (offline_) {
      if (!first.ends_with_final_checkpoint()) {
        first.AddProblem(files_.back(),
                         "the log does not end with a close or rotate checkpoint: lines may "
                         "have been removed from the end");
      }
      inv.out() << "Checkpoint signatures were not checked (offline).\n";
      return Report(inv, first);
    }
    std::unique_ptr<ApiClient> client = ClientOrReport(inv);
    if (!client) return kExitServer;
    if (device.empty()) device = DeviceWritingTo(*client, files_.back());
    if (device.empty()) {
      inv.err() << "The log has no checkpoint naming its device yet and no file device writes "
                   "to "
                << files_.back() << "; give -device=PATH\n";
      return kExitLocal;
    }
    std::string endpoint = "/v1/sys/audit-verify/" + SanitizePath(device);
    // The device's head now: every line up to it must be in the files read
    // after this answer.
    Result<Json> head = client->Request("POST", endpoint, "{}");
    if (!head) {
      inv.err() << "Error asking the server: " << head.error().message() << "\n";
      return kExitServer;
    }
    const Json& h = DataOf(*head).is_object() ? DataOf(*head) : *head;
    std::uint64_t head_seq = h.value("head_seq", std::uint64_t{0});
    std::string head_hash = h.value("head_hash", "");
    audit::ChainVerifier v;
    v.WatchSeq(head_seq);
    if (!ReadInto(inv, v)) return kExitLocal;
    if (v.last_seq() < head_seq) {
      v.AddProblem(files_.back(), "the log ends at seq " + std::to_string(v.last_seq()) +
                                      " but the device has written up to seq " +
                                      std::to_string(head_seq) +
                                      ": lines were removed from the end (or the current log "
                                      "file was not given)");
    } else if (head_seq > 0) {
      auto seen = v.HashOf(head_seq);
      if (seen && *seen != head_hash) {
        v.AddProblem(files_.back(), "the line with seq " + std::to_string(head_seq) +
                                        " is not the line the device wrote (edited or forged)");
      }
    }
    Json list = Json::array();
    for (const auto& c : v.checkpoints()) {
      list.push_back({{"seq", c.seq}, {"prev_hash", c.prev_hash}, {"hmac", c.hmac}});
    }
    Result<Json> checked = client->Request("POST", endpoint, Json{{"checkpoints", list}}.dump());
    if (!checked) {
      inv.err() << "Error asking the server: " << checked.error().message() << "\n";
      return kExitServer;
    }
    const Json& c = DataOf(*checked).is_object() ? DataOf(*checked) : *checked;
    const Json results = c.value("checkpoints", Json::array());
    std::size_t valid = 0;
    for (std::size_t i = 0; i < v.checkpoints().size() && i < results.size(); ++i) {
      if (results[i].value("valid", false)) {
        ++valid;
      } else {
        v.AddProblem(v.checkpoints()[i].where,
                     "checkpoint signature is not valid (forged, or from another device)");
      }
    }
    inv.out() << valid << " checkpoint signature(s) verified by the server.\n";
    return Report(inv, v);
  }

 private:
  bool ReadInto(Invocation& inv, audit::ChainVerifier& v) {
    for (const auto& f : files_) {
      std::ifstream in(f, std::ios::binary);
      if (!in) {
        inv.err() << "Cannot read " << f << "\n";
        return false;
      }
      std::stringstream ss;
      ss << in.rdbuf();
      v.AddFile(f, ss.str());
    }
    return true;
  }

  // The enabled file device whose file_path is `file` (or the only device).
  static std::string DeviceWritingTo(ApiClient& client, const std::string& file) {
    Result<Json> r = client.Request("GET", "/v1/sys/audit");
    if (!r) return "";
    const Json& table = DataOf(*r).is_object() ? DataOf(*r) : *r;
    std::error_code ec;
    auto wanted = std::filesystem::weakly_canonical(file, ec);
    std::vector<std::string> devices;
    for (auto it = table.begin(); it != table.end(); ++it) {
      if (!it->is_object() || !it.key().ends_with("/")) continue;
      devices.push_back(it.key());
      auto opts = it->find("options");
      if (opts == it->end() || !opts->is_object()) continue;
      auto path = opts->find("file_path");
      if (path == opts->end() || !path->is_string()) continue;
      if (std::filesystem::weakly_canonical(path->get<std::string>(), ec) == wanted) {
        return it.key();
      }
    }
    return devices.size() == 1 ? devices[0] : "";
  }

  int Report(Invocation& inv, const audit::ChainVerifier& v) {
    if (v.problems().empty()) {
      inv.out() << "OK: " << v.lines() << " lines, seq " << v.first_seq() << " to " << v.last_seq()
                << ", " << v.checkpoints().size() << " checkpoint(s).\n";
      return 0;
    }
    inv.out() << "TAMPERED: " << v.problems().front().where << ": " << v.problems().front().message
              << "\n";
    for (std::size_t i = 1; i < v.problems().size() && i < 20; ++i) {
      inv.out() << "  also " << v.problems()[i].where << ": " << v.problems()[i].message << "\n";
    }
    return kExitServer;
  }

  std::vector<std::string> files_;
  std::string device_;
  bool offline_ = false;
};

void Add(Registry& r, const char* name, const char* synopsis, const char* help,
         AuditCommand::Kind kind) {
  r.Add({name, synopsis, help, [kind] { return std::make_unique<AuditCommand>(kind); }});
}

}  // namespace

void RegisterAuditCommands(Registry& registry) {
  using Kind = AuditCommand::Kind;
  registry.Add({"audit", "Interact with audit devices",
                "Usage: coffer audit <subcommand> [options] [args]", nullptr});
  Add(registry, "audit enable", "Enable an audit device",
      "Usage: coffer audit enable [options] TYPE [KEY=VALUE...]\n\n"
      "      $ coffer audit enable file file_path=/var/log/coffer/audit.log",
      Kind::kEnable);
  Add(registry, "audit disable", "Disable an audit device",
      "Usage: coffer audit disable [options] PATH", Kind::kDisable);
  Add(registry, "audit list", "List enabled audit devices", "Usage: coffer audit list [options]",
      Kind::kList);
  registry.Add({"audit verify", "Check audit log files for tampering",
                "Usage: coffer audit verify [options] FILE...\n\n"
                "  Files oldest first (after rotation: audit.log.1 audit.log). Exit code 0\n"
                "  when the logs are intact, 2 when a line was removed, inserted, edited or\n"
                "  reordered, or a checkpoint signature does not verify.",
                [] { return std::make_unique<VerifyCommand>(); }});
}

}  // namespace coffer::cli
