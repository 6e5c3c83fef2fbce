#include "cli/run_watch.h"

#include <cstdio>

#include "cli/command_util.h"

namespace coffer::cli {
namespace {

using Clock = std::chrono::steady_clock;

Clock::time_point TwoThirds(long long seconds) {
  return Clock::now() + std::chrono::milliseconds(seconds * 2000 / 3);
}

}  // namespace

ChangeWatcher::ChangeWatcher(std::unique_ptr<ApiClient> client, Options options,
                             std::function<void()> notify)
    : client_(std::move(client)),
      resolver_(*client_),
      options_(options),
      notify_(std::move(notify)) {
  token_due_ = options_.token_renewable && options_.token_ttl_seconds > 0
                   ? TwoThirds(options_.token_ttl_seconds)
                   : Clock::time_point::max();
}

ChangeWatcher::~ChangeWatcher() {
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
    lease_due_.push_back(l.renewable && l.duration_seconds > 0 ? TwoThirds(l.duration_seconds)
                                                               : Clock::time_point::max());
  }
}

void ChangeWatcher::Start() {
  thread_ = std::thread([this] { Loop(); });
}

void ChangeWatcher::Loop() {
  std::unique_lock lock(mu_);
  while (!stop_) {
    cv_.wait_for(lock, options_.interval, [this] { return stop_; });
    if (stop_) break;
    lock.unlock();
    CheckOnce();
    lock.lock();
  }
}

void ChangeWatcher::CheckOnce() {
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
          renewed.ok() ? TwoThirds(leases[i].duration_seconds) : Clock::time_point::max();
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
      token_due_ = TwoThirds(ttl);
    } else {
      std::fprintf(stderr, "coffer run: the token could not be renewed; it expires at its TTL\n");
      token_due_ = Clock::time_point::max();
    }
  }
  if (changed) notify_();
}

}  // namespace coffer::cli
