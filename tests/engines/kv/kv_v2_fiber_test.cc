// KV v2: a data write on a fiber waits for its commit suspended, so the
// fiber's thread goes on with other requests (logical::Backend::
// SuspendsForCommit, common/fiber.h).

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/fiber.h"
#include "common/fiber_test_loop.h"
#include "kv_test_util.h"
#include "storage/local/local_backend.h"
#include "storage/temp_dir.h"

namespace coffer::engines::kv::testing {
namespace {

TEST(KvV2FiberTest, OnlyDataWritesSayTheySuspendForTheirCommit) {
  storage::InmemBackend storage;
  FakeClock clock;
  auto engine = MakeEngine(storage, clock, "kv-v2");
  EXPECT_TRUE(engine->SuspendsForCommit(MakeRequest(Operation::kCreate, "data/a")));
  EXPECT_TRUE(engine->SuspendsForCommit(MakeRequest(Operation::kUpdate, "data/a/b")));
  EXPECT_TRUE(engine->SuspendsForCommit(MakeRequest(Operation::kPatch, "data/a")));
  EXPECT_FALSE(engine->SuspendsForCommit(MakeRequest(Operation::kRead, "data/a")));
  EXPECT_FALSE(engine->SuspendsForCommit(MakeRequest(Operation::kDelete, "data/a")));
  EXPECT_FALSE(engine->SuspendsForCommit(MakeRequest(Operation::kUpdate, "metadata/a")));
  EXPECT_FALSE(engine->SuspendsForCommit(MakeRequest(Operation::kUpdate, "config")));
}

TEST(KvV2FiberTest, DataWritesOnFibersWaitForTheirCommitSuspended) {
  storage::test_util::TempDir tmp;
  auto opened = storage::LocalBackend::Open(tmp.path() + "/db");
  ASSERT_TRUE(opened.has_value()) << opened.error().ToString();
  storage::LocalBackend& local = **opened;
  FakeClock clock;
  auto engine = MakeEngine(local, clock, "kv-v2");

  // Four writes of their own keys, and two of one key: the second of those
  // conflicts with the first in the same batch and tries again.
  const std::vector<std::string> keys = {"a", "b", "c", "d", "same", "same"};
  const int n = static_cast<int>(keys.size());
  test_util::FiberTestLoop posted;
  std::vector<std::optional<Result<Response>>> results(keys.size());
  std::atomic<int> started{0};
  int finished = 0;  // the loop thread's
  bool all_done = false;
  local.PauseCommitsForTesting();
  std::thread loop([&] {
    for (int i = 0; i < n; ++i) {
      // No SuspendScope here: the engine opens its own around the commit.
      Fiber::Start(posted.Poster(), [&, i] {
        results[i] = engine->HandleRequest(
            MakeRequest(Operation::kUpdate, "data/" + keys[i], Json{{"data", {{"i", i}}}}));
        ++finished;
      });
      ++started;  // Start returned: the fiber waits suspended
    }
    all_done = posted.RunUntil([&] { return finished == n; });
  });
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (started.load() < n && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_EQ(started.load(), n) << "a write held its thread until its commit";
  EXPECT_EQ(local.PendingWritesForTesting(), keys.size());
  local.ResumeCommitsForTesting();
  loop.join();
  ASSERT_TRUE(all_done);

  std::set<std::uint64_t> same_versions;
  for (int i = 0; i < n; ++i) {
    ASSERT_TRUE(results[i].has_value());
    ASSERT_TRUE(results[i]->has_value()) << results[i]->error().ToString();
    const std::uint64_t version = (*results[i])->data["version"].get<std::uint64_t>();
    if (keys[i] == "same") {
      same_versions.insert(version);
    } else {
      EXPECT_EQ(version, 1u) << keys[i];
    }
  }
  EXPECT_EQ(same_versions, (std::set<std::uint64_t>{1, 2}));
  for (std::string key : {"a", "d", "same"}) {
    auto read = engine->HandleRequest(MakeRequest(Operation::kRead, "data/" + key));
    ASSERT_TRUE(read.has_value()) << read.error().ToString();
    EXPECT_EQ(read->http_status, 200) << key;
  }
}

}  // namespace
}  // namespace coffer::engines::kv::testing
