#include "common/secret_bytes.h"

#include <gtest/gtest.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <algorithm>
#include <sstream>
#include <thread>
#include <vector>

#include "common/status.h"
#include "common/thread_pool.h"

namespace coffer {
namespace {

TEST(SecretBytesTest, RedactedWhenPrinted) {
  SecretBytes s = SecretBytes::FromString("hunter2-super-secret");
  std::ostringstream os;
  os << s;
  EXPECT_EQ(os.str(), "<redacted>");
}

TEST(SecretBytesTest, MoveLeavesSourceEmpty) {
  SecretBytes a = SecretBytes::FromString("abc");
  SecretBytes b = std::move(a);
  EXPECT_TRUE(a.empty());  // NOLINT(bugprone-use-after-move)
  EXPECT_EQ(b.view(), "abc");
  EXPECT_TRUE(b.Equals(std::string_view("abc")));
  EXPECT_FALSE(b.Equals(std::string_view("abd")));
  EXPECT_FALSE(b.Equals(std::string_view("ab")));
}

TEST(SecretBytesTest, SecureHeapWorksWhenInitialised) {
  // mlock may be refused in a container; either way allocation must work.
  (void)InitSecureMemory(1 << 16);
  SecretBytes s(32);
  for (std::size_t i = 0; i < s.size(); ++i) EXPECT_EQ(s.data()[i], 0);
  SecretBytes c = s.Clone();
  EXPECT_TRUE(c.Equals(s));
}

// Keys fill at most half of the arena; the rest stays for OpenSSL, whose
// DRBGs seed from it (a full arena made RAND_bytes fail on new threads).
TEST(SecretBytesTest, LeaveHalfOfTheSecureArenaToOpenSSL) {
  constexpr std::size_t kArena = 1 << 16;  // as in SecureHeapWorksWhenInitialised
  if (!InitSecureMemory(kArena)) GTEST_SKIP() << "mlock refused: no secure arena";
  std::vector<SecretBytes> keys;
  for (std::size_t i = 0; i < 2 * kArena / 32; ++i) keys.emplace_back(32);
  EXPECT_TRUE(CRYPTO_secure_allocated(keys.front().data()));
  EXPECT_FALSE(CRYPTO_secure_allocated(keys.back().data()));
  const auto in_arena = std::count_if(keys.begin(), keys.end(), [](const SecretBytes& k) {
    return CRYPTO_secure_allocated(k.data()) == 1;
  });
  EXPECT_LE(static_cast<std::size_t>(in_arena) * 32, kArena / 2);
  EXPECT_GE(static_cast<std::size_t>(in_arena) * 32, kArena / 4);  // and they did use it
  void* own = OPENSSL_secure_malloc(kArena / 4);
  EXPECT_NE(own, nullptr);
  OPENSSL_secure_free(own);
  bool drew = false;
  std::thread fresh([&] {
    unsigned char b[16];
    drew = RAND_bytes(b, sizeof(b)) == 1;
  });
  fresh.join();
  EXPECT_TRUE(drew);
  // Releasing the keys gives their part of the arena back.
  const std::size_t with_keys = CRYPTO_secure_used();
  keys.clear();
  EXPECT_LE(CRYPTO_secure_used() + kArena / 4, with_keys);
  // and to the keys' share: a new key is in the arena again.
  SecretBytes again(32);
  EXPECT_TRUE(CRYPTO_secure_allocated(again.data()));
}

TEST(StatusTest, TryPropagates) {
  auto inner = []() -> Status { return NotFound("nope"); };
  auto outer = [&]() -> Result<int> {
    TRY(inner());
    return 1;
  };
  auto r = outer();
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), Code::kNotFound);
  auto assign = [&]() -> Status {
    ASSIGN_OR_RETURN(int v, outer());
    (void)v;
    return Status::Ok();
  };
  EXPECT_EQ(assign().code(), Code::kNotFound);
}

TEST(ThreadPoolTest, RunsEverythingBeforeShutdownReturns) {
  std::atomic<int> n{0};
  {
    ThreadPool pool(4);
    for (int i = 0; i < 1000; ++i) ASSERT_TRUE(pool.Post([&] { ++n; }));
    pool.Shutdown();
    EXPECT_FALSE(pool.Post([&] { ++n; }));
  }
  EXPECT_EQ(n.load(), 1000);
}

}  // namespace
}  // namespace coffer
