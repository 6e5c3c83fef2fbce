#pragma once
// One long-running maintenance job at a time (a token or lease tidy), on a
// thread of its own, that can be stopped: what Vault's tidy endpoints do with
// a goroutine and a lock, so the request that starts the job answers at once
// and a second request while it runs is told so instead of starting another.
//
// The job gets a stop flag and should look at it between items; Stop() sets
// it and joins. The owner calls Stop() before tearing down what the job uses
// (sealing), and the destructor stops too. Thread-safe.

#include <atomic>
#include <functional>
#include <mutex>
#include <thread>

namespace coffer {

class BackgroundJob {
 public:
  using Job = std::function<void(const std::atomic<bool>& stop)>;

  BackgroundJob() = default;
  ~BackgroundJob() { Stop(); }
  BackgroundJob(const BackgroundJob&) = delete;
  BackgroundJob& operator=(const BackgroundJob&) = delete;

  // Starts `job` unless one is running; false when one is (nothing started).
  bool Start(Job job);

  // Asks a running job to stop and waits for it; returns at once when none
  // runs. Later Start() calls work again.
  void Stop();

  bool Running() const { return running_.load(); }

 private:
  std::mutex mu_;  // serialises Start and Stop (the thread handle)
  std::thread thread_;
  std::atomic<bool> running_{false};
  std::atomic<bool> stop_{false};
};

}  // namespace coffer
