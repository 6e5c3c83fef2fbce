#include "server/diagnose.h"

#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sys/resource.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "cli/args.h"
#include "common/clock.h"
#include "common/secret_bytes.h"
#include "http/server.h"
#include "server/server_command.h"
#include "storage/registry.h"

namespace coffer::server {
namespace {

namespace fs = std::filesystem;
using Status = DiagnoseResult::Status;

constexpr double kMinFreeFraction = 0.05;
constexpr std::uint64_t kMinFreeBytes = 1ULL << 30;
constexpr int kCertWarnDays = 30;

DiagnoseResult Leaf(std::string name, Status status, std::string message, std::string advice = "") {
  DiagnoseResult r;
  r.name = std::move(name);
  r.status = status;
  r.message = std::move(message);
  r.advice = std::move(advice);
  return r;
}

int Rank(Status s) {
  switch (s) {
    case Status::kFailure:
      return 3;
    case Status::kWarning:
      return 2;
    case Status::kSuccess:
      return 1;
    case Status::kSkipped:
      return 0;
  }
  return 0;
}

// A parent takes the worst status among itself and its children.
DiagnoseResult& Bubble(DiagnoseResult& r) {
  for (auto& c : r.children) {
    Bubble(c);
    if (Rank(c.status) > Rank(r.status)) r.status = c.status;
  }
  return r;
}

std::string Gib(std::uint64_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f GiB", static_cast<double>(bytes) / (1ULL << 30));
  return buf;
}

DiagnoseResult CheckOpenFiles(std::size_t listeners) {
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) != 0) {
    return Leaf("Check Open File Limit", Status::kWarning, "cannot read the open file limit");
  }
  // Each listener may hold max_connections (4,096) sockets, plus the
  // store's and the audit devices' files.
  const rlim_t want = 4096 * std::max<std::size_t>(listeners, 1) + 256;
  std::string have = lim.rlim_cur == RLIM_INFINITY ? "unlimited" : std::to_string(lim.rlim_cur);
  if (lim.rlim_cur != RLIM_INFINITY && lim.rlim_cur < want) {
    return Leaf("Check Open File Limit", Status::kWarning,
                "the open file limit is " + have + ", below the " + std::to_string(want) +
                    " that full listeners could use",
                "Raise it for the server's user (ulimit -n, or LimitNOFILE= in its systemd "
                "unit).");
  }
  return Leaf("Check Open File Limit", Status::kSuccess, "open file limit: " + have);
}

// Free space where `dir` (or its nearest existing parent) lives.
DiagnoseResult CheckDiskUsage(const fs::path& dir) {
  fs::path probe = dir;
  std::error_code ec;
  while (!probe.empty() && !fs::exists(probe, ec)) probe = probe.parent_path();
  if (probe.empty()) probe = ".";
  struct statvfs st {};
  if (statvfs(probe.c_str(), &st) != 0) {
    return Leaf("Check Disk Usage", Status::kWarning,
                "cannot read the free space of " + probe.string());
  }
  const std::uint64_t total = static_cast<std::uint64_t>(st.f_blocks) * st.f_frsize;
  const std::uint64_t avail = static_cast<std::uint64_t>(st.f_bavail) * st.f_frsize;
  const double fraction = total == 0 ? 0 : static_cast<double>(avail) / static_cast<double>(total);
  char pct[16];
  std::snprintf(pct, sizeof pct, "%.0f%%", fraction * 100);
  std::string message =
      probe.string() + ": " + Gib(avail) + " free of " + Gib(total) + " (" + pct + ")";
  if (avail < kMinFreeBytes || fraction < kMinFreeFraction) {
    return Leaf("Check Disk Usage", Status::kWarning, message,
                "Keep at least 5% and 1 GiB free: a full disk makes every write fail.");
  }
  return Leaf("Check Disk Usage", Status::kSuccess, message);
}

