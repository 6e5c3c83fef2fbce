#include "agent/files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace coffer::agent {

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
