#pragma once
// One secret found by `coffer scan`, and the totals of a scan.

#include <cstdint>
#include <string>
#include <vector>

#include "common/secret_bytes.h"
#include "scan/rules.h"

namespace coffer::scan {

struct Finding {
  RuleId rule = RuleId::kGenericAssignment;
  std::string path;    // relative to the scanned root, '/' separated
  int line = 0;        // 1-based
  int column = 0;      // 1-based, in bytes
  std::string commit;  // git history findings: the commit that added it
  std::string key;     // the assignment's key (generic, AWS secret); else empty
  // The matched text. Kept for --import; never printed: reports show Redacted().
  SecretBytes secret;
  // Hex; SHA-256 over rule id, path and secret, truncated to 128 bits. Stable
  // when lines move, so an allow-list entry survives edits around it.
  std::string fingerprint;

  // The first 4 characters followed by "…".
  std::string Redacted() const;
};

struct ScanStats {
  std::uint64_t files_scanned = 0;
  std::uint64_t bytes_scanned = 0;
  std::uint64_t skipped_binary = 0;
  std::uint64_t skipped_large = 0;
  std::uint64_t commits_scanned = 0;
};

struct ScanReport {
  std::vector<Finding> findings;
  ScanStats stats;
  std::vector<std::string> warnings;  // unreadable files; never secret values
};

// "rule:path:secret" -> hex fingerprint, as Finding::fingerprint.
std::string Fingerprint(RuleId rule, std::string_view path, std::string_view secret);

}  // namespace coffer::scan
