#include "agent/agent.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>

#include "agent/auth.h"
#include "agent/change_events.h"
#include "agent/files.h"
#include "agent/renderer.h"
#include "agent/supervisor.h"
#include "common/log.h"

namespace coffer::agent {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using std::chrono::seconds;

std::atomic<int> g_pending_signals{0};  // bit per signal number

void OnSignal(int sig) { g_pending_signals.fetch_or(1 << sig); }

constexpr int kForwarded[] = {SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGUSR2};

// When to renew a token or lease granted for `ttl`: at two thirds of it,
// less a second — the server counts expiry in whole seconds, so a token may
// end up to a second before `ttl` says — but never before a third of it.
milliseconds RenewDelay(seconds ttl) {
  const milliseconds full = std::chrono::duration_cast<milliseconds>(ttl);
  return std::max({milliseconds(300), full / 3, full * 2 / 3 - milliseconds(1000)});
}

}  // namespace

struct Agent::State {
  AgentConfig config;
  Transport* transport;  // owned by client
  Client client;
  AutoAuth auth;
  std::unique_ptr<Renderer> renderer;
  std::unique_ptr<Supervisor> supervisor;

  SecretBytes token;
  seconds granted_ttl{0};
  Clock::time_point expires_at{};
  std::optional<Clock::time_point> renew_at;
  std::optional<Clock::time_point> relogin_at;
  Clock::time_point next_login_try{};
  milliseconds login_backoff{1000};
  milliseconds renew_backoff{1000};

  bool render_needed = false;
  Clock::time_point next_render{};
  milliseconds render_backoff{1000};
  bool child_started = false;
  // The child could not be started (its output files, fork): the agent
  // exits 1 rather than run on without it.
  bool child_start_failed = false;

  // Change events (see StartEvents): the secret paths the last render pass
  // read, and what the subscriber thread reported since the last look.
  std::set<std::string> watched_paths;
  std::mutex events_mu;
  std::condition_variable events_cv;    // wakes the loop's pause on an event
  SecretBytes stream_token;             // guarded by events_mu
  std::set<std::string> changed_paths;  // guarded by events_mu
  bool events_reopened = false;         // guarded by events_mu
  // Last, so that it stops before the members its thread uses go away.
  std::unique_ptr<ChangeSubscriber> events;

  State(AgentConfig c, std::unique_ptr<Transport> t)
      : config(std::move(c)),
        transport(t.get()),
        client(std::move(t)),
        auth(config.method.value_or(AuthMethodConfig{}), config.sinks, client) {}

  bool HasWork() const { return !config.templates.empty() || config.exec.has_value(); }

  void DropToken(std::string_view why) {
    Log(LogModule::kAgent).warn("{}; logging in again", why);
    token.Clear();
    renew_at.reset();
    relogin_at.reset();
    next_login_try = Clock::now();
  }

  // Returns false when the agent should exit (exit_after_auth).
  bool Login() {
    Clock::time_point now = Clock::now();
    Result<LoginResult> r = auth.Login();
    if (!r) {
      Log(LogModule::kAgent)
          .error("login with {} failed: {} (retrying in {} ms)", config.method->type,
                 r.error().message(), login_backoff.count());
      next_login_try = now + login_backoff;
      login_backoff = std::min(login_backoff * 2, milliseconds(30000));
      return true;
    }
    login_backoff = milliseconds(1000);
    token = std::move(r->token);
    granted_ttl = r->ttl;
    renew_at.reset();
    relogin_at.reset();
    if (r->ttl.count() > 0) {
      expires_at = now + r->ttl;
      if (r->renewable) {
        renew_at = now + RenewDelay(r->ttl);
      } else {
        relogin_at = now + RenewDelay(r->ttl);
      }
    }
    Log(LogModule::kAgent)
        .info("authenticated with {} (ttl {}s, renewable {})", config.method->type, r->ttl.count(),
              r->renewable);
    auth.WriteSinks(token).IgnoreError();  // logged per sink
    render_needed = true;
    if (!config.exit_after_auth) StartEvents();
    return !config.exit_after_auth;
  }

