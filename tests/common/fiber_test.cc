#include "common/fiber.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/fiber_test_loop.h"

namespace coffer {
namespace {

using Loop = test_util::FiberTestLoop;

TEST(FiberTest, RunsToTheEndAtOnceWhenNothingSuspendsIt) {
  Loop loop;
  bool ran = false;
  Fiber::Start(loop.Poster(), [&] {
    EXPECT_EQ(Fiber::Suspendable(), nullptr);  // not inside a SuspendScope
    ran = true;
  });
  EXPECT_TRUE(ran);
}

TEST(FiberTest, OnlyASuspendScopeOnAFiberMakesItSuspendable) {
  EXPECT_EQ(Fiber::Suspendable(), nullptr);
  {
    SuspendScope scope;  // on a plain thread: nothing to suspend
    EXPECT_EQ(Fiber::Suspendable(), nullptr);
  }
  Loop loop;
  bool checked = false;
  Fiber::Start(loop.Poster(), [&] {
    EXPECT_EQ(Fiber::Suspendable(), nullptr);
    {
      SuspendScope scope;
      EXPECT_NE(Fiber::Suspendable(), nullptr);
      {
        NoSuspend holding_a_lock;
        EXPECT_EQ(Fiber::Suspendable(), nullptr);
        SuspendScope inner;  // a callee's scope inside NoSuspend
        EXPECT_NE(Fiber::Suspendable(), nullptr);
      }
      EXPECT_NE(Fiber::Suspendable(), nullptr);
    }
    EXPECT_EQ(Fiber::Suspendable(), nullptr);
    checked = true;
  });
  EXPECT_TRUE(checked);
}

TEST(FiberTest, ASuspendedFiberFreesTheThreadAndResumesWhereItStopped) {
  Loop loop;
  Fiber* waiting = nullptr;
  std::string trace;
  Fiber::Start(loop.Poster(), [&] {
    std::string local = "kept on the fiber's stack";
    trace += "a";
    SuspendScope scope;
    waiting = Fiber::Suspendable();
    waiting->Suspend();
    trace += "c";
    EXPECT_EQ(local, "kept on the fiber's stack");
  });
  trace += "b";  // Start returned while the fiber waits
  ASSERT_NE(waiting, nullptr);
  std::thread waker([&] { waiting->Wake(); });
  EXPECT_TRUE(loop.RunUntil([&] { return trace.size() == 3; }));
  waker.join();
  EXPECT_EQ(trace, "abc");
}

TEST(FiberTest, AWakeBeforeTheSuspendIsNotLost) {
  Loop loop;
  bool finished = false;
  Fiber::Start(loop.Poster(), [&] {
    SuspendScope scope;
    Fiber* self = Fiber::Suspendable();
    std::thread waker([self] { self->Wake(); });
    waker.join();  // the wake is posted before this fiber suspends
    self->Suspend();
    finished = true;
  });
  EXPECT_FALSE(finished);
  EXPECT_TRUE(loop.RunUntil([&] { return finished; }));
}

TEST(FiberTest, ManyFibersWaitAtOnceAndEachResumesInAnyOrder) {
  Loop loop;
  constexpr int kFibers = 200;
  std::vector<Fiber*> waiting(kFibers, nullptr);
  std::vector<int> result(kFibers, -1);
  int finished = 0;
  for (int i = 0; i < kFibers; ++i) {
    Fiber::Start(loop.Poster(), [&, i] {
      const int mine = i * 7;  // on this fiber's own stack
      SuspendScope scope;
      waiting[i] = Fiber::Suspendable();
      waiting[i]->Suspend();
      waiting[i]->Suspend();  // twice: each Suspend takes its own Wake
      result[i] = mine;
      ++finished;
    });
  }
  EXPECT_EQ(finished, 0);
  // Two wakes each, back to back, from another thread, last fiber first:
  // each resumption the loop runs takes the fiber to its next Suspend.
  std::thread waker([&] {
    for (int round = 0; round < 2; ++round) {
      for (int i = kFibers - 1; i >= 0; --i) waiting[i]->Wake();
    }
  });
  waker.join();
  EXPECT_TRUE(loop.RunUntil([&] { return finished == kFibers; }));
  for (int i = 0; i < kFibers; ++i) EXPECT_EQ(result[i], i * 7);
}

// A fiber suspended inside a request holds the core's state lock shared,
// and only its own thread can resume it. If a seal waiting for that lock
// exclusively kept the thread's next request from taking it shared, the
// thread would block and the fiber never resume (core.cc, RunsOnFiber).
TEST(FiberTest, ASharedMutexLetsReadersInWhileAWriterWaits) {
  std::shared_mutex state;
  state.lock_shared();  // the suspended fiber's hold
  std::atomic<bool> written{false};
  std::thread seal([&] {
    state.lock();
    written = true;
    state.unlock();
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // the seal waits
  ASSERT_TRUE(state.try_lock_shared()) << "a waiting writer blocks new readers";
  state.unlock_shared();
  EXPECT_FALSE(written.load());
  state.unlock_shared();
  seal.join();
  EXPECT_TRUE(written.load());
}

}  // namespace
}  // namespace coffer
