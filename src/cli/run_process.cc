#include "cli/run_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>

#include "common/child_fds.h"

extern char** environ;

namespace coffer::cli {
namespace {

// Signals the supervisor forwards to the child (SIGKILL and SIGSTOP cannot
// be caught; SIGTSTP/SIGCONT reach the child through the process group).
constexpr int kForwarded[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};
constexpr unsigned char kChangeByte = 0xff;
constexpr unsigned char kFromKernel = 0x80;

// The self-pipe: signal handlers and the watcher thread write one byte per
// event; the supervisor loop poll()s the read end.
int g_pipe[2] = {-1, -1};

void OnSignal(int sig, siginfo_t* info, void*) {
  int saved = errno;
  unsigned char b = static_cast<unsigned char>(sig);
  // SI_KERNEL: the terminal sent it to the whole foreground process group,
  // so the child (in the same group) already has its own copy.
  if (info != nullptr && info->si_code == SI_KERNEL && sig != SIGCHLD) b |= kFromKernel;
  if (g_pipe[1] >= 0) {
    ssize_t n = write(g_pipe[1], &b, 1);
    (void)n;  // a full pipe already holds a wake-up
  }
  errno = saved;
}

void WriteErr(const char* a, const char* b, const char* c) {
  // Only write(2): this runs between fork and exec.
  for (const char* s : {a, b, c}) {
    ssize_t n = write(STDERR_FILENO, s, std::strlen(s));
    (void)n;
  }
}

std::vector<char*> Pointers(const std::vector<std::string>& strings) {
  std::vector<char*> out;
  out.reserve(strings.size() + 1);
  for (const std::string& s : strings) out.push_back(const_cast<char*>(s.c_str()));
  out.push_back(nullptr);
  return out;
}

int ExitCodeForErrno(int err) { return err == ENOENT ? 127 : 126; }

// Ends this process the way the child ended.
int Finish(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) {
    int sig = WTERMSIG(status);
    std::fflush(nullptr);
    signal(sig, SIG_DFL);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, sig);
    sigprocmask(SIG_UNBLOCK, &set, nullptr);
    raise(sig);
    return 128 + sig;  // the signal's default action does not end a process
  }
  return 1;
}

}  // namespace

ChildSpec::~ChildSpec() {
  for (std::string& s : envp) WipeString(s);
}

ChildSpec& ChildSpec::operator=(ChildSpec&& other) {
  for (std::string& s : envp) WipeString(s);
  program = std::move(other.program);
  argv = std::move(other.argv);
  envp = std::move(other.envp);
  return *this;
}

Result<std::string> FindExecutable(const std::string& command, std::string_view path_env) {
  if (command.empty()) return Err(InvalidArgument("no command given"));
  if (command.find('/') != std::string::npos) return command;
  bool denied = false;
  std::size_t start = 0;
  while (start <= path_env.size()) {
    std::size_t colon = path_env.find(':', start);
    if (colon == std::string_view::npos) colon = path_env.size();
    std::string_view dir = colon > start ? path_env.substr(start, colon - start) : ".";
    std::string candidate;
    candidate.reserve(dir.size() + 1 + command.size());
    candidate.append(dir).append(1, '/').append(command);
    struct stat st {};
    if (stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode)) {
      if (access(candidate.c_str(), X_OK) == 0) return candidate;
      denied = true;
    }
    start = colon + 1;
  }
  if (denied) return Err(PermissionDenied(command + ": permission denied"));
  return Err(NotFound(command + ": command not found"));
}

std::vector<std::string> CurrentEnvironment() {
  std::vector<std::string> out;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) out.emplace_back(*e);
  return out;
}

std::vector<std::string> BuildEnvironment(
    const std::vector<std::string>& base,
    const std::vector<std::pair<std::string, SecretBytes>>& secrets, const SecretBytes* token) {
  auto name_of = [](const std::string& entry) { return entry.substr(0, entry.find('=')); };
  std::vector<std::pair<std::string, std::string_view>> added;
  if (token != nullptr) {
    added.emplace_back("COFFER_TOKEN", token->view());
    added.emplace_back("VAULT_TOKEN", token->view());
  }
  for (const auto& [name, value] : secrets) added.emplace_back(name, value.view());
  std::vector<std::string> out;
  out.reserve(base.size() + added.size());
  for (const std::string& entry : base) {
    std::string name = name_of(entry);
    if (name == "COFFER_TOKEN" || name == "VAULT_TOKEN") continue;
    bool replaced = false;
    for (const auto& a : added) replaced = replaced || a.first == name;
    if (!replaced) out.push_back(entry);
  }
  for (const auto& [name, value] : added) {
    std::string entry;
    entry.reserve(name.size() + 1 + value.size());
    entry += name;
    entry += '=';
    entry += value;
    out.push_back(std::move(entry));
  }
  return out;
}

int ExecChild(const ChildSpec& spec) {
  std::vector<char*> argv = Pointers(spec.argv);
  std::vector<char*> envp = Pointers(spec.envp);
  std::fflush(nullptr);
  CloseInheritedFds();
  execve(spec.program.c_str(), argv.data(), envp.data());
  int err = errno;
  std::fprintf(stderr, "coffer run: %s: %s\n", spec.program.c_str(), std::strerror(err));
  return ExitCodeForErrno(err);
}

