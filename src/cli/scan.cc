// `coffer scan [PATH]` and `coffer scan install-hook [REPO]`: the thin CLI
// over src/scan (see scan/runner.h for the exit codes: 0 clean, 1 findings,
// 2 error). --import moves what was found into KV through the API and prints
// the `coffer run --secret` mapping that replaces each hard-coded value; no
// value is ever printed.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cctype>
#include <climits>
#include <map>
#include <set>
#include <sstream>

#include "cli/command_util.h"
#include "cli/kv_path.h"
#include "scan/git.h"
#include "scan/runner.h"

namespace coffer::cli {
namespace {

using scan::Finding;

// One KV field to write: a distinct value and where it was found.
struct ImportField {
  std::string field;
  const Finding* first = nullptr;
  int occurrences = 0;
};

std::string FieldName(const Finding& f) {
  std::string base = f.key.empty() ? std::string(scan::InfoOf(f.rule).id) : f.key;
  std::string out;
  for (char c : base) out.push_back(std::isalnum(static_cast<unsigned char>(c)) ? c : '_');
  while (!out.empty() && out.front() == '_') out.erase(0, 1);
  return out.empty() ? "secret" : out;
}

std::string EnvName(const std::string& field) {
  std::string out;
  for (char c : field)
    out.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  if (!out.empty() && std::isdigit(static_cast<unsigned char>(out[0]))) out = "_" + out;
  return out;
}

std::string Where(const Finding& f) {
  std::string w = f.path + ":" + std::to_string(f.line);
  if (!f.commit.empty()) w += " (commit " + f.commit.substr(0, 12) + ")";
  return w;
}

class ScanCommand : public Command {
 public:
  void AddFlags(CLI::App& app) override {
    // The global -format (table|json) does not fit: scan has its own formats.
    try {
      app.remove_option(app.get_option("--format"));
    } catch (const CLI::Error&) {
    }
    app.add_option("--format", options_.format, "Report format: text (default), json or sarif");
    app.add_flag("--git", options_.git, "Also scan the git history (git log -p --all)");
    app.add_flag("--staged", options_.staged,
                 "Scan only what is staged for the next commit (the pre-commit hook)");
    app.add_option("--allowlist", options_.allowlist_file,
                   "Allow-list file (default: PATH/.cofferignore when present)");
    app.add_option("--max-size", options_.max_size,
                   "Skip files larger than this (bytes, or 512K, 10M, 1G; default 10M)");
    app.add_option("--threads", options_.threads, "Scanner threads (default: one per core)");
    app.add_option("--import", import_path_,
                   "Write the values found into this KV secret (after confirmation) and print "
                   "the coffer run mapping that replaces them");
    app.add_flag("--yes", yes_, "With --import: do not ask for confirmation");
    app.add_option("path", options_.path, "File or directory to scan (default: .)");
  }

  int Run(Invocation& inv) override {
    if (import_path_.empty()) return scan::RunScan(options_, inv.out(), inv.err());
    scan::ScanReport report;
    std::ostringstream report_text;
    int code = scan::RunScan(options_, report_text, inv.err(), &report);
    inv.out() << report_text.str();
    if (code == scan::kExitError) return code;
    return Import(inv, report);
  }

