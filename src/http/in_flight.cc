#include "http/in_flight.h"

#include <algorithm>

#include "common/clock.h"
#include "common/log.h"

namespace coffer::http {
namespace {
std::atomic<int> completed_request_level{spdlog::level::off};
}  // namespace

logical::Json InFlightJson(const std::vector<InFlightRequest>& requests) {
  logical::Json body = logical::Json::object();
  for (const InFlightRequest& in : requests) {
    body[in.id] = logical::Json{{"start_time", FormatRfc3339(in.start)},
                                {"client_remote_address", in.remote_address},
                                {"request_path", in.path},
                                {"request_method", in.method},
                                {"client_id", ""}};
  }
  return body;
}

void SetCompletedRequestLogLevel(int spdlog_level) {
  completed_request_level.store(spdlog_level, std::memory_order_relaxed);
}

int CompletedRequestLogLevel() { return completed_request_level.load(std::memory_order_relaxed); }

void LogCompletedRequest(const InFlightRequest& request, int status) {
  const int level = CompletedRequestLogLevel();
  if (level >= spdlog::level::off || level < 0) return;
  spdlog::logger& log = Log(LogModule::kCore);
  const auto lvl = static_cast<spdlog::level::level_enum>(level);
  if (!log.should_log(lvl)) return;
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::steady_clock::now() - request.mono_start)
                      .count();
  // Vault's fields and order; the path never carries the query string.
  log.log(lvl,
          "completed_request start_time={} duration={}ms client_id= client_address={} "
          "status_code={} request_path={} request_method={}",
          FormatRfc3339(request.start), ms, request.remote_address, status, request.path,
          request.method);
}

InFlightRegistry& InFlightRegistry::Global() {
  static InFlightRegistry* registry = new InFlightRegistry();  // never destroyed: slots may
                                                               // outlive static destructors
  return *registry;
}

InFlightRegistry::Slot::Slot(InFlightRegistry& registry, std::size_t shard)
    : registry_(registry), shard_(shard % kShards) {}

InFlightRegistry::Slot::~Slot() { End(); }

void InFlightRegistry::Slot::Begin() {
  if (linked_) return;
  Shard& s = registry_.shards_[shard_];
  std::scoped_lock lock(s.mu);
  prev_ = nullptr;
  next_ = s.head;
  if (s.head != nullptr) s.head->prev_ = this;
  s.head = this;
  linked_ = true;
  registry_.count_.fetch_add(1, std::memory_order_relaxed);
}

void InFlightRegistry::Slot::End() {
  if (!linked_) return;
  Shard& s = registry_.shards_[shard_];
  std::scoped_lock lock(s.mu);
  if (prev_ != nullptr) {
    prev_->next_ = next_;
  } else {
    s.head = next_;
  }
  if (next_ != nullptr) next_->prev_ = prev_;
  prev_ = next_ = nullptr;
  linked_ = false;
  registry_.count_.fetch_sub(1, std::memory_order_relaxed);
}

std::vector<InFlightRequest> InFlightRegistry::Snapshot() const {
  std::vector<InFlightRequest> out;
  for (const Shard& s : shards_) {
    std::scoped_lock lock(s.mu);
    for (const Slot* slot = s.head; slot != nullptr; slot = slot->next_) {
      out.push_back(slot->request_);
    }
  }
  std::stable_sort(out.begin(), out.end(), [](const InFlightRequest& a, const InFlightRequest& b) {
    return a.start < b.start;
  });
  return out;
}

}  // namespace coffer::http
