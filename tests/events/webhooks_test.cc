// The webhook sender against a poster of the test's own: what a hook's
// config accepts, which events it gets, and how long stopping takes.

#include "events/webhooks.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

#include "common/clock.h"
#include "storage/inmem/inmem_backend.h"

namespace coffer::events {
namespace {

using logical::Json;
using namespace std::chrono_literals;

// Counts POSTs; each one blocks until released (or the test ends).
class SlowPoster {
 public:
  Poster poster() {
    return [this](const std::string& url, const std::string&,
                  const std::map<std::string, std::string>&) -> Result<int> {
      std::unique_lock lock(mu_);
      ++calls_;
      urls_.push_back(url);
      cv_.notify_all();
      cv_.wait_for(lock, hold_, [&] { return released_; });
      return 200;
    };
  }
  void WaitForCalls(int n) {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, 10s, [&] { return calls_ >= n; });
  }
  void Release() {
    std::scoped_lock lock(mu_);
    released_ = true;
    cv_.notify_all();
  }
  int calls() {
    std::scoped_lock lock(mu_);
    return calls_;
  }
  std::vector<std::string> urls() {
    std::scoped_lock lock(mu_);
    return urls_;
  }
  std::chrono::milliseconds hold_{0};

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int calls_ = 0;
  bool released_ = false;
  std::vector<std::string> urls_;
};

Event KvWrite() {
  Event e;
  e.type = "kv-v2/data-write";
  e.metadata = {{"path", "secret/data/app"}};
  return e;
}

TEST(WebhooksTest, AnEmptyEventTypeListIsRefused) {
  FakeClock clock;
  Bus bus(clock);
  storage::InmemBackend view;
  SlowPoster posts;
  Webhooks hooks(bus, view, posts.poster());
  for (Json types : {Json::array(), Json(""), Json(",,")}) {
    Status s = hooks.Put("h", {{"url", "http://127.0.0.1:9/h"}, {"event_types", types}});
    EXPECT_EQ(s.code(), Code::kInvalidArgument) << types.dump();
  }
  EXPECT_EQ(hooks.Get("h").error().code(), Code::kNotFound);
  ASSERT_TRUE(hooks.Put("h", {{"url", "http://127.0.0.1:9/h"}}).ok());
  EXPECT_EQ(hooks.Get("h")->at("event_types"), Json({"*"}));
}

TEST(WebhooksTest, AHookGetsOnlyTheTypesItNames) {
  FakeClock clock;
  Bus bus(clock);
  storage::InmemBackend view;
  SlowPoster posts;
  Webhooks hooks(bus, view, posts.poster());
  ASSERT_TRUE(
      hooks.Put("kv", {{"url", "http://127.0.0.1:9/kv"}, {"event_types", {"kv-v2/*"}}}).ok());
  ASSERT_TRUE(
      hooks.Put("seal", {{"url", "http://127.0.0.1:9/seal"}, {"event_types", {"coffer/seal"}}})
          .ok());
  ASSERT_TRUE(hooks.Load().ok());
  bus.Publish(KvWrite());
  posts.WaitForCalls(1);
  hooks.Unload();
  EXPECT_EQ(posts.urls(), std::vector<std::string>{"http://127.0.0.1:9/kv"});
}

// A seal unloads the sender while holding the core's state lock: with six
// hooks on a receiver that never answers, it waits for the POST in flight,
// not for one per hook.
TEST(WebhooksTest, StoppingWaitsForThePostInFlightOnly) {
  FakeClock clock;
  Bus bus(clock);
  storage::InmemBackend view;
  SlowPoster posts;
  posts.hold_ = 2s;  // each POST "times out" after 2 s
  Webhooks hooks(bus, view, posts.poster(), WebhookOptions{.attempts = 1});
  for (int i = 0; i < 6; ++i) {
    ASSERT_TRUE(hooks.Put("h" + std::to_string(i), {{"url", "http://127.0.0.1:9/h"}}).ok());
  }
  ASSERT_TRUE(hooks.Load().ok());
  bus.Publish(KvWrite());
  posts.WaitForCalls(1);
  hooks.Unload();
  EXPECT_EQ(posts.calls(), 1);
  posts.Release();
}

}  // namespace
}  // namespace coffer::events
