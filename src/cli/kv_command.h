#pragma once
// The base of every `coffer kv ...` command: -mount, positional arguments,
// -field, and the resolved KvTarget. See kv.cc, kv_versions.cc, kv_metadata.cc.

#include <memory>
#include <string>
#include <vector>

#include "cli/command.h"
#include "cli/kv_path.h"

namespace coffer::cli {

class KvCommand : public Command {
 public:
  void AddFlags(CLI::App& app) override;

 protected:
  // Checks the arity (prints and returns false on error), makes the client
  // and resolves args_[0]. On failure prints the error; `*code` gets the
  // exit code.
  bool Begin(Invocation& inv, std::size_t min_args, std::size_t max_args, int* code);

  // What `kv put`, `kv patch` and `kv rollback` print for a write answer.
  int PrintWritten(Invocation& inv, const Json& secret, const std::string& path);

  // Reads `path` (a GET), treating a 404 without data as "nothing there"
  // (null). Errors print "Error reading PATH: ..." and set *code.
  bool Read(Invocation& inv, const std::string& path, Json* out, int* code);

  std::string mount_;
  std::string field_;
  std::vector<std::string> args_;
  std::unique_ptr<ApiClient> client_;
  KvTarget target_;
};

// "-versions=1,2 -versions=3" as integers. False (after printing) when one
// is not a non-negative integer.
bool ParseVersions(Invocation& inv, const std::vector<std::string>& raw, Json* out);

void RegisterKvVersionCommands(Registry& registry);
void RegisterKvMetadataCommands(Registry& registry);

}  // namespace coffer::cli