 private:
  int Import(Invocation& inv, const scan::ScanReport& report) {
    std::vector<ImportField> fields;
    for (const Finding& f : report.findings) {
      auto same = std::find_if(fields.begin(), fields.end(), [&](const ImportField& x) {
        return x.first->secret.Equals(f.secret);
      });
      if (same != fields.end()) {
        ++same->occurrences;
        continue;
      }
      fields.push_back({FieldName(f), &f, 1});
    }
    if (fields.empty()) {
      inv.err() << "Nothing to import.\n";
      return scan::kExitClean;
    }
    std::unique_ptr<ApiClient> client = ClientOrReport(inv);
    if (!client) return scan::kExitError;
    std::string target_arg = SanitizePath(import_path_);
    Result<KvTarget> target = ResolveKvTarget(*client, target_arg, "");
    if (!target) {
      inv.err() << "Error: " << target.error().message() << "\n";
      return scan::kExitError;
    }
    const std::string data_path = target->Path("data");
    // Keep what is already there: new fields are added next to it, with a
    // suffix when a name is taken. Read before the list is shown, so that
    // the names listed are the names written.
    Result<ApiResponse> current = client->Send("GET", "/v1/" + data_path);
    Json data = Json::object();
    long long version = 0;
    if (current && current->status == 200 && current->body.is_object()) {
      Json& d = current->body["data"];
      if (target->version == 2 && d.is_object()) {
        if (d["data"].is_object()) data = std::move(d["data"]);
        if (d["metadata"].is_object() && d["metadata"]["version"].is_number_integer()) {
          version = d["metadata"]["version"].get<long long>();
        }
      } else if (d.is_object()) {
        data = std::move(d);
      }
      WipeJson(current->body);
    } else if (!current || current->status != 404) {
      inv.err() << "Error reading " << data_path << ": "
                << DescribeFailure(*client, "GET", "/v1/" + data_path, current) << "\n";
      return scan::kExitError;
    }
    std::set<std::string> taken;
    for (const auto& [key, value] : data.items()) taken.insert(key);
    for (ImportField& x : fields) {
      std::string name = x.field;
      for (int n = 2; taken.contains(name); ++n) name = x.field + "_" + std::to_string(n);
      taken.insert(name);
      x.field = std::move(name);
    }
    inv.err() << fields.size() << " value(s) will be written to " << target_arg
              << " (values not shown):\n";
    for (const ImportField& x : fields) {
      inv.err() << "  " << x.field << "  <- " << Where(*x.first) << " ("
                << scan::InfoOf(x.first->rule).id << ")";
      if (x.occurrences > 1) inv.err() << " and " << (x.occurrences - 1) << " more place(s)";
      inv.err() << "\n";
    }
    if (!yes_) {
      if (inv.env.tty_fd < 0) {
        inv.err() << "Refusing to import without confirmation: run on a terminal or pass --yes\n";
        WipeJson(data);
        return scan::kExitError;
      }
      inv.err() << "Write them? [y/N]: " << std::flush;
      std::string answer;
      std::getline(*inv.env.in, answer);
      if (answer != "y" && answer != "Y" && answer != "yes") {
        inv.err() << "Import cancelled.\n";
        WipeJson(data);
        return scan::kExitError;
      }
    }
    for (const ImportField& x : fields) data[x.field] = std::string(x.first->secret.view());
    Json body = target->version == 2
                    ? Json{{"data", std::move(data)}, {"options", {{"cas", version}}}}
                    : std::move(data);
    std::string text = body.dump();
    WipeJson(body);
    Result<Json> resp = SendWiped(*client, "PUT", "/v1/" + data_path, text);
    if (!resp) {
      inv.err() << "Error writing to " << data_path << ": " << resp.error().message() << "\n";
      return scan::kExitError;
    }
    inv.out() << "Imported " << fields.size() << " value(s) into " << data_path
              << ". Remove them from the files and run the program with:\n\n";
    std::string run = "  coffer run";
    for (const ImportField& x : fields) {
      run += " \\\n      --secret " + EnvName(x.field) + "=" + data_path + "#" + x.field;
    }
    inv.out() << run << " \\\n      -- <command>\n\n";
    for (const ImportField& x : fields) {
      inv.out() << "  " << Where(*x.first) << "  ->  " << EnvName(x.field) << "=" << data_path
                << "#" << x.field << "\n";
    }
    return scan::kExitClean;
  }

  scan::RunOptions options_;
  std::string import_path_;
  bool yes_ = false;
};

class InstallHookCommand : public Command {
 public:
  void AddFlags(CLI::App& app) override {
    app.add_flag("--force", force_, "Replace a pre-commit hook that coffer did not write");
    app.add_option("repo", repo_, "The repository (default: .)");
  }

  int Run(Invocation& inv) override {
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    std::string coffer = n > 0 ? std::string(self, static_cast<std::size_t>(n)) : "coffer";
    std::string written;
    Status s = scan::InstallHook(repo_, coffer, force_, &written);
    if (!s.ok()) {
      inv.err() << "Error: " << s.message() << "\n";
      return scan::kExitError;
    }
    inv.out() << "Installed " << written << ": commits that add a secret are refused.\n";
    return 0;
  }

 private:
  std::string repo_ = ".";
  bool force_ = false;
};

}  // namespace

void RegisterScanCommands(Registry& registry) {
  registry.Add({"scan", "Find hard-coded secrets in files and git history",
                "Usage: coffer scan [options] [PATH]\n\n"
                "  Scans a file or directory tree (and with --git its history) for API keys,\n"
                "  tokens, private keys and passwords. Exit code: 0 nothing found, 1 findings,\n"
                "  2 error. Matches are shown redacted. See docs/scan.md.\n\n"
                "      $ coffer scan .\n"
                "      $ coffer scan --git --format sarif . > coffer.sarif\n"
                "      $ coffer scan --import secret/app config/",
                [] { return std::make_unique<ScanCommand>(); }});
  registry.Add({"scan install-hook", "Install a git pre-commit hook running coffer scan",
                "Usage: coffer scan install-hook [--force] [REPO]\n\n"
                "  Writes REPO's pre-commit hook: `coffer scan --staged` refuses commits\n"
                "  that add a secret.",
                [] { return std::make_unique<InstallHookCommand>(); }});
}

}  // namespace coffer::cli
