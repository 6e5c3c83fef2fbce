#pragma once
// ChangeSubscriber: follows the server's KV change events (Server-Sent
// Events from GET /v1/sys/events/subscribe/<glob>, see docs/events.md) on a
// thread of its own, so that `coffer agent` and `coffer run --watch` react
// to a write within milliseconds instead of at their next poll. Used by
// both (cli/run_watch.cc links this module).
//
// The subscriber only says *which* secret path changed (on_change) and
// *when* the stream (re)opened (on_open: the caller re-checks everything,
// since events published while disconnected are lost); the caller re-reads.
// Event bodies never carry secret values, and they are never logged.
//
// Globs are tried in order ("kv*" first, then "kv-v2/*", which the policy
// in docs/events.md grants): a refusal (403, 404 from an older server,
// 400, 405) moves on to the next; when all are refused the subscriber
// waits `refused_retry` before starting over. A dropped stream or a
// transport error is retried with backoff (min_backoff doubling to
// max_backoff, back to min after a stream that opened). A kUnsupported
// transport error ends the thread (the transport cannot stream).
//
// Thread-safety: all methods are thread-safe; the callbacks run on the
// subscriber's thread and must not call Stop(). Stop() (also from the
// destructor) cancels the open stream and joins the thread.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "common/status.h"

namespace coffer::agent {

// The secret an event record (the JSON after "data: ") is about:
// data.event.metadata.data_path ("secret/data/app", also for KV v2
// metadata and delete events), else .path (KV v1: "kv/app"). Empty when the
// record is not an event with a path.
std::string EventSecretPath(std::string_view record);

// "/secret/data/app?version=2" -> "secret/data/app": the form in which a
// referenced path is compared with EventSecretPath.
std::string NormalizeSecretPath(std::string_view path);

class ChangeSubscriber {
 public:
  // Opens one stream of `url_path` ("/v1/sys/events/subscribe/kv*") and
  // blocks until it ends: calls on_open once the server accepted, then
  // on_record per record. Returns the HTTP status (200 once an accepted
  // stream ended) or the transport's error.
  using StreamFn =
      std::function<Result<int>(const std::string& url_path, const std::function<void()>& on_open,
                                const std::function<void(std::string_view)>& on_record)>;

  struct Options {
    std::vector<std::string> globs{"kv*", "kv-v2/*"};
    std::chrono::milliseconds min_backoff{500};
    std::chrono::milliseconds max_backoff{30000};
    std::chrono::milliseconds refused_retry{60000};
    // Where state changes are reported (connected, refused, dropped).
    std::function<void(const std::string& message)> log;
  };

  struct Callbacks {
    std::function<void()> on_open;                           // the stream is up
    std::function<void(const std::string& path)> on_change;  // normalized path
  };

  // `cancel` ends a StreamFn call in progress from another thread (and
  // makes the next one return at once); `reset` undoes it before a stream.
  ChangeSubscriber(Options options, StreamFn stream, std::function<void()> cancel,
                   std::function<void()> reset, Callbacks callbacks);
  ~ChangeSubscriber();
  ChangeSubscriber(const ChangeSubscriber&) = delete;
  ChangeSubscriber& operator=(const ChangeSubscriber&) = delete;

  void Start();
  void Stop();

  // Ends the current stream (or wait) and connects again at once, e.g.
  // after the token changed.
  void Reconnect();

  // True while a stream is open: changes arrive as events.
  bool streaming() const { return streaming_.load(); }

 private:
  void Loop();
  void Log(const std::string& message);

  Options options_;
  StreamFn stream_;
  std::function<void()> cancel_;
  std::function<void()> reset_;
  Callbacks callbacks_;

  std::atomic<bool> streaming_{false};
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;       // guarded by mu_
  bool reconnect_ = false;  // guarded by mu_
  std::thread thread_;
};

}  // namespace coffer::agent
