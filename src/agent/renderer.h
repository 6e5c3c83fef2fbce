#pragma once
// Renderer: renders the `template` blocks to their destinations and the
// `env_template` blocks to an environment for the exec child.
//
// A pass fetches every secret the templates name (once per pass, through the
// fetcher), renders, and writes a destination only when the content (or the
// mode) differs from the file on disk: atomically, with the configured perms.
// After a change it runs the template's `command` once with /bin/sh -c (the
// command line comes from the config, never from a secret; output goes to the
// agent's stdout/stderr; killed after 30 s).
//
// The pass also tells when to come back: the static secret interval, or the
// lease_renewal_threshold (2/3 by default) of the shortest lease among leased
// secrets (lease_id set), whichever is sooner; and the paths read, for
// matching change events.
//
// Errors are per template: a failed template keeps its previous file and is
// reported in PassResult::errors (messages name templates and paths, never
// values). Not thread-safe.

#include <chrono>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "agent/config.h"
#include "common/go_template.h"

namespace coffer::agent {

using go_template::Json;
using go_template::RenderOptions;
using go_template::SecretFetcher;
using go_template::Template;

struct PassResult {
  bool env_changed = false;  // the env_template values differ from the last pass
  bool env_ready = false;    // every env_template rendered
  int files_written = 0;
  std::vector<Status> errors;
  std::chrono::seconds next{300};
  std::set<std::string> paths;     // secret paths read in this pass
  bool permission_denied = false;  // some secret read answered 403
};

class Renderer {
 public:
  // Parses the templates. kInvalidArgument for a syntax error.
  static Result<std::unique_ptr<Renderer>> Create(const AgentConfig& config);
  ~Renderer();

  // `fetch` reads (or writes) one secret with the current token and returns
  // the whole answer envelope ({"data":..,"lease_id":..,...}).
  using RawFetcher = std::function<Result<Json>(const std::string& path, const Json& data)>;
  PassResult RenderAll(const RawFetcher& fetch);

  // The rendered env_template values (valid after a pass with env_ready).
  const std::map<std::string, std::string>& env() const { return env_; }

 private:
  struct Entry {
    TemplateConfig config;
    Template tmpl;
  };
  Renderer(std::chrono::seconds interval, double lease_threshold, std::vector<Entry> files,
           std::map<std::string, Entry> env)
      : interval_(interval),
        lease_threshold_(lease_threshold),
        files_(std::move(files)),
        env_templates_(std::move(env)) {}

  std::chrono::seconds interval_;
  double lease_threshold_;  // of a lease's duration, when it is read again
  std::vector<Entry> files_;
  std::map<std::string, Entry> env_templates_;
  std::map<std::string, std::string> env_;  // wiped in the destructor
};

// Runs `command` with /bin/sh -c, waits up to `timeout`; returns its exit
// status (128+signal when killed). kInternal when it could not start.
Result<int> RunShellCommand(const std::string& command, std::chrono::seconds timeout);

}  // namespace coffer::agent
