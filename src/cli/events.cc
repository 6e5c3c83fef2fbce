// The streaming commands:
//   `coffer events subscribe [-timeout=DUR] [-prefix=PATH] TYPE` prints the
//   events whose type matches TYPE (a glob: "kv-v2/*", "*"), one JSON object
//   per line as each arrives, as Vault's `events subscribe` does. The stream
//   is sys/events/subscribe/TYPE (Server-Sent Events, docs/events.md); the
//   server sends only events on paths the token may read.
//   `coffer monitor [-log-level=info] [-log-format=standard]` prints the
//   server's log lines as they are written (sys/monitor), as Vault's
//   `monitor` does.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cctype>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "cli/command_util.h"

namespace coffer::cli {
namespace {

// The server sends a keepalive every 15 s: three missed means it is gone.
constexpr std::chrono::seconds kIdleTimeout{45};

// The event type in the URL path: '/' and '*' as they are, the rest escaped.
std::string TypeInPath(std::string_view type) {
  std::string out;
  for (char c : type) {
    out += c == '/' || c == '*' ? std::string(1, c) : QueryEscape(std::string_view(&c, 1));
  }
  return out;
}

// Cancels a stream once `seconds` have passed, unless Done() comes first.
class Deadline {
 public:
  Deadline(long long seconds, StreamCanceller& canceller) {
    if (seconds <= 0) return;
    thread_ = std::thread([this, seconds, &canceller] {
      std::unique_lock lock(mu_);
      if (!cv_.wait_for(lock, std::chrono::seconds(seconds), [this] { return done_; })) {
        passed_ = true;
        canceller.Cancel();
      }
    });
  }
  ~Deadline() { Done(); }
  void Done() {
    {
      std::scoped_lock lock(mu_);
      done_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }
  bool passed() {
    std::scoped_lock lock(mu_);
    return passed_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;    // guarded by mu_
  bool passed_ = false;  // guarded by mu_
  std::thread thread_;
};

// Runs a stream until the server ends it, `seconds` pass (when > 0: exit 0)
// or it fails; prints why it ended on err() and returns the exit code.
int RunStream(Invocation& inv, ApiClient& client, const std::string& path,
              const StreamHandlers& handlers, std::chrono::milliseconds idle_timeout,
              long long seconds, std::string_view what) {
  StreamCanceller canceller;
  Deadline deadline(seconds, canceller);
  Result<HttpResponse> r = client.http().StreamEvents(path, handlers, idle_timeout, &canceller);
  deadline.Done();
  if (deadline.passed()) return 0;
  if (!r) {
    inv.err() << "Error reading the " << what << ": " << r.error().message() << "\n";
    return kExitServer;
  }
  if (r->status != 200) {
    ApiResponse answer{r->status, Json::parse(r->body, nullptr, false)};
    if (answer.body.is_discarded()) answer.body = Json();
    inv.err() << "Error starting the " << what << ": "
              << DescribeFailure(client, "GET", path, Result<ApiResponse>(std::move(answer)))
              << "\n";
    return kExitServer;
  }
  inv.err() << "The server ended the " << what
            << " (sealed, the token revoked or expired, or this client fell behind).\n";
  return kExitServer;
}

class EventsSubscribeCommand : public Command {
 public:
  void AddFlags(CLI::App& app) override {
    app.add_option("args", args_, "arguments");
    app.add_option("--timeout", timeout_,
                   "Stop after this long (e.g. 30s, 5m) and exit 0; default: run until "
                   "interrupted");
    app.add_option("--prefix", prefix_, "Only events whose path starts with this");
  }

  int Run(Invocation& inv) override {
    if (!ArityOk(inv, args_.size(), 1, 1)) return kExitLocal;
    if (args_[0].empty()) {
      inv.err() << "Error: the event type is empty (\"*\" matches every type)\n";
      return kExitLocal;
    }
    long long seconds = 0;
    if (!timeout_.empty()) {
      Result<long long> d = DurationSeconds(timeout_);
      if (!d || *d <= 0) {
        inv.err() << "Error: invalid -timeout \"" << timeout_ << "\": a positive duration "
                  << "such as 30s or 5m\n";
        return kExitLocal;
      }
      seconds = *d;
    }
    std::unique_ptr<ApiClient> client = ClientOrReport(inv);
    if (!client) return kExitServer;
    std::string path = "/v1/sys/events/subscribe/" + TypeInPath(args_[0]);
    if (!prefix_.empty()) path += "?prefix=" + QueryEscape(prefix_);

    StreamHandlers handlers;
    handlers.on_data = [&](std::string_view data) { inv.out() << data << "\n" << std::flush; };
    return RunStream(inv, *client, path, handlers, kIdleTimeout, seconds, "event stream");
  }

 private:
  std::vector<std::string> args_;
  std::string timeout_;
  std::string prefix_;
};

class MonitorCommand : public Command {
 public:
  void AddFlags(CLI::App& app) override {
    app.add_option("args", args_, "arguments");
    app.add_option("--log-level", level_, "trace, debug, info (default), warn or error");
    app.add_option("--log-format", format_, "standard (default) or json");
  }

  int Run(Invocation& inv) override {
    if (!ArityOk(inv, args_.size(), 0, 0)) return kExitLocal;
    for (std::string* v : {&level_, &format_}) {
      std::transform(v->begin(), v->end(), v->begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    }
    if (level_ != "trace" && level_ != "debug" && level_ != "info" && level_ != "warn" &&
        level_ != "error") {
      inv.err() << "Error: invalid -log-level \"" << level_
                << "\": trace, debug, info, warn or error\n";
      return kExitLocal;
    }
    if (format_ != "standard" && format_ != "json") {
      inv.err() << "Error: invalid -log-format \"" << format_ << "\": standard or json\n";
      return kExitLocal;
    }
    std::unique_ptr<ApiClient> client = ClientOrReport(inv);
    if (!client) return kExitServer;
    const std::string path = "/v1/sys/monitor?log_level=" + level_ + "&log_format=" + format_;
    StreamHandlers handlers;
    handlers.on_bytes = [&](std::string_view bytes) { inv.out() << bytes << std::flush; };
    // A quiet server sends nothing at all: no idle limit.
    return RunStream(inv, *client, path, handlers, std::chrono::hours(24 * 365), 0, "log stream");
  }

 private:
  std::vector<std::string> args_;
  std::string level_ = "info";
  std::string format_ = "standard";
};

}  // namespace

void RegisterEventsCommands(Registry& registry) {
  registry.Add(
      {"events", "Subscribe to change events", "Usage: coffer events <subcommand>", nullptr});
  registry.Add({"events subscribe", "Print change events as they happen, one JSON line each",
                "Usage: coffer events subscribe [options] TYPE\n\n"
                "  Prints every event whose type matches TYPE, a glob (\"kv-v2/*\", \"*\"),\n"
                "  one JSON object per line, until interrupted or -timeout passes. Only\n"
                "  events on paths the token may read are sent. Needs \"read\" on\n"
                "  sys/events/subscribe/TYPE.\n\n"
                "      $ coffer events subscribe 'kv-v2/*'\n"
                "      $ coffer events subscribe -prefix=secret/data/app -timeout=1m 'kv-v2/*'",
                [] { return std::make_unique<EventsSubscribeCommand>(); }});
  registry.Add({"monitor", "Stream the server's log lines",
                "Usage: coffer monitor [options]\n\n"
                "  Prints the server's log lines as they are written, at -log-level and\n"
                "  above (which may be more detailed than the server's own level), until\n"
                "  interrupted. Needs \"read\" on sys/monitor.\n\n"
                "      $ coffer monitor -log-level=debug",
                [] { return std::make_unique<MonitorCommand>(); }});
}

}  // namespace coffer::cli
