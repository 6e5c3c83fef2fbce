// `coffer run [flags] -- CMD ARGS...`: resolves secrets and runs CMD with
// them as environment variables. Without --watch it execve()s CMD (the
// child's exit code and signals are its own); with --watch it stays as a
// supervisor (run_process.h) and a watcher thread (run_watch.h) restarts or
// signals the child when a referenced secret changes. See docs/run.md.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <charconv>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>

#include "cli/command_util.h"
#include "cli/run_auth.h"
#include "cli/run_config.h"
#include "cli/run_process.h"
#include "cli/run_resolve.h"
#include "cli/run_watch.h"

namespace coffer::cli {
namespace {

// "500ms", "2s", "1m", or a plain number of milliseconds.
std::optional<long long> ParseMillis(std::string_view text) {
  long long factor = 1;
  if (text.ends_with("ms")) {
    text.remove_suffix(2);
  } else if (text.ends_with("s")) {
    text.remove_suffix(1);
    factor = 1000;
  } else if (text.ends_with("m")) {
    text.remove_suffix(1);
    factor = 60000;
  }
  long long value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < 0) return std::nullopt;
  return value * factor;
}

class RunCommand : public Command {
 public:
  void AddFlags(CLI::App& app) override {
    app.add_option("--secret", secret_flags_,
                   "NAME=mount/path#field: set NAME to one field of a secret (repeatable)");
    app.add_option("--path", path_flags_,
                   "Every field of the secret at this path, as PREFIX + FIELD upper-cased "
                   "(repeatable)");
    app.add_option("--prefix", prefix_, "Prefix of the variables made by --path");
    app.add_option("--config", config_,
                   "Project file (default: .coffer.hcl or .coffer.yaml in the current directory)");
    app.add_option("--env", env_name_, "Environment of the project file (default: default_env)");
    app.add_option("--role-id-file", auth_.role_id_file, "Log in with AppRole: the role ID file");
    app.add_option("--secret-id-file", auth_.secret_id_file, "AppRole: the secret ID file");
    app.add_option("--approle-mount", auth_.approle_mount, "AppRole mount (default: approle)");
    app.add_option("--jwt-file", auth_.jwt_file,
                   "Log in with a JWT read from this file (e.g. the CI job's OIDC token)");
    app.add_option("--jwt-role", auth_.jwt_role, "JWT role (default: the mount's default_role)");
    app.add_option("--jwt-mount", auth_.jwt_mount, "JWT mount (default: jwt)");
    app.add_flag("--pass-token", pass_token_,
                 "Give the child the token as COFFER_TOKEN and VAULT_TOKEN (default: removed)");
    app.add_flag("--watch", watch_,
                 "Stay as a supervisor; restart (or signal) the child when a secret changes");
    app.add_option("--watch-interval", interval_,
                   "How often --watch polls when change events are not available, and for "
                   "secrets that publish none (default: 500ms)");
    app.add_option("--signal", signal_,
                   "With --watch: send this signal on a change instead of restarting");
    app.add_flag("--restart", restart_, "With --watch: restart the child on a change (default)");
    app.add_option("--kill-timeout", kill_timeout_,
                   "With --watch: how long a restarted child may take to exit after SIGTERM "
                   "before SIGKILL (default: 10s)");
    // Everything from the first positional argument (or after --) is the
    // command, taken verbatim: its own flags must not reach CLI11.
    app.prefix_command();
    app.footer("CMD [ARGS...]: the command to run, after --");
    app_ = &app;
  }

