#include "common/secret_bytes.h"

#include <openssl/crypto.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <cstring>
#include <utility>

namespace coffer {

namespace {

// SecretBytes take at most this many bytes of the secure arena; 0 until
// InitSecureMemory. OpenSSL needs the arena too: its DRBGs draw their seed
// material from it, and private keys' bignums live there. With a keyring of
// ~15,000 terms the keys had filled it, and a DRBG instantiated afterwards
// (a new thread's first RAND_bytes after a restart) failed, so writes
// answered 500.
std::atomic<std::size_t> secret_share{0};

// The arena's blocks that SecretBytes hold, counted here rather than asked
// of CRYPTO_secure_used, which takes the arena's lock: a transit batch
// allocates a few SecretBytes per item on every I/O thread.
std::atomic<std::size_t> secret_used{0};

constexpr std::size_t kMinBlock = 32;  // CRYPTO_secure_malloc_init's minsize

// The block OpenSSL's buddy allocator gives a request of n bytes: the next
// power of two, at least the minimum block.
std::size_t ArenaBlock(std::size_t n) { return std::max(kMinBlock, std::bit_ceil(n)); }

}  // namespace

bool InitSecureMemory(std::size_t arena_bytes) {
  if (CRYPTO_secure_malloc_initialized()) return true;
  // minsize 32: a 256-bit key fits one block.
  if (CRYPTO_secure_malloc_init(arena_bytes, kMinBlock) != 1) return false;
  secret_share.store(arena_bytes / 2);
  return true;
}

void DisableCoreDumps() {
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  struct rlimit zero {
    0, 0
  };
  setrlimit(RLIMIT_CORE, &zero);
}

void* AllocateSecret(std::size_t size) {
  // From the secure arena while secrets leave half of it to OpenSSL (see
  // secret_share); otherwise, or when the arena is full (a null from
  // OPENSSL_secure_zalloc), from the normal heap. Both are wiped on release
  // (OPENSSL_secure_clear_free handles both).
  void* p = nullptr;
  const std::size_t share = secret_share.load(std::memory_order_relaxed);
  if (share != 0) {
    // Claimed before the allocation, so that threads allocating at once
    // cannot together pass the share; given back if it is not used.
    const std::size_t block = ArenaBlock(size);
    if (secret_used.fetch_add(block, std::memory_order_relaxed) + block <= share) {
      p = OPENSSL_secure_zalloc(size);
    }
    if (p == nullptr) secret_used.fetch_sub(block, std::memory_order_relaxed);
  }
  if (p == nullptr) p = OPENSSL_zalloc(size);
  if (p == nullptr) std::terminate();
  return p;
}

void FreeSecret(void* p, std::size_t size) {
  if (p == nullptr) return;
  // CRYPTO_secure_allocated reads the arena's bounds without its lock.
  if (CRYPTO_secure_allocated(p))
    secret_used.fetch_sub(ArenaBlock(size), std::memory_order_relaxed);
  // Wipes before freeing, in the secure heap and the fallback heap alike.
  OPENSSL_secure_clear_free(p, size);
}

SecretBytes::SecretBytes(std::size_t size) : size_(size) {
  if (size_ == 0) return;
  data_ = static_cast<std::uint8_t*>(AllocateSecret(size_));
}

SecretBytes::SecretBytes(const std::uint8_t* data, std::size_t size) : SecretBytes(size) {
  if (size_ > 0) std::memcpy(data_, data, size_);
}

SecretBytes::~SecretBytes() { Clear(); }

SecretBytes::SecretBytes(SecretBytes&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}

SecretBytes& SecretBytes::operator=(SecretBytes&& other) noexcept {
  if (this != &other) {
    Clear();
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

void SecretBytes::Clear() {
  FreeSecret(data_, size_);
  data_ = nullptr;
  size_ = 0;
}

bool SecretBytes::Equals(const SecretBytes& other) const {
  return ConstantTimeEquals(view(), other.view());
}

bool SecretBytes::Equals(std::string_view other) const { return ConstantTimeEquals(view(), other); }

std::ostream& operator<<(std::ostream& os, const SecretBytes&) { return os << "<redacted>"; }

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

void WipeString(std::string& s) {
  if (!s.empty()) OPENSSL_cleanse(s.data(), s.size());
  s.clear();
}

}  // namespace coffer
