// `coffer debug`: probes a server for a while and packs what it saw into one
// bundle an operator can attach to a bug report, in the layout of Vault's
// `debug` command: index.json, config.json, host_info.json, metrics.json,
// requests.json, server_status.json and coffer.log, in a directory or a
// .tar.gz of it (libarchive). Each polled target is a JSON array with one
// entry per poll.
//
// Nothing secret goes in: the configuration is the server's sanitized copy,
// in-flight requests carry paths only, the log is what the server logs
// (never a secret by design), and the token used is written nowhere. Errors
// (a target the token may not read, a failed poll) are recorded in
// index.json and do not stop the capture. SIGINT or SIGTERM ends it early;
// what was gathered is still written.

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include "agent/files.h"
#include "cli/command.h"
#include "cli/command_util.h"
#include "common/clock.h"
#include "common/duration.h"

namespace coffer::cli {

std::string_view CofferCliVersion();

namespace {

namespace fs = std::filesystem;
using std::chrono::seconds;
using std::chrono::steady_clock;
using std::chrono::system_clock;

constexpr seconds kMinInterval{5};
const std::vector<std::string> kTargets = {"config",   "host",          "metrics",
                                           "requests", "server-status", "log"};

std::atomic<bool> interrupted{false};
extern "C" void OnDebugInterrupt(int) { interrupted.store(true); }

// "2026-12-04T22-31-05Z": a time that is a valid file name.
std::string FileTime(system_clock::time_point t) {
  const std::time_t tt = system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H-%M-%SZ", &tm);
  return buf;
}

std::string Now() { return FormatRfc3339(system_clock::now()); }

// Packs directory `dir` into the gzip'd tar `out`, entries under the
// directory's own name.
Status Compress(const fs::path& dir, const fs::path& out) {
  archive* a = archive_write_new();
  archive_write_add_filter_gzip(a);
  archive_write_set_format_pax_restricted(a);
  auto fail = [&](std::string what) {
    std::string msg = what + ": " + (archive_error_string(a) ? archive_error_string(a) : "");
    archive_write_free(a);
    return Internal(msg);
  };
  // The archive holds what the directory holds: created 0600 as well.
  int fd = ::open(out.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    archive_write_free(a);
    return Internal("cannot create " + out.string() + ": " + std::strerror(errno));
  }
  if (archive_write_open_fd(a, fd) != ARCHIVE_OK) {
    ::close(fd);
    return fail("cannot write " + out.string());
  }
  const std::string top = dir.filename().string();
  std::vector<fs::path> paths{dir};
  std::error_code ec;
  for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    paths.push_back(it->path());
  }
  if (ec) {
    ::close(fd);
    return fail("cannot read " + dir.string() + ": " + ec.message());
  }
  std::sort(paths.begin() + 1, paths.end());
  for (const fs::path& p : paths) {
    const std::string name = p == dir ? top : top + "/" + fs::relative(p, dir).string();
    struct stat st {};
    if (::stat(p.c_str(), &st) != 0) {
      ::close(fd);
      return fail("cannot read " + p.string());
    }
    archive_entry* entry = archive_entry_new();
    archive_entry_set_pathname(entry, name.c_str());
    archive_entry_set_mode(entry, S_ISDIR(st.st_mode) ? (AE_IFDIR | 0700) : (AE_IFREG | 0600));
    archive_entry_set_size(entry, S_ISDIR(st.st_mode) ? 0 : st.st_size);
    archive_entry_set_mtime(entry, st.st_mtime, 0);
    if (archive_write_header(a, entry) != ARCHIVE_OK) {
      archive_entry_free(entry);
      ::close(fd);
      return fail("cannot add " + name);
    }
    archive_entry_free(entry);
    if (!S_ISDIR(st.st_mode)) {
      std::ifstream in(p, std::ios::binary);
      char buf[16384];
      while (in.read(buf, sizeof buf) || in.gcount() > 0) {
        if (archive_write_data(a, buf, static_cast<std::size_t>(in.gcount())) < 0) {
          ::close(fd);
          return fail("cannot add " + name);
        }
      }
    }
  }
  const bool closed = archive_write_close(a) == ARCHIVE_OK;
  archive_write_free(a);
  ::close(fd);
  if (!closed) return Internal("cannot finish " + out.string());
  return Status::Ok();
}

class DebugCommand : public Command {
 public:
  void AddFlags(CLI::App& app) override {
    app.add_option("args", args_, "arguments");
    app.add_option("--duration", duration_, "How long to run (default 2m; at least 5s)");
    app.add_option("--interval", interval_,
                   "How often to poll server status, host information and in-flight "
                   "requests (default 30s; at least 5s)");
    app.add_option("--metrics-interval", metrics_interval_,
                   "How often to poll metrics (default 10s; at least 5s)");
    app.add_option("--output", output_,
                   "Where to write the bundle (default coffer-debug-TIME[.tar.gz])");
    AddBoolFlag(app, "--compress", compress_, "Pack the bundle into a .tar.gz (default true)");
    app.add_option("--target", targets_,
                   "What to capture, repeatable: config, host, metrics, requests, "
                   "server-status, log (default all)");
    app.add_option("--log-format", log_format_, "Format of the captured log: standard or json");
  }

