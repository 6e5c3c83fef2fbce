#include "agent/change_events.h"

#include <nlohmann/json.hpp>

namespace coffer::agent {
namespace {

bool IsRefusal(int status) {
  return status == 400 || status == 403 || status == 404 || status == 405;
}

const nlohmann::json* Find(const nlohmann::json& j, const char* key) {
  if (!j.is_object()) return nullptr;
  auto it = j.find(key);
  return it == j.end() ? nullptr : &*it;
}

}  // namespace

std::string NormalizeSecretPath(std::string_view path) {
  std::size_t q = path.find('?');
  if (q != std::string_view::npos) path = path.substr(0, q);
  while (path.starts_with('/')) path.remove_prefix(1);
  if (path.starts_with("v1/")) path.remove_prefix(3);
  while (path.ends_with('/')) path.remove_suffix(1);
  return std::string(path);
}

std::string EventSecretPath(std::string_view record) {
  nlohmann::json j = nlohmann::json::parse(record, nullptr, false);
  const nlohmann::json* data = Find(j, "data");
  const nlohmann::json* event = data != nullptr ? Find(*data, "event") : nullptr;
  const nlohmann::json* metadata = event != nullptr ? Find(*event, "metadata") : nullptr;
  if (metadata == nullptr) return "";
  for (const char* key : {"data_path", "path"}) {
    const nlohmann::json* p = Find(*metadata, key);
    if (p != nullptr && p->is_string() && !p->get_ref<const std::string&>().empty()) {
      return NormalizeSecretPath(p->get_ref<const std::string&>());
    }
  }
  return "";
}

ChangeSubscriber::ChangeSubscriber(Options options, StreamFn stream, std::function<void()> cancel,
                                   std::function<void()> reset, Callbacks callbacks)
    : options_(std::move(options)),
      stream_(std::move(stream)),
      cancel_(std::move(cancel)),
      reset_(std::move(reset)),
      callbacks_(std::move(callbacks)) {}

ChangeSubscriber::~ChangeSubscriber() { Stop(); }

void ChangeSubscriber::Start() {
  std::scoped_lock lock(mu_);
  if (thread_.joinable() || stop_) return;
  thread_ = std::thread([this] { Loop(); });
}

// cancel_ and reset_ run under mu_, and the loop resets only while neither
// stop_ nor reconnect_ is set: so a cancel is never lost to a reset.
void ChangeSubscriber::Stop() {
  {
    std::scoped_lock lock(mu_);
    stop_ = true;
    if (cancel_) cancel_();
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void ChangeSubscriber::Reconnect() {
  {
    std::scoped_lock lock(mu_);
    reconnect_ = true;
    if (cancel_) cancel_();
  }
  cv_.notify_all();
}

void ChangeSubscriber::Log(const std::string& message) {
  if (options_.log) options_.log(message);
}

void ChangeSubscriber::Loop() {
  std::chrono::milliseconds backoff = options_.min_backoff;
  std::size_t glob = 0;
  std::string last_note;  // the last state reported, so a retry loop logs once
  std::unique_lock lock(mu_);
  while (!stop_) {
    reconnect_ = false;
    if (reset_) reset_();
    lock.unlock();
    const std::string& g = options_.globs[glob];
    const std::string url = "/v1/sys/events/subscribe/" + g;
    bool opened = false;
    Result<int> r = stream_(
        url,
        [&] {
          opened = true;
          streaming_ = true;
          backoff = options_.min_backoff;
          last_note.clear();
          Log("subscribed to change events (" + g + "); reacting to writes as they happen");
          if (callbacks_.on_open) callbacks_.on_open();
        },
        [&](std::string_view record) {
          std::string path = EventSecretPath(record);
          if (!path.empty() && callbacks_.on_change) callbacks_.on_change(path);
        });
    streaming_ = false;
    lock.lock();
    if (stop_) break;
    if (reconnect_) {
      glob = 0;
      continue;
    }
    std::chrono::milliseconds wait = backoff;
    std::string note;
    if (r && IsRefusal(*r)) {
      if (glob + 1 < options_.globs.size()) {
        ++glob;  // try the narrower glob at once
        continue;
      }
      glob = 0;
      wait = options_.refused_retry;
      note = "the server refused the change-event subscription (" + std::to_string(*r) +
             "); polling instead";
    } else if (!r && r.error().code() == Code::kUnsupported) {
      break;
    } else {
      note = opened ? "the change-event stream ended" : "cannot subscribe to change events";
      if (!r) note += ": " + r.error().message();
      note += "; polling until it is back";
      backoff = std::min(backoff * 2, options_.max_backoff);
    }
    // A server that keeps failing the same way is reported once.
    if (opened || note.substr(0, 40) != last_note.substr(0, 40)) Log(note);
    last_note = note;
    cv_.wait_for(lock, wait, [this] { return stop_ || reconnect_; });
    if (reconnect_) glob = 0;
  }
}

}  // namespace coffer::agent
