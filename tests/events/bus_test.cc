#include "events/bus.h"

#include <gtest/gtest.h>

#include <chrono>
#include <nlohmann/json.hpp>

#include "events/sse.h"

namespace coffer::events {
namespace {

using namespace std::chrono_literals;

Event KvEvent(std::string type, std::string path) {
  Event e;
  e.type = std::move(type);
  e.acl_path = path;
  e.metadata = {{"path", path}, {"operation", "data-write"}};
  return e;
}

TEST(BusTest, DeliversToMatchingSubscribersOnly) {
  FakeClock clock;
  Bus bus(clock);
  SubscribeOptions all;
  SubscribeOptions kv;
  kv.type_glob = "kv-v2/*";
  SubscribeOptions prefixed;
  prefixed.path_prefix = "secret/data/app";
  auto a = bus.Subscribe(all);
  auto b = bus.Subscribe(kv);
  auto c = bus.Subscribe(prefixed);
  bus.Publish(KvEvent("kv-v2/data-write", "secret/data/other"));
  bus.Publish(KvEvent("coffer/seal", ""));

  auto e = a->Next(0ms);
  ASSERT_TRUE(e);
  EXPECT_EQ((*e)->type, "kv-v2/data-write");
  EXPECT_FALSE((*e)->id.empty());
  EXPECT_EQ((*e)->time, clock.Wall());
  ASSERT_TRUE(a->Next(0ms));
  auto f = b->Next(0ms);
  ASSERT_TRUE(f);
  EXPECT_EQ((*f)->metadata.at("path"), "secret/data/other");
  EXPECT_FALSE(b->Next(0ms));  // the seal event does not match kv-v2/*
  EXPECT_FALSE(c->Next(0ms));  // wrong prefix
}

TEST(BusTest, SlowSubscriberIsDroppedNotWaitedFor) {
  FakeClock clock;
  Bus bus(clock);
  SubscribeOptions slow_opts;
  slow_opts.capacity = 4;
  auto slow = bus.Subscribe(slow_opts);
  auto fast = bus.Subscribe({});
  for (int i = 0; i < 10; ++i) bus.Publish(KvEvent("kv-v1/write", "kv/x"));
  EXPECT_TRUE(slow->closed());
  EXPECT_TRUE(slow->dropped());
  EXPECT_FALSE(slow->Next(0ms));  // the overflow cleared its queue
  int got = 0;
  while (fast->Next(0ms)) ++got;
  EXPECT_EQ(got, 10);
  EXPECT_EQ(bus.subscribers(), 1u);
}

TEST(BusTest, DropEventsPolicyKeepsTheSubscription) {
  FakeClock clock;
  Bus bus(clock);
  SubscribeOptions o;
  o.capacity = 2;
  o.overflow = SubscribeOptions::Overflow::kDropEvents;
  auto sub = bus.Subscribe(o);
  for (int i = 0; i < 5; ++i) bus.Publish(KvEvent("kv-v1/write", "kv/x"));
  EXPECT_FALSE(sub->closed());
  EXPECT_EQ(sub->dropped_events(), 3u);
  EXPECT_TRUE(sub->Next(0ms));
  EXPECT_TRUE(sub->Next(0ms));
  EXPECT_FALSE(sub->Next(0ms));
}

TEST(BusTest, CloseAllDrainsWhatWasQueued) {
  FakeClock clock;
  Bus bus(clock);
  auto sub = bus.Subscribe({});
  bus.Publish(KvEvent("coffer/seal", ""));
  bus.CloseAll();
  EXPECT_TRUE(sub->closed());
  auto e = sub->Next(1s);
  ASSERT_TRUE(e);
  EXPECT_EQ((*e)->type, "coffer/seal");
  auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(sub->Next(10s));  // returns at once: closed and drained
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
  bus.Publish(KvEvent("coffer/unseal", ""));  // nobody listening: fine
  EXPECT_EQ(bus.subscribers(), 0u);
}

TEST(EventTest, CloudEventJsonHasVaultShapeAndNoExtraFields) {
  Event e = KvEvent("kv-v2/data-write", "secret/data/app");
  e.id = "0b3f8c9e-0000-4000-8000-000000000000";
  e.mount_path = "secret/";
  e.plugin = "kv";
  e.metadata["current_version"] = "3";
  auto j = nlohmann::json::parse(ToCloudEventJson(e));
  EXPECT_EQ(j["source"], "coffer");
  EXPECT_EQ(j["specversion"], "1.0");
  EXPECT_EQ(j["type"], "kv-v2/data-write");
  EXPECT_EQ(j["datacontenttype"], "application/cloudevents");
  EXPECT_EQ(j["data"]["event_type"], "kv-v2/data-write");
  EXPECT_EQ(j["data"]["event"]["id"], e.id);
  EXPECT_EQ(j["data"]["event"]["metadata"]["current_version"], "3");
  EXPECT_EQ(j["data"]["plugin_info"]["mount_path"], "secret/");
  EXPECT_EQ(SseRecord(e).find('\n'), SseRecord(e).size() - 2);  // one line + blank line
}

// A sink that records what the stream writes.
class RecordingSink final : public logical::StreamSink {
 public:
  bool Write(std::string bytes) override {
    std::scoped_lock lock(mu);
    out += bytes;
    cv.notify_all();
    return true;
  }
  void Close() override {
    std::scoped_lock lock(mu);
    closed = true;
    cv.notify_all();
  }
  bool WaitFor(const std::function<bool()>& pred) {
    std::unique_lock lock(mu);
    return cv.wait_for(lock, 10s, pred);
  }
  std::mutex mu;
  std::condition_variable cv;
  std::string out;
  bool closed = false;
};

TEST(SseTest, FilterDecidesPerEventAndKeepaliveFlows) {
  FakeClock clock;
  Bus bus(clock);
  SseHub hub(50ms);
  auto stream = hub.NewStream(bus.Subscribe({}), [](const Event& e) {
    if (e.type == "stop") return Verdict::kEnd;
    return e.acl_path == "secret/data/denied" ? Verdict::kSkip : Verdict::kDeliver;
  });
  auto sink = std::make_shared<RecordingSink>();
  stream->Start(sink);
  bus.Publish(KvEvent("kv-v2/data-write", "secret/data/denied"));
  bus.Publish(KvEvent("kv-v2/data-write", "secret/data/allowed"));
  ASSERT_TRUE(
      sink->WaitFor([&] { return sink->out.find("secret/data/allowed") != std::string::npos; }));
  ASSERT_TRUE(
      sink->WaitFor([&] { return sink->out.find(": keepalive\n\n") != std::string::npos; }));
  bus.Publish(KvEvent("stop", ""));
  ASSERT_TRUE(sink->WaitFor([&] { return sink->closed; }));
  std::scoped_lock lock(sink->mu);
  EXPECT_EQ(sink->out.find("secret/data/denied"), std::string::npos);
  EXPECT_EQ(sink->out.rfind("data: ", 0), 0u);
}

TEST(SseTest, StopEndsTheStreamAndShutdownJoins) {
  FakeClock clock;
  Bus bus(clock);
  SseHub hub(10s);
  auto stream = hub.NewStream(bus.Subscribe({}), nullptr);
  auto sink = std::make_shared<RecordingSink>();
  stream->Start(sink);
  EXPECT_EQ(hub.active(), 1u);
  stream->Stop();  // the client went away
  ASSERT_TRUE(sink->WaitFor([&] { return sink->closed; }));
  hub.Shutdown();
  EXPECT_EQ(hub.active(), 0u);
  EXPECT_EQ(bus.subscribers(), 0u);
}

}  // namespace
}  // namespace coffer::events
