#pragma once
// The `coffer scan` command without its CLI plumbing, so that tests drive it
// directly: option handling, sources (tree, --git history, --staged), the
// allow-list, the report format, and the exit code:
//   0  no findings;  1  findings;  2  an error (bad option, unreadable path,
//   git failure, bad allow-list).
// Thread-safe: each call owns its state.

#include <cstdint>
#include <iosfwd>
#include <string>

#include "common/status.h"
#include "scan/finding.h"

namespace coffer::scan {

constexpr int kExitClean = 0;
constexpr int kExitFindings = 1;
constexpr int kExitError = 2;

struct RunOptions {
  std::string path = ".";
  std::string format = "text";   // text, json, sarif
  bool git = false;              // also the history of the repository at `path`
  bool staged = false;           // only what `git diff --cached` adds (pre-commit)
  std::string allowlist_file;    // empty: <path>/.cofferignore when present
  std::string max_size = "10M";  // bytes, or with a K/M/G suffix
  unsigned threads = 0;          // 0: one per hardware thread
  std::string version = "0.1.0";
};

// Scans, writes the report to `out` and problems to `err`, and returns the
// exit code. When `report` is not null it receives the findings (with their
// secrets, for --import).
int RunScan(const RunOptions& options, std::ostream& out, std::ostream& err,
            ScanReport* report = nullptr);

// "10M" -> 10485760. Errors: kInvalidArgument.
Result<std::uint64_t> ParseSize(std::string_view text);

}  // namespace coffer::scan
