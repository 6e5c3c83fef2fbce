// The coffer executable's operator delete (src/wiping_new_delete.cc) wipes
// what it frees, by the size a sized delete names and by the block's size
// for an unsized one. These tests free a block and read what is left of it:
// glibc keeps a freed small block in its per-thread cache and writes only
// its first 16 bytes (the cache's list links), so every byte past those
// still holds what the object wrote unless the delete wiped it.
//
// Reading freed memory is undefined behaviour, which is why this test runs
// only in builds without sanitizers (as the replaced delete itself) and
// reads through a volatile pointer, right after the free, with nothing
// allocated in between.

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <new>
#include <string>

namespace {

constexpr std::size_t kSize = 200;
constexpr std::size_t kCacheLinks = 16;  // glibc's tcache next and key

// The bytes of [kCacheLinks, size) of the freed block at `address` that
// are not zero. (An address, not a pointer: the compiler refuses a pointer
// used after its delete, rightly everywhere but here.)
std::size_t LeftBehind(std::uintptr_t address, std::size_t size) {
  const volatile unsigned char* p = reinterpret_cast<const volatile unsigned char*>(address);
  std::size_t left = 0;
  for (std::size_t i = kCacheLinks; i < size; ++i) left += p[i] != 0 ? 1 : 0;
  return left;
}

TEST(WipingDeleteTest, SizedDeleteWipesTheObject) {
  void* p = ::operator new(kSize);
  std::memset(p, 'S', kSize);
  const auto address = reinterpret_cast<std::uintptr_t>(p);
  ::operator delete(p, kSize);
  EXPECT_EQ(LeftBehind(address, kSize), 0u);
}

TEST(WipingDeleteTest, UnsizedDeleteWipesTheBlock) {
  char* p = new char[kSize];
  std::memset(p, 'S', kSize);
  const auto address = reinterpret_cast<std::uintptr_t>(p);
  delete[] p;  // char is trivially destructible: the unsized operator delete[]
  EXPECT_EQ(LeftBehind(address, kSize), 0u);
}

TEST(WipingDeleteTest, StringBufferIsWipedWhenTheStringDies) {
  std::uintptr_t buffer = 0;
  std::size_t capacity = 0;
  {
    std::string secret(kSize, 'S');
    buffer = reinterpret_cast<std::uintptr_t>(secret.data());
    capacity = secret.capacity();
  }
  // The string frees capacity + 1 bytes through std::allocator, a sized delete.
  EXPECT_EQ(LeftBehind(buffer, capacity + 1), 0u);
}

TEST(WipingDeleteTest, AlignedSizedDeleteWipesTheObject) {
  constexpr std::align_val_t kAlign{64};
  void* p = ::operator new(kSize, kAlign);
  std::memset(p, 'S', kSize);
  const auto address = reinterpret_cast<std::uintptr_t>(p);
  ::operator delete(p, kSize, kAlign);
  EXPECT_EQ(LeftBehind(address, kSize), 0u);
}

}  // namespace