  // Subscribes to KV change events with the current token (again after
  // each login), so that a write re-renders at once; the render interval
  // stays as the safety net and the fallback when the server refuses.
  void StartEvents() {
    if (!HasWork()) return;
    {
      std::scoped_lock lock(events_mu);
      stream_token = token.Clone();
    }
    if (events) {
      events->Reconnect();
      return;
    }
    ChangeSubscriber::Options options;
    options.log = [](const std::string& m) { Log(LogModule::kAgent).info("{}", m); };
    ChangeSubscriber::Callbacks callbacks;
    callbacks.on_open = [this] {
      std::scoped_lock lock(events_mu);
      events_reopened = true;
      events_cv.notify_all();
    };
    callbacks.on_change = [this](const std::string& path) {
      std::scoped_lock lock(events_mu);
      changed_paths.insert(path);
      events_cv.notify_all();
    };
    events = std::make_unique<ChangeSubscriber>(
        std::move(options),
        [this](const std::string& path, const std::function<void()>& on_open,
               const std::function<void(std::string_view)>& on_record) -> Result<int> {
          SecretBytes t;
          {
            std::scoped_lock lock(events_mu);
            t = stream_token.Clone();
          }
          return transport->StreamEvents(path, t, on_open, on_record);
        },
        [this] { transport->CancelStream(); }, [this] { transport->ResetStream(); },
        std::move(callbacks));
    events->Start();
  }

  // The loop's pause: 50 ms, cut short by an event.
  void Pause() {
    std::unique_lock lock(events_mu);
    events_cv.wait_for(lock, milliseconds(50),
                       [this] { return events_reopened || !changed_paths.empty(); });
  }

  // Turns what the subscriber saw into a render: after the stream
  // (re)opened (writes made while it was down were missed) or when a path
  // the templates read changed.
  void TakeEvents() {
    std::set<std::string> changed;
    bool reopened = false;
    {
      std::scoped_lock lock(events_mu);
      changed.swap(changed_paths);
      reopened = std::exchange(events_reopened, false);
    }
    if (reopened) render_needed = true;
    for (const std::string& p : changed) {
      if (watched_paths.contains(p)) {
        Log(LogModule::kAgent).debug("change event for {}; rendering", p);
        render_needed = true;
      } else {
        Log(LogModule::kAgent).debug("change event for {} (no template reads it)", p);
      }
    }
  }

  void Renew() {
    Clock::time_point now = Clock::now();
    Result<nlohmann::json> r = client.Call("PUT", "auth/token/renew-self", "{}", token);
    if (!r) {
      Code code = r.error().code();
      if (code == Code::kPermissionDenied || code == Code::kInvalidArgument) {
        DropToken("token renewal refused (" + r.error().message() + ")");
        return;
      }
      if (now >= expires_at) {
        DropToken("token expired while the server was unreachable");
        return;
      }
      Log(LogModule::kAgent)
          .warn("token renewal failed: {} (retrying in {} ms)", r.error().message(),
                renew_backoff.count());
      renew_at = std::min(now + renew_backoff, expires_at);
      renew_backoff = std::min(renew_backoff * 2, milliseconds(30000));
      return;
    }
    renew_backoff = milliseconds(1000);
    Result<LoginResult> a = ParseAuth(*r);
    if (!a) {
      DropToken("token renewal answered without auth");
      return;
    }
    a->token.Clear();
    expires_at = now + a->ttl;
    if (!a->renewable || a->ttl < granted_ttl) {
      // Capped by the max TTL (or no longer renewable): get a new token
      // before this one ends.
      renew_at.reset();
      // The server counts TTLs in whole seconds, so the token may end up to
      // a second before `ttl` says: log in again with that margin.
      relogin_at = std::max(
          now, now + std::chrono::duration_cast<milliseconds>(a->ttl) * 2 / 3 - milliseconds(1000));
      Log(LogModule::kAgent)
          .info("token near its max TTL ({}s left); will log in again", a->ttl.count());
    } else {
      renew_at = now + RenewDelay(a->ttl);
      Log(LogModule::kAgent).info("token renewed (ttl {}s)", a->ttl.count());
    }
  }

  Result<Json> Fetch(const std::string& path, const Json& data) {
    std::string p = path;
    while (!p.empty() && p.front() == '/') p.erase(0, 1);
    if (data.is_null()) return client.Call("GET", p, "", token);
    return client.Call("PUT", p, data.dump(), token);
  }

