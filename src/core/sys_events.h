#pragma once
// Change and security events in the core: owns the event bus, the SSE
// streams and the webhook sender, and answers sys/events/*:
//
//   sys/events/subscribe/<type-glob>   GET  Server-Sent Events (?prefix=PATH)
//   sys/events/webhooks                LIST
//   sys/events/webhooks/<name>         PUT/POST, GET, DELETE
//   sys/monitor                        GET  the server's log lines as text
//                                      (?log_level=info&log_format=standard)
//
// A subscriber gets an event only when, at delivery, its token is still
// valid and its policies allow read on sys/events/subscribe/<event type>
// and read on the event's path (list for metadata paths); security events
// (coffer/login-failed, ...) carry no path. See docs/events.md.
//
// Thread safety: all methods are thread-safe. Load/Unload are called under
// the core's exclusive state lock (unseal/seal); Shutdown once, before the
// core's stores are destroyed.

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "common/log.h"
#include "events/bus.h"
#include "events/sse.h"
#include "events/webhooks.h"
#include "expiration/lease.h"
#include "logical/request.h"
#include "storage/backend.h"

namespace coffer::core {

class Core;

class EventsService final : public LogTapTarget {
 public:
  explicit EventsService(Core& core);
  ~EventsService() override;

  events::Bus& bus() { return *bus_; }

  Result<logical::Response> Handle(const logical::Request& request);
  // sys/monitor: streams log lines at log_level and above while the token
  // stays valid and may read sys/monitor; ends when the server seals.
  Result<logical::Response> Monitor(const logical::Request& request);

  // LogTapTarget: hands a line to the monitors, if any.
  void Line(spdlog::level::level_enum level, std::string_view standard,
            std::string_view json) override;
  bool Listening() override { return log_bus_->subscribers() > 0; }

  // Unseal: loads the webhooks and starts their sender.
  Status Load();
  // Seal: ends every subscription (after what is queued, such as the seal
  // event) and stops the webhook sender.
  void Unload();
  // Process end: also joins the stream threads.
  void Shutdown();

  // Publishes a security event (no path to filter on). `metadata` must not
  // hold secrets.
  void PublishSecurity(std::string type, std::map<std::string, std::string> metadata);
  // Whether one more coffer/permission-denied event may go out now: at most
  // kDeniedEventsPerSecond a second, so that a flood of refused requests
  // (no token needed) cannot fill subscribers' and webhooks' queues and
  // push the events that matter out of them. What is held back is counted
  // and logged once a second; the audit log still records every refusal.
  bool AdmitDeniedEvent();
  static constexpr int kDeniedEventsPerSecond = 100;
  // Event streams (sys/events/subscribe) open at once, in all and per
  // token: each holds a connection and a delivery thread, and a stream is
  // never idle, so without a bound one token could take every connection.
  static constexpr std::size_t kMaxEventStreams = 512;
  static constexpr std::size_t kMaxEventStreamsPerToken = 16;

 private:
  struct StreamCounts {
    std::mutex mu;
    std::size_t total = 0;                                  // guarded by mu
    std::unordered_map<std::string, std::size_t> by_token;  // guarded by mu
  };
  Result<logical::Response> Subscribe(const logical::Request& request);
  void AuditRotation(const events::Event& event);
  // `ticket` is held for as long as the stream's filter lives.
  events::DeliveryFilter FilterFor(const logical::Request& request, std::string type_glob,
                                   std::shared_ptr<void> ticket = nullptr);

  Core& core_;
  std::unique_ptr<events::Bus> bus_;
  std::unique_ptr<events::Bus> log_bus_;  // sys/monitor's lines, apart from events
  std::unique_ptr<events::SseHub> hub_;
  std::unique_ptr<storage::Backend> webhook_view_;
  std::unique_ptr<events::Webhooks> webhooks_;
  std::mutex denied_mu_;
  std::int64_t denied_second_ = 0;      // guarded by denied_mu_ (monotonic seconds)
  int denied_in_second_ = 0;            // guarded by denied_mu_
  std::uint64_t denied_held_back_ = 0;  // guarded by denied_mu_
  std::shared_ptr<StreamCounts> streams_ = std::make_shared<StreamCounts>();
};

// coffer/permission-denied for a request the token or ACL stage refused
// (path, operation, remote_address; never the token).
void PublishDenied(EventsService& events, const logical::Request& request);
// coffer/lease-revoke after a lease was revoked (lease_id, path, kind),
// delivered to subscribers that may read the lease's path.
void PublishLeaseRevoke(Core& core, const expiration::Lease& lease);

}  // namespace coffer::core
