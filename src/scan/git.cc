#include "scan/git.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "common/atomic_file.h"

extern char** environ;

namespace coffer::scan {
namespace {

constexpr std::string_view kHookMarker = "# installed by coffer scan install-hook";

// Runs git with `args` in `repo`, calling `on_line` for each line of its
// standard output. Returns the exit status (or -1 if it could not start).
int RunGit(const std::string& repo, std::vector<std::string> args,
           const std::function<void(std::string_view)>& on_line) {
  // The repository may come from anywhere (a tarball, a fork): its own
  // config must not make git run programs. Diff drivers' textconv and
  // external diff are off (--no-textconv, --no-ext-diff below), and so are
  // the file system monitor hook, the pager, and the signature check that
  // log.showSignature asks for (it runs gpg.program on any commit with a
  // signature header, which anyone can forge).
  std::vector<std::string> argv = {"git", "--no-pager",
                                   "-C",  repo,
                                   "-c",  "core.quotepath=off",
                                   "-c",  "core.fsmonitor=false",
                                   "-c",  "log.showSignature=false",
                                   "-c",  "gpg.program=false",
                                   "-c",  "gpg.openpgp.program=false",
                                   "-c",  "gpg.x509.program=false",
                                   "-c",  "gpg.ssh.program=false"};
  argv.insert(argv.end(), args.begin(), args.end());
  std::vector<char*> cargv;
  for (std::string& a : argv) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return -1;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
  pid_t pid = 0;
  int rc = posix_spawnp(&pid, "git", &actions, nullptr, cargv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(fds[1]);
  if (rc != 0) {
    ::close(fds[0]);
    return -1;
  }
  std::string pending;
  std::vector<char> buf(1 << 20);
  for (;;) {
    ssize_t n = ::read(fds[0], buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    pending.append(buf.data(), static_cast<std::size_t>(n));
    std::size_t start = 0;
    for (;;) {
      std::size_t nl = pending.find('\n', start);
      if (nl == std::string::npos) break;
      on_line(std::string_view(pending).substr(start, nl - start));
      start = nl + 1;
    }
    pending.erase(0, start);
  }
  if (!pending.empty()) on_line(pending);
  ::close(fds[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

Status CheckRepo(const std::string& repo) {
  bool inside = false;
  int rc = RunGit(repo, {"rev-parse", "--is-inside-work-tree"},
                  [&](std::string_view l) { inside = l == "true"; });
  if (rc != 0 || !inside) return InvalidArgument(repo + " is not a git work tree");
  return Status::Ok();
}

Status ScanDiff(const Scanner& scanner, const std::string& repo, std::vector<std::string> args,
                ScanReport& report, bool history) {
  TRY(CheckRepo(repo));
  DiffParser parser([&](const std::string& commit, const std::string& path, std::string_view text,
                        const std::vector<int>& lines) {
    if (scanner.options().allowlist.PathAllowed(path)) return;
    ++report.stats.files_scanned;
    report.stats.bytes_scanned += text.size();
    for (Finding& f : scanner.ScanBuffer(path, text)) {
      f.line = lines[static_cast<std::size_t>(f.line - 1)];
      f.commit = commit;
      report.findings.push_back(std::move(f));
    }
  });
  int rc = RunGit(repo, std::move(args), [&](std::string_view l) { parser.Line(l); });
  parser.Finish();
  if (history) report.stats.commits_scanned += static_cast<std::uint64_t>(parser.commits());
  if (rc != 0) return Internal("git exited with status " + std::to_string(rc));
  return Status::Ok();
}

}  // namespace

void DiffParser::Flush() {
  if (!path_.empty() && !text_.empty()) chunk_(commit_, path_, text_, lines_);
  text_.clear();
  lines_.clear();
}

void DiffParser::Line(std::string_view line) {
  if (line.starts_with("commit ")) {
    Flush();
    path_.clear();
    commit_ = std::string(line.substr(7, 40));
    ++commits_;
  } else if (line.starts_with("diff --git ")) {
    Flush();
    path_.clear();
    in_header_ = true;
  } else if (in_header_ && line.starts_with("+++ ")) {
    std::string_view p = line.substr(4);
    if (p.size() >= 2 && p.front() == '"' && p.back() == '"') p = p.substr(1, p.size() - 2);
    if (p.starts_with("b/")) p.remove_prefix(2);
    path_ = p == "/dev/null" ? "" : std::string(p);
  } else if (line.starts_with("@@ ")) {
    in_header_ = false;
    // @@ -a[,b] +c[,d] @@
    std::size_t plus = line.find(" +");
    next_line_ = plus == std::string_view::npos
                     ? 0
                     : std::atoi(std::string(line.substr(plus + 2, 12)).c_str());
    // A gap between hunks: keep line-based rules from joining distant lines.
    if (!text_.empty()) {
      text_ += '\n';
      lines_.push_back(lines_.back());
    }
  } else if (!in_header_ && !path_.empty() && line.starts_with("+")) {
    text_.append(line.substr(1));
    text_ += '\n';
    lines_.push_back(next_line_++);
  } else if (!in_header_ && line.starts_with(" ")) {
    ++next_line_;
  }
}

void DiffParser::Finish() { Flush(); }

Status ScanGitHistory(const Scanner& scanner, const std::string& repo, ScanReport& report) {
  return ScanDiff(
      scanner, repo,
      {"log", "-p", "--all", "-U0", "--no-color", "--no-ext-diff", "--no-textconv",
       "--no-show-signature", "--no-renames", "--diff-filter=AMC", "--format=commit %H"},
      report, true);
}

Status ScanStaged(const Scanner& scanner, const std::string& repo, ScanReport& report) {
  return ScanDiff(scanner, repo,
                  {"diff", "--cached", "-U0", "--no-color", "--no-ext-diff", "--no-textconv",
                   "--diff-filter=ACMR"},
                  report, false);
}

Status InstallHook(const std::string& repo, const std::string& coffer_path, bool force,
                   std::string* written) {
  TRY(CheckRepo(repo));
  std::string hooks;
  RunGit(repo, {"rev-parse", "--git-path", "hooks"}, [&](std::string_view l) { hooks = l; });
  if (hooks.empty()) return Internal("git did not name its hooks directory");
  std::filesystem::path dir(hooks);
  if (dir.is_relative()) dir = std::filesystem::path(repo) / dir;
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  std::filesystem::path hook = dir / "pre-commit";
  if (std::filesystem::exists(hook) && !force) {
    std::ifstream in(hook);
    std::stringstream ss;
    ss << in.rdbuf();
    if (ss.str().find(kHookMarker) == std::string::npos) {
      return AlreadyExists(hook.string() + " exists and was not written by coffer (use --force)");
    }
  }
  std::string quoted = "'";
  for (char c : coffer_path) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  quoted += "'";
  // Replaced through a new file and a rename: a hook that is a symbolic
  // link (to ~/.bashrc, in an untrusted tarball) is replaced, not written
  // through and made executable.
  std::string text =
      "#!/bin/sh\n" + std::string(kHookMarker) +
      "\n"
      "# Refuses a commit that adds a hard-coded secret. Mark a false positive with a\n"
      "# coffer:ignore comment on its line or list it in .cofferignore.\n"
      "exec " +
      quoted + " scan --staged .\n";
  TRY(AtomicWriteFile(hook.string(), text, 0755));
  *written = hook.string();
  return Status::Ok();
}

}  // namespace coffer::scan
