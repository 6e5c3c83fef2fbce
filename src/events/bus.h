#pragma once
// The in-process event bus: publishers (the KV engine, the core's login,
// lease, seal and ACL stages) hand events to Publish(); subscribers (SSE
// streams, the webhook sender) take them from their own bounded queue.
//
// Publish never blocks on a subscriber and never does I/O: it appends the
// event to each matching subscriber's queue under that queue's own short
// lock. A subscriber whose queue is full is, by default, dropped (its
// subscription is closed and it sees closed()); with
// Overflow::kDropEvents it keeps its subscription and loses the event
// instead (counted in dropped_events()), for consumers that must stay
// attached (the webhook sender). So a slow subscriber can never slow the
// request path.
//
// Thread safety: every method of Bus and Subscription is thread-safe.
// Subscription::Next is meant for one consumer thread.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <vector>

#include "common/clock.h"
#include "events/event.h"

namespace coffer::events {

struct SubscribeOptions {
  enum class Overflow { kDropSubscriber, kDropEvents };
  std::string type_glob = "*";  // '*' matches any run, e.g. "kv-v2/*"
  std::string path_prefix;      // "" = every path; else EventPath(e) must start with it
  std::size_t capacity = 1024;  // queued events before overflow
  Overflow overflow = Overflow::kDropSubscriber;
};

class Subscription {
 public:
  explicit Subscription(SubscribeOptions options) : options_(std::move(options)) {}

  // Waits up to `timeout` for the next event; nullopt on timeout or when the
  // subscription is closed and drained (check closed()).
  std::optional<std::shared_ptr<const Event>> Next(std::chrono::milliseconds timeout);
  // Ends the subscription: Publish skips it; Next hands out what is already
  // queued, then returns nullopt at once.
  void Close();
  bool closed() const { return closed_.load(); }
  // Closed because the queue overflowed (kDropSubscriber).
  bool dropped() const { return dropped_.load(); }
  std::uint64_t dropped_events() const { return dropped_events_.load(); }
  const SubscribeOptions& options() const { return options_; }

  // Whether the type and path filters accept `event`.
  bool Matches(const Event& event) const;
  // Called by Bus::Publish: queues, or applies the overflow policy.
  void Offer(const std::shared_ptr<const Event>& event);

 private:
  const SubscribeOptions options_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::shared_ptr<const Event>> queue_;  // guarded by mu_
  std::atomic<bool> closed_{false};
  std::atomic<bool> dropped_{false};
  std::atomic<std::uint64_t> dropped_events_{0};
};

class Bus {
 public:
  explicit Bus(Clock& clock) : clock_(clock) {}
  ~Bus() { CloseAll(); }
  Bus(const Bus&) = delete;
  Bus& operator=(const Bus&) = delete;

  std::shared_ptr<Subscription> Subscribe(SubscribeOptions options);
  // Fills id and time when empty, then offers the event to every open,
  // matching subscription. Never blocks on a consumer.
  void Publish(Event event);
  // Closes every subscription (seal, shutdown); later subscriptions work.
  void CloseAll();

  std::size_t subscribers() const;
  std::uint64_t published() const { return published_.load(); }

 private:
  Clock& clock_;
  mutable std::shared_mutex mu_;
  std::vector<std::shared_ptr<Subscription>> subs_;  // guarded by mu_
  std::atomic<std::uint64_t> published_{0};
};

}  // namespace coffer::events
