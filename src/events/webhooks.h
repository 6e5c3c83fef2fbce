#pragma once
// Outgoing webhooks (sys/events/webhooks/:name): each one POSTs matching
// events, as CloudEvent JSON, to an operator-configured http(s) URL, signed
// with HMAC-SHA256 of the body under the hook's secret:
//   X-Coffer-Signature: sha256=<hex>
//
// Config fields: url (http:// or https://, required), event_types (globs,
// default ["*"]), path_prefix (default ""), secret (write-only; never read
// back). Configs live in a storage view (the core gives a barrier view, so
// secrets are encrypted at rest).
//
// Delivery: one background sender thread takes events from its own bus
// subscription (bounded: when it falls behind, new events are dropped and
// counted, the bus never waits) and posts each to every matching hook,
// retrying failures (network errors and non-2xx answers) up to `attempts`
// times with doubling backoff. Delivery is at-most-once per attempt budget;
// a receiver must tolerate duplicates (the event id is stable).
//
// Thread safety: all methods are thread-safe. Load starts the sender;
// Unload stops it (joins; at most one POST timeout, whatever the number of
// hooks).

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "events/bus.h"
#include "events/http_post.h"
#include "logical/request.h"
#include "storage/backend.h"

namespace coffer::events {

struct WebhookOptions {
  int attempts = 4;
  std::chrono::milliseconds first_backoff{200};
  std::size_t queue_capacity = 4096;
};

class Webhooks {
 public:
  Webhooks(Bus& bus, storage::Backend& view, Poster poster, WebhookOptions options = {});
  ~Webhooks();

  // Reads the configs and starts the sender.
  Status Load();
  void Unload();

  // kInvalidArgument for a bad name, url, event_types or path_prefix.
  Status Put(std::string_view name, const logical::Json& data);
  // {url, event_types, path_prefix, has_secret}; kNotFound.
  Result<logical::Json> Get(std::string_view name);
  Status Delete(std::string_view name);
  Result<std::vector<std::string>> List();

  // Events posted successfully / given up after all attempts (for tests).
  std::uint64_t delivered() const { return delivered_.load(); }
  std::uint64_t failed() const { return failed_.load(); }

 private:
  struct Hook {
    std::string name;
    std::string url;
    std::vector<std::string> event_types;
    std::string path_prefix;
    std::string secret;
  };
  Status Reload();
  void Run(std::shared_ptr<Subscription> sub);
  void Deliver(const Hook& hook, const Event& event);
  // Sleeps up to `d`; false when stopping.
  bool Pause(std::chrono::milliseconds d);
  bool Stopping();

  Bus& bus_;
  storage::Backend& view_;
  Poster poster_;
  const WebhookOptions options_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::shared_ptr<const std::vector<Hook>> hooks_;  // guarded by mu_
  bool stopping_ = false;                           // guarded by mu_
  std::shared_ptr<Subscription> sub_;               // guarded by mu_
  std::thread sender_;
  std::atomic<std::uint64_t> delivered_{0};
  std::atomic<std::uint64_t> failed_{0};
};

}  // namespace coffer::events
