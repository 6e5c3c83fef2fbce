// What a clean shutdown (the core destroyed while unsealed) leaves in
// storage for the next start.

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "core/builtins.h"
#include "core/core.h"
#include "storage/forwarding_backend.h"
#include "storage/inmem/inmem_backend.h"

namespace coffer::core {
namespace {

std::unique_ptr<Core> NewCore(storage::InmemBackend& shared, FakeClock& clock) {
  RegisterBuiltins();
  CoreOptions options;
  // Storage that outlives one core.
  options.physical = std::make_unique<storage::test_util::ForwardingBackend>(shared);
  options.clock = &clock;
  options.worker_threads = 1;
  auto core = Core::Create(std::move(options));
  EXPECT_TRUE(core.has_value());
  return core.has_value() ? std::move(*core) : nullptr;
}

// The barrier writes its encryption count every kPersistEvery encryptions;
// a shutdown writes the rest, so a restart counts on from where it stopped
// (the count guards the 2^32 random-nonce limit of AES-GCM).
TEST(ShutdownTest, TheEncryptionCountSurvivesACleanShutdown) {
  storage::InmemBackend shared;
  FakeClock clock;
  std::uint64_t before = 0;
  SecretBytes key;
  {
    auto core = NewCore(shared, clock);
    ASSERT_NE(core, nullptr);
    auto init = core->Initialize(1, 1, /*stay_unsealed=*/true);
    ASSERT_TRUE(init.has_value()) << init.error().ToString();
    key = init->keys[0].Clone();
    auto status = core->barrier().GetKeyStatus();
    ASSERT_TRUE(status.has_value());
    before = status->encryptions;
    ASSERT_GT(before, 0u);
    ASSERT_NE(before % barrier::AesGcmBarrier::kPersistEvery, 0u);
  }
  auto core = NewCore(shared, clock);
  ASSERT_NE(core, nullptr);
  auto unsealed = core->Unseal(key);
  ASSERT_TRUE(unsealed.has_value()) << unsealed.error().ToString();
  auto status = core->barrier().GetKeyStatus();
  ASSERT_TRUE(status.has_value());
  // At least the count before the shutdown (the unseal itself may encrypt).
  EXPECT_GE(status->encryptions, before);
}

}  // namespace
}  // namespace coffer::core
