#include "common/background_job.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <thread>

namespace coffer {
namespace {

using namespace std::chrono_literals;

// Waits (bounded) until `done` holds.
template <typename F>
bool Eventually(F done) {
  for (int i = 0; i < 2000; ++i) {
    if (done()) return true;
    std::this_thread::sleep_for(5ms);
  }
  return done();
}

TEST(BackgroundJobTest, OneAtATime) {
  BackgroundJob job;
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::atomic<int> runs{0};
  ASSERT_TRUE(job.Start([&](const std::atomic<bool>&) {
    ++runs;
    released.wait();
  }));
  EXPECT_TRUE(job.Running());
  EXPECT_FALSE(job.Start([&](const std::atomic<bool>&) { ++runs; })) << "a second job started";
  release.set_value();
  ASSERT_TRUE(Eventually([&] { return !job.Running(); }));
  EXPECT_EQ(runs.load(), 1);
  // Once the first has finished, the next one starts.
  ASSERT_TRUE(job.Start([&](const std::atomic<bool>&) { ++runs; }));
  ASSERT_TRUE(Eventually([&] { return !job.Running(); }));
  EXPECT_EQ(runs.load(), 2);
}

TEST(BackgroundJobTest, StopAsksTheJobToEndAndWaits) {
  BackgroundJob job;
  std::atomic<bool> saw_stop{false};
  std::atomic<bool> started{false};
  ASSERT_TRUE(job.Start([&](const std::atomic<bool>& stop) {
    started = true;
    while (!stop.load()) std::this_thread::sleep_for(1ms);
    saw_stop = true;
  }));
  ASSERT_TRUE(Eventually([&] { return started.load(); }));
  job.Stop();
  EXPECT_TRUE(saw_stop.load()) << "Stop returned before the job ended";
  EXPECT_FALSE(job.Running());
  job.Stop();  // nothing running: returns at once
  // A job started after a stop does not see the old stop request.
  std::atomic<bool> stopped_at_start{true};
  ASSERT_TRUE(job.Start([&](const std::atomic<bool>& stop) { stopped_at_start = stop.load(); }));
  ASSERT_TRUE(Eventually([&] { return !job.Running(); }));
  EXPECT_FALSE(stopped_at_start.load());
}

TEST(BackgroundJobTest, DestructorStopsARunningJob) {
  std::atomic<bool> saw_stop{false};
  {
    BackgroundJob job;
    ASSERT_TRUE(job.Start([&](const std::atomic<bool>& stop) {
      while (!stop.load()) std::this_thread::sleep_for(1ms);
      saw_stop = true;
    }));
  }
  EXPECT_TRUE(saw_stop.load());
}

}  // namespace
}  // namespace coffer
