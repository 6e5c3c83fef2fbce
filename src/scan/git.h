#pragma once
// Git sources for `coffer scan`, through the git CLI (streamed from a pipe,
// never a whole history in memory):
//   history: `git log -p --all -U0` — every line a commit added, attributed
//            to the commit, the file and its line in that commit;
//   staged:  `git diff --cached -U0` — what the next commit would add (the
//            pre-commit hook's scan).
// InstallHook writes .git/hooks/pre-commit running `coffer scan --staged`.
// Not thread-safe per call (each call owns its child process).

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "scan/scanner.h"

namespace coffer::scan {

// Parses unified diff text (as `git log -p` prints it, "commit <sha>" lines
// included) and calls `chunk` once per file section with the added lines
// joined by '\n' and, per line of that text, its line number in the file.
// Exposed for tests; ScanGitHistory/ScanStaged feed it from git.
class DiffParser {
 public:
  using ChunkFn = std::function<void(const std::string& commit, const std::string& path,
                                     std::string_view text, const std::vector<int>& lines)>;
  explicit DiffParser(ChunkFn chunk) : chunk_(std::move(chunk)) {}
  void Line(std::string_view line);  // one line without its '\n'
  void Finish();                     // flushes the last file section
  int commits() const { return commits_; }

 private:
  void Flush();
  ChunkFn chunk_;
  std::string commit_, path_, text_;
  std::vector<int> lines_;
  int next_line_ = 0;
  bool in_header_ = false;  // between "diff --git" and the first "@@"
  int commits_ = 0;
};

// Errors: kInvalidArgument when `repo` is not a git work tree, kInternal
// when git fails.
Status ScanGitHistory(const Scanner& scanner, const std::string& repo, ScanReport& report);
Status ScanStaged(const Scanner& scanner, const std::string& repo, ScanReport& report);

// Writes `<hooks dir>/pre-commit` (mode 0755) running `<coffer_path> scan
// --staged`. Refuses (kAlreadyExists) to replace a hook it did not write
// unless `force`. Returns the hook's path in `*written`.
Status InstallHook(const std::string& repo, const std::string& coffer_path, bool force,
                   std::string* written);

}  // namespace coffer::scan
