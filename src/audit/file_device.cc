// The file audit device: appends lines to a file (or stdout).
#include <fcntl.h>
#include <limits.h>  // IOV_MAX
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <span>
#include <vector>

#include "audit/page_trim.h"
#include "audit/sinks.h"
#include "common/log.h"

namespace coffer::audit::internal {
namespace {

class FileDevice final : public Device {
 public:
  FileDevice(const DeviceConfig& config, std::shared_ptr<const Salt> salt, Clock& clock,
             std::string file_path, mode_t mode)
      : Device(config, std::move(salt), clock), file_path_(std::move(file_path)), mode_(mode) {}
  ~FileDevice() override {
    StopFlusher();
    CloseSink();
  }

  bool QuickWrites() const override { return true; }

 protected:
  Status OpenSink() override {
    if (discard_) return Status::Ok();
    if (stdout_) {
      fd_ = STDOUT_FILENO;
      return Status::Ok();
    }
    // No directories are created: a missing directory is an error the
    // operator must see (and fixes by creating it; the next write reopens).
    // A symbolic link at the path is refused, not followed, and the mode is
    // set only once the file is known to be a regular one: a device must not
    // append to, or change the mode of, whatever a link points at.
    int fd = ::open(file_path_.c_str(),
                    O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, mode_);
    if (fd < 0) {
      const int e = errno;
      if (e == ELOOP) {
        return Unavailable("audit file " + file_path_ +
                           " is a symbolic link, which is not followed");
      }
      return Unavailable("cannot open audit file " + file_path_ + ": " + std::strerror(e));
    }
    struct stat st {};
    if (::fstat(fd, &st) != 0 || (!S_ISREG(st.st_mode) && !S_ISCHR(st.st_mode))) {
      // Character devices (such as /dev/full, used to simulate a full disk)
      // are accepted as they are; anything else must be a regular file.
      ::close(fd);
      return Unavailable("audit file " + file_path_ + " is not a regular file");
    }
    if (S_ISREG(st.st_mode) && ::fchmod(fd, mode_) != 0) {
      int e = errno;
      ::close(fd);
      return Unavailable("cannot set the mode of audit file " + file_path_ + ": " +
                         std::strerror(e));
    }
    // Writes block as a file's do (O_NONBLOCK was for the open alone: a
    // FIFO put at the path must not hang it).
    ::fcntl(fd, F_SETFL, O_APPEND);
    fd_ = fd;
    size_ = S_ISREG(st.st_mode) ? st.st_size : 0;
    if (S_ISREG(st.st_mode)) trimmer_.Follow(fd, size_);
    return Status::Ok();
  }

  void CloseSink() override {
    trimmer_.Unfollow();
    if (fd_ >= 0 && !stdout_) ::close(fd_);
    fd_ = -1;
  }

  Status AppendToSink(std::string_view bytes) override {
    std::string_view one[] = {bytes};
    return AppendPiecesToSink(one);
  }

  // The pieces go out with writev: the entries are written from where they
  // were rendered, without first being copied into one buffer.
  Status AppendPiecesToSink(std::span<const std::string_view> pieces) override {
    if (discard_) return Status::Ok();
    if (!stdout_) {
      // A file removed (or its directory) since it was opened would swallow
      // entries nobody can read: reopen the path instead, which fails if it
      // can no longer be created.
      struct stat st {};
      if (fd_ >= 0 && ::fstat(fd_, &st) == 0 && S_ISREG(st.st_mode) && st.st_nlink == 0) {
        Log(LogModule::kAudit).warn("{}: {} was removed; reopening", config_.path, file_path_);
        CloseSink();
      }
      if (fd_ < 0) TRY(OpenSink());
    }
    iov_.clear();
    std::size_t total = 0;
    for (std::string_view p : pieces) {
      if (p.empty()) continue;
      iov_.push_back({const_cast<char*>(p.data()), p.size()});
      total += p.size();
    }
    std::size_t next = 0;  // the first iovec not completely written
    while (next < iov_.size()) {
      const int count = static_cast<int>(std::min<std::size_t>(iov_.size() - next, IOV_MAX));
      ssize_t n = ::writev(fd_, iov_.data() + next, count);
      if (n < 0) {
        if (errno == EINTR) continue;
        return Unavailable("audit file " + file_path_ + ": " + std::strerror(errno));
      }
      // A short write: go on from where it stopped.
      auto left = static_cast<std::size_t>(n);
      while (next < iov_.size() && left >= iov_[next].iov_len) left -= iov_[next++].iov_len;
      if (left > 0) {
        iov_[next].iov_base = static_cast<char*>(iov_[next].iov_base) + left;
        iov_[next].iov_len -= left;
      }
    }
    size_ += static_cast<off_t>(total);
    trimmer_.Wrote(size_);
    if (iov_.capacity() > kKeptPieces) std::vector<iovec>().swap(iov_);
    return Status::Ok();
  }