DiagnoseResult CheckStorage(const config::ServerConfig& cfg) {
  DiagnoseResult r = Leaf("Check Storage", Status::kSuccess, "");
  const auto& types = storage::RegisteredBackendTypes();
  if (std::find(types.begin(), types.end(), cfg.storage.type) == types.end()) {
    std::string known;
    for (const auto& t : types) known += (known.empty() ? "" : ", ") + t;
    r.children.push_back(
        Leaf("Create Storage Backend", Status::kFailure,
             "unknown storage type \"" + cfg.storage.type + "\" (" + cfg.storage.source + ")",
             "Use one of: " + known + "."));
    return r;
  }
  if (cfg.storage.type == "inmem") {
    r.children.push_back(Leaf("Create Storage Backend", Status::kWarning,
                              "storage \"inmem\" keeps everything in memory: nothing survives "
                              "a restart",
                              "Use storage \"local\" for anything but a test."));
    return r;
  }
  if (cfg.storage.type != "local") {
    r.children.push_back(
        Leaf("Create Storage Backend", Status::kSkipped, "no check for this type"));
    return r;
  }
  const fs::path dir = cfg.storage.params.at("path");
  std::error_code ec;
  if (fs::exists(dir, ec)) {
    if (!fs::is_directory(dir, ec)) {
      r.children.push_back(Leaf("Create Storage Backend", Status::kFailure,
                                dir.string() + " exists and is not a directory"));
    } else if (access(dir.c_str(), R_OK | W_OK | X_OK) != 0) {
      r.children.push_back(Leaf("Create Storage Backend", Status::kFailure,
                                dir.string() + " is not readable and writable by this user",
                                "Run diagnose as the server's user, or fix the directory's "
                                "owner and mode (0700)."));
    } else {
      const fs::path db = dir / "coffer.db";
      std::string message =
          fs::exists(db, ec)
              ? "store found: " + db.string() + " (" + Gib(fs::file_size(db, ec)) + ")"
              : "no store yet in " + dir.string() + ": the server creates one at its first start";
      r.children.push_back(Leaf("Create Storage Backend", Status::kSuccess, message));
    }
  } else {
    fs::path parent = dir.parent_path().empty() ? fs::path(".") : dir.parent_path();
    while (!parent.empty() && !fs::exists(parent, ec)) parent = parent.parent_path();
    if (parent.empty() || access(parent.c_str(), W_OK | X_OK) != 0) {
      r.children.push_back(Leaf("Create Storage Backend", Status::kFailure,
                                dir.string() + " does not exist and cannot be created here",
                                "Create it for the server's user with mode 0700."));
    } else {
      r.children.push_back(Leaf("Create Storage Backend", Status::kSuccess,
                                dir.string() + " does not exist yet: the server creates it"));
    }
  }
  r.children.push_back(CheckDiskUsage(dir));
  return r;
}

// The certificate's expiry, read with OpenSSL (Server::Create already
// checked that it loads and matches its key).
DiagnoseResult CheckCertificateExpiry(const std::string& file) {
  BIO* bio = BIO_new_file(file.c_str(), "r");
  X509* cert = bio != nullptr ? PEM_read_bio_X509(bio, nullptr, nullptr, nullptr) : nullptr;
  if (bio != nullptr) BIO_free(bio);
  if (cert == nullptr) {
    return Leaf("Check TLS Certificate", Status::kFailure,
                "cannot read a certificate from " + file);
  }
  int days = 0, secs = 0;
  const bool ok = ASN1_TIME_diff(&days, &secs, nullptr, X509_get0_notAfter(cert)) == 1;
  const bool not_yet = X509_cmp_current_time(X509_get0_notBefore(cert)) > 0;
  X509_free(cert);
  if (!ok) return Leaf("Check TLS Certificate", Status::kWarning, "cannot read its expiry");
  if (days < 0 || (days == 0 && secs <= 0)) {
    return Leaf("Check TLS Certificate", Status::kFailure, file + " has expired",
                "Replace the certificate; clients refuse an expired one.");
  }
  if (not_yet) {
    return Leaf("Check TLS Certificate", Status::kFailure, file + " is not valid yet",
                "Check the host's clock, or the certificate's notBefore.");
  }
  if (days < kCertWarnDays) {
    return Leaf("Check TLS Certificate", Status::kWarning,
                file + " expires in " + std::to_string(days) + " days",
                "Renew it before it expires.");
  }
  return Leaf("Check TLS Certificate", Status::kSuccess,
              file + " is valid for " + std::to_string(days) + " more days");
}