std::optional<int> ParseSignal(std::string_view text) {
  static constexpr std::pair<const char*, int> kNames[] = {
      {"HUP", SIGHUP},   {"INT", SIGINT},   {"QUIT", SIGQUIT}, {"TERM", SIGTERM},
      {"USR1", SIGUSR1}, {"USR2", SIGUSR2}, {"KILL", SIGKILL}, {"WINCH", SIGWINCH}};
  std::string upper;
  for (char c : text) upper += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (upper.starts_with("SIG")) upper.erase(0, 3);
  for (const auto& [name, number] : kNames) {
    if (upper == name) return number;
  }
  if (!upper.empty() && upper.size() <= 2 &&
      std::all_of(upper.begin(), upper.end(), [](char c) { return std::isdigit(c) != 0; })) {
    int n = std::stoi(upper);
    if (n >= 1 && n < NSIG) return n;
  }
  return std::nullopt;
}

void Supervisor::Notify() {
  if (g_pipe[1] < 0) return;
  unsigned char b = kChangeByte;
  ssize_t n = write(g_pipe[1], &b, 1);
  (void)n;
}

int Supervisor::Run(ChildSpec first) {
  if (pipe2(g_pipe, O_CLOEXEC | O_NONBLOCK) != 0) {
    std::fprintf(stderr, "coffer run: pipe: %s\n", std::strerror(errno));
    return 1;
  }
  struct sigaction sa {};
  sa.sa_sigaction = OnSignal;
  sa.sa_flags = SA_SIGINFO | SA_RESTART;
  sigemptyset(&sa.sa_mask);
  sigset_t handled;
  sigemptyset(&handled);
  for (int sig : kForwarded) {
    sigaction(sig, &sa, nullptr);
    sigaddset(&handled, sig);
  }
  sa.sa_flags |= SA_NOCLDSTOP;
  sigaction(SIGCHLD, &sa, nullptr);
  sigaddset(&handled, SIGCHLD);

  // Forks with the handled signals blocked, so that no handler of ours runs
  // in the child before it has restored the defaults.
  auto spawn = [&](const ChildSpec& spec) -> pid_t {
    std::vector<char*> argv = Pointers(spec.argv);
    std::vector<char*> envp = Pointers(spec.envp);
    sigset_t old;
    sigprocmask(SIG_BLOCK, &handled, &old);
    std::fflush(nullptr);
    pid_t pid = fork();
    if (pid == 0) {
      for (int sig : kForwarded) signal(sig, SIG_DFL);
      signal(SIGCHLD, SIG_DFL);
      sigprocmask(SIG_SETMASK, &old, nullptr);
      CloseInheritedFds();
      execve(spec.program.c_str(), argv.data(), envp.data());
      int err = errno;
      WriteErr("coffer run: ", spec.program.c_str(), ": cannot execute\n");
      _exit(ExitCodeForErrno(err));
    }
    int fork_errno = errno;
    sigprocmask(SIG_SETMASK, &old, nullptr);
    if (pid < 0) std::fprintf(stderr, "coffer run: fork: %s\n", std::strerror(fork_errno));
    return pid;
  };

  pid_t child = spawn(first);
  first = ChildSpec();  // wipes the values held for the first child
  if (child < 0) return 1;

  using Clock = std::chrono::steady_clock;
  std::optional<ChildSpec> pending;  // the next child, while the old one stops
  Clock::time_point kill_at{};
  bool killed = false;
  bool changed = false;   // a change not acted on yet (it came during a restart)
  bool stopping = false;  // a stop signal was forwarded: no child after this one
  while (true) {
    int timeout = -1;
    if (pending) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(kill_at - Clock::now());
      timeout = killed ? 100 : static_cast<int>(std::max<long long>(0, left.count()));
    }
    pollfd pfd{g_pipe[0], POLLIN, 0};
    int ready = poll(&pfd, 1, timeout);
    if (ready < 0 && errno != EINTR) {
      std::fprintf(stderr, "coffer run: poll: %s\n", std::strerror(errno));
    }
    bool reap = false;
    unsigned char buf[64];
    ssize_t n;
    while ((n = read(g_pipe[0], buf, sizeof(buf))) > 0) {
      for (ssize_t i = 0; i < n; ++i) {
        if (buf[i] == kChangeByte) {
          changed = true;
          continue;
        }
        int sig = buf[i] & 0x7f;
        if (sig == SIGCHLD) {
          reap = true;
          continue;
        }
        // Stopping coffer run stops the child for good, not for a restart.
        if (sig == SIGINT || sig == SIGTERM || sig == SIGQUIT) {
          pending.reset();
          stopping = true;
        }
        if ((buf[i] & kFromKernel) == 0) kill(child, sig);
      }
    }
    if (reap) {
      int status = 0;
      pid_t w;
      while ((w = waitpid(-1, &status, WNOHANG)) > 0) {
        if (w != child) continue;
        if (!pending) return Finish(status);
        child = spawn(*pending);
        pending.reset();
        killed = false;
        if (child < 0) return 1;
      }
    }
    // A change after a stop signal must not start another child.
    if (changed && !pending && !stopping) {
      changed = false;
      if (options_.reload_signal != 0) {
        kill(child, options_.reload_signal);
      } else if (std::optional<ChildSpec> next = refresh_()) {
        pending = std::move(next);
        kill(child, SIGTERM);
        kill_at = Clock::now() + std::chrono::milliseconds(options_.kill_timeout_ms);
      }
    }
    if (pending && !killed && Clock::now() >= kill_at) {
      kill(child, SIGKILL);
      killed = true;
    }
  }
}

}  // namespace coffer::cli