  int Run(Invocation& inv) override {
    if (!ArityOk(inv, args_.size(), 0, 0)) return kExitLocal;
    seconds duration, interval, metrics_interval;
    for (auto [text, out, name] :
         {std::tuple{&duration_, &duration, "-duration"},
          std::tuple{&interval_, &interval, "-interval"},
          std::tuple{&metrics_interval_, &metrics_interval, "-metrics-interval"}}) {
      auto d = ParseDuration(*text);
      if (!d) {
        inv.err() << "Error: invalid " << name << " \"" << *text
                  << "\": a duration such as 30s or 2m\n";
        return kExitLocal;
      }
      *out = *d;
      if (*out < kMinInterval) {
        inv.err() << "Overwriting " << name << " value \"" << *text
                  << "\" to the minimum value of \"5s\"\n";
        *out = kMinInterval;
      }
    }
    interval = std::min(interval, duration);
    metrics_interval = std::min(metrics_interval, duration);
    if (log_format_ != "standard" && log_format_ != "json") {
      inv.err() << "Error: invalid -log-format \"" << log_format_ << "\": standard or json\n";
      return kExitLocal;
    }
    std::vector<std::string> targets, ignored;
    for (const std::string& t : SplitCommaList(targets_)) {
      if (std::find(kTargets.begin(), kTargets.end(), t) == kTargets.end()) {
        ignored.push_back(t);
      } else if (std::find(targets.begin(), targets.end(), t) == targets.end()) {
        targets.push_back(t);
      }
    }
    if (!ignored.empty()) {
      inv.err() << "Ignoring invalid targets: " << Join(ignored)
                << " (available: config, host, metrics, requests, server-status, log)\n";
    }
    if (targets.empty()) {
      if (!targets_.empty()) {
        inv.err() << "Error: no valid -target given\n";
        return kExitLocal;
      }
      targets = kTargets;
    }
    const bool compress = compress_.value_or(true);
    const auto started_at = system_clock::now();
    fs::path dir = output_.empty() ? fs::path("coffer-debug-" + FileTime(started_at))
                                   : fs::path(output_).lexically_normal();
    fs::path archive_path;
    if (compress) {
      std::string s = dir.string();
      if (!s.ends_with(".tar.gz") && !s.ends_with(".tgz")) s += ".tar.gz";
      archive_path = s;
      s.resize(s.size() - (s.ends_with(".tgz") ? 4 : 7));
      dir = s;
      if (std::error_code ec; fs::exists(archive_path, ec)) {
        inv.err() << "Error: output file already exists: " << archive_path.string() << "\n";
        return kExitLocal;
      }
    }
    if (std::error_code ec; fs::exists(dir, ec)) {
      inv.err() << "Error: output directory already exists: " << dir.string() << "\n";
      return kExitLocal;
    }

    std::unique_ptr<ApiClient> client = ClientOrReport(inv);
    if (!client) return kExitServer;
    Result<ApiResponse> health = client->Send("GET", "/v1/sys/health");
    if (!health) {
      inv.err() << "Error: cannot reach the server at " << client->address() << ": "
                << health.error().message() << "\n";
      return kExitServer;
    }
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (!ec) fs::permissions(dir, fs::perms::owner_all, ec);
    if (ec) {
      inv.err() << "Error: cannot create " << dir.string() << ": " << ec.message() << "\n";
      return kExitLocal;
    }

    index_ = Json::object();
    index_["version"] = 1;
    index_["vault_address"] = client->address();
    index_["client_version"] = std::string(CofferCliVersion());
    index_["server_version"] = health->body.is_object() ? health->body.value("version", "") : "";
    index_["timestamp"] = FormatRfc3339(started_at);
    index_["duration_seconds"] = duration.count();
    index_["interval_seconds"] = interval.count();
    index_["metrics_interval_seconds"] = metrics_interval.count();
    index_["compress"] = compress;
    index_["targets"] = targets;
    index_["errors"] = Json::array();

    inv.out() << "==> Starting debug capture...\n"
              << "         Coffer Address: " << client->address() << "\n"
              << "         Client Version: " << CofferCliVersion() << "\n"
              << "         Server Version: " << index_["server_version"].get<std::string>() << "\n"
              << "               Duration: " << HumanDuration(duration) << "\n"
              << "               Interval: " << HumanDuration(interval) << "\n"
              << "       Metrics Interval: " << HumanDuration(metrics_interval) << "\n"
              << "                Targets: " << Join(targets) << "\n"
              << "                 Output: " << (compress ? archive_path : dir).string() << "\n\n"
              << std::flush;

    auto wants = [&](std::string_view t) {
      return std::find(targets.begin(), targets.end(), t) != targets.end();
    };
    if (wants("config")) {
      if (auto data = ReadData(*client, "config", "/v1/sys/config/state/sanitized")) {
        Collect("config.json", Json{{"timestamp", Now()}, {"config", *data}});
      }
    }

    // The log streams on a connection of its own for the whole run.
    StreamCanceller log_cancel;
    std::thread log_thread;
    std::string log_error;
    // Set once the log stream is open (or has ended): the first poll waits
    // for it, so the requests target lists the stream as in flight.
    std::atomic<bool> log_settled{!wants("log")};
    if (wants("log")) {
      std::unique_ptr<ApiClient> log_client = ClientOrReport(inv);
      if (!log_client) return kExitServer;
      log_thread = std::thread([this, &log_cancel, &log_error, &log_settled, dir,
                                log_client = std::move(log_client)] {
        struct Settle {
          std::atomic<bool>& flag;
          ~Settle() { flag.store(true); }
        } settle{log_settled};
        std::ofstream out;
        if (Status s = agent::AtomicWriteFile((dir / "coffer.log").string(), "", 0600); !s.ok()) {
          log_error = s.message();
          return;
        }
        out.open(dir / "coffer.log", std::ios::binary | std::ios::app);
        StreamHandlers handlers;
        handlers.on_open = [&log_settled] { log_settled.store(true); };
        handlers.on_bytes = [&out](std::string_view bytes) { out << bytes << std::flush; };
        auto r = log_client->http().StreamEvents(
            "/v1/sys/monitor?log_level=trace&log_format=" + log_format_, handlers,
            std::chrono::hours(24), &log_cancel);
        if (r && r->status != 200) {
          Json body = Json::parse(r->body, nullptr, false);
          log_error =
              "sys/monitor answered " + std::to_string(r->status) +
              (body.is_object() && body.contains("errors") ? ": " + body["errors"].dump() : "");
        }
      });
    }

    interrupted.store(false);
    struct sigaction sa {
    }, old_int{}, old_term{};
    sa.sa_handler = OnDebugInterrupt;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);

