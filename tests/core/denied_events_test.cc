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

// Event streams are bounded per token: each holds a connection and a
// thread, and one token could otherwise take every connection slot. A
// stream that ends gives its place back.
TEST_F(DeniedEventsTest, EventStreamsAreBoundedPerToken) {
  std::vector<logical::Response> open;
  for (std::size_t i = 0; i < EventsService::kMaxEventStreamsPerToken; ++i) {
    auto r = Call(Operation::kRead, "sys/events/subscribe/kv-v2/*");
    ASSERT_EQ(r.http_status, 200) << i;
    ASSERT_NE(r.stream, nullptr);
    open.push_back(std::move(r));
  }
  auto refused = Call(Operation::kRead, "sys/events/subscribe/kv-v2/*");
  EXPECT_EQ(refused.http_status, 429);
  EXPECT_EQ(refused.stream, nullptr);
  // Another token still subscribes.
  const std::string other =
      TokenWith(R"(path "sys/events/subscribe/*" { capabilities = ["read"] })");
  EXPECT_EQ(
      Call(Operation::kRead, "sys/events/subscribe/kv-v2/*", Json::object(), other).http_status,
      200);
  open.pop_back();  // one stream ends
  EXPECT_EQ(Call(Operation::kRead, "sys/events/subscribe/kv-v2/*").http_status, 200);
}

}  // namespace
}  // namespace coffer::core
