// ChangeSubscriber with a scripted stream: event paths reach on_change, a
// refused glob falls back to the next and then to polling, a dropped stream
// reconnects (and on_open fires again so the caller re-checks), Reconnect
// and Stop cancel a stream in progress.
#include "agent/change_events.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <deque>
#include <mutex>

namespace coffer::agent {
namespace {

using namespace std::chrono_literals;

TEST(EventSecretPathTest, KvV2UsesDataPathAndKvV1Path) {
  EXPECT_EQ(EventSecretPath(R"({"type":"kv-v2/metadata-write","data":{"event":{"metadata":{)"
                            R"("path":"secret/metadata/app","data_path":"secret/data/app"}}}})"),
            "secret/data/app");
  EXPECT_EQ(EventSecretPath(R"({"data":{"event":{"metadata":{"path":"kv/app"}}}})"), "kv/app");
  EXPECT_EQ(EventSecretPath(R"({"data":{"event":{"metadata":{"operation":"seal"}}}})"), "");
  EXPECT_EQ(EventSecretPath("not json"), "");
  EXPECT_EQ(EventSecretPath(R"({"data":[]})"), "");
}

TEST(EventSecretPathTest, NormalizesReferencedPaths) {
  EXPECT_EQ(NormalizeSecretPath("/secret/data/app?version=2"), "secret/data/app");
  EXPECT_EQ(NormalizeSecretPath("/v1/kv/app/"), "kv/app");
  EXPECT_EQ(NormalizeSecretPath("secret/data/app"), "secret/data/app");
}

// A scripted server: each StreamFn call takes the next step.
struct Script {
  struct Step {
    int status = 200;                  // 0: a transport error
    std::vector<std::string> records;  // sent after opening
    bool hold = false;                 // stay open until cancelled
  };
  std::mutex mu;
  std::condition_variable cv;
  std::deque<Step> steps;
  std::vector<std::string> urls;
  bool cancelled = false;

  Result<int> Stream(const std::string& url, const std::function<void()>& on_open,
                     const std::function<void(std::string_view)>& on_record) {
    Step step;
    {
      std::unique_lock lock(mu);
      urls.push_back(url);
      cv.notify_all();
      if (steps.empty()) {
        step.hold = true;  // nothing scripted: an idle open stream
      } else {
        step = steps.front();
        steps.pop_front();
      }
    }
    if (step.status == 0) return Err(Unavailable("connection refused"));
    if (step.status != 200) return step.status;
    on_open();
    for (const std::string& r : step.records) on_record(r);
    if (step.hold) {
      std::unique_lock lock(mu);
      cv.wait(lock, [this] { return cancelled; });
      return Err(Unavailable("cancelled"));
    }
    return 200;
  }
};

class SubscriberTest : public ::testing::Test {
 protected:
  std::unique_ptr<ChangeSubscriber> Make() {
    ChangeSubscriber::Options o;
    o.min_backoff = 1ms;
    o.max_backoff = 4ms;
    o.refused_retry = 20ms;
    o.log = [this](const std::string& m) {
      std::scoped_lock lock(mu_);
      logs_.push_back(m);
    };
    ChangeSubscriber::Callbacks cb;
    cb.on_open = [this] {
      std::scoped_lock lock(mu_);
      ++opens_;
      cv_.notify_all();
    };
    cb.on_change = [this](const std::string& p) {
      std::scoped_lock lock(mu_);
      changes_.push_back(p);
      cv_.notify_all();
    };
    return std::make_unique<ChangeSubscriber>(
        o,
        [this](const std::string& u, const std::function<void()>& open,
               const std::function<void(std::string_view)>& rec) {
          return script_.Stream(u, open, rec);
        },
        [this] {
          std::scoped_lock lock(script_.mu);
          script_.cancelled = true;
          script_.cv.notify_all();
        },
        [this] {
          std::scoped_lock lock(script_.mu);
          script_.cancelled = false;
        },
        std::move(cb));
  }

  template <typename Pred>
  bool WaitFor(Pred pred) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, 5s, pred);
  }

  bool WaitForUrls(std::size_t n) {
    std::unique_lock lock(script_.mu);
    return script_.cv.wait_for(lock, 5s, [&] { return script_.urls.size() >= n; });
  }

  Script script_;
  std::mutex mu_;
  std::condition_variable cv_;
  int opens_ = 0;
  std::vector<std::string> changes_;
  std::vector<std::string> logs_;
};

TEST_F(SubscriberTest, ReportsPathsAndReconnectsAfterADrop) {
  script_.steps = {
      {200, {R"({"data":{"event":{"metadata":{"data_path":"secret/data/a"}}}})", "junk"}, false},
      {0, {}, false},
      {200, {R"({"data":{"event":{"metadata":{"path":"kv/b"}}}})"}, true},
  };
  auto s = Make();
  s->Start();
  ASSERT_TRUE(WaitFor([&] { return changes_.size() >= 2 && opens_ >= 2; }));
  EXPECT_EQ(changes_, (std::vector<std::string>{"secret/data/a", "kv/b"}));
  EXPECT_TRUE(s->streaming());
  s->Stop();
  EXPECT_FALSE(s->streaming());
  std::scoped_lock lock(script_.mu);
  for (const std::string& u : script_.urls) EXPECT_EQ(u, "/v1/sys/events/subscribe/kv*");
}

TEST_F(SubscriberTest, RefusedGlobFallsBackToTheNarrowerOneThenRetries) {
  script_.steps = {{403, {}, false}, {200, {}, false}, {403, {}, false}, {404, {}, false}};
  auto s = Make();
  s->Start();
  ASSERT_TRUE(WaitForUrls(5));
  s->Stop();
  std::scoped_lock lock(script_.mu);
  EXPECT_EQ(script_.urls[0], "/v1/sys/events/subscribe/kv*");
  EXPECT_EQ(script_.urls[1], "/v1/sys/events/subscribe/kv-v2/*");
  // The kv-v2/* stream ended; reconnecting starts from the first glob again
  // only after a refusal round: the same glob is retried first.
  EXPECT_EQ(script_.urls[2], "/v1/sys/events/subscribe/kv-v2/*");
  EXPECT_EQ(script_.urls[3], "/v1/sys/events/subscribe/kv*");  // after refused_retry
  EXPECT_EQ(script_.urls[4], "/v1/sys/events/subscribe/kv-v2/*");
  bool refused_logged = false;
  std::scoped_lock lock2(mu_);
  for (const std::string& l : logs_) {
    refused_logged = refused_logged || l.find("refused") != std::string::npos;
  }
  EXPECT_TRUE(refused_logged);
}

TEST_F(SubscriberTest, ReconnectAndStopCancelAnOpenStream) {
  auto s = Make();
  s->Start();
  ASSERT_TRUE(WaitFor([&] { return opens_ >= 1; }));
  s->Reconnect();
  ASSERT_TRUE(WaitFor([&] { return opens_ >= 2; }));
  auto start = std::chrono::steady_clock::now();
  s->Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
}

}  // namespace
}  // namespace coffer::agent
