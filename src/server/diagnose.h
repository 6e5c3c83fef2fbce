#pragma once
// `coffer operator diagnose -config=FILE`: checks, without starting a
// server, what would stop one from starting or serving with that file, as
// Vault's command does: the operating system's limits, the file's syntax,
// the storage directory, each listener (its address free to bind, its TLS
// certificate and key loadable, matching and not expiring), the seal, and
// memory locking. Each check reports success, warning or failure with a
// message and, where it helps, advice; a parent takes the worst status of
// its children. Exit code: 0 all succeeded, 2 warnings, 1 a failure, 3 a
// usage error.

#include <string>
#include <vector>

#include "config/config.h"

namespace coffer::server {

struct DiagnoseResult {
  enum class Status { kSuccess, kWarning, kFailure, kSkipped };
  std::string name;
  Status status = Status::kSuccess;
  std::string message;
  std::string advice;
  std::vector<DiagnoseResult> children;
};

// Runs every check on the file at `config_path`; `skip` names checks not
// to run ("storage", "listener").
DiagnoseResult Diagnose(const std::string& config_path, const std::vector<std::string>& skip);

// The tree as the table format prints it, and as JSON.
std::string RenderDiagnoseTable(const DiagnoseResult& result);
std::string RenderDiagnoseJson(const DiagnoseResult& result);

// argv[1..2] are "operator diagnose". Returns the process exit code.
int RunDiagnose(int argc, char** argv);

}  // namespace coffer::server
