#include "scan/walker.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>

#include "common/secret_bytes.h"

namespace coffer::scan {
namespace fs = std::filesystem;

Result<WalkResult> ListFiles(const fs::path& root, std::uint64_t max_size) {
  std::error_code ec;
  fs::file_status st = fs::status(root, ec);
  if (ec || !fs::exists(st)) return Err(NotFound("no such file or directory: " + root.string()));
  WalkResult out;
  auto add = [&](const fs::path& full, std::string display, std::uint64_t size) {
    if (size > max_size) {
      ++out.skipped_large;
      return;
    }
    out.files.push_back({full, std::move(display), size});
  };
  if (!fs::is_directory(st)) {
    // A file named on the command line may be a symlink, which the user
    // chose: it is read through its target (the read does not follow links).
    fs::path target = fs::canonical(root, ec);
    if (ec) target = root;
    add(target, root.generic_string(), fs::file_size(root, ec));
    return out;
  }
  fs::recursive_directory_iterator it(root, fs::directory_options::skip_permission_denied, ec);
  if (ec) return Err(PermissionDenied("cannot read directory " + root.string()));
  for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
    // The iterator ends at an error: the files not reached yet would go
    // unscanned, and the scan would call the tree clean.
    if (ec) {
      return Err(Unavailable("cannot walk " + root.string() + " to the end: " + ec.message()));
    }
    const fs::directory_entry& e = *it;
    std::error_code sec;
    fs::file_status s = e.symlink_status(sec);
    // An entry that went away is skipped; one that cannot be looked at (a
    // path too long to name) is said, not silently left out.
    auto unreadable = [&] {
      if (sec != std::errc::no_such_file_or_directory) {
        out.warnings.push_back("cannot read " + e.path().string() + ": " + sec.message());
      }
    };
    if (sec) {
      unreadable();
      continue;
    }
    if (fs::is_symlink(s)) continue;
    if (fs::is_directory(s)) {
      std::string name = e.path().filename().string();
      if (name == ".git" || name == "node_modules") it.disable_recursion_pending();
      continue;
    }
    if (!fs::is_regular_file(s)) continue;
    std::uint64_t size = e.file_size(sec);
    if (sec) {
      unreadable();
      continue;
    }
    add(e.path(), e.path().lexically_relative(root).generic_string(), size);
  }
  if (ec) return Err(Unavailable("cannot walk " + root.string() + " to the end: " + ec.message()));
  return out;
}

Status ReadFileInto(const fs::path& path, std::string& buf, std::uint64_t max_size) {
  // The file was listed as a regular file of at most max_size bytes, but it
  // may have changed since: not following a symlink and not blocking on a
  // FIFO put there meanwhile, and reading no more than max_size bytes, keep
  // a swapped or growing file (a log, a link to /dev/zero) from hanging the
  // scan or filling memory.
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0) {
    int err = errno;
    if (err == ELOOP) return Unsupported("skipped " + path.string() + ": now a symbolic link");
    return err == ENOENT
               ? NotFound("cannot open " + path.string())
               : PermissionDenied("cannot open " + path.string() + ": " + std::strerror(err));
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return Unsupported("skipped " + path.string() + ": no longer a regular file");
  }
  buf.clear();
  std::size_t used = 0;
  for (;;) {
    if (used > max_size) {
      ::close(fd);
      WipeString(buf);
      return TooLarge("skipped " + path.string() + ": it grew past the size limit");
    }
    if (buf.size() - used < 64 * 1024)
      buf.resize(std::max<std::size_t>(buf.size() * 2, 128 * 1024));
    // One byte past the limit is enough to tell that the file exceeds it.
    const std::size_t space = buf.size() - used;
    const std::uint64_t allowed = max_size - used;
    const std::size_t want = allowed >= space ? space : static_cast<std::size_t>(allowed) + 1;
    ssize_t n = ::read(fd, buf.data() + used, want);
    if (n < 0) {
      if (errno == EINTR) continue;
      ::close(fd);
      return Internal("cannot read " + path.string());
    }
    if (n == 0) break;
    used += static_cast<std::size_t>(n);
  }
  ::close(fd);
  buf.resize(used);
  return Status::Ok();
}

bool LooksBinary(std::string_view content) {
  std::string_view head = content.substr(0, 8192);
  return head.find('\0') != std::string_view::npos;
}

}  // namespace coffer::scan
