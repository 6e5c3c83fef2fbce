#include "events/bus.h"

#include <fmt/format.h>

#include <algorithm>

#include "common/glob.h"
#include "crypto/random.h"

namespace coffer::events {

std::optional<std::shared_ptr<const Event>> Subscription::Next(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, timeout, [&] { return !queue_.empty() || closed_.load(); });
  // A closed subscription still hands out what was queued before it closed
  // (the seal event reaches its subscribers); an overflow cleared the queue.
  if (queue_.empty()) return std::nullopt;
  auto event = std::move(queue_.front());
  queue_.pop_front();
  return event;
}

void Subscription::Close() {
  {
    std::scoped_lock lock(mu_);
    closed_ = true;
  }
  cv_.notify_all();
}

bool Subscription::Matches(const Event& event) const {
  if (!GlobMatch(options_.type_glob, event.type)) return false;
  return options_.path_prefix.empty() || EventPath(event).starts_with(options_.path_prefix);
}

void Subscription::Offer(const std::shared_ptr<const Event>& event) {
  {
    std::scoped_lock lock(mu_);
    if (closed_.load()) return;
    if (queue_.size() >= options_.capacity) {
      if (options_.overflow == SubscribeOptions::Overflow::kDropEvents) {
        ++dropped_events_;
        return;
      }
      // Too slow: drop the subscriber rather than wait for it.
      dropped_ = true;
      closed_ = true;
      queue_.clear();
    } else {
      queue_.push_back(event);
    }
  }
  cv_.notify_one();
}

std::shared_ptr<Subscription> Bus::Subscribe(SubscribeOptions options) {
  if (options.capacity == 0) options.capacity = 1;
  auto sub = std::make_shared<Subscription>(std::move(options));
  std::unique_lock lock(mu_);
  std::erase_if(subs_, [](const auto& s) { return s->closed(); });
  subs_.push_back(sub);
  return sub;
}

void Bus::Publish(Event event) {
  const std::uint64_t seq = ++published_;
  if (event.id.empty()) {
    if (auto id = crypto::NewUuid()) {
      event.id = std::move(*id);
    } else {
      // The change the event reports has happened; without random bytes it
      // still gets an id, unique within this process, in the same shape.
      event.id = fmt::format("00000000-0000-4000-8000-{:012x}", seq & 0xffffffffffffULL);
    }
  }
  if (event.time == std::chrono::system_clock::time_point{}) event.time = clock_.Wall();
  auto shared = std::make_shared<const Event>(std::move(event));
  bool stale = false;
  {
    std::shared_lock lock(mu_);
    for (const auto& sub : subs_) {
      if (sub->closed()) {
        stale = true;
        continue;
      }
      if (sub->Matches(*shared)) sub->Offer(shared);
    }
  }
  if (stale) {
    std::unique_lock lock(mu_, std::try_to_lock);  // tidy only when uncontended
    if (lock.owns_lock()) std::erase_if(subs_, [](const auto& s) { return s->closed(); });
  }
}

void Bus::CloseAll() {
  std::vector<std::shared_ptr<Subscription>> subs;
  {
    std::unique_lock lock(mu_);
    subs.swap(subs_);
  }
  for (const auto& s : subs) s->Close();
}

std::size_t Bus::subscribers() const {
  std::shared_lock lock(mu_);
  return static_cast<std::size_t>(
      std::count_if(subs_.begin(), subs_.end(), [](const auto& s) { return !s->closed(); }));
}

}  // namespace coffer::events
