#include "crypto/random.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <climits>
#include <cstring>
#include <string_view>
#include <utility>
#include <vector>

namespace coffer::crypto {

Status RandomFill(std::span<std::uint8_t> out) {
  std::size_t done = 0;
  while (done < out.size()) {
    // RAND_bytes takes an int; feed it in chunks.
    std::size_t chunk = std::min<std::size_t>(out.size() - done, INT_MAX);
    if (RAND_bytes(out.data() + done, static_cast<int>(chunk)) != 1) {
      return Internal("random number generator failed");
    }
    done += chunk;
  }
  return Status::Ok();
}

namespace {

// Bumped in a forked child: its inherited nonce buffer must not be used.
std::atomic<std::uint64_t> fork_generation{0};
void AfterForkInChild() { fork_generation.fetch_add(1, std::memory_order_relaxed); }

struct NoncePool {
  std::uint8_t bytes[kMaxNonceSize * 64];
  std::size_t used = sizeof(bytes);
  std::uint64_t generation = 0;
};

}  // namespace

Status RandomNonce(std::span<std::uint8_t> out) {
  if (out.size() > kMaxNonceSize) return InvalidArgument("nonce too long");
  static const int registered = pthread_atfork(nullptr, nullptr, &AfterForkInChild);
  if (registered != 0) return RandomFill(out);
  thread_local NoncePool pool;
  const std::uint64_t generation = fork_generation.load(std::memory_order_relaxed);
  if (pool.generation != generation || pool.used + out.size() > sizeof(pool.bytes)) {
    TRY(RandomFill(pool.bytes));
    pool.used = 0;
    pool.generation = generation;
  }
  std::memcpy(out.data(), pool.bytes + pool.used, out.size());
  // A used nonce is not kept, so the buffer never hands it out again.
  OPENSSL_cleanse(pool.bytes + pool.used, out.size());
  pool.used += out.size();
  return Status::Ok();
}

Result<SecretBytes> RandomSecret(std::size_t size) {
  SecretBytes out(size);
  TRY(RandomFill({out.data(), out.size()}));
  return out;
}

Result<std::string> RandomString(std::size_t size) {
  std::string out(size, '\0');
  TRY(RandomFill({reinterpret_cast<std::uint8_t*>(out.data()), out.size()}));
  return out;
}

Result<std::string> RandomBase62(std::size_t n) {
  std::string out;
  out.reserve(n);
  // 1/32 of the bytes are rejected, so n + n/8 + 8 bytes nearly always
  // suffice for one call.
  std::vector<std::uint8_t> buf(n + n / 8 + 8);
  while (out.size() < n) {
    if (Status s = RandomFill(buf); !s.ok()) {
      OPENSSL_cleanse(out.data(), out.size());
      return Err(std::move(s));
    }
    for (std::uint8_t b : buf) {
      // Rejection sampling keeps the characters uniform: 248 = 4 * 62.
      if (b < 248 && out.size() < n) out.push_back(kBase62Digits[b % 62]);
    }
  }
  OPENSSL_cleanse(buf.data(), buf.size());
  return out;
}

Result<std::string> NewUuid() {
  std::uint8_t b[16];
  TRY(RandomFill(b));
  b[6] = static_cast<std::uint8_t>((b[6] & 0x0f) | 0x40);  // version 4
  b[8] = static_cast<std::uint8_t>((b[8] & 0x3f) | 0x80);  // variant 10xx
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(36);
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
    out.push_back(kHex[b[i] >> 4]);
    out.push_back(kHex[b[i] & 0x0f]);
  }
  return out;
}

}  // namespace coffer::crypto
