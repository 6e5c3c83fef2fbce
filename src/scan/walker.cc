#include "scan/walker.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>

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
    add(root, root.generic_string(), fs::file_size(root, ec));
    return out;
  }
  fs::recursive_directory_iterator it(root, fs::directory_options::skip_permission_denied, ec);
  if (ec) return Err(PermissionDenied("cannot read directory " + root.string()));
  for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) break;
    const fs::directory_entry& e = *it;
    std::error_code sec;
    fs::file_status s = e.symlink_status(sec);
    if (sec || fs::is_symlink(s)) continue;
    if (fs::is_directory(s)) {
      std::string name = e.path().filename().string();
      if (name == ".git" || name == "node_modules") it.disable_recursion_pending();
      continue;
    }
    if (!fs::is_regular_file(s)) continue;
    std::uint64_t size = e.file_size(sec);
    if (sec) continue;
    add(e.path(), e.path().lexically_relative(root).generic_string(), size);
  }
  return out;
}

Status ReadFileInto(const fs::path& path, std::string& buf) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    return err == ENOENT
               ? NotFound("cannot open " + path.string())
               : PermissionDenied("cannot open " + path.string() + ": " + std::strerror(err));
  }
  buf.clear();
  std::size_t used = 0;
  for (;;) {
    if (buf.size() - used < 64 * 1024)
      buf.resize(std::max<std::size_t>(buf.size() * 2, 128 * 1024));
    ssize_t n = ::read(fd, buf.data() + used, buf.size() - used);
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
