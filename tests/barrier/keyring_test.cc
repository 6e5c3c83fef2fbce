// Keyring records: one encoding per keyring (Parse accepts exactly what
// Serialize writes).
#include "barrier/keyring.h"

#include <gtest/gtest.h>

namespace coffer::barrier {
namespace {

std::unique_ptr<Keyring> OneTerm() {
  auto kr = std::make_unique<Keyring>();
  KeyTerm t;
  t.term = 1;
  t.key = SecretBytes(32);
  t.install_time = std::chrono::system_clock::time_point(std::chrono::seconds(1'700'000'000));
  kr->terms.push_back(std::move(t));
  kr->active_term = 1;
  return kr;
}

std::span<const std::uint8_t> Bytes(const std::string& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

TEST(KeyringTest, RoundTrips) {
  auto kr = OneTerm();
  kr->rotation.disabled = true;
  std::string bytes(kr->Serialize().view());
  auto parsed = Keyring::Parse(Bytes(bytes), SecretBytes(32));
  ASSERT_TRUE(parsed.has_value());
  EXPECT_TRUE((*parsed)->rotation.disabled);
  EXPECT_EQ(std::string((*parsed)->Serialize().view()), bytes);
}

// Found by fuzz_barrier: a "rotation disabled" byte of 2 parsed as true and
// was written back as 1, so one keyring had several encodings.
TEST(KeyringTest, DisabledFlagIsZeroOrOne) {
  std::string bytes(OneTerm()->Serialize().view());
  constexpr std::size_t kDisabledAt = 1 + 4 + 8 + 8 + 8;  // format, term, count, max ops, interval
  ASSERT_EQ(bytes[kDisabledAt], 0);
  bytes[kDisabledAt] = 1;
  EXPECT_TRUE(Keyring::Parse(Bytes(bytes), SecretBytes(32)).has_value());
  bytes[kDisabledAt] = 2;
  EXPECT_FALSE(Keyring::Parse(Bytes(bytes), SecretBytes(32)).has_value());
}

}  // namespace
}  // namespace coffer::barrier
