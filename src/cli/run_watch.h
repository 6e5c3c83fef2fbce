#pragma once
// ChangeWatcher: the background thread of `coffer run --watch`. Every
// `interval` it compares each watched secret's fingerprint (see
// SecretResolver::Fingerprint: KV v2 metadata, no values read) with the one
// the child was started with, renews the token and the secrets' leases at
// two thirds of their duration, and calls `notify` when a secret changed or
// a lease could not be renewed.
//
// Thread-safety: SetTargets may be called from any thread while the watcher
// runs; the client is used by the watcher thread only. The thread is
// stopped and joined by the destructor (at most one HTTP timeout later).

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

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

  ChangeWatcher(std::unique_ptr<ApiClient> client, Options options, std::function<void()> notify);
  ~ChangeWatcher();
  ChangeWatcher(const ChangeWatcher&) = delete;
  ChangeWatcher& operator=(const ChangeWatcher&) = delete;

  // What the current child was started with.
  void SetTargets(std::vector<WatchTarget> targets, std::vector<Lease> leases);

  void Start();

 private:
  void Loop();
  void CheckOnce();

  std::unique_ptr<ApiClient> client_;
  SecretResolver resolver_;
  Options options_;
  std::function<void()> notify_;

  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;                 // guarded by mu_
  std::vector<WatchTarget> targets_;  // guarded by mu_
  std::vector<Lease> leases_;         // guarded by mu_
  // When each lease in leases_ is next renewed.
  std::vector<std::chrono::steady_clock::time_point> lease_due_;  // guarded by mu_
  std::chrono::steady_clock::time_point token_due_;               // watcher thread only
  std::thread thread_;
};

}  // namespace coffer::cli
