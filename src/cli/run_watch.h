#pragma once
// ChangeWatcher: the background thread of `coffer run --watch`. It compares
// each watched secret's fingerprint (see SecretResolver::Fingerprint: KV v2
// metadata, no values read) with the one the child was started with, renews
// the token and the secrets' leases at two thirds of their duration, and
// calls `notify` when a secret changed or a lease could not be renewed.
//
// When to compare: with a stream client, a ChangeSubscriber follows the
// server's KV change events; an event for a watched path wakes the watcher
// at once, and the whole set is compared whenever the stream (re)opens.
// While the stream is up, KV v2 secrets are not polled (their writes all
// publish events); other secrets still are, every `interval`. Without a
// stream (refused: the token lacks read on sys/events/subscribe/kv*; an
// older server; dropped and reconnecting) everything is polled every
// `interval`.
//
// Thread-safety: SetTargets may be called from any thread while the watcher
// runs; the client is used by the watcher thread only, the stream client by
// the subscriber's thread only. The destructor stops and joins both (at
// most one HTTP timeout later).

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "agent/change_events.h"
#include "cli/api_client.h"
#include "cli/run_resolve.h"

namespace coffer::cli {

class ChangeWatcher {
 public:
  struct Options {
    std::chrono::milliseconds interval{500};
    long long token_ttl_seconds = 0;  // > 0 with renewable: renew-self
    bool token_renewable = false;
  };

  // `stream_client` (may be null: poll only) carries the same token as
  // `client` and is used for the event stream.
  ChangeWatcher(std::unique_ptr<ApiClient> client, std::unique_ptr<ApiClient> stream_client,
                Options options, std::function<void()> notify);
  ~ChangeWatcher();
  ChangeWatcher(const ChangeWatcher&) = delete;
  ChangeWatcher& operator=(const ChangeWatcher&) = delete;

  // What the current child was started with.
  void SetTargets(std::vector<WatchTarget> targets, std::vector<Lease> leases);

  void Start();

  // True while changes arrive as events (for tests and messages).
  bool streaming() const { return subscriber_ && subscriber_->streaming(); }

 private:
  void Loop();
  // Compares the targets picked by `all`, `events` (paths they named) and
  // `poll_tick`, and renews what is due.
  void CheckOnce(bool all, const std::set<std::string>& events, bool poll_tick);

  std::unique_ptr<ApiClient> client_;
  std::unique_ptr<ApiClient> stream_client_;
  StreamCanceller canceller_;
  SecretResolver resolver_;
  Options options_;
  std::function<void()> notify_;

  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;                 // guarded by mu_
  bool recheck_all_ = false;          // guarded by mu_: the stream (re)opened
  std::set<std::string> changed_;     // guarded by mu_: paths named by events
  std::vector<WatchTarget> targets_;  // guarded by mu_
  std::vector<Lease> leases_;         // guarded by mu_
  // When each lease in leases_ is next renewed.
  std::vector<std::chrono::steady_clock::time_point> lease_due_;  // guarded by mu_
  std::chrono::steady_clock::time_point token_due_;               // watcher thread only
  std::thread thread_;
  // Last: stopped first, before what its callbacks touch goes away.
  std::unique_ptr<agent::ChangeSubscriber> subscriber_;
};

}  // namespace coffer::cli
