#include "core/sys_events.h"

#include <algorithm>
#include <cctype>
#include <chrono>

#include "barrier/barrier_view.h"
#include "common/log.h"
#include "core/core.h"
#include "policy/acl.h"

namespace coffer::core {
namespace {

using logical::Json;
using logical::Operation;

constexpr std::string_view kSubscribe = "sys/events/subscribe/";
constexpr std::string_view kWebhooks = "sys/events/webhooks";
constexpr std::size_t kSubscriberQueue = 1024;

bool Allows(const policy::Acl& acl, std::string_view path, Operation op) {
  return acl.Check(path, op, Json::object()).allowed;
}

constexpr std::string_view kMonitor = "sys/monitor";
constexpr std::string_view kLogType = "log/";
constexpr std::size_t kMonitorQueue = 512;

// At delivery, whether the stream of the token with this HMAC may go on:
// kEnd once the token is revoked or expired or its entity disabled, kSkip
// when that cannot be told now; else kDeliver, with the policies a request
// would get now in *policies. A sealed core keeps the policies as they were
// (the stream ends with the seal).
events::Verdict TokenVerdict(Core& core, const std::string& hmac,
                             std::vector<std::string>* policies) {
  if (core.Sealed()) return events::Verdict::kDeliver;
  auto entry = core.tokens().LookupByHmac(hmac);
  if (!entry) return events::Verdict::kSkip;
  if (!*entry) return events::Verdict::kEnd;
  // The policies a request would get: the token's plus its entity's and
  // groups'; a disabled entity ends the stream as it refuses requests.
  auto effective = core.authorizer().EffectivePolicies(**entry);
  if (!effective) {
    return effective.error().code() == Code::kPermissionDenied ? events::Verdict::kEnd
                                                               : events::Verdict::kSkip;
  }
  *policies = *std::move(effective);
  return events::Verdict::kDeliver;
}

}  // namespace

EventsService::EventsService(Core& core)
    : core_(core),
      bus_(std::make_unique<events::Bus>(core.clock())),
      log_bus_(std::make_unique<events::Bus>(core.clock())),
      hub_(std::make_unique<events::SseHub>()),
      webhook_view_(std::make_unique<barrier::BarrierView>(core.barrier(), "sys/events/")),
      webhooks_(
          std::make_unique<events::Webhooks>(*bus_, *webhook_view_,
                                             [](const std::string& url, const std::string& body,
                                                const std::map<std::string, std::string>& headers) {
                                               return events::HttpPost(url, body, headers);
                                             })) {
  SetLogTapTarget(this);  // the server's tap; without one (tests), a no-op
}

EventsService::~EventsService() { Shutdown(); }

Status EventsService::Load() {
  TRY(webhooks_->Load());
  // Scheduled KV rotations run inside the engine, outside any request: the
  // audit devices hear of each outcome from here, as an internal update of
  // <mount>rotation/<key> (a failure carries its error).
  events::SubscribeOptions so;
  so.type_glob = "coffer/kv-rotate*";
  so.overflow = events::SubscribeOptions::Overflow::kDropEvents;
  auto sub = bus_->Subscribe(so);
  hub_->Spawn(
      [this, sub] {
        for (;;) {
          auto next = sub->Next(std::chrono::seconds(1));
          if (!next) {
            if (sub->closed()) return;
            continue;
          }
          AuditRotation(**next);
        }
      },
      sub);
  return Status::Ok();
}

void EventsService::AuditRotation(const events::Event& e) {
  if (!core_.audit().Enabled()) return;
  logical::Request request;
  request.id = e.id;
  request.operation = Operation::kUpdate;
  std::string data_path = e.metadata.count("data_path") ? e.metadata.at("data_path") : "";
  std::string key = data_path.substr(std::min(data_path.size(), e.mount_path.size() + 5));
  request.path = e.mount_path + "rotation/" + key;
  request.mount_point = e.mount_path;
  request.relative_path = "rotation/" + key;
  request.remote_address = "internal";
  audit::MountInfo mount;
  mount.type = "kv";
  mount.path = e.mount_path;
  std::string error = e.metadata.count("error") ? e.metadata.at("error") : "";
  logical::Response response;
  response.data = Json{
      {"event", e.type},
      {"version", e.metadata.count("current_version") ? e.metadata.at("current_version") : ""}};
  Status s = core_.audit().LogRequestAndResponse(request, mount, e.time,
                                                 error.empty() ? &response : nullptr, error);
  if (!s.ok()) Log(LogModule::kAudit).error("could not record a KV rotation: {}", s.ToString());
}

void EventsService::Unload() {
  webhooks_->Unload();
  bus_->CloseAll();
  log_bus_->CloseAll();  // as Vault, a seal ends the monitors
}

void EventsService::Shutdown() {
  ClearLogTapTarget(this);
  Unload();
  hub_->Shutdown();
}

void EventsService::Line(spdlog::level::level_enum level, std::string_view standard,
                         std::string_view json) {
  events::Event e;
  e.type = std::string(kLogType) + std::string(LogLevelName(level));
  e.metadata = {{"standard", std::string(standard)}, {"json", std::string(json)}};
  log_bus_->Publish(std::move(e));
}

Result<logical::Response> EventsService::Monitor(const logical::Request& request) {
  if (request.operation != Operation::kRead) {
    return Err(Status(Code::kMethodNotAllowed, "unsupported operation"));
  }
  // A query parameter in lower case, or `fallback` when absent or empty.
  auto param = [&](const char* name, std::string fallback) {
    auto it = request.query.find(name);
    if (it == request.query.end() || it->second.empty()) return fallback;
    std::string v = it->second;
    std::transform(v.begin(), v.end(), v.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return v;
  };
  const std::string level_name = param("log_level", "info");
  std::optional<spdlog::level::level_enum> level = ParseLogLevel(level_name);
  if (!level) {
    return Err(InvalidArgument("unknown log level \"" + level_name +
                               "\": trace, debug, info, warn or error"));
  }
  const std::string format = param("log_format", "standard");
  if (format != "standard" && format != "json") {
    return Err(InvalidArgument("unknown log format \"" + format + "\": standard or json"));
  }
  // Subscribe first, then widen the logger's level: nothing is missed.
  events::SubscribeOptions so;
  so.type_glob = std::string(kLogType) + "*";
  so.capacity = kMonitorQueue;
  so.overflow = events::SubscribeOptions::Overflow::kDropEvents;  // as Vault, lines are dropped
  auto sub = log_bus_->Subscribe(so);
  std::shared_ptr<void> hold = HoldLogLevel(*level);
  std::string hmac = request.auth ? request.auth->token_hmac : "";
  std::string entity = request.auth ? request.auth->entity_id : "";
  std::vector<std::string> policies =
      request.auth ? request.auth->policies : std::vector<std::string>{};
  Core* core = &core_;
  events::DeliveryFilter filter =
      [core, hold, min = *level, hmac = std::move(hmac), entity = std::move(entity),
       policies = std::move(policies)](const events::Event& e) -> events::Verdict {
    std::vector<std::string> current = policies;
    if (auto v = TokenVerdict(*core, hmac, &current); v != events::Verdict::kDeliver) return v;
    // A policy change that takes read on sys/monitor away ends the stream.
    auto acl = core->authorizer().AclFor(current, entity);
    if (!acl) return events::Verdict::kSkip;
    if (!(*acl)->IsRoot() && !Allows(**acl, kMonitor, Operation::kRead)) {
      return events::Verdict::kEnd;
    }
    if (e.type.empty()) return events::Verdict::kDeliver;
    auto line_level = ParseLogLevel(std::string_view(e.type).substr(kLogType.size()));
    return line_level && *line_level >= min ? events::Verdict::kDeliver : events::Verdict::kSkip;
  };
  const bool json = format == "json" || LogFormatIsJson();
  events::StreamFormat text;
  text.record = [json](const events::Event& e) {
    return e.metadata.at(json ? "json" : "standard");
  };
  text.keepalive.clear();  // plain text has no comment lines
  logical::Response r;
  r.stream = hub_->NewStream(std::move(sub), std::move(filter), std::move(text));
  r.headers["Content-Type"] = "text/plain; charset=utf-8";
  return r;
}

void EventsService::PublishSecurity(std::string type, std::map<std::string, std::string> metadata) {
  events::Event e;
  e.type = std::move(type);
  e.metadata = std::move(metadata);
  bus_->Publish(std::move(e));
}

Result<logical::Response> EventsService::Handle(const logical::Request& request) {
  const std::string& p = request.path;
  if (p.starts_with(kSubscribe)) return Subscribe(request);
  if (p == kWebhooks || p == std::string(kWebhooks) + "/") {
    if (request.operation != Operation::kList && request.operation != Operation::kRead) {
      return Err(Status(Code::kMethodNotAllowed, "unsupported operation"));
    }
    ASSIGN_OR_RETURN(auto names, webhooks_->List());
    if (names.empty()) return logical::NotFoundResponse();
    logical::Response r;
    r.data = Json{{"keys", names}};
    return r;
  }
  if (p.starts_with(std::string(kWebhooks) + "/")) {
    std::string name = p.substr(kWebhooks.size() + 1);
    switch (request.operation) {
      case Operation::kCreate:
      case Operation::kUpdate:
        TRY(webhooks_->Put(name, request.data));
        return logical::NoContent();
      case Operation::kRead: {
        Result<Json> j = webhooks_->Get(name);
        if (!j && j.error().code() == Code::kNotFound) return logical::NotFoundResponse();
        if (!j) return Err(j.error());
        logical::Response r;
        r.data = std::move(*j);
        return r;
      }
      case Operation::kDelete:
        TRY(webhooks_->Delete(name));
        return logical::NoContent();
      default:
        return Err(Status(Code::kMethodNotAllowed, "unsupported operation"));
    }
  }
  return Err(NotFound("unsupported path"));
}

events::DeliveryFilter EventsService::FilterFor(const logical::Request& request,
                                                std::string type_glob,
                                                std::shared_ptr<void> ticket) {
  (void)type_glob;
  std::string hmac = request.auth ? request.auth->token_hmac : "";
  std::vector<std::string> policies;
  std::string entity;
  if (request.auth) {
    policies = request.auth->policies;
    entity = request.auth->entity_id;
  }
  Core* core = &core_;
  return [core, hmac = std::move(hmac), policies = std::move(policies), entity = std::move(entity),
          ticket = std::move(ticket)](const events::Event& e) -> events::Verdict {
    std::vector<std::string> current = policies;
    if (auto v = TokenVerdict(*core, hmac, &current); v != events::Verdict::kDeliver) return v;
    if (e.type.empty()) return events::Verdict::kDeliver;  // the keepalive's liveness check
    auto acl = core->authorizer().AclFor(current, entity);
    if (!acl) return events::Verdict::kSkip;
    const policy::Acl& a = **acl;
    if (a.IsRoot()) return events::Verdict::kDeliver;
    if (!Allows(a, std::string(kSubscribe) + e.type, Operation::kRead)) {
      return events::Verdict::kSkip;
    }
    // The event's path: read on it (list for a metadata event), or Vault's
    // subscribe with the event's type in subscribe_event_types.
    if (!e.acl_path.empty() && !Allows(a, e.acl_path, Operation::kRead) &&
        !(e.acl_list && Allows(a, e.acl_path, Operation::kList)) &&
        !a.Subscribes(e.acl_path, e.type)) {
      return events::Verdict::kSkip;
    }
    return events::Verdict::kDeliver;
  };
}

Result<logical::Response> EventsService::Subscribe(const logical::Request& request) {
  if (request.operation != Operation::kRead) {
    return Err(Status(Code::kMethodNotAllowed, "subscribe with GET"));
  }
  std::string type_glob = request.path.substr(kSubscribe.size());
  if (type_glob.empty()) return Err(InvalidArgument("missing event type"));
  events::SubscribeOptions so;
  so.type_glob = type_glob;
  if (auto it = request.query.find("prefix"); it != request.query.end()) {
    so.path_prefix = it->second;
  }
  so.capacity = kSubscriberQueue;
  // A place among the open streams, given back when the stream's filter
  // goes (the stream ended).
  const std::string holder = request.auth ? request.auth->token_hmac : std::string();
  {
    std::scoped_lock lock(streams_->mu);
    if (streams_->total >= kMaxEventStreams) {
      return Err(Status(Code::kRateLimited,
                        fmt::format("too many event streams are open ({})", kMaxEventStreams)));
    }
    if (streams_->by_token[holder] >= kMaxEventStreamsPerToken) {
      return Err(Status(Code::kRateLimited,
                        fmt::format("too many event streams are open for this token ({})",
                                    kMaxEventStreamsPerToken)));
    }
    ++streams_->total;
    ++streams_->by_token[holder];
  }
  std::shared_ptr<void> ticket(nullptr, [counts = streams_, holder](void*) {
    std::scoped_lock lock(counts->mu);
    --counts->total;
    if (auto it = counts->by_token.find(holder);
        it != counts->by_token.end() && --it->second == 0) {
      counts->by_token.erase(it);
    }
  });
  auto sub = bus_->Subscribe(so);
  logical::Response r;
  r.stream = hub_->NewStream(std::move(sub), FilterFor(request, type_glob, std::move(ticket)));
  r.headers["Content-Type"] = "text/event-stream";
  return r;
}

bool EventsService::AdmitDeniedEvent() {
  const std::int64_t second = std::chrono::duration_cast<std::chrono::seconds>(
                                  std::chrono::steady_clock::now().time_since_epoch())
                                  .count();
  std::scoped_lock lock(denied_mu_);
  if (second != denied_second_) {
    if (denied_held_back_ > 0) {
      Log(LogModule::kEvents)
          .warn("{} coffer/permission-denied events held back (more than {} a second)",
                denied_held_back_, kDeniedEventsPerSecond);
    }
    denied_second_ = second;
    denied_in_second_ = 0;
    denied_held_back_ = 0;
  }
  if (denied_in_second_ >= kDeniedEventsPerSecond) {
    ++denied_held_back_;
    return false;
  }
  ++denied_in_second_;
  return true;
}

void PublishDenied(EventsService& events, const logical::Request& request) {
  if (!events.AdmitDeniedEvent()) return;
  events.PublishSecurity("coffer/permission-denied",
                         {{"path", request.path},
                          {"operation", std::string(logical::OperationName(request.operation))},
                          {"remote_address", request.remote_address}});
}

void PublishLeaseRevoke(Core& core, const expiration::Lease& lease) {
  events::Event e;
  e.type = "coffer/lease-revoke";
  e.acl_path = lease.path;
  e.metadata = {{"lease_id", lease.kind == expiration::Lease::Kind::kToken ? "" : lease.id},
                {"path", lease.path},
                {"kind", lease.kind == expiration::Lease::Kind::kToken ? "token" : "secret"}};
  core.events().bus().Publish(std::move(e));
}

}  // namespace coffer::core