    for (const auto give_up = steady_clock::now() + std::chrono::seconds(5);
         !log_settled.load() && !interrupted.load() && steady_clock::now() < give_up;) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    const auto start = steady_clock::now();
    const auto end = start + duration;
    auto next_poll = start, next_metrics = start;
    for (;;) {
      const auto now = steady_clock::now();
      if (interrupted.load() || now >= end) break;
      if (now >= next_poll) {
        next_poll += interval;
        if (wants("server-status")) PollServerStatus(*client);
        if (wants("host")) {
          if (auto data = ReadData(*client, "host", "/v1/sys/host-info")) {
            Collect("host_info.json", *data);
          }
        }
        if (wants("requests")) PollRequests(*client);
      }
      if (wants("metrics") && now >= next_metrics) {
        next_metrics += metrics_interval;
        auto r = client->Send("GET", "/v1/sys/metrics");
        if (!Failed("metrics", r)) Collect("metrics.json", r->body);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    sigaction(SIGINT, &old_int, nullptr);
    sigaction(SIGTERM, &old_term, nullptr);
    if (interrupted.load()) inv.err() << "Interrupted: writing what was captured so far\n";
    log_cancel.Cancel();
    if (log_thread.joinable()) log_thread.join();
    if (!log_error.empty()) Error("log", log_error);

    for (const auto& [file, entries] : collections_) {
      if (Status s = agent::AtomicWriteFile((dir / file).string(), entries.dump(2) + "\n", 0600);
          !s.ok()) {
        inv.err() << "Error: " << s.message() << "\n";
        return kExitLocal;
      }
    }
    Json files = Json::array();
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
      files.push_back(it->path().filename().string());
    }
    files.push_back("index.json");
    std::sort(files.begin(), files.end());
    index_["output"] = Json{{"files", files}};
    if (Status s =
            agent::AtomicWriteFile((dir / "index.json").string(), index_.dump(2) + "\n", 0600);
        !s.ok()) {
      inv.err() << "Error: " << s.message() << "\n";
      return kExitLocal;
    }
    fs::path result = dir;
    if (compress) {
      if (Status s = Compress(dir, archive_path); !s.ok()) {
        inv.err() << "Error: " << s.message() << " (the files are in " << dir.string() << ")\n";
        return kExitLocal;
      }
      fs::remove_all(dir, ec);
      result = archive_path;
    }
    inv.out() << "Success! Bundle written to: " << result.string() << " ("
              << index_["errors"].size() << " capture errors, listed in its index.json)\n";
    return 0;
  }

