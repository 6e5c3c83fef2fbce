// Global operator new and delete for the coffer executable: every C++
// deallocation wipes its block before freeing it.
//
// Request and response bodies (secret values, unseal shares) pass through
// ordinary heap strings and JSON values that are freed, not wiped. The server
// also has glibc overwrite the chunks it frees (malloc.perturb, set by a
// re-exec in server/server_command.cc), but glibc skips the chunks it keeps
// in its per-thread cache, and turning that cache off cost ~10 % of the CPU
// of a KV read (docs/benchmarks.md). So C++ code, where such bodies live,
// wipes each block itself and the cache stays on. new is replaced too, so
// that what delete frees is known to come from malloc (or posix_memalign).
//
// A sized delete (every container and string of the standard library, and
// any complete type) wipes the bytes it was asked for: they are all its
// object ever wrote. Only an unsized delete asks glibc for the block's size
// (malloc_usable_size), which reads the next chunk's header, a likely cache
// miss: that call was ~3 % of a durable token's CPU (docs/benchmarks.md).
//
// Only in builds without sanitizers: ASan and TSan replace new and delete
// themselves (CMakeLists.txt).

#include <malloc.h>
#include <string.h>

#include <algorithm>
#include <cstddef>
#include <cstdlib>
#include <new>
#include <string_view>

namespace {

void* Allocate(std::size_t size, std::size_t alignment) {
  if (size == 0) size = 1;
  alignment = std::max(alignment, sizeof(void*));
  for (;;) {
    void* p = nullptr;
    if (alignment <= alignof(std::max_align_t)) {
      p = std::malloc(size);
    } else if (posix_memalign(&p, alignment, size) != 0) {
      p = nullptr;
    }
    if (p != nullptr) return p;
    std::new_handler handler = std::get_new_handler();
    if (handler == nullptr) throw std::bad_alloc();
    handler();
  }
}

void* AllocateNoThrow(std::size_t size, std::size_t alignment) noexcept {
  try {
    return Allocate(size, alignment);
  } catch (...) {
    return nullptr;
  }
}

// COFFER_MALLOC_WIPE=0 turns the wipe off (for measuring what it costs).
bool WipeEnabled() noexcept {
  static const bool enabled = [] {
    const char* v = std::getenv("COFFER_MALLOC_WIPE");
    return v == nullptr || std::string_view(v) != "0";
  }();
  return enabled;
}

void WipeAndFree(void* p) noexcept {
  if (p == nullptr) return;
  if (WipeEnabled()) explicit_bzero(p, malloc_usable_size(p));
  std::free(p);
}

// `size` is what new was asked for (the standard requires it of a sized
// delete), so the block holds at least that many bytes.
void WipeAndFree(void* p, std::size_t size) noexcept {
  if (p == nullptr) return;
  if (WipeEnabled()) explicit_bzero(p, size);
  std::free(p);
}

constexpr std::size_t kDefault = alignof(std::max_align_t);

std::size_t Align(std::align_val_t a) { return static_cast<std::size_t>(a); }

}  // namespace

void* operator new(std::size_t n) { return Allocate(n, kDefault); }
void* operator new[](std::size_t n) { return Allocate(n, kDefault); }
void* operator new(std::size_t n, std::align_val_t a) { return Allocate(n, Align(a)); }
void* operator new[](std::size_t n, std::align_val_t a) { return Allocate(n, Align(a)); }
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  return AllocateNoThrow(n, kDefault);
}
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept {
  return AllocateNoThrow(n, kDefault);
}
void* operator new(std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
  return AllocateNoThrow(n, Align(a));
}
void* operator new[](std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
  return AllocateNoThrow(n, Align(a));
}

void operator delete(void* p) noexcept { WipeAndFree(p); }
void operator delete[](void* p) noexcept { WipeAndFree(p); }
void operator delete(void* p, std::size_t n) noexcept { WipeAndFree(p, n); }
void operator delete[](void* p, std::size_t n) noexcept { WipeAndFree(p, n); }
void operator delete(void* p, std::align_val_t) noexcept { WipeAndFree(p); }
void operator delete[](void* p, std::align_val_t) noexcept { WipeAndFree(p); }
void operator delete(void* p, std::size_t n, std::align_val_t) noexcept { WipeAndFree(p, n); }
void operator delete[](void* p, std::size_t n, std::align_val_t) noexcept { WipeAndFree(p, n); }
void operator delete(void* p, const std::nothrow_t&) noexcept { WipeAndFree(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { WipeAndFree(p); }
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept { WipeAndFree(p); }
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept {
  WipeAndFree(p);
}
