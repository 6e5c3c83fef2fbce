#include "agent/files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <random>

namespace coffer::agent {
namespace {

std::string ErrnoText(int e) { return std::strerror(e); }

std::string DirOf(const std::string& path) {
  std::size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

}  // namespace

Status AtomicWriteFile(const std::string& path, std::string_view content, unsigned mode) {
  std::string dir = DirOf(path);
  std::random_device rd;
  std::string tmp;
  int fd = -1;
  for (int attempt = 0; attempt < 16 && fd < 0; ++attempt) {
    tmp = dir + "/." + path.substr(path.rfind('/') == std::string::npos ? 0 : path.rfind('/') + 1) +
          ".tmp" + std::to_string(rd());
    fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode & 07777);
    if (fd < 0 && errno != EEXIST) break;
  }
  if (fd < 0)
    return Internal("cannot create a temporary file next to " + path + ": " + ErrnoText(errno));
  auto fail = [&](std::string what) {
    int e = errno;
    ::close(fd);
    ::unlink(tmp.c_str());
    return Internal(what + " " + path + ": " + ErrnoText(e));
  };
  if (::fchmod(fd, mode & 07777) != 0) return fail("cannot set the mode of");
  std::size_t off = 0;
  while (off < content.size()) {
    ssize_t n = ::write(fd, content.data() + off, content.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail("cannot write");
    }
    off += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) return fail("cannot fsync");
  if (::close(fd) != 0) {
    int e = errno;
    ::unlink(tmp.c_str());
    return Internal("cannot close " + path + ": " + ErrnoText(e));
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int e = errno;
    ::unlink(tmp.c_str());
    return Internal("cannot rename into " + path + ": " + ErrnoText(e));
  }
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return Status::Ok();
}

std::optional<std::string> ReadFileIfExists(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  std::string out;
  char buf[8192];
  while (true) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      ::close(fd);
      WipeString(out);
      return std::nullopt;
    }
    if (n == 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  ::explicit_bzero(buf, sizeof buf);
  ::close(fd);
  return out;
}

Result<SecretBytes> ReadCredentialFile(const std::string& path) {
  std::optional<std::string> text = ReadFileIfExists(path);
  if (!text) return Err(NotFound("cannot read " + path));
  std::string_view v = *text;
  auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!v.empty() && space(v.front())) v.remove_prefix(1);
  while (!v.empty() && space(v.back())) v.remove_suffix(1);
  SecretBytes out = SecretBytes::FromString(v);
  WipeString(*text);
  if (out.empty()) return Err(InvalidArgument(path + " is empty"));
  return out;
}

std::optional<unsigned> FileMode(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return std::nullopt;
  return static_cast<unsigned>(st.st_mode & 07777);
}

}  // namespace coffer::agent
