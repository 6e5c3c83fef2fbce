// KV v2: concurrent writers on one key never lose an update.

#include <gtest/gtest.h>

#include <set>
#include <thread>

#include "kv_test_util.h"

namespace coffer::engines::kv::testing {
namespace {

constexpr int kThreads = 16;
constexpr int kWritesPerThread = 12;
constexpr int kTotal = kThreads * kWritesPerThread;

// Runs kThreads writers, spread over `engines` (instances sharing one store
// act like several nodes), and checks versions 1..kTotal each hold exactly
// one of the writes.
void RunWriters(std::vector<std::unique_ptr<logical::Backend>>& engines) {
  auto setup = engines[0]->HandleRequest(
      MakeRequest(Operation::kUpdate, "metadata/hot", Json{{"max_versions", kTotal}}));
  ASSERT_TRUE(setup.has_value());

  std::vector<std::vector<std::uint64_t>> versions(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      logical::Backend& engine = *engines[t % engines.size()];
      for (int i = 0; i < kWritesPerThread; ++i) {
        auto r = engine.HandleRequest(
            MakeRequest(Operation::kUpdate, "data/hot", Json{{"data", {{"thread", t}, {"i", i}}}}));
        if (!r.has_value()) {
          ADD_FAILURE() << r.error().ToString();
          return;
        }
        versions[t].push_back(r->data["version"].get<std::uint64_t>());
      }
    });
  }
  for (auto& th : threads) th.join();

  std::set<std::uint64_t> reported;
  for (const auto& v : versions) reported.insert(v.begin(), v.end());
  EXPECT_EQ(reported.size(), static_cast<std::size_t>(kTotal));
  EXPECT_EQ(*reported.begin(), 1u);
  EXPECT_EQ(*reported.rbegin(), static_cast<std::uint64_t>(kTotal));

  auto meta = engines[0]->HandleRequest(MakeRequest(Operation::kRead, "metadata/hot"));
  ASSERT_TRUE(meta.has_value());
  EXPECT_EQ(meta->data["current_version"], kTotal);
  EXPECT_EQ(meta->data["versions"].size(), static_cast<std::size_t>(kTotal));

  std::set<std::pair<int, int>> writes;
  for (int v = 1; v <= kTotal; ++v) {
    auto r = engines[0]->HandleRequest(MakeRequest(Operation::kRead, "data/hot", Json::object(),
                                                   {{"version", std::to_string(v)}}));
    ASSERT_TRUE(r.has_value());
    ASSERT_EQ(r->http_status, 200) << "version " << v;
    writes.insert({r->data["data"]["thread"].get<int>(), r->data["data"]["i"].get<int>()});
  }
  EXPECT_EQ(writes.size(), static_cast<std::size_t>(kTotal));
}

TEST(KvV2Concurrency, SixteenWritersOneEngine) {
  storage::InmemBackend storage;
  FakeClock clock;
  std::vector<std::unique_ptr<logical::Backend>> engines;
  engines.push_back(MakeEngine(storage, clock, "kv-v2"));
  RunWriters(engines);
}

TEST(KvV2Concurrency, SixteenWritersFourEnginesSharingStorage) {
  storage::InmemBackend storage;
  FakeClock clock;
  std::vector<std::unique_ptr<logical::Backend>> engines;
  for (int i = 0; i < 4; ++i) engines.push_back(MakeEngine(storage, clock, "kv-v2"));
  RunWriters(engines);
}

TEST(KvV2Concurrency, ConcurrentCasAllowsOneWinnerPerVersion) {
  storage::InmemBackend storage;
  FakeClock clock;
  auto engine = MakeEngine(storage, clock, "kv-v2");
  std::atomic<int> wins{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      auto r = engine->HandleRequest(MakeRequest(
          Operation::kUpdate, "data/once", Json{{"data", {{"t", t}}}, {"options", {{"cas", 0}}}}));
      if (r.has_value()) {
        wins++;
      } else {
        EXPECT_EQ(r.error().code(), Code::kConflict);
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(wins.load(), 1);
}

}  // namespace
}  // namespace coffer::engines::kv::testing
