#pragma once
// Supervisor: runs the exec child (Vault Agent's process-supervisor mode)
// with the agent's environment plus the rendered env_template variables.
// The values go into the child's environment only (never its argv), so they
// do not show in `ps`.
//
// Thread-safety: not thread-safe; the agent loop owns it.

#include <sys/types.h>

#include <chrono>
#include <map>
#include <optional>
#include <string>

#include "agent/config.h"
#include "common/status.h"

namespace coffer::agent {

class Supervisor {
 public:
  explicit Supervisor(ExecConfig config) : config_(std::move(config)) {}
  ~Supervisor();

  // Starts the child. kInternal when fork fails; a child whose exec fails
  // exits with 127.
  Status Start(const std::map<std::string, std::string>& env);

  // Reaps the child if it exited: its exit code (128+signal when killed).
  std::optional<int> Poll();

  // Sends `sig` to the child if running.
  void Signal(int sig);

  // Sends restart_stop_signal, waits up to `grace`, then SIGKILL; returns the
  // exit code (nullopt when no child was running).
  std::optional<int> Stop(std::chrono::milliseconds grace);

  bool running() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }
  const ExecConfig& config() const { return config_; }

 private:
  ExecConfig config_;
  pid_t pid_ = -1;
};

}  // namespace coffer::agent
