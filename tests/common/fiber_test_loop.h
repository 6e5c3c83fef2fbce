#pragma once
// A stand-in for an I/O thread's loop in fiber tests: fibers started on the
// thread that calls RunUntil post their resumptions here (Fiber::Post), and
// RunUntil runs them there, in order.

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <utility>

#include "common/fiber.h"

namespace coffer::test_util {

class FiberTestLoop {
 public:
  // What Fiber::Start needs; callable from any thread.
  Fiber::Post Poster() {
    return [this](std::function<void()> fn) {
      std::scoped_lock lock(mu_);
      posted_.push_back(std::move(fn));
      cv_.notify_one();
      return true;
    };
  }

  // Runs what is posted until `done()` holds; false when `limit` passed
  // without it.
  bool RunUntil(const std::function<bool()>& done,
                std::chrono::seconds limit = std::chrono::seconds(30)) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!done()) {
      std::function<void()> fn;
      {
        std::unique_lock lock(mu_);
        if (!cv_.wait_until(lock, deadline, [this] { return !posted_.empty(); })) return false;
        fn = std::move(posted_.front());
        posted_.pop_front();
      }
      fn();
    }
    return true;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> posted_;  // guarded by mu_
};

}  // namespace coffer::test_util
