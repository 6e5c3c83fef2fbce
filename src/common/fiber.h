#pragma once
// Fibers: a request whose only wait is its group commit runs on the I/O
// thread in a fiber of its own, and that wait suspends the fiber instead of
// a thread. The I/O thread goes on serving other connections meanwhile; the
// committer wakes the fiber by posting its resumption to the I/O thread's
// loop, and the request finishes there. Without them such a request holds a
// worker thread across the commit: a hand-off to the worker, two sleeps and
// two wake-ups per request, which cost more CPU than the request's own work.
//
// The switch itself is Boost.Context's (make_fcontext/jump_fcontext): a few
// registers saved and restored, where glibc's swapcontext also saves and
// restores the signal mask with a system call at every switch (five per
// request). What a fiber needs around it is written here: pooled stacks
// with a guard page, the suspend/wake protocol with the loop, and telling
// the sanitizers of each switch (AddressSanitizer's and ThreadSanitizer's
// fiber interfaces), which Boost.Context leaves to its caller at this level.
//
// A suspended fiber still holds whatever locks it took. So a fiber may be
// suspended only inside a SuspendScope, which its caller opens where it
// holds no lock another request on the same thread could block on;
// NoSuspend closes it again for a region that takes such a lock (and then
// waits for its commit on the thread, as any other caller does).
//
// Thread safety: a fiber runs only on the thread that started it (its loop
// resumes it there); Wake may be called from any thread, once per Suspend.

#include <cstddef>
#include <functional>

namespace coffer {

class Fiber {
 public:
  // Runs `fn` on the thread that owns a fiber, from any thread; false when
  // that thread's loop is gone (fn is then dropped without running).
  using Post = std::function<bool(std::function<void()>)>;

  // Runs `fn` in a new fiber on the calling thread, now, until it finishes
  // or first suspends. `fn` must not throw.
  static void Start(Post post, std::function<void()> fn);

  // The fiber to suspend for a wait: the current fiber inside a
  // SuspendScope, else null (wait on the thread).
  static Fiber* Suspendable();

  // Called on the fiber: switches back to the loop that resumed it, and
  // returns once Wake() was called and the loop resumed the fiber.
  void Suspend();

  // From any thread, once per Suspend (before or after it): has the
  // owning loop resume the fiber.
  void Wake();

  Fiber(const Fiber&) = delete;
  Fiber& operator=(const Fiber&) = delete;

  struct Impl;  // fiber.cc

 private:
  explicit Fiber(Impl* impl) : impl_(impl) {}
  ~Fiber() = default;
  Impl* impl_;
};

// Allows the current fiber (if any) to be suspended by a wait until the
// scope ends. Nests; NoSuspend inside it disallows again.
class SuspendScope {
 public:
  SuspendScope();
  ~SuspendScope();
  SuspendScope(const SuspendScope&) = delete;
  SuspendScope& operator=(const SuspendScope&) = delete;

 private:
  bool saved_;
};

class NoSuspend {
 public:
  NoSuspend();
  ~NoSuspend();
  NoSuspend(const NoSuspend&) = delete;
  NoSuspend& operator=(const NoSuspend&) = delete;

 private:
  bool saved_;
};

}  // namespace coffer
