#include "events/webhooks.h"

#include "common/glob.h"
#include "common/log.h"

namespace coffer::events {
namespace {

using logical::Json;

constexpr std::string_view kPrefix = "webhooks/";

Status ValidateName(std::string_view name) {
  if (name.empty() || name.size() > 128) return InvalidArgument("invalid webhook name");
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.';
    if (!ok) return InvalidArgument("invalid webhook name");
  }
  return Status::Ok();
}

Result<std::vector<std::string>> StringList(const Json& v, std::string_view field) {
  std::vector<std::string> out;
  if (v.is_string()) {
    // "a,b" as Vault's CLI sends comma-separated lists.
    std::string s = v.get<std::string>();
    std::size_t start = 0;
    while (start <= s.size()) {
      auto comma = s.find(',', start);
      std::string part = s.substr(start, comma == std::string::npos ? comma : comma - start);
      if (!part.empty()) out.push_back(part);
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
    return out;
  }
  if (!v.is_array()) return Err(InvalidArgument(std::string(field) + " must be a list"));
  for (const auto& e : v) {
    if (!e.is_string()) return Err(InvalidArgument(std::string(field) + " must be strings"));
    out.push_back(e.get<std::string>());
  }
  return out;
}

}  // namespace

Webhooks::Webhooks(Bus& bus, storage::Backend& view, Poster poster, WebhookOptions options)
    : bus_(bus),
      view_(view),
      poster_(std::move(poster)),
      options_(options),
      hooks_(std::make_shared<const std::vector<Hook>>()) {}

Webhooks::~Webhooks() { Unload(); }

Status Webhooks::Reload() {
  ASSIGN_OR_RETURN(auto names, view_.List(kPrefix));
  auto hooks = std::make_shared<std::vector<Hook>>();
  for (const auto& name : names) {
    ASSIGN_OR_RETURN(auto entry, view_.Get(std::string(kPrefix) + name));
    if (!entry) continue;
    Json j = Json::parse(entry->value, nullptr, false);
    if (!j.is_object()) continue;
    Hook h;
    h.name = name;
    h.url = j.value("url", "");
    h.path_prefix = j.value("path_prefix", "");
    h.secret = j.value("secret", "");
    if (auto it = j.find("event_types"); it != j.end() && it->is_array()) {
      for (const auto& t : *it) h.event_types.push_back(t.get<std::string>());
    } else {
      h.event_types = {"*"};  // the default Put stores
    }
    hooks->push_back(std::move(h));
  }
  std::scoped_lock lock(mu_);
  hooks_ = std::move(hooks);
  return Status::Ok();
}

Status Webhooks::Load() {
  TRY(Reload());
  std::scoped_lock lock(mu_);
  if (sender_.joinable()) return Status::Ok();
  stopping_ = false;
  SubscribeOptions so;
  so.capacity = options_.queue_capacity;
  so.overflow = SubscribeOptions::Overflow::kDropEvents;
  sub_ = bus_.Subscribe(so);
  sender_ = std::thread([this, sub = sub_] { Run(sub); });
  return Status::Ok();
}

void Webhooks::Unload() {
  std::thread sender;
  {
    std::scoped_lock lock(mu_);
    stopping_ = true;
    if (sub_) sub_->Close();
    sub_.reset();
    sender.swap(sender_);
  }
  cv_.notify_all();
  if (sender.joinable()) sender.join();
}

bool Webhooks::Pause(std::chrono::milliseconds d) {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, d, [&] { return stopping_; });
  return !stopping_;
}

bool Webhooks::Stopping() {
  std::scoped_lock lock(mu_);
  return stopping_;
}

void Webhooks::Run(std::shared_ptr<Subscription> sub) {
  std::uint64_t dropped_logged = 0;
  auto last_log = std::chrono::steady_clock::time_point{};
  for (;;) {
    // Events the sender had no room for are dropped (the bus never waits
    // for it), and said so in the log, at most every 10 s.
    if (const std::uint64_t dropped = sub->dropped_events();
        dropped > dropped_logged &&
        std::chrono::steady_clock::now() - last_log >= std::chrono::seconds(10)) {
      Log(LogModule::kEvents)
          .warn("webhooks: {} events dropped, delivery fell behind ({} since start)",
                dropped - dropped_logged, dropped);
      dropped_logged = dropped;
      last_log = std::chrono::steady_clock::now();
    }
    auto next = sub->Next(std::chrono::milliseconds(500));
    if (!next) {
      if (sub->closed()) return;
      continue;
    }
    std::shared_ptr<const std::vector<Hook>> hooks;
    {
      std::scoped_lock lock(mu_);
      if (stopping_) return;
      hooks = hooks_;
    }
    const Event& event = **next;
    for (const Hook& hook : *hooks) {
      bool type_ok = false;
      for (const auto& g : hook.event_types) type_ok = type_ok || GlobMatch(g, event.type);
      if (!type_ok) continue;
      if (!hook.path_prefix.empty() && !EventPath(event).starts_with(hook.path_prefix)) continue;
      // Unload (a seal) waits for the POST in flight only, not one per hook.
      if (Stopping()) return;
      Deliver(hook, event);
    }
  }
}

