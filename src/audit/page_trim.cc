#include "audit/page_trim.h"

#include <fcntl.h>
#include <pthread.h>
#include <unistd.h>

namespace coffer::audit::internal {

struct PageCacheTrimmer::Fd {
  explicit Fd(int f) : fd(f) {}
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int fd;
};

PageCacheTrimmer::PageCacheTrimmer(off_t chunk) : chunk_(chunk > 0 ? chunk : kDefaultChunk) {}

PageCacheTrimmer::~PageCacheTrimmer() { Stop(); }

void PageCacheTrimmer::Follow(int fd, off_t size) {
  auto dup = std::make_shared<const Fd>(::fcntl(fd, F_DUPFD_CLOEXEC, 0));
  std::scoped_lock lock(mu_);
  const off_t base = size - size % chunk_;
  fd_ = dup->fd >= 0 ? std::move(dup) : nullptr;
  target_ = started_ = dropped_ = base;
  next_.store(fd_ ? base + chunk_ : std::numeric_limits<off_t>::max(), std::memory_order_relaxed);
}

void PageCacheTrimmer::Unfollow() {
  std::scoped_lock lock(mu_);
  fd_.reset();
  target_ = started_;  // nothing is pending for no file
  next_.store(std::numeric_limits<off_t>::max(), std::memory_order_relaxed);
}

void PageCacheTrimmer::Signal(off_t size) {
  std::scoped_lock lock(mu_);
  if (stop_ || !fd_) return;
  target_ = size - size % chunk_;
  next_.store(target_ + chunk_, std::memory_order_relaxed);
  if (!thread_.joinable()) {
    thread_ = std::thread([this] { Loop(); });
    pthread_setname_np(thread_.native_handle(), "coffer-audtrim");
  }
  cv_.notify_one();
}

void PageCacheTrimmer::Loop() {
  std::unique_lock lock(mu_);
  while (true) {
    cv_.wait(lock, [&] { return stop_ || (fd_ && target_ > started_); });
    if (stop_) break;
    std::shared_ptr<const Fd> fd = fd_;
    const off_t target = target_, started = started_, dropped = dropped_;
    started_ = target;
    dropped_ = started;
    busy_ = true;
    lock.unlock();
    // Writeback of the newest chunks starts now rather than when the
    // kernel's dirty limits are reached.
    ::sync_file_range(fd->fd, started, target - started, SYNC_FILE_RANGE_WRITE);
    if (started > dropped) {
      // Those before were started a pass ago; once on disk they are clean
      // and the kernel can drop them (it skips dirty pages).
      ::sync_file_range(
          fd->fd, dropped, started - dropped,
          SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER);
      ::posix_fadvise(fd->fd, dropped, started - dropped, POSIX_FADV_DONTNEED);
    }
    fd.reset();
    lock.lock();
    busy_ = false;
    idle_cv_.notify_all();
  }
}

void PageCacheTrimmer::WaitIdle() {
  std::unique_lock lock(mu_);
  idle_cv_.wait(lock,
                [&] { return stop_ || !thread_.joinable() || (!busy_ && target_ <= started_); });
}

void PageCacheTrimmer::Stop() {
  {
    std::scoped_lock lock(mu_);
    stop_ = true;
    fd_.reset();
    next_.store(std::numeric_limits<off_t>::max(), std::memory_order_relaxed);
  }
  cv_.notify_all();
  idle_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

}  // namespace coffer::audit::internal