 private:
  static std::string Join(const std::vector<std::string>& v) {
    std::string out;
    for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
    return out;
  }

  void Error(std::string_view target, std::string message) {
    index_["errors"].push_back(
        Json{{"error", std::move(message)}, {"target", target}, {"timestamp", Now()}});
  }

  // Records a transport error or a non-2xx answer; true when `r` failed.
  bool Failed(std::string_view target, const Result<ApiResponse>& r) {
    if (!r) {
      Error(target, r.error().message());
      return true;
    }
    if (r->status < 200 || r->status >= 300) {
      std::string msg = "the server answered " + std::to_string(r->status);
      if (r->body.is_object() && r->body.contains("errors")) msg += ": " + r->body["errors"].dump();
      Error(target, msg);
      return true;
    }
    return false;
  }

  // The `data` of an answer, or nullopt (the error recorded).
  std::optional<Json> ReadData(ApiClient& client, std::string_view target, const char* path) {
    auto r = client.Send("GET", path);
    if (Failed(target, r)) return std::nullopt;
    if (!r->body.is_object() || !r->body.contains("data")) {
      Error(target, std::string("no data in the answer of ") + path);
      return std::nullopt;
    }
    return r->body["data"];
  }

  void PollServerStatus(ApiClient& client) {
    Json entry{{"timestamp", Now()}, {"health", nullptr}, {"seal", nullptr}};
    // sys/health answers 429, 472, 473, 501 or 503 with its body for
    // states other than active and unsealed: still the data wanted.
    if (auto r = client.Send("GET", "/v1/sys/health"); r && r->body.is_object()) {
      entry["health"] = r->body;
    } else {
      Failed("server-status.health", r);
    }
    if (auto r = client.Send("GET", "/v1/sys/seal-status"); !Failed("server-status.seal", r)) {
      entry["seal"] = r->body;
    }
    Collect("server_status.json", std::move(entry));
  }

  void PollRequests(ApiClient& client) {
    auto r = client.Send("GET", "/v1/sys/in-flight-req");
    if (Failed("requests", r)) return;
    Collect("requests.json", Json{{"timestamp", Now()}, {"in_flight_requests", r->body}});
  }

  void Collect(const std::string& file, Json entry) {
    Json& list = collections_[file];
    if (!list.is_array()) list = Json::array();
    list.push_back(std::move(entry));
  }

  std::vector<std::string> args_;
  std::string duration_ = "2m";
  std::string interval_ = "30s";
  std::string metrics_interval_ = "10s";
  std::string output_;
  std::optional<bool> compress_;
  std::vector<std::string> targets_;
  std::string log_format_ = "standard";
  Json index_;
  std::map<std::string, Json> collections_;  // file name → its entries
};

}  // namespace

void RegisterDebugCommands(Registry& registry) {
  registry.Add({"debug", "Capture information about a server into a bundle",
                "Usage: coffer debug [options]\n\n"
                "  Polls the server for -duration and writes what it saw into one bundle\n"
                "  (a .tar.gz, or a directory with -compress=false): its sanitized\n"
                "  configuration, host information, metrics, in-flight requests, health\n"
                "  and seal status, and its log for the run. A target the token may not\n"
                "  read is recorded in the bundle's index.json and skipped. Interrupting\n"
                "  the command writes what was captured so far.\n\n"
                "      $ coffer debug\n"
                "      $ coffer debug -duration=1m -interval=10s -compress=false\n"
                "      $ coffer debug -target=host -target=metrics",
                [] { return std::make_unique<DebugCommand>(); }});
}

}  // namespace coffer::cli
