#include "common/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <random>

namespace coffer {
namespace {

std::string AtomicFileErrno(int e) { return std::strerror(e); }

std::string ParentDirOf(const std::string& path) {
  std::size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

}  // namespace

Status AtomicWriteFile(const std::string& path, std::string_view content, unsigned mode) {
  std::string dir = ParentDirOf(path);
  std::random_device rd;
  std::string tmp;
  int fd = -1;
  for (int attempt = 0; attempt < 16 && fd < 0; ++attempt) {
    tmp = dir + "/." + path.substr(path.rfind('/') == std::string::npos ? 0 : path.rfind('/') + 1) +
          ".tmp" + std::to_string(rd());
    fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode & 07777);
    if (fd < 0 && errno != EEXIST) break;
  }
  if (fd < 0)
    return Internal("cannot create a temporary file next to " + path + ": " +
                    AtomicFileErrno(errno));
  auto fail = [&](std::string what) {
    int e = errno;
    ::close(fd);
    ::unlink(tmp.c_str());
    return Internal(what + " " + path + ": " + AtomicFileErrno(e));
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
    return Internal("cannot close " + path + ": " + AtomicFileErrno(e));
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int e = errno;
    ::unlink(tmp.c_str());
    return Internal("cannot rename into " + path + ": " + AtomicFileErrno(e));
  }
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return Status::Ok();
}

}  // namespace coffer