  int Run(Invocation& inv) override {
    command_ = app_->remaining();
    if (!command_.empty() && command_.front() == "--") {
      command_.erase(command_.begin());
    } else if (!command_.empty() && command_.front().starts_with("-")) {
      // CLI11 ends the flags at the first argument it does not know, so a
      // mistyped flag would otherwise be run as the command.
      inv.err() << "coffer run: unknown flag " << command_.front()
                << " (the command goes after --: coffer run [flags] -- CMD [ARGS...])\n";
      return kExitLocal;
    }
    if (command_.empty()) {
      inv.err() << "coffer run: no command given: coffer run [flags] -- CMD [ARGS...]\n";
      return kExitLocal;
    }
    Supervisor::Options sup;
    std::optional<long long> interval = ParseMillis(interval_);
    std::optional<long long> kill_timeout = ParseMillis(kill_timeout_);
    constexpr long long kMaxKillTimeoutMs = 24LL * 3600 * 1000;
    if (!interval || *interval < 50 || !kill_timeout || *kill_timeout > kMaxKillTimeoutMs) {
      inv.err() << "coffer run: invalid --watch-interval or --kill-timeout (e.g. 500ms, 2s; "
                   "the interval is at least 50ms, the kill timeout at most 24h)\n";
      return kExitLocal;
    }
    sup.kill_timeout_ms = static_cast<int>(*kill_timeout);
    if (!signal_.empty()) {
      std::optional<int> sig = ParseSignal(signal_);
      if (!sig) {
        inv.err() << "coffer run: unknown signal \"" << signal_ << "\"\n";
        return kExitLocal;
      }
      if (restart_) {
        inv.err() << "coffer run: --signal and --restart exclude each other\n";
        return kExitLocal;
      }
      sup.reload_signal = *sig;
    }
    Result<RunSpec> spec = BuildSpec(inv);
    if (!spec) {
      inv.err() << "coffer run: " << spec.error().message() << "\n";
      return kExitLocal;
    }
    const char* path_env = std::getenv("PATH");
    Result<std::string> program =
        FindExecutable(command_[0], path_env != nullptr ? path_env : "/usr/bin:/bin");
    if (!program) {
      inv.err() << "coffer run: " << program.error().message() << "\n";
      return program.error().code() == Code::kNotFound ? 127 : 126;
    }

    Result<RunLogin> login = PrepareLogin(inv.env, auth_);
    if (!login) {
      inv.err() << "coffer run: " << login.error().message() << "\n";
      return kExitLocal;
    }
    std::unique_ptr<ApiClient> client = ClientOrReport(inv);
    if (!client) return kExitServer;
    Result<RunToken> token = Authenticate(std::move(*login), *client);
    if (!token) {
      inv.err() << "coffer run: " << token.error().message() << "\n";
      return kExitServer;
    }
    SecretResolver resolver(*client);
    std::optional<ChildSpec> first = MakeChild(inv, resolver, *spec, *program, token->token);
    if (!first) return kExitServer;
    if (!watch_) {
      client.reset();  // closes nothing that matters, but holds no token copy
      return ExecChild(*first);
    }

    Result<std::unique_ptr<ApiClient>> watch_client = inv.Client();
    if (!watch_client) {
      inv.err() << "coffer run: " << watch_client.error().message() << "\n";
      return kExitLocal;
    }
    (*watch_client)->SetToken(token->token.Clone());
    Result<std::unique_ptr<ApiClient>> stream_client = inv.Client();
    if (!stream_client) {
      inv.err() << "coffer run: " << stream_client.error().message() << "\n";
      return kExitLocal;
    }
    (*stream_client)->SetToken(token->token.Clone());
    ChangeWatcher::Options wopts;
    wopts.interval = std::chrono::milliseconds(*interval);
    wopts.token_ttl_seconds = token->ttl_seconds;
    wopts.token_renewable = token->renewable;
    auto watcher = std::make_unique<ChangeWatcher>(
        std::move(*watch_client), std::move(*stream_client), wopts, [] { Supervisor::Notify(); });
    watcher->SetTargets(std::move(last_targets_), std::move(last_leases_));
    watcher->Start();
    Supervisor supervisor(sup, [&]() -> std::optional<ChildSpec> {
      std::optional<ChildSpec> next = MakeChild(inv, resolver, *spec, *program, token->token);
      if (next) {
        watcher->SetTargets(std::move(last_targets_), std::move(last_leases_));
      } else {
        inv.err() << "coffer run: keeping the running process\n";
      }
      inv.err().flush();
      return next;
    });
    int code = supervisor.Run(std::move(*first));
    // The watcher may be inside an HTTP request; do not wait for it.
    inv.out().flush();
    inv.err().flush();
    std::cout.flush();
    std::cerr.flush();
    std::fflush(nullptr);
    _exit(code);
  }

