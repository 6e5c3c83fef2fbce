// InFlightRegistry: the list sys/in-flight-req reports.

#include "http/in_flight.h"

#include <gtest/gtest.h>

#include <memory>
#include <thread>
#include <vector>

namespace coffer::http {
namespace {

using namespace std::chrono_literals;

void Fill(InFlightRegistry::Slot& slot, std::string id, std::chrono::system_clock::time_point at) {
  InFlightRequest& f = slot.fields();
  f.id = std::move(id);
  f.method = "GET";
  f.path = "/v1/secret/data/app";
  f.remote_address = "127.0.0.1:5000";
  f.start = at;
}

std::vector<std::string> Ids(const InFlightRegistry& registry) {
  std::vector<std::string> out;
  for (const auto& r : registry.Snapshot()) out.push_back(r.id);
  return out;
}

TEST(InFlightRegistryTest, ListsBegunRequestsOldestFirstUntilTheyEnd) {
  InFlightRegistry registry;
  const auto t0 = std::chrono::system_clock::now();
  InFlightRegistry::Slot a(registry, 0), b(registry, 1), c(registry, 0);
  Fill(a, "a", t0 + 2s);
  Fill(b, "b", t0);
  Fill(c, "c", t0 + 1s);
  EXPECT_TRUE(registry.Snapshot().empty());
  a.Begin();
  b.Begin();
  c.Begin();
  a.Begin();  // ignored: listed once
  EXPECT_EQ(registry.Count(), 3U);
  EXPECT_EQ(Ids(registry), (std::vector<std::string>{"b", "c", "a"}));
  const auto snap = registry.Snapshot();
  EXPECT_EQ(snap[0].method, "GET");
  EXPECT_EQ(snap[0].path, "/v1/secret/data/app");
  EXPECT_EQ(snap[0].remote_address, "127.0.0.1:5000");

  c.End();  // the middle of shard 0's list
  c.End();  // idempotent
  EXPECT_EQ(Ids(registry), (std::vector<std::string>{"b", "a"}));
  EXPECT_FALSE(c.active());

  // A slot is reused for the connection's next request.
  Fill(c, "c2", t0 + 3s);
  c.Begin();
  EXPECT_EQ(Ids(registry), (std::vector<std::string>{"b", "a", "c2"}));
  a.End();
  b.End();
  c.End();
  EXPECT_EQ(registry.Count(), 0U);
  EXPECT_TRUE(registry.Snapshot().empty());
}

TEST(InFlightRegistryTest, ASlotDestroyedWhileListedLeavesTheList) {
  InFlightRegistry registry;
  auto gone = std::make_unique<InFlightRegistry::Slot>(registry, 5);
  InFlightRegistry::Slot kept(registry, 5);
  Fill(*gone, "gone", std::chrono::system_clock::now());
  Fill(kept, "kept", std::chrono::system_clock::now());
  kept.Begin();
  gone->Begin();
  gone.reset();
  EXPECT_EQ(Ids(registry), (std::vector<std::string>{"kept"}));
  EXPECT_EQ(registry.Count(), 1U);
}

TEST(InFlightRegistryTest, ThreadsBeginAndEndWhileSnapshotsAreTaken) {
  InFlightRegistry registry;
  std::atomic<bool> stop{false};
  std::vector<std::thread> workers;
  for (std::size_t t = 0; t < 4; ++t) {
    workers.emplace_back([&registry, t] {
      InFlightRegistry::Slot slot(registry, t % 2);  // two threads per shard
      for (int i = 0; i < 20000; ++i) {
        Fill(slot, "t" + std::to_string(t), std::chrono::system_clock::now());
        slot.Begin();
        slot.End();
      }
    });
  }
  std::thread reader([&] {
    while (!stop.load()) {
      for (const auto& r : registry.Snapshot()) ASSERT_EQ(r.path, "/v1/secret/data/app");
    }
  });
  for (auto& w : workers) w.join();
  stop = true;
  reader.join();
  EXPECT_EQ(registry.Count(), 0U);
  EXPECT_TRUE(registry.Snapshot().empty());
}

}  // namespace
}  // namespace coffer::http
