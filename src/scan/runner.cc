#include "scan/runner.h"

#include <filesystem>
#include <ostream>

#include "scan/git.h"
#include "scan/report.h"
#include "scan/scanner.h"

namespace coffer::scan {

Result<std::uint64_t> ParseSize(std::string_view text) {
  if (text.empty()) return Err(InvalidArgument("empty size"));
  std::uint64_t mult = 1;
  char last = text.back();
  if (last == 'K' || last == 'k') mult = 1024;
  if (last == 'M' || last == 'm') mult = 1024 * 1024;
  if (last == 'G' || last == 'g') mult = 1024ull * 1024 * 1024;
  std::string_view digits = mult == 1 ? text : text.substr(0, text.size() - 1);
  if (digits.empty() || digits.size() > 12 ||
      digits.find_first_not_of("0123456789") != std::string_view::npos) {
    return Err(InvalidArgument("invalid size \"" + std::string(text) + "\" (e.g. 10M, 512K)"));
  }
  return std::stoull(std::string(digits)) * mult;
}

int RunScan(const RunOptions& options, std::ostream& out, std::ostream& err, ScanReport* result) {
  namespace fs = std::filesystem;
  if (options.format != "text" && options.format != "json" && options.format != "sarif") {
    err << "Invalid format \"" << options.format << "\": text, json or sarif\n";
    return kExitError;
  }
  Result<std::uint64_t> max_size = ParseSize(options.max_size);
  if (!max_size) {
    err << max_size.error().message() << "\n";
    return kExitError;
  }
  ScanOptions scan_options;
  scan_options.max_file_size = *max_size;
  scan_options.threads = options.threads;
  std::error_code ec;
  const bool is_dir = fs::is_directory(options.path, ec);
  std::string allowlist_file = options.allowlist_file;
  if (allowlist_file.empty() && is_dir && fs::exists(fs::path(options.path) / ".cofferignore")) {
    allowlist_file = (fs::path(options.path) / ".cofferignore").string();
  }
  if (!allowlist_file.empty()) {
    Result<Allowlist> list = Allowlist::Load(allowlist_file);
    if (!list) {
      err << "Error: " << list.error().message() << "\n";
      return kExitError;
    }
    scan_options.allowlist = std::move(*list);
  }
  Scanner scanner(std::move(scan_options));

  ScanReport report;
  if (options.staged) {
    if (Status s = ScanStaged(scanner, options.path, report); !s.ok()) {
      err << "Error: " << s.message() << "\n";
      return kExitError;
    }
  } else {
    Result<ScanReport> tree = scanner.ScanPath(options.path);
    if (!tree) {
      err << "Error: " << tree.error().message() << "\n";
      return kExitError;
    }
    report = std::move(*tree);
    if (options.git) {
      if (Status s = ScanGitHistory(scanner, options.path, report); !s.ok()) {
        err << "Error: " << s.message() << "\n";
        return kExitError;
      }
    }
  }
  for (const std::string& w : report.warnings) err << "Warning: " << w << "\n";

  if (options.format == "json") {
    out << FormatJson(report);
  } else if (options.format == "sarif") {
    out << FormatSarif(report, options.version);
  } else {
    out << FormatText(report);
    err << report.findings.size() << " finding(s) in " << report.stats.files_scanned << " file(s)";
    if (report.stats.commits_scanned > 0)
      err << " and " << report.stats.commits_scanned << " commit(s)";
    err << "\n";
  }
  int code = report.findings.empty() ? kExitClean : kExitFindings;
  if (result != nullptr) *result = std::move(report);
  return code;
}

}  // namespace coffer::scan
