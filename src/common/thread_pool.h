#pragma once
// A fixed pool of worker threads for blocking work (storage writes waiting
// for a group commit, engine calls), so the HTTP I/O threads never block.
// Thread-safe. The destructor finishes every queued task, then joins.

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace coffer {

class ThreadPool {
 public:
  explicit ThreadPool(std::size_t threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  // Queues a task. Returns false (and drops the task) once Shutdown began.
  bool Post(std::function<void()> task);

  // Stops taking tasks, runs what is queued, joins the workers. Idempotent.
  void Shutdown();

 private:
  void Work();

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;  // guarded by mu_
  bool stopping_ = false;                    // guarded by mu_
  std::vector<std::thread> workers_;
};

}  // namespace coffer
