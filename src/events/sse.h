#pragma once
// Server-Sent Events for bus subscriptions (sys/events/subscribe). Each
// stream writes one `data: <CloudEvent JSON>\n\n` record per delivered
// event and a `: keepalive\n\n` comment after `keepalive` without one. The
// filter runs at delivery, for every event, so a policy change or a revoked
// token takes effect on the next event.
//
// Each started stream has its own delivery thread (blocked on its queue, so
// publishers never wait for it); the hub owns the threads. Shutdown() ends
// every stream and joins them; the hub must outlive whatever its filters
// reference, so the owner calls Shutdown() before tearing those down.
//
// Thread safety: all methods are thread-safe.

#include <atomic>
#include <chrono>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <thread>

#include "events/bus.h"
#include "logical/stream.h"

namespace coffer::events {

enum class Verdict { kDeliver, kSkip, kEnd };
// Decides, at delivery, whether the subscriber may see an event (kEnd ends
// the stream, e.g. when its token was revoked). It is also called with an
// empty Event (no type) before every keepalive, to ask only whether the
// stream may go on: a stream whose token expired ends without traffic too.
using DeliveryFilter = std::function<Verdict(const Event&)>;

// How a stream writes what it delivers: by default Server-Sent Events
// (SseRecord, and a ": keepalive" comment). A plain-text stream (sys/monitor)
// renders its own lines and sends no keepalive (empty), though the filter's
// liveness check still runs at each keepalive interval.
struct StreamFormat {
  std::function<std::string(const Event&)> record;  // null: SseRecord
  std::string keepalive = ": keepalive\n\n";
};

class SseHub {
 public:
  explicit SseHub(std::chrono::milliseconds keepalive = std::chrono::seconds(15))
      : keepalive_(keepalive) {}
  ~SseHub() { Shutdown(); }
  SseHub(const SseHub&) = delete;
  SseHub& operator=(const SseHub&) = delete;

  // A stream for Response::stream. The subscription is already registered
  // with the bus, so nothing published after this call is missed.
  std::shared_ptr<logical::StreamSource> NewStream(std::shared_ptr<Subscription> subscription,
                                                   DeliveryFilter filter, StreamFormat format = {});

  // Ends every stream (their connections close) and joins the threads.
  // NewStream afterwards gives streams that end at once.
  void Shutdown();

  std::size_t active() const;

  // Internal (used by the streams): runs `pump` on a hub thread.
  bool Spawn(std::function<void()> pump, std::shared_ptr<Subscription> subscription);

 private:
  struct Runner {
    std::thread thread;
    std::shared_ptr<std::atomic<bool>> done;
    std::weak_ptr<Subscription> subscription;
  };
  void ReapLocked();

  const std::chrono::milliseconds keepalive_;
  mutable std::mutex mu_;
  std::list<Runner> runners_;  // guarded by mu_
  bool shut_down_ = false;     // guarded by mu_

  friend class SseStream;
};

// "data: <json>\n\n" for one event.
std::string SseRecord(const Event& event);

}  // namespace coffer::events
