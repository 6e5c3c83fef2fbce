#pragma once
// Scanner: runs the rules over buffers, files and trees, then applies inline
// `coffer:ignore` comments and the allow-list. A tree is scanned by a pool of
// std::threads (hardware_concurrency by default) pulling files from a shared
// index; each thread reuses one read buffer. Findings come back sorted by
// path, line and column. A Scanner is immutable after construction and may be
// used from several threads.

#include <cstdint>
#include <filesystem>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "scan/allowlist.h"
#include "scan/finding.h"

namespace coffer::scan {

struct ScanOptions {
  std::uint64_t max_file_size = 10 * 1024 * 1024;
  unsigned threads = 0;  // 0: std::thread::hardware_concurrency()
  Allowlist allowlist;
};

class Scanner {
 public:
  explicit Scanner(ScanOptions options) : options_(std::move(options)) {}

  // The findings in one buffer; `path` is what findings report (and what
  // path allow-list entries are matched against, by the caller).
  std::vector<Finding> ScanBuffer(std::string_view path, std::string_view text) const;

  // A file or a directory tree. Errors: kNotFound when `root` does not exist;
  // unreadable files become warnings, not errors.
  Result<ScanReport> ScanPath(const std::filesystem::path& root) const;

  const ScanOptions& options() const { return options_; }

 private:
  ScanOptions options_;
};

}  // namespace coffer::scan