  void Render() {
    Clock::time_point now = Clock::now();
    render_needed = false;
    PassResult pass =
        renderer->RenderAll([this](const std::string& p, const Json& d) { return Fetch(p, d); });
    for (const Status& e : pass.errors) Log(LogModule::kAgent).error("template: {}", e.message());
    watched_paths.clear();
    for (const std::string& p : pass.paths) watched_paths.insert(NormalizeSecretPath(p));
    Log(LogModule::kAgent)
        .debug("render pass done ({} written, {} errors)", pass.files_written, pass.errors.size());
    if (pass.errors.empty()) {
      render_backoff = milliseconds(1000);
      next_render = now + pass.next;
    } else {
      next_render = now + std::min<milliseconds>(render_backoff, pass.next);
      render_backoff = std::min(render_backoff * 2, milliseconds(30000));
    }
    if (pass.permission_denied) {
      Result<nlohmann::json> self = client.Call("GET", "auth/token/lookup-self", "", token);
      if (!self && (self.error().code() == Code::kPermissionDenied ||
                    self.error().code() == Code::kInvalidArgument)) {
        DropToken("the server no longer knows the token");
      }
    }
    if (!supervisor || !pass.env_ready) return;
    if (!child_started) {
      Status st = supervisor->Start(renderer->env());
      if (!st.ok()) {
        Log(LogModule::kAgent).error("exec: {}", st.message());
        child_start_failed = true;
      }
      child_started = true;
    } else if (pass.env_changed && supervisor->config().restart_on_secret_changes &&
               supervisor->running()) {
      Log(LogModule::kAgent).info("secrets changed; restarting the child");
      supervisor->Stop(seconds(30));
      Status st = supervisor->Start(renderer->env());
      if (!st.ok()) {
        Log(LogModule::kAgent).error("exec: {}", st.message());
        child_start_failed = true;
      }
    }
  }
};

Agent::Agent(std::unique_ptr<State> state) : state_(std::move(state)) {}
Agent::~Agent() = default;

Result<std::unique_ptr<Agent>> Agent::Create(AgentConfig config,
                                             std::unique_ptr<Transport> transport) {
  if (!config.method) return Err(InvalidArgument("auto_auth with a method is required"));
  auto state = std::make_unique<State>(std::move(config), std::move(transport));
  ASSIGN_OR_RETURN(state->renderer, Renderer::Create(state->config));
  if (state->config.exec) state->supervisor = std::make_unique<Supervisor>(*state->config.exec);
  return std::unique_ptr<Agent>(new Agent(std::move(state)));
}

int Agent::Run() {
  State& s = *state_;
  if (!s.config.pid_file.empty()) {
    // Replaced, not written through: a symbolic link planted at the path
    // cannot make the agent truncate the file it points to.
    Status written = AtomicWriteFile(s.config.pid_file, std::to_string(::getpid()) + "\n", 0644);
    if (!written.ok()) {
      Log(LogModule::kAgent).error("cannot write pid file: {}", written.ToString());
    }
  }
  struct sigaction sa {};
  sa.sa_handler = OnSignal;
  sigemptyset(&sa.sa_mask);
  for (int sig : kForwarded) ::sigaction(sig, &sa, nullptr);
  ::signal(SIGPIPE, SIG_IGN);

  auto finish = [&](int code) {
    if (s.events) s.events->Stop();
    if (s.supervisor) s.supervisor->Stop(seconds(10));
    if (!s.config.pid_file.empty()) ::unlink(s.config.pid_file.c_str());
    return code;
  };

  bool stopping = false;
  while (true) {
    int pending = g_pending_signals.exchange(0);
    for (int sig : kForwarded) {
      if ((pending & (1 << sig)) == 0) continue;
      bool terminate = sig == SIGTERM || sig == SIGINT;
      if (s.supervisor && s.supervisor->running()) {
        s.supervisor->Signal(sig);
        stopping = stopping || terminate;
      } else if (terminate) {
        Log(LogModule::kAgent).info("stopping on signal {}", sig);
        return finish(0);
      }
    }
    if (s.child_start_failed) return finish(1);
    if (s.supervisor && s.child_started) {
      if (std::optional<int> rc = s.supervisor->Poll()) {
        Log(LogModule::kAgent).info("child exited with {}", *rc);
        return finish(*rc);
      }
      if (stopping) {
        std::this_thread::sleep_for(milliseconds(20));
        continue;
      }
    }
    Clock::time_point now = Clock::now();
    if ((s.token.empty() && now >= s.next_login_try) || (s.relogin_at && now >= *s.relogin_at)) {
      if (!s.Login()) return finish(0);
    } else if (!s.token.empty() && s.renew_at && now >= *s.renew_at) {
      s.Renew();
    }
    if (s.events) s.TakeEvents();
    if (!s.token.empty() && s.HasWork() && (s.render_needed || Clock::now() >= s.next_render)) {
      s.Render();
    }
    s.Pause();
  }
}

}  // namespace coffer::agent