void Webhooks::Deliver(const Hook& hook, const Event& event) {
  const std::string body = ToCloudEventJson(event);
  std::map<std::string, std::string> headers{{"X-Coffer-Event-Id", event.id},
                                             {"X-Coffer-Event-Type", event.type}};
  if (!hook.secret.empty()) {
    auto sig = SignatureHeader(hook.secret, body);
    if (!sig) {
      Log(LogModule::kEvents)
          .error("webhook {}: cannot sign: {}", hook.name, sig.error().ToString());
      ++failed_;
      return;
    }
    headers["X-Coffer-Signature"] = *sig;
  }
  auto backoff = options_.first_backoff;
  for (int attempt = 1; attempt <= options_.attempts; ++attempt) {
    Result<int> status = poster_(hook.url, body, headers);
    if (status && *status >= 200 && *status < 300) {
      ++delivered_;
      return;
    }
    Log(LogModule::kEvents)
        .warn("webhook {}: delivery of {} failed (attempt {}/{}): {}", hook.name, event.type,
              attempt, options_.attempts,
              status ? "HTTP " + std::to_string(*status) : status.error().message());
    if (attempt == options_.attempts || !Pause(backoff)) break;
    backoff *= 2;
  }
  ++failed_;
}

Status Webhooks::Put(std::string_view name, const Json& data) {
  TRY(ValidateName(name));
  Json stored = Json::object();
  ASSIGN_OR_RETURN(auto existing, view_.Get(std::string(kPrefix) + std::string(name)));
  if (existing) {
    stored = Json::parse(existing->value, nullptr, false);
    if (!stored.is_object()) stored = Json::object();
  }
  if (auto it = data.find("url"); it != data.end()) {
    if (!it->is_string()) return InvalidArgument("url must be a string");
    stored["url"] = *it;
  }
  if (!stored.contains("url")) return InvalidArgument("missing url");
  TRY(ValidateWebhookUrl(stored["url"].get<std::string>()));
  if (auto it = data.find("event_types"); it != data.end()) {
    ASSIGN_OR_RETURN(auto types, StringList(*it, "event_types"));
    if (types.empty()) {
      return InvalidArgument("event_types must name at least one event type (\"*\" for all)");
    }
    stored["event_types"] = types;
  }
  if (!stored.contains("event_types")) stored["event_types"] = Json::array({"*"});
  if (auto it = data.find("path_prefix"); it != data.end()) {
    if (!it->is_string()) return InvalidArgument("path_prefix must be a string");
    stored["path_prefix"] = *it;
  }
  if (auto it = data.find("secret"); it != data.end()) {
    if (!it->is_string()) return InvalidArgument("secret must be a string");
    stored["secret"] = *it;
  }
  TRY(view_.Put(std::string(kPrefix) + std::string(name), stored.dump()));
  return Reload();
}

Result<Json> Webhooks::Get(std::string_view name) {
  TRY(ValidateName(name));
  ASSIGN_OR_RETURN(auto entry, view_.Get(std::string(kPrefix) + std::string(name)));
  if (!entry) return Err(NotFound("no such webhook"));
  Json j = Json::parse(entry->value, nullptr, false);
  if (!j.is_object()) return Err(Internal("webhook config is corrupt"));
  return Json{{"url", j.value("url", "")},
              {"event_types", j.value("event_types", Json::array())},
              {"path_prefix", j.value("path_prefix", "")},
              {"has_secret", !j.value("secret", "").empty()}};
}

Status Webhooks::Delete(std::string_view name) {
  TRY(ValidateName(name));
  TRY(view_.Delete(std::string(kPrefix) + std::string(name)));
  return Reload();
}

Result<std::vector<std::string>> Webhooks::List() { return view_.List(kPrefix); }

}  // namespace coffer::events