 private:
  // The mappings from the flags and, when asked for or when no flag gave
  // any, from the project file.
  Result<RunSpec> BuildSpec(Invocation& inv) {
    (void)inv;
    RunSpec spec;
    bool from_flags = !secret_flags_.empty() || !path_flags_.empty();
    if (!config_.empty() || !env_name_.empty() || !from_flags) {
      std::string file = config_;
      if (file.empty()) {
        for (const char* name : {".coffer.hcl", ".coffer.yaml", ".coffer.yml"}) {
          std::error_code ec;
          if (!std::filesystem::exists(name, ec)) continue;
          if (!file.empty()) {
            return Err(InvalidArgument("both " + file + " and " + name +
                                       " exist; choose one with --config"));
          }
          file = name;
        }
      }
      if (file.empty() && (!env_name_.empty() || !from_flags)) {
        return Err(InvalidArgument(
            "nothing to inject: give --secret NAME=path#field, --path PATH, or a project file "
            "(.coffer.hcl or .coffer.yaml here, or --config FILE)"));
      }
      if (!file.empty()) {
        std::ifstream in(file, std::ios::binary);
        if (!in) return Err(InvalidArgument("cannot read the project file \"" + file + "\""));
        std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        ProjectFormat format = file.ends_with(".yaml") || file.ends_with(".yml")
                                   ? ProjectFormat::kYaml
                                   : ProjectFormat::kHcl;
        ASSIGN_OR_RETURN(spec, ParseProjectFile(text, format, env_name_, file));
      }
    }
    for (const std::string& flag : path_flags_) {
      std::string path = SanitizePath(flag);
      if (path.empty()) return Err(InvalidArgument("--path needs a path"));
      spec.paths.push_back({path, prefix_});
    }
    if (!prefix_.empty() && !IsValidEnvName(prefix_)) {
      return Err(
          InvalidArgument("--prefix \"" + prefix_ + "\" is not a valid variable name start"));
    }
    for (const std::string& flag : secret_flags_) {
      ASSIGN_OR_RETURN(EnvMapping m, ParseSecretFlag(flag));
      std::erase_if(spec.secrets, [&](const EnvMapping& e) { return e.name == m.name; });
      spec.secrets.push_back(std::move(m));
    }
    if (spec.empty()) return Err(InvalidArgument("the project file maps no secrets"));
    return spec;
  }

  // Reads the secrets and builds the child's spec; nullopt after printing
  // why (a missing reference is named, a value never).
  std::optional<ChildSpec> MakeChild(Invocation& inv, SecretResolver& resolver, const RunSpec& spec,
                                     const std::string& program, const SecretBytes& token) {
    Result<ResolvedSecrets> secrets = resolver.Resolve(spec);
    if (!secrets) {
      inv.err() << "coffer run: " << Redact(secrets.error().message(), token.view()) << "\n";
      return std::nullopt;
    }
    ChildSpec child;
    child.program = program;
    child.argv = command_;
    child.envp =
        BuildEnvironment(CurrentEnvironment(), secrets->env, pass_token_ ? &token : nullptr);
    last_targets_ = std::move(secrets->targets);
    last_leases_ = std::move(secrets->leases);
    return child;
  }

  std::vector<std::string> secret_flags_;
  std::vector<std::string> path_flags_;
  std::string prefix_;
  std::string config_;
  std::string env_name_;
  RunAuthOptions auth_;
  bool pass_token_ = false;
  bool watch_ = false;
  bool restart_ = false;
  std::string interval_ = "500ms";
  std::string signal_;
  std::string kill_timeout_ = "10s";
  std::vector<std::string> command_;
  CLI::App* app_ = nullptr;  // the parser, which outlives Run
  std::vector<WatchTarget> last_targets_;
  std::vector<Lease> last_leases_;
};

}  // namespace

void RegisterRunCommand(Registry& registry) {
  registry.Add({"run", "Run a command with secrets as environment variables",
                "Usage: coffer run [options] -- CMD [ARGS...]\n\n"
                "  Reads secrets and runs CMD with them added to its environment. Values\n"
                "  never appear on a command line or on disk, and are never printed.\n\n"
                "      $ coffer run --secret DB_PASSWORD=secret/data/app#password -- ./serve\n"
                "      $ coffer run --path secret/app --prefix APP_ -- env\n"
                "      $ coffer run --env prod -- ./deploy.sh     # mappings from .coffer.hcl\n"
                "      $ coffer run --jwt-file $CI_JOB_JWT_FILE --jwt-role deploy -- ./deploy.sh\n"
                "      $ coffer run --watch --signal SIGHUP --path secret/app -- ./server\n\n"
                "  See docs/run.md for the project file, authentication and --watch.",
                [] { return std::make_unique<RunCommand>(); }});
}

}  // namespace coffer::cli