  void RollbackSink() override {
    if (stdout_ || fd_ < 0) return;
    struct stat st {};
    if (::fstat(fd_, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > size_) {
      if (::ftruncate(fd_, size_) != 0) {
        Log(LogModule::kAudit)
            .error("{}: cannot remove a partial line from {}", config_.path, file_path_);
      }
    }
  }

  std::optional<std::string> LastLineInSink() override {
    if (stdout_ || discard_) return std::nullopt;
    int fd = ::open(file_path_.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return std::nullopt;
    std::optional<std::string> result;
    struct stat st {};
    if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
      // Read backwards in chunks until the line before the last newline.
      std::string tail;
      off_t end = st.st_size;
      const off_t chunk = 64 * 1024;
      while (end > 0) {
        off_t start = end > chunk ? end - chunk : 0;
        std::string buf(static_cast<std::size_t>(end - start), '\0');
        if (::pread(fd, buf.data(), buf.size(), start) != static_cast<ssize_t>(buf.size())) break;
        tail.insert(0, buf);
        end = start;
        std::string_view t = tail;
        if (t.ends_with('\n')) t.remove_suffix(1);
        std::size_t nl = t.rfind('\n');
        if (nl != std::string_view::npos || end == 0) {
          result = std::string(nl == std::string_view::npos ? t : t.substr(nl + 1));
          break;
        }
      }
    }
    ::close(fd);
    return result;
  }

 public:
  bool stdout_ = false;
  // file_path "discard" (Vault's): entries are rendered, then dropped; for
  // trying a setup out, never for a record anyone relies on.
  bool discard_ = false;

 private:
  std::string file_path_;
  mode_t mode_;
  int fd_ = -1;
  off_t size_ = 0;
  std::vector<iovec> iov_;  // AppendPiecesToSink's, kept from write to write
  PageCacheTrimmer trimmer_;
};

}  // namespace

Result<std::unique_ptr<Device>> NewFileDevice(const DeviceConfig& config,
                                              std::shared_ptr<const Salt> salt, Clock& clock) {
  std::string path = Option(config, "file_path");
  if (path.empty()) path = Option(config, "path");
  if (path.empty()) return Err(InvalidArgument("file_path is required for a file audit device"));
  mode_t mode = 0600;
  if (std::string m = Option(config, "mode"); !m.empty()) {
    char* end = nullptr;
    unsigned long v = std::strtoul(m.c_str(), &end, 8);
    if (end == m.c_str() || *end != '\0' || v > 07777) {
      return Err(InvalidArgument("mode must be an octal file mode such as \"0600\""));
    }
    if ((v & 0111) != 0) {
      return Err(InvalidArgument("mode must not make the audit file executable"));
    }
    if ((v & 07000) != 0) return Err(InvalidArgument("mode must not set setuid, setgid or sticky"));
    mode = static_cast<mode_t>(v);
  }
  bool to_stdout = path == "-" || path == "stdout";
  if (!to_stdout && path != "discard" && path.front() != '/') {
    return Err(
        InvalidArgument("file_path must be an absolute path, \"-\", \"stdout\" or \"discard\""));
  }
  auto device = std::make_unique<FileDevice>(config, std::move(salt), clock, path, mode);
  device->stdout_ = to_stdout;
  device->discard_ = path == "discard";
  return std::unique_ptr<Device>(std::move(device));
}

}  // namespace coffer::audit::internal
