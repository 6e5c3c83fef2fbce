#pragma once
// The process side of `coffer run`: the child's environment, exec, and the
// --watch supervisor that forwards signals, restarts or signals the child on
// a change, and ends the way the child ended.
//
// Secrets reach the child only through its environment (execve's envp); the
// strings holding them are wiped when a ChildSpec is destroyed.
//
// Thread-safety: Supervisor::Run must be called from the main thread (it
// installs signal handlers); Notify may be called from any thread and from
// a signal handler (it only write()s to a pipe).

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/secret_bytes.h"
#include "common/status.h"

namespace coffer::cli {

// What to execve: the resolved program path, argv and "NAME=value" envp.
class ChildSpec {
 public:
  ChildSpec() = default;
  ~ChildSpec();
  ChildSpec(ChildSpec&&) = default;
  ChildSpec& operator=(ChildSpec&&);
  ChildSpec(const ChildSpec&) = delete;
  ChildSpec& operator=(const ChildSpec&) = delete;

  std::string program;
  std::vector<std::string> argv;
  std::vector<std::string> envp;
};

// `command` as execvp would find it: a name with a slash is used as is,
// otherwise each directory of `path_env` is tried for an executable file.
// Errors: kNotFound "CMD: command not found", kPermissionDenied.
Result<std::string> FindExecutable(const std::string& command, std::string_view path_env);

// `base` ("NAME=value" strings, e.g. environ) with COFFER_TOKEN and
// VAULT_TOKEN removed, then `token` set as both when non-null, then the
// secrets added (replacing variables of the same name).
std::vector<std::string> BuildEnvironment(
    const std::vector<std::string>& base,
    const std::vector<std::pair<std::string, SecretBytes>>& secrets, const SecretBytes* token);

// This process's environment as strings.
std::vector<std::string> CurrentEnvironment();

// Replaces this process with the child. Returns only on failure, with the
// shell's exit code for it (126 not executable, 127 not found) after
// printing why on stderr.
int ExecChild(const ChildSpec& spec);

// Parses "SIGHUP", "HUP", "hup" or "1". nullopt for anything else.
std::optional<int> ParseSignal(std::string_view text);

class Supervisor {
 public:
  // Called on the main thread after a change notification; returns the
  // spec of the next child, or nullopt to keep the current one (the error
  // was reported by the callee).
  using Refresh = std::function<std::optional<ChildSpec>()>;

  struct Options {
    int reload_signal = 0;  // 0: restart on change; else send this signal
    int kill_timeout_ms = 10000;
  };

  Supervisor(Options options, Refresh refresh) : options_(options), refresh_(std::move(refresh)) {}

  // Starts the child and supervises it until it ends. Never returns when the
  // child was killed by a signal (the same signal is raised on this
  // process); otherwise returns the child's exit status. Returns 1 when the
  // pipe or the first fork fails.
  int Run(ChildSpec first);

  // A referenced secret changed or a lease could not be renewed: signal or
  // restart the child. Async-signal-safe; callable from any thread.
  static void Notify();

 private:
  Options options_;
  Refresh refresh_;
};

}  // namespace coffer::cli
