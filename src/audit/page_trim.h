#pragma once
// Keeps what the file audit device has written from piling up in the page
// cache.
//
// An audit log is written once and read, if ever, by a log shipper right
// behind the writer or by an investigator much later. Left to the kernel,
// every byte of it stays in the page cache as dirty and then clean pages
// until memory runs short: at 50,000 audited reads/s (~2.4 KB each) that is
// gigabytes a minute, pushing the store's own pages out and, on virtual
// machines that hand free memory back to their host (free page reporting,
// DAMON), making every new page of the log cost a fault in the host — on
// this project's benchmark machine each byte appended cost six times as much
// once the log had outgrown the memory the host still backed
// (docs/benchmarks.md, "The audit log and the page cache").
//
// After every `chunk` bytes (8 MiB) a helper thread starts the writeback of
// that chunk, waits for the one before it to be on disk (its writeback was
// started a chunk earlier) and drops that one from the page cache. The page
// cache then holds the last one to two chunks of the log, and its pages are
// reused instead of new ones. Nothing here bears on durability: the lines were
// written before, and sync_file_range only starts earlier what the kernel
// would do later. The syscalls are advisory; their errors are ignored (a
// failing disk fails the device's own writes).
#include <sys/types.h>

#include <atomic>
#include <condition_variable>
#include <limits>
#include <memory>
#include <mutex>
#include <thread>

namespace coffer::audit::internal {

class PageCacheTrimmer {
 public:
  static constexpr off_t kDefaultChunk = off_t{8} << 20;

  explicit PageCacheTrimmer(off_t chunk = kDefaultChunk);
  ~PageCacheTrimmer();
  PageCacheTrimmer(const PageCacheTrimmer&) = delete;
  PageCacheTrimmer& operator=(const PageCacheTrimmer&) = delete;

  // Follows the regular file open as `fd` (appended to; `size` bytes long
  // now), through a duplicate of `fd`: the caller may close its own at any
  // time. Chunks that ended before `size` are left alone.
  void Follow(int fd, off_t size);
  // Lets go of the followed file (its duplicate is closed once a pass on it
  // in progress ends).
  void Unfollow();
  // The followed file is `size` bytes long now. Called by its one writer;
  // costs a comparison until the next chunk is complete.
  void Wrote(off_t size) {
    if (size >= next_.load(std::memory_order_relaxed)) Signal(size);
  }
  // Waits until every complete chunk signalled so far has been handled
  // (tests).
  void WaitIdle();
  // Stops the helper thread (idempotent; the destructor calls it).
  void Stop();

 private:
  struct Fd;
  void Signal(off_t size);
  void Loop();

  const off_t chunk_;
  std::atomic<off_t> next_{std::numeric_limits<off_t>::max()};
  std::mutex mu_;
  std::condition_variable cv_;
  std::condition_variable idle_cv_;
  std::shared_ptr<const Fd> fd_;  // the followed file's duplicate
  off_t target_ = 0;              // chunks before this are to be written back
  off_t started_ = 0;             // writeback started before this
  off_t dropped_ = 0;             // dropped from the page cache before this
  bool busy_ = false;
  bool stop_ = false;
  std::thread thread_;  // started with the first complete chunk
};

}  // namespace coffer::audit::internal
