#include "events/sse.h"

#include <vector>

namespace coffer::events {

std::string SseRecord(const Event& event) {
  std::string out = "data: ";
  out += ToCloudEventJson(event);  // one line: dump() without indent has no newline
  out += "\n\n";
  return out;
}

class SseStream final : public logical::StreamSource,
                        public std::enable_shared_from_this<SseStream> {
 public:
  SseStream(SseHub& hub, std::shared_ptr<Subscription> sub, DeliveryFilter filter,
            StreamFormat format, std::chrono::milliseconds keepalive)
      : hub_(hub),
        sub_(std::move(sub)),
        filter_(std::move(filter)),
        format_(std::move(format)),
        keepalive_(keepalive) {}
  // A stream that was never started (the response failed) still unsubscribes.
  ~SseStream() override { sub_->Close(); }

  void Start(std::shared_ptr<logical::StreamSink> sink) override {
    if (sub_->closed()) {
      sink->Close();
      return;
    }
    auto self = shared_from_this();
    if (!hub_.Spawn([self, sink] { self->Pump(*sink); }, sub_)) sink->Close();
  }

  void Stop() override { sub_->Close(); }

 private:
  void Pump(logical::StreamSink& sink) {
    for (;;) {
      auto next = sub_->Next(keepalive_);
      if (!next) {
        if (sub_->closed()) break;
        if (filter_ && filter_(Event{}) == Verdict::kEnd) break;
        if (!format_.keepalive.empty() && !sink.Write(format_.keepalive)) break;
        continue;
      }
      const Event& event = **next;
      Verdict verdict = filter_ ? filter_(event) : Verdict::kDeliver;
      if (verdict == Verdict::kEnd) break;
      if (verdict == Verdict::kSkip) continue;
      if (!sink.Write(format_.record ? format_.record(event) : SseRecord(event))) break;
    }
    sub_->Close();
    sink.Close();
  }

  SseHub& hub_;
  std::shared_ptr<Subscription> sub_;
  DeliveryFilter filter_;
  const StreamFormat format_;
  const std::chrono::milliseconds keepalive_;
};

std::shared_ptr<logical::StreamSource> SseHub::NewStream(std::shared_ptr<Subscription> sub,
                                                         DeliveryFilter filter,
                                                         StreamFormat format) {
  return std::make_shared<SseStream>(*this, std::move(sub), std::move(filter), std::move(format),
                                     keepalive_);
}

bool SseHub::Spawn(std::function<void()> pump, std::shared_ptr<Subscription> subscription) {
  std::scoped_lock lock(mu_);
  ReapLocked();
  if (shut_down_) return false;
  auto done = std::make_shared<std::atomic<bool>>(false);
  Runner r;
  r.done = done;
  r.subscription = subscription;
  r.thread = std::thread([pump = std::move(pump), done] {
    pump();
    done->store(true);
  });
  runners_.push_back(std::move(r));
  return true;
}

void SseHub::ReapLocked() {
  for (auto it = runners_.begin(); it != runners_.end();) {
    if (it->done->load()) {
      it->thread.join();
      it = runners_.erase(it);
    } else {
      ++it;
    }
  }
}

void SseHub::Shutdown() {
  std::list<Runner> runners;
  {
    std::scoped_lock lock(mu_);
    shut_down_ = true;
    runners.swap(runners_);
  }
  for (auto& r : runners) {
    if (auto sub = r.subscription.lock()) sub->Close();
  }
  for (auto& r : runners) r.thread.join();
}

std::size_t SseHub::active() const {
  std::scoped_lock lock(mu_);
  std::size_t n = 0;
  for (const auto& r : runners_) n += r.done->load() ? 0 : 1;
  return n;
}

}  // namespace coffer::events