// A handler that is never called: the listener is bound, never started.
class NoHandler final : public http::Handler {
 public:
  void Handle(logical::Request, std::function<void(logical::Response)> done) override {
    done(logical::Response{});
  }
};

DiagnoseResult CheckListeners(const config::ServerConfig& cfg) {
  DiagnoseResult r = Leaf("Check Listeners", Status::kSuccess, "");
  NoHandler handler;
  for (const auto& l : cfg.listeners) {
    DiagnoseResult one = Leaf("Listener " + l.address, Status::kSuccess, "");
    // The server's own code path: options, certificate and key, bind.
    auto server = http::Server::Create(ListenerOptions(l), handler);
    if (server) {
      one.children.push_back(
          Leaf("Create Listener", Status::kSuccess,
               std::string(l.tls_disable ? "plain HTTP" : "TLS") + " on " + l.address + " binds"));
      (*server)->Stop();
    } else if (server.error().code() == Code::kUnavailable) {
      one.children.push_back(Leaf("Create Listener", Status::kWarning, server.error().message(),
                                  "If a server is running on this address, this is expected; "
                                  "otherwise free the port or change the address."));
    } else {
      one.children.push_back(Leaf("Create Listener", Status::kFailure, server.error().message()));
    }
    if (l.tls_disable) {
      bool loopback = l.address.starts_with("127.") || l.address.starts_with("[::1]") ||
                      l.address.starts_with("localhost:");
      one.children.push_back(Leaf("Check TLS", loopback ? Status::kSuccess : Status::kWarning,
                                  loopback ? "TLS off on a loopback address"
                                           : "TLS off on an address other hosts can reach",
                                  loopback ? ""
                                           : "Tokens and secrets cross the network in clear: set "
                                             "tls_cert_file and tls_key_file."));
    } else if (!l.tls_cert_file.empty()) {
      one.children.push_back(CheckCertificateExpiry(l.tls_cert_file));
    }
    r.children.push_back(std::move(one));
  }
  return r;
}

DiagnoseResult CheckSeal(const config::ServerConfig& cfg) {
  if (cfg.seal) {
    return Leaf("Check Seal", Status::kFailure,
                "seal \"" + cfg.seal->type + "\" (" + cfg.seal->source +
                    "): auto-unseal is not available, the server refuses to start with it",
                "Remove the seal block: the server then uses Shamir unseal keys.");
  }
  return Leaf("Check Seal", Status::kSuccess, "Shamir unseal keys");
}

DiagnoseResult CheckMlock(const config::ServerConfig& cfg) {
  if (InitSecureMemory()) {
    return Leaf("Check Memory Locking", Status::kSuccess,
                "memory holding keys can be locked (mlock)");
  }
  if (cfg.disable_mlock) {
    return Leaf("Check Memory Locking", Status::kWarning,
                "memory cannot be locked; disable_mlock = true lets the server start anyway, "
                "and keys may reach swap",
                "Give the server CAP_IPC_LOCK or a larger RLIMIT_MEMLOCK, or run without "
                "swap.");
  }
  return Leaf("Check Memory Locking", Status::kFailure,
              "memory cannot be locked (mlock): the server will refuse to start",
              "Give the server CAP_IPC_LOCK or raise RLIMIT_MEMLOCK (LimitMEMLOCK=infinity in "
              "systemd), or set disable_mlock = true.");
}

std::string StatusText(Status s) {
  switch (s) {
    case Status::kSuccess:
      return "success";
    case Status::kWarning:
      return "warning";
    case Status::kFailure:
      return "failure";
    case Status::kSkipped:
      return "skipped";
  }
  return "";
}

void RenderTable(const DiagnoseResult& r, int depth, std::string& out) {
  std::string line(static_cast<std::size_t>(depth) * 2, ' ');
  std::string status = StatusText(r.status);
  line += "[ " + status + " ] " + r.name;
  if (!r.message.empty()) line += ": " + r.message;
  out += line + "\n";
  if (!r.advice.empty()) {
    out += std::string(static_cast<std::size_t>(depth) * 2 + 2, ' ') + r.advice + "\n";
  }
  for (const auto& c : r.children) RenderTable(c, depth + 1, out);
}

