#include "common/fiber.h"

#include <spdlog/spdlog.h>
#include <sys/mman.h>
#include <unistd.h>

#include <boost/context/detail/fcontext.hpp>
#include <exception>
#include <utility>
#include <vector>

#include "common/log.h"

// g++ says which sanitizer it builds for with __SANITIZE_*__, clang with
// __has_feature.
#if defined(__SANITIZE_ADDRESS__)
#define COFFER_FIBER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define COFFER_FIBER_ASAN 1
#endif
#endif
#if defined(__SANITIZE_THREAD__)
#define COFFER_FIBER_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define COFFER_FIBER_TSAN 1
#endif
#endif
#if defined(COFFER_FIBER_ASAN)
#include <sanitizer/common_interface_defs.h>
#endif
#if defined(COFFER_FIBER_TSAN)
#include <sanitizer/tsan_interface.h>
#endif

namespace coffer {
namespace {

namespace ctx = boost::context::detail;

// A request's handler runs on these: the core's stages, the token store,
// the expiration manager, the barrier, SQLite's read path, with JSON and
// fmt buffers on the way (a few tens of KiB). Only touched pages take
// memory, so the margin costs address space alone.
#if defined(COFFER_FIBER_ASAN) || defined(COFFER_FIBER_TSAN)
constexpr std::size_t kStackBytes = std::size_t{2} << 20;
#else
constexpr std::size_t kStackBytes = std::size_t{512} << 10;
#endif
constexpr std::size_t kKeptStacks = 64;  // per thread, for reuse

std::size_t PageBytes() {
  static const auto page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  return page;
}

}  // namespace

// Named, not anonymous: Fiber::Impl, which has linkage, holds one.
namespace fiber_detail {
struct Stack {
  void* map = nullptr;  // the mapping: a guard page, then the stack
  std::size_t map_bytes = 0;
  char* lo() const { return static_cast<char*>(map) + PageBytes(); }
  std::size_t size() const { return map_bytes - PageBytes(); }
};
}  // namespace fiber_detail

namespace {

using fiber_detail::Stack;

struct StackPool {
  std::vector<Stack> kept;
  ~StackPool() {
    for (const Stack& s : kept) munmap(s.map, s.map_bytes);
  }
};
thread_local StackPool stack_pool;

bool AllocateStack(Stack* out) {
  if (!stack_pool.kept.empty()) {
    *out = stack_pool.kept.back();
    stack_pool.kept.pop_back();
    return true;
  }
  const std::size_t page = PageBytes();
  const std::size_t bytes = kStackBytes + page;
  void* map = mmap(nullptr, bytes, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
  if (map == MAP_FAILED) return false;
  // An overflow faults on the guard page instead of writing over a
  // neighbour; and what a handler left on its stack stays out of core dumps
  // (which the server turns off anyway).
  if (mprotect(map, page, PROT_NONE) != 0) {
    munmap(map, bytes);
    return false;
  }
  (void)madvise(map, bytes, MADV_DONTDUMP);
  out->map = map;
  out->map_bytes = bytes;
  return true;
}

void ReleaseStack(const Stack& s) {
  if (stack_pool.kept.size() < kKeptStacks) {
    stack_pool.kept.push_back(s);
  } else {
    munmap(s.map, s.map_bytes);
  }
}

}  // namespace

struct Fiber::Impl {
  Impl() : handle(this) {}

  Fiber handle;
  Post post;
  std::function<void()> fn;
  Stack stack;
  ctx::fcontext_t context = nullptr;  // the fiber's, while it is not running
  ctx::fcontext_t caller = nullptr;   // the loop's that resumed it, while it runs
  bool suspendable = false;
  bool finished = false;
#if defined(COFFER_FIBER_ASAN)
  void* fake_stack = nullptr;
  const void* caller_bottom = nullptr;
  std::size_t caller_size = 0;
#endif
#if defined(COFFER_FIBER_TSAN)
  void* tsan_fiber = nullptr;
  void* tsan_caller = nullptr;
#endif
};

namespace {

thread_local Fiber::Impl* current = nullptr;

}  // namespace

// The switches, with what each sanitizer needs to know around them.
struct FiberSwitch {
  // On the loop's thread: runs the fiber until it suspends or finishes.
  static void Resume(Fiber::Impl* f) {
    Fiber::Impl* prev = current;
    current = f;
#if defined(COFFER_FIBER_ASAN)
    void* fake = nullptr;
    __sanitizer_start_switch_fiber(&fake, f->stack.lo(), f->stack.size());
#endif
#if defined(COFFER_FIBER_TSAN)
    f->tsan_caller = __tsan_get_current_fiber();
    __tsan_switch_to_fiber(f->tsan_fiber, 0);
#endif
    // Comes back when the fiber switches out, with where it stopped.
    f->context = ctx::jump_fcontext(f->context, f).fctx;
#if defined(COFFER_FIBER_ASAN)
    __sanitizer_finish_switch_fiber(fake, nullptr, nullptr);
#endif
    current = prev;
    if (f->finished) {
#if defined(COFFER_FIBER_TSAN)
      __tsan_destroy_fiber(f->tsan_fiber);
#endif
      ReleaseStack(f->stack);
      delete f;
    }
  }

