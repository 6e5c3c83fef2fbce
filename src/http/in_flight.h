#pragma once
// The requests every listener of this process is handling right now, for
// sys/in-flight-req (Vault's API): when each started, from where, and its
// method and path. Never a body, a query string or a header.
//
// Cost per request: a connection handles one request at a time, so it owns
// one Slot, filled in place (the strings keep their capacity from one
// request to the next) and linked into a list under a mutex of its I/O
// thread's shard; nothing is allocated once the strings have grown. A
// snapshot takes each shard's mutex in turn.
//
// Thread safety: a Slot is used by its connection's thread (Begin, End,
// fields()); its destructor may run on any thread. Snapshot() and Count()
// are thread-safe.

#include <atomic>
#include <chrono>
#include <cstddef>
#include <mutex>
#include <string>
#include <vector>

#include "logical/request.h"

namespace coffer::http {

struct InFlightRequest {
  std::string id;              // the request's request_id
  std::string method;          // "GET", "LIST", ...
  std::string path;            // "/v1/secret/data/app", canonical, no query
  std::string remote_address;  // the client's address and port
  std::chrono::system_clock::time_point start;
  std::chrono::steady_clock::time_point mono_start;  // for the duration; not reported
};

// The answer of sys/in-flight-req, as Vault's: {request_id: {start_time,
// client_remote_address, request_path, request_method, client_id}}.
// client_id is always "" (Coffer keeps no client-count activity log).
logical::Json InFlightJson(const std::vector<InFlightRequest>& requests);

// log_requests_level: every completed request is logged at this level by
// the core logger ("completed_request ..."), when that logger's level lets
// it through; spdlog::level::off (the default) logs none. Thread-safe; read
// once per request with one relaxed load.
void SetCompletedRequestLogLevel(int spdlog_level);
int CompletedRequestLogLevel();
// Logs `request` as completed now with `status`, if the level above says so.
void LogCompletedRequest(const InFlightRequest& request, int status);

class InFlightRegistry {
 public:
  // The process's registry: every listener registers its requests here.
  static InFlightRegistry& Global();

  InFlightRegistry() = default;
  InFlightRegistry(const InFlightRegistry&) = delete;
  InFlightRegistry& operator=(const InFlightRegistry&) = delete;

  // One connection's place in the registry.
  class Slot {
   public:
    // `shard` picks the list (and mutex) the slot joins: the connection's
    // I/O thread, so that threads do not contend.
    Slot(InFlightRegistry& registry, std::size_t shard);
    ~Slot();
    Slot(const Slot&) = delete;
    Slot& operator=(const Slot&) = delete;

    // Fill while the request is not begun (between End and Begin).
    InFlightRequest& fields() { return request_; }
    // Lists the request; a second Begin without End is ignored.
    void Begin();
    // Unlists it; idempotent.
    void End();
    bool active() const { return linked_; }

   private:
    friend class InFlightRegistry;
    InFlightRegistry& registry_;
    std::size_t shard_;
    InFlightRequest request_;
    Slot* prev_ = nullptr;
    Slot* next_ = nullptr;
    bool linked_ = false;
  };

  // A copy of every request listed now, oldest first.
  std::vector<InFlightRequest> Snapshot() const;
  std::size_t Count() const { return count_.load(std::memory_order_relaxed); }

 private:
  static constexpr std::size_t kShards = 16;
  struct Shard {
    mutable std::mutex mu;
    Slot* head = nullptr;
  };
  Shard shards_[kShards];
  std::atomic<std::size_t> count_{0};
};

}  // namespace coffer::http
