#include "agent/supervisor.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>
#include <vector>

#include "common/child_fds.h"
#include "common/log.h"
#include "common/secret_bytes.h"

extern char** environ;

namespace coffer::agent {
namespace {

int ExitCode(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 1;
}

}  // namespace

Supervisor::~Supervisor() {
  if (pid_ > 0) Stop(std::chrono::seconds(5));
}

Status Supervisor::Start(const std::map<std::string, std::string>& env) {
  if (pid_ > 0) return Internal("the child is already running");
  // Build the environment before fork: only async-signal-safe calls after it.
  std::vector<std::string> entries;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string_view kv(*e);
    std::string name(kv.substr(0, kv.find('=')));
    if (env.count(name) == 0) entries.emplace_back(kv);
  }
  for (const auto& [k, v] : env) entries.push_back(k + "=" + v);
  std::vector<char*> envp;
  for (std::string& s : entries) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<char*> argv;
  for (const std::string& a : config_.command) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);

  // exec's child_process_stdout / child_process_stderr: appended to, as
  // Vault Agent does; the child's output may hold anything, hence 0600.
  int out_fd = -1;
  int err_fd = -1;
  auto open_output = [&](const std::string& path, const char* key, int* fd) -> Status {
    if (path.empty()) return Status::Ok();
    *fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (*fd >= 0) return Status::Ok();
    return InvalidArgument(std::string("exec: cannot open ") + key + " " + path + ": " +
                           std::strerror(errno));
  };
  auto close_outputs = [&] {
    if (out_fd >= 0) ::close(out_fd);
    if (err_fd >= 0) ::close(err_fd);
  };
  Status opened = open_output(config_.child_process_stdout, "child_process_stdout", &out_fd);
  if (opened.ok()) {
    opened = open_output(config_.child_process_stderr, "child_process_stderr", &err_fd);
  }
  if (!opened.ok()) {
    close_outputs();
    for (std::string& s : entries) WipeString(s);
    return opened;
  }

  pid_t pid = ::fork();
  if (pid < 0) {
    close_outputs();
    for (std::string& s : entries) WipeString(s);
    return Internal(std::string("fork failed: ") + std::strerror(errno));
  }
  if (pid == 0) {
    // The agent ignores SIGPIPE, and an ignored signal stays ignored
    // across exec: the child gets the default back (`yes | head` ends).
    ::signal(SIGPIPE, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    // dup2 leaves the new descriptor without O_CLOEXEC; a file that was
    // opened as that very descriptor (the agent's own was closed) keeps it
    // and only loses the flag.
    auto redirect = [](int fd, int target) {
      if (fd < 0) return true;
      if (fd == target) return ::fcntl(fd, F_SETFD, 0) == 0;
      return ::dup2(fd, target) >= 0;
    };
    if (!redirect(out_fd, STDOUT_FILENO) || !redirect(err_fd, STDERR_FILENO)) ::_exit(127);
    CloseInheritedFds();
    ::execvpe(argv[0], argv.data(), envp.data());
    ::_exit(127);
  }
  close_outputs();
  for (std::string& s : entries) WipeString(s);
  pid_ = pid;
  Log(LogModule::kAgent).info("started child {} (pid {})", config_.command[0], pid_);
  return Status::Ok();
}

std::optional<int> Supervisor::Poll() {
  if (pid_ <= 0) return std::nullopt;
  int status = 0;
  pid_t r = ::waitpid(pid_, &status, WNOHANG);
  if (r != pid_) return std::nullopt;
  pid_ = -1;
  return ExitCode(status);
}

void Supervisor::Signal(int sig) {
  if (pid_ > 0) ::kill(pid_, sig);
}

std::optional<int> Supervisor::Stop(std::chrono::milliseconds grace) {
  if (pid_ <= 0) return std::nullopt;
  ::kill(pid_, config_.restart_stop_signal);
  auto deadline = std::chrono::steady_clock::now() + grace;
  while (std::chrono::steady_clock::now() < deadline) {
    if (std::optional<int> rc = Poll()) return rc;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ::kill(pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
  return ExitCode(status);
}

}  // namespace coffer::agent