  // On the fiber: back to the loop that resumed it. Returns when resumed
  // again (never, when `last`).
  static void SwitchOut(Fiber::Impl* f, [[maybe_unused]] bool last) {
#if defined(COFFER_FIBER_ASAN)
    __sanitizer_start_switch_fiber(last ? nullptr : &f->fake_stack, f->caller_bottom,
                                   f->caller_size);
#endif
#if defined(COFFER_FIBER_TSAN)
    __tsan_switch_to_fiber(f->tsan_caller, 0);
#endif
    // Comes back when a loop resumes the fiber, with where that loop is.
    f->caller = ctx::jump_fcontext(f->caller, nullptr).fctx;
    SwitchedIn(f);
  }

  static void SwitchedIn([[maybe_unused]] Fiber::Impl* f) {
#if defined(COFFER_FIBER_ASAN)
    __sanitizer_finish_switch_fiber(f->fake_stack, &f->caller_bottom, &f->caller_size);
#endif
  }

  static void Entry(ctx::transfer_t from) {
    auto* f = static_cast<Fiber::Impl*>(from.data);
    f->caller = from.fctx;
    SwitchedIn(f);
    try {
      f->fn();
    } catch (const std::exception& e) {
      Log(LogModule::kFiber).error("uncaught exception: {}", e.what());
    } catch (...) {
      Log(LogModule::kFiber).error("uncaught exception");
    }
    f->fn = nullptr;  // its captures go now, on this stack
    f->finished = true;
    SwitchOut(f, /*last=*/true);
    std::terminate();  // a finished fiber is never resumed
  }
};

void Fiber::Start(Post post, std::function<void()> fn) {
  auto* f = new Impl;
  if (!AllocateStack(&f->stack)) {
    // No memory for a stack: run on the thread, whose waits then block.
    delete f;
    fn();
    return;
  }
  f->post = std::move(post);
  f->fn = std::move(fn);
  // The stack grows down from its top.
  f->context =
      ctx::make_fcontext(f->stack.lo() + f->stack.size(), f->stack.size(), &FiberSwitch::Entry);
#if defined(COFFER_FIBER_TSAN)
  f->tsan_fiber = __tsan_create_fiber(0);
#endif
  FiberSwitch::Resume(f);
}

Fiber* Fiber::Suspendable() {
  Impl* f = current;
  return f != nullptr && f->suspendable ? &f->handle : nullptr;
}

void Fiber::Suspend() { FiberSwitch::SwitchOut(impl_, /*last=*/false); }

void Fiber::Wake() {
  Impl* f = impl_;
  // A copy: once posted, the loop may resume the fiber, which may finish
  // and free `f` (its `post` with it) before the call below returns.
  Post post = f->post;
  if (!post([f] { FiberSwitch::Resume(f); })) {
    // Only after the server stopped its loops, which it does once no
    // request is in flight or its shutdown timeout passed.
    Log(LogModule::kFiber).error("the loop of a waiting request is gone; the request is abandoned");
  }
}

SuspendScope::SuspendScope() : saved_(current != nullptr && current->suspendable) {
  if (current != nullptr) current->suspendable = true;
}
SuspendScope::~SuspendScope() {
  if (current != nullptr) current->suspendable = saved_;
}

NoSuspend::NoSuspend() : saved_(current != nullptr && current->suspendable) {
  if (current != nullptr) current->suspendable = false;
}
NoSuspend::~NoSuspend() {
  if (current != nullptr) current->suspendable = saved_;
}

}  // namespace coffer
