#pragma once
// Agent: the `coffer agent` main loop. One thread drives everything:
//   - auto-auth: log in (backoff 1 s .. 30 s while it fails), write the sinks,
//     renew the token (auth/token/renew-self) at 2/3 of its TTL, log in again
//     when renewal is refused, when the token stops being renewable or its
//     max TTL caps the renewal, and when the server says the token is unknown;
//   - templates: a render pass right after each login, then every
//     static_secret_render_interval (sooner for leased secrets, see
//     renderer.h), retried with backoff after errors; and at once when a
//     KV change event names a path the last pass read, or the event stream
//     (re)opens (a ChangeSubscriber thread, change_events.h; without it, or
//     when the server refuses it, only the intervals apply);
//   - exec: starts the child once the env_templates rendered, restarts it
//     when they change (restart_on_secret_changes = "always"), forwards
//     SIGTERM/SIGINT/SIGHUP/SIGUSR1/SIGUSR2 to it, and exits with its code.
// Without exec, SIGTERM or SIGINT stop the agent (exit 0).
//
// Run() installs signal handlers for the process; one Agent per process.
// Logs (spdlog) name paths, TTLs and error codes, never tokens or values.

#include <memory>

#include "agent/client.h"
#include "agent/config.h"

namespace coffer::agent {

class Agent {
 public:
  // kInvalidArgument for template syntax errors.
  static Result<std::unique_ptr<Agent>> Create(AgentConfig config,
                                               std::unique_ptr<Transport> transport);
  ~Agent();

  // Runs until stopped; returns the process exit code.
  int Run();

 private:
  struct State;
  explicit Agent(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace coffer::agent
