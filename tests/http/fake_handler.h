#pragma once
// A Handler for server tests: answers by path.
//   sys/health  raw {"initialized":true}      echo      envelope echoing the request
//   empty       an empty response (→ 204)      throw     throws
//   async       answers from another thread    hold      keeps `done` until Release()

#include <condition_variable>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include "http/handler.h"

namespace coffer::http::testing {

class FakeHandler : public Handler {
 public:
  ~FakeHandler() override {
    for (auto& t : threads_) t.join();
  }

  void Handle(logical::Request request, std::function<void(logical::Response)> done) override {
    {
      std::scoped_lock lock(mu_);
      last_ = request;
      ++count_;
    }
    const std::string& p = request.path;
    logical::Response r;
    if (p == "sys/health") {
      r.raw = logical::Json{{"initialized", true}};
    } else if (p == "throw") {
      throw std::runtime_error("boom");
    } else if (p == "empty") {
      // nothing
    } else if (p == "big") {
      // Far more than the sockets buffer: a client that does not read
      // leaves the server's write waiting.
      r.raw = logical::Json{{"big", std::string(std::size_t{32} << 20, 'x')}};
    } else if (p == "async") {
      std::scoped_lock lock(mu_);
      threads_.emplace_back([done] {
        logical::Response a;
        a.data = logical::Json{{"async", true}};
        done(std::move(a));
      });
      return;
    } else if (p == "hold") {
      std::scoped_lock lock(mu_);
      held_ = std::move(done);
      cv_.notify_all();
      return;
    } else {
      r.data = logical::Json{{"path", p},
                             {"operation", std::string(logical::OperationName(request.operation))},
                             {"body", request.data},
                             {"query", request.query},
                             {"has_token", !request.client_token.empty()}};
      r.warnings = logical::Json::array({"a warning"});
      r.lease_id = "lease/1";
      r.lease_duration = 60;
      r.renewable = true;
      r.mount_type = "kv";
      r.headers["X-Test"] = "yes";
    }
    done(std::move(r));
  }

  logical::Request last() {
    std::scoped_lock lock(mu_);
    return last_;
  }
  int count() {
    std::scoped_lock lock(mu_);
    return count_;
  }
  // Waits until a "hold" request arrived and returns its `done`.
  std::function<void(logical::Response)> TakeHeld() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return static_cast<bool>(held_); });
    return std::exchange(held_, nullptr);
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  logical::Request last_;
  int count_ = 0;
  std::vector<std::thread> threads_;
  std::function<void(logical::Response)> held_;
};

}  // namespace coffer::http::testing