nlohmann::ordered_json ToJson(const DiagnoseResult& r) {
  nlohmann::ordered_json j{{"name", r.name}, {"status", StatusText(r.status)}};
  if (!r.message.empty()) j["message"] = r.message;
  if (!r.advice.empty()) j["advice"] = r.advice;
  if (!r.children.empty()) {
    j["children"] = nlohmann::ordered_json::array();
    for (const auto& c : r.children) j["children"].push_back(ToJson(c));
  }
  return j;
}

bool Skipped(const std::vector<std::string>& skip, std::string_view name) {
  return std::find(skip.begin(), skip.end(), name) != skip.end();
}

}  // namespace

DiagnoseResult Diagnose(const std::string& config_path, const std::vector<std::string>& skip) {
  storage::RegisterBuiltinBackends();
  DiagnoseResult root = Leaf("Coffer Diagnose", Status::kSuccess, "");
  auto loaded = config::LoadConfigFile(config_path);
  DiagnoseResult os = Leaf("Check Operating System", Status::kSuccess, "");
  os.children.push_back(CheckOpenFiles(loaded ? loaded->listeners.size() : 1));
  root.children.push_back(std::move(os));
  if (!loaded) {
    root.children.push_back(Leaf("Parse Configuration", Status::kFailure, loaded.error().message(),
                                 "Fix the file; the server would refuse to start with it."));
    return Bubble(root);
  }
  root.children.push_back(
      Leaf("Parse Configuration", Status::kSuccess, config_path + ": the syntax is ok"));
  root.children.push_back(Skipped(skip, "storage")
                              ? Leaf("Check Storage", Status::kSkipped, "skipped (-skip)")
                              : CheckStorage(*loaded));
  root.children.push_back(Skipped(skip, "listener")
                              ? Leaf("Check Listeners", Status::kSkipped, "skipped (-skip)")
                              : CheckListeners(*loaded));
  root.children.push_back(CheckSeal(*loaded));
  root.children.push_back(CheckMlock(*loaded));
  return Bubble(root);
}

std::string RenderDiagnoseTable(const DiagnoseResult& result) {
  std::string out;
  RenderTable(result, 0, out);
  return out;
}

std::string RenderDiagnoseJson(const DiagnoseResult& result) {
  return ToJson(result).dump(2) + "\n";
}

int RunDiagnose(int argc, char** argv) {
  CLI::App app{"Checks a server configuration and its environment without starting a server",
               "coffer operator diagnose"};
  std::string config_path;
  std::string format = "table";
  std::vector<std::string> skip;
  app.add_option("--config", config_path, "The server's configuration file (required)");
  app.add_option("--format", format, "Output format: table or json");
  app.add_option("--skip", skip, "Checks not to run: storage, listener (repeatable)");
  // argv[1..2] are "operator diagnose"; Vault's single-dash flags.
  std::vector<std::string> args =
      cli::NormalizeArgs(std::vector<std::string>(argv + std::min(argc, 3), argv + argc));
  try {
    std::reverse(args.begin(), args.end());
    app.parse(args);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? 0 : 3;
  }
  if (config_path.empty()) {
    std::fprintf(stderr, "Error: -config=FILE is required: the file the server starts with\n");
    return 3;
  }
  if (format != "table" && format != "json") {
    std::fprintf(stderr, "Error: invalid -format \"%s\": table or json\n", format.c_str());
    return 3;
  }
  for (const auto& s : skip) {
    if (s != "storage" && s != "listener") {
      std::fprintf(stderr, "Error: unknown -skip \"%s\": storage or listener\n", s.c_str());
      return 3;
    }
  }
  DiagnoseResult result = Diagnose(config_path, skip);
  const std::string text =
      format == "json" ? RenderDiagnoseJson(result) : RenderDiagnoseTable(result);
  std::fwrite(text.data(), 1, text.size(), stdout);
  switch (result.status) {
    case Status::kFailure:
      return 1;
    case Status::kWarning:
      return 2;
    default:
      return 0;
  }
}

}  // namespace coffer::server
