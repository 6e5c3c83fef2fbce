#pragma once
// Scheduled rotation of KV v2 secrets (Coffer's addition; Vault's open-source
// edition has none). See docs/kv-rotation.md.
//
//   <mount>/rotation/<key>   PUT/POST  rotation_period (duration) or
//                                      rotation_schedule (5-field cron, UTC),
//                                      fields {name: {generator|password_policy}},
//                                      webhook_url, webhook_secret,
//                                      webhook_include_values
//                            GET       config (never webhook_secret) + status:
//                                      next_rotation, last_rotation, last_error,
//                                      failures, rotations
//                            DELETE
//
// One record per key ("rotation/<escaped key>") holds the config and the
// schedule state, so the next run time survives restarts. A rotation:
//   1. claims the slot: writes in_flight_slot (compare-and-set on the
//      record's revision, so two schedulers never both act on one slot);
//   2. stages the new version as pending (record "rotation-pending/<key>":
//      never returned by data/ reads; current_version does not move);
//   3. POSTs the webhook (HMAC-signed, no values unless
//      webhook_include_values) and, only on a 2xx answer,
//   4. writes the pending data as a new version with cas = the version it
//      was built from (a concurrent write fails the rotation instead of being
//      overwritten), then publishes coffer/kv-rotate.
// On failure the old version stays current; last_error and failures are
// recorded and coffer/kv-rotate-failed is published (the core audits it).
// A slot found in flight at start-up (a crash mid-rotation) is not retried:
// if its version became current it is recorded as done, otherwise as
// interrupted; the schedule moves to the next slot.
//
// Thread safety: all methods are thread-safe. RunDue is serialised by a
// mutex; Start runs it from one thread every `poll` of real time (the
// schedule itself is read from the Clock, so tests drive it with FakeClock
// and call RunDue directly).

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "events/bus.h"
#include "events/http_post.h"
#include "logical/backend.h"

namespace coffer::engines::kv {

class RotationManager {
 public:
  // `route` runs a request against the engine (reads and the promoting
  // write; the engine publishes its own change events).
  using Route = std::function<Result<logical::Response>(const logical::Request&)>;

  RotationManager(const logical::BackendConfig& config, Route route);
  ~RotationManager();

  // rotation/<key> requests (relative path without "rotation/").
  Result<logical::Response> Handle(const std::string& key, const logical::Request& request);

  // Rotates every key whose slot is due at clock.Wall(). Returns the number
  // of rotations attempted.
  Result<int> RunDue();

  void Start(std::chrono::milliseconds poll = std::chrono::seconds(1));
  void Stop();

  // Tests substitute the webhook client.
  void SetPoster(events::Poster poster) { poster_ = std::move(poster); }

 private:
  Status RotateOne(const std::string& record_key, logical::Json record, std::uint64_t revision);
  Status Fail(const std::string& record_key, const std::string& key, std::int64_t slot,
              const std::string& error);
  Result<logical::Json> Generate(const logical::Json& spec);
  Result<std::int64_t> NextSlot(const logical::Json& config, std::int64_t after_ns) const;
  std::int64_t NowNs() const;

  storage::Backend& storage_;
  Clock& clock_;
  const std::string mount_point_;
  events::Bus* events_;
  std::function<Result<SecretBytes>(std::string_view)> generate_password_;
  Route route_;
  events::Poster poster_;

  std::mutex run_mu_;  // serialises RunDue
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;  // guarded by mu_
  std::thread thread_;
};

}  // namespace coffer::engines::kv
