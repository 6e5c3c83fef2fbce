// coffer/permission-denied events are held to a rate: a flood of refused
// requests (no token needed) must not fill the queues of subscribers and
// webhooks and push other events out of them.

#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "core/sys_events.h"
#include "core_fixture.h"

namespace coffer::core {
namespace {

using logical::Json;
using logical::Operation;

class DeniedEventsTest : public CoreFixture {};

TEST_F(DeniedEventsTest, AFloodOfRefusalsPublishesAtMostTheLimitPerSecond) {
  events::SubscribeOptions options;
  options.type_glob = "coffer/permission-denied";
  options.capacity = 100000;
  auto sub = core_->events().bus().Subscribe(options);
  constexpr int kRefused = 1000;
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < kRefused; ++i) {
    ASSERT_EQ(Call(Operation::kRead, "secret/data/x", Json::object(), "hvs.unknown").http_status,
              403);
  }
  const auto seconds =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - start)
          .count();
  int published = 0;
  while (sub->Next(std::chrono::milliseconds(50))) ++published;
  EXPECT_GE(published, 1);
  // At most the limit in each second the loop touched.
  EXPECT_LE(published, EventsService::kDeniedEventsPerSecond * (seconds + 2));
  EXPECT_LT(published, kRefused);
}

}  // namespace
}  // namespace coffer::core
