#include "common/child_fds.h"

#include <fcntl.h>
#include <linux/close_range.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace coffer {

void CloseInheritedFds() noexcept {
  // close_range(2) marks them all in one call (Linux 5.11); older kernels
  // get the descriptors one by one. CLOEXEC rather than close, so that a
  // failing exec can still report on stderr and the parent's error pipe.
  if (::syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC) == 0) return;
  long max = ::sysconf(_SC_OPEN_MAX);
  if (max < 0 || max > 65536) max = 65536;
  for (int fd = 3; fd < max; ++fd) {
    int flags = ::fcntl(fd, F_GETFD);
    if (flags >= 0) ::fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
  }
}

}  // namespace coffer
