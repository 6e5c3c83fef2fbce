#include "cli/run_watch.h"

#include <algorithm>
#include <cstdio>
#include <utility>

#include "cli/command_util.h"

namespace coffer::cli {
namespace {

using Clock = std::chrono::steady_clock;

// When to renew what was granted for `seconds`: at two thirds of it, less a
// second (the server counts expiry in whole seconds, so it may end up to a
// second early), but never before a third of it.
Clock::time_point RenewTime(long long seconds) {
  const long long ms = seconds * 1000;
  return Clock::now() + std::chrono::milliseconds(std::max({300LL, ms / 3, ms * 2 / 3 - 1000}));
}

}  // namespace

ChangeWatcher::ChangeWatcher(std::unique_ptr<ApiClient> client,
                             std::unique_ptr<ApiClient> stream_client, Options options,
                             std::function<void()> notify)
    : client_(std::move(client)),
      stream_client_(std::move(stream_client)),
      resolver_(*client_),
      options_(options),
      notify_(std::move(notify)) {
  token_due_ = options_.token_renewable && options_.token_ttl_seconds > 0
                   ? RenewTime(options_.token_ttl_seconds)
                   : Clock::time_point::max();
}

ChangeWatcher::~ChangeWatcher() {
  if (subscriber_) subscriber_->Stop();
  {
    std::scoped_lock lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void ChangeWatcher::SetTargets(std::vector<WatchTarget> targets, std::vector<Lease> leases) {
  std::scoped_lock lock(mu_);
  targets_ = std::move(targets);
  leases_ = std::move(leases);
  lease_due_.clear();
  for (const Lease& l : leases_) {
    lease_due_.push_back(l.renewable && l.duration_seconds > 0 ? RenewTime(l.duration_seconds)
                                                               : Clock::time_point::max());
  }
}

void ChangeWatcher::Start() {
  thread_ = std::thread([this] { Loop(); });
  if (!stream_client_) return;
  agent::ChangeSubscriber::Options options;
  options.log = [](const std::string& m) { std::fprintf(stderr, "coffer run: %s\n", m.c_str()); };
  agent::ChangeSubscriber::Callbacks callbacks;
  callbacks.on_open = [this] {
    {
      std::scoped_lock lock(mu_);
      recheck_all_ = true;  // writes made while the stream was down
    }
    cv_.notify_all();
  };
  callbacks.on_change = [this](const std::string& path) {
    {
      std::scoped_lock lock(mu_);
      changed_.insert(path);
    }
    cv_.notify_all();
  };
  subscriber_ = std::make_unique<agent::ChangeSubscriber>(
      std::move(options),
      [this](const std::string& path, const std::function<void()>& on_open,
             const std::function<void(std::string_view)>& on_record) -> Result<int> {
        // The server sends a keepalive every 15 s: three missed means it is gone.
        Result<HttpResponse> r = stream_client_->http().StreamEvents(
            path, StreamHandlers{on_open, on_record}, std::chrono::seconds(45), &canceller_);
        if (!r) return Err(r.error());
        return r->status;
      },
      [this] { canceller_.Cancel(); }, [this] { canceller_.Reset(); }, std::move(callbacks));
  subscriber_->Start();
}

void ChangeWatcher::Loop() {
  Clock::time_point next_poll = Clock::now() + options_.interval;
  std::unique_lock lock(mu_);
  while (!stop_) {
    cv_.wait_until(lock, next_poll, [this] { return stop_ || recheck_all_ || !changed_.empty(); });
    if (stop_) break;
    const bool tick = Clock::now() >= next_poll;
    if (tick) next_poll = Clock::now() + options_.interval;
    const bool all = std::exchange(recheck_all_, false) || (tick && !streaming());
    std::set<std::string> changed;
    changed.swap(changed_);
    lock.unlock();
    CheckOnce(all, changed, tick);
    lock.lock();
  }
}

void ChangeWatcher::CheckOnce(bool all, const std::set<std::string>& events, bool poll_tick) {
  std::vector<WatchTarget> targets;
  std::vector<Lease> leases;
  std::vector<Clock::time_point> due;
  {
    std::scoped_lock lock(mu_);
    targets = targets_;
    leases = leases_;
    due = lease_due_;
  }
  bool changed = false;
  for (const WatchTarget& t : targets) {
    // While events flow, a KV v2 secret is compared only when one names it;
    // anything else (KV v1, other engines) is still polled.
    const bool named =
        events.contains(agent::NormalizeSecretPath(t.data_path)) ||
        (!t.metadata_path.empty() && events.contains(agent::NormalizeSecretPath(t.metadata_path)));
    if (!all && !named && !(poll_tick && t.metadata_path.empty())) continue;
    Result<std::string> fp = resolver_.Fingerprint(t);
    if (!fp || *fp == t.fingerprint) continue;  // a failed check is retried next time
    changed = true;
    std::scoped_lock lock(mu_);
    for (WatchTarget& mine : targets_) {
      if (mine.data_path == t.data_path) mine.fingerprint = *fp;
    }
  }
  const Clock::time_point now = Clock::now();
  for (std::size_t i = 0; i < leases.size(); ++i) {
    if (now < due[i]) continue;
    Status renewed = resolver_.RenewLease(leases[i]);
    std::scoped_lock lock(mu_);
    if (!renewed.ok()) {
      std::fprintf(stderr, "coffer run: renewing lease %s failed; fetching new credentials\n",
                   leases[i].lease_id.c_str());
      changed = true;
    }
    if (i < lease_due_.size() && leases_.size() == leases.size() &&
        leases_[i].lease_id == leases[i].lease_id) {
      lease_due_[i] =
          renewed.ok() ? RenewTime(leases[i].duration_seconds) : Clock::time_point::max();
    }
  }
  if (now >= token_due_) {
    Result<Json> resp = client_->Request("PUT", "/v1/auth/token/renew-self", "{}");
    long long ttl = 0;
    if (resp && resp->is_object() && resp->contains("auth") && (*resp)["auth"].is_object()) {
      ttl = (*resp)["auth"].value("lease_duration", 0LL);
    }
    if (resp) WipeJson(*resp);
    if (ttl > 0) {
      token_due_ = RenewTime(ttl);
    } else {
      std::fprintf(stderr, "coffer run: the token could not be renewed; it expires at its TTL\n");
      token_due_ = Clock::time_point::max();
    }
  }
  if (changed) notify_();
}

}  // namespace coffer::cli
