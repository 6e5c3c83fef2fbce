#include "expiration/leases_backend.h"

#include <algorithm>
#include <cctype>
#include <chrono>

#include "common/clock.h"
#include "common/duration.h"
#include "common/encoding.h"

namespace coffer::expiration {
namespace {

using logical::Json;
using logical::NoContent;
using logical::Operation;
using logical::Request;
using logical::Response;

bool IsWrite(Operation op) { return op == Operation::kCreate || op == Operation::kUpdate; }

// 202 without a body: a revocation left to the expiry thread.
Response Accepted() {
  Response r;
  r.http_status = 202;
  return r;
}

std::string RfcTime(std::int64_t unix_seconds) {
  return FormatRfc3339(std::chrono::system_clock::time_point(std::chrono::seconds(unix_seconds)));
}

// A string field, or "" when absent; kInvalidArgument when not a string.
Result<std::string> StringField(const Request& r, std::string_view name) {
  const Json* f = r.Field(name);
  if (f == nullptr || f->is_null()) return std::string();
  if (!f->is_string()) return Err(InvalidArgument(std::string(name) + " must be a string"));
  return f->get<std::string>();
}

// Seconds as a number or a duration string ("1h").
Result<std::int64_t> SecondsField(const Request& r, std::string_view name) {
  const Json* f = r.Field(name);
  if (f == nullptr || f->is_null()) return 0;
  if (f->is_number_integer() && f->get<std::int64_t>() >= 0) return f->get<std::int64_t>();
  if (f->is_string()) {
    auto d = ParseDuration(f->get<std::string>());
    if (d) return d->count();
  }
  return Err(InvalidArgument("invalid " + std::string(name)));
}

// Splits "<verb>/<rest>" after an optional "leases/" prefix.
struct Route {
  std::string verb;
  std::string rest;
  bool has_rest = false;
};

Route Parse(std::string_view path) {
  Route route;
  if (path.starts_with("leases/")) path.remove_prefix(7);
  auto slash = path.find('/');
  route.verb = std::string(path.substr(0, slash));
  if (slash != std::string_view::npos) {
    route.rest = std::string(path.substr(slash + 1));
    route.has_rest = true;
  }
  return route;
}

// Vault's default cap on sys/leases?type=irrevocable.
constexpr std::size_t kDefaultListLimit = 10000;

// ASCII case-insensitive equality with `lower`, which is lower case.
bool EqualsLowered(std::string_view s, std::string_view lower) {
  return std::ranges::equal(s, lower, [](unsigned char a, char b) { return std::tolower(a) == b; });
}

// sys/leases and sys/leases/count report one kind of lease.
Status CheckIrrevocableType(const Request& r) {
  ASSIGN_OR_RETURN(std::string type, StringField(r, "type"));
  if (!EqualsLowered(type, "irrevocable")) {
    return InvalidArgument("type must be \"irrevocable\", the only kind of lease reported here");
  }
  return Status::Ok();
}

// Vault's `limit`: absent for the default, "none" for all, else a positive
// integer. 0 means all.
Result<std::size_t> ListLimit(const Request& r) {
  const Json* f = r.Field("limit");
  if (f == nullptr || f->is_null()) return kDefaultListLimit;
  std::int64_t n = 0;
  if (f->is_number_integer()) {
    n = f->get<std::int64_t>();
  } else if (f->is_string()) {
    const auto& s = f->get_ref<const std::string&>();
    if (s.empty()) return kDefaultListLimit;
    if (EqualsLowered(s, "none")) return 0;
    n = ParseInt64(s).value_or(0);
  }
  if (n < 1) return Err(InvalidArgument("limit must be \"none\" or a positive integer"));
  return static_cast<std::size_t>(n);
}

}  // namespace

bool LeasesBackend::Handles(std::string_view p) {
  if (p == "leases" || p.starts_with("leases/")) return true;
  return p == "renew" || p == "revoke" || p.starts_with("renew/") || p.starts_with("revoke/") ||
         p.starts_with("revoke-prefix/") || p.starts_with("revoke-force/");
}

Result<Response> LeasesBackend::HandleRequest(const Request& request) {
  if (request.relative_path == "leases") {
    if (request.operation != Operation::kRead) return Err(MethodNotAllowed());
    return ListIrrevocable(request);
  }
  const bool legacy = !request.relative_path.starts_with("leases/");
  Route route = Parse(request.relative_path);
  if (route.verb == "count" && !legacy && !route.has_rest) {
    if (request.operation != Operation::kRead) return Err(MethodNotAllowed());
    return CountIrrevocable(request);
  }
  if (route.verb == "lookup" && !legacy) {
    if (request.operation == Operation::kList) return ListLeases(route.rest);
    if (route.has_rest) return Err(MethodNotAllowed());
    if (!IsWrite(request.operation)) return Err(MethodNotAllowed());
    return Lookup(request);
  }
  if (route.verb == "tidy" && !legacy && !route.has_rest && token_alive_) {
    if (!IsWrite(request.operation)) return Err(MethodNotAllowed());
    if (!manager_.StartTidy(token_alive_)) return logical::TidyRunningResponse();
    return logical::TidyStartedResponse();
  }
  // A path that is not one answers 404 whatever the method.
  if (route.verb != "renew" && route.verb != "revoke" && route.verb != "revoke-prefix" &&
      route.verb != "revoke-force") {
    return Err(NotFound("unsupported path"));
  }
  if (!IsWrite(request.operation)) return Err(MethodNotAllowed());
  if (route.verb == "renew") return Renew(request, route.rest);
  if (route.verb == "revoke") return Revoke(request, route.rest);
  // revoke-prefix and revoke-force
  if (route.rest.empty()) return Err(InvalidArgument("missing prefix"));
  const bool force = route.verb == "revoke-force";
  // sync=false (revoke-prefix): every lease expires now and the expiry
  // thread revokes it, as Vault queues them; 202.
  ASSIGN_OR_RETURN(const bool sync, force ? Result<bool>(true) : request.BoolField("sync", true));
  TRY(manager_.RevokePrefix(route.rest, force, sync));
  return sync ? NoContent() : Accepted();
}

Result<Response> LeasesBackend::Lookup(const Request& request) {
  ASSIGN_OR_RETURN(std::string id, StringField(request, "lease_id"));
  if (id.empty()) return Err(InvalidArgument("lease_id must be specified"));
  auto lease = manager_.Lookup(id);
  if (!lease) {
    if (lease.error().code() == Code::kNotFound) return Err(InvalidArgument("invalid lease"));
    return Err(lease.error());
  }
  const std::int64_t now = manager_.NowUnix();
  const std::int64_t now_up = manager_.NowUnixUp();
  Response r;
  r.data = Json{{"id", lease->id},
                {"issue_time", RfcTime(lease->issue_time)},
                {"expire_time", lease->expire_time ? Json(RfcTime(lease->expire_time)) : Json()},
                {"last_renewal", lease->last_renewal ? Json(RfcTime(lease->last_renewal)) : Json()},
                // As Vault reports it: an expired lease (one waiting for its
                // revocation) is not renewable, whatever it was issued as.
                {"renewable", lease->renewable && lease->expire_time > now},
                {"ttl", std::max<std::int64_t>(0, lease->expire_time - now_up)}};
  return r;
}

Result<Response> LeasesBackend::ListLeases(std::string_view prefix) {
  ASSIGN_OR_RETURN(auto keys, manager_.List(prefix));
  if (keys.empty()) return logical::NotFoundResponse();
  Response r;
  r.data = Json{{"keys", keys}};
  return r;
}

std::string LeasesBackend::MountAccessorOf(std::string_view lease_id) const {
  std::string accessor = mount_accessor_ ? mount_accessor_(lease_id) : std::string();
  return accessor.empty() ? "mount-accessor-not-found" : accessor;
}

Result<Response> LeasesBackend::CountIrrevocable(const Request& request) {
  TRY(CheckIrrevocableType(request));
  // include_child_namespaces changes nothing: there is one namespace.
  ASSIGN_OR_RETURN(auto leases, manager_.FailingLeases(ExpirationManager::kIrrevocableAfter));
  Json counts = Json::object();
  for (const auto& lease : leases) {
    Json& n = counts[MountAccessorOf(lease.id)];
    n = n.is_null() ? 1 : n.get<std::int64_t>() + 1;
  }
  Response r;
  r.data = Json{{"lease_count", leases.size()}, {"counts", std::move(counts)}};
  return r;
}

Result<Response> LeasesBackend::ListIrrevocable(const Request& request) {
  TRY(CheckIrrevocableType(request));
  ASSIGN_OR_RETURN(std::size_t limit, ListLimit(request));
  ASSIGN_OR_RETURN(auto leases, manager_.FailingLeases(ExpirationManager::kIrrevocableAfter));
  Response r;
  if (limit != 0 && leases.size() > limit) {
    leases.resize(limit);
    r.warnings = Json::array({"more than " + std::to_string(limit) +
                              " irrevocable leases; the list stops there (limit=none lists "
                              "them all)"});
  }
  Json list = Json::array();
  for (auto& lease : leases) {
    list.push_back(Json{{"lease_id", lease.id},
                        {"mount_id", MountAccessorOf(lease.id)},
                        {"error", std::move(lease.error)}});
  }
  r.data = Json{{"lease_count", list.size()}, {"leases", std::move(list)}};
  return r;
}

Result<Response> LeasesBackend::Renew(const Request& request, std::string_view url_id) {
  ASSIGN_OR_RETURN(std::string id, StringField(request, "lease_id"));
  if (id.empty()) id = std::string(url_id);
  if (id.empty()) return Err(InvalidArgument("lease_id must be specified"));
  ASSIGN_OR_RETURN(std::int64_t increment, SecondsField(request, "increment"));
  std::int64_t capped_from = 0;
  auto lease = manager_.Renew(id, std::chrono::seconds(increment), &capped_from);
  if (!lease) {
    // Vault's words, which clients compare (Vault Secrets Operator's
    // IsLeaseNotFoundError wants exactly "lease not found").
    if (lease.error().code() == Code::kNotFound) return Err(InvalidArgument("lease not found"));
    return Err(lease.error());
  }
  Response r;
  r.lease_id = lease->id;
  r.renewable = lease->renewable;
  r.lease_duration = lease->ttl;
  if (capped_from > 0) {
    // Vault's CalculateTTL warning.
    r.warnings = Json::array({CappedTtlWarning("TTL", std::chrono::seconds(capped_from),
                                               std::chrono::seconds(lease->ttl))});
  }
  return r;
}

Result<Response> LeasesBackend::Revoke(const Request& request, std::string_view url_id) {
  ASSIGN_OR_RETURN(std::string id, StringField(request, "lease_id"));
  if (id.empty()) id = std::string(url_id);
  if (id.empty()) return Err(InvalidArgument("lease_id must be specified"));
  ASSIGN_OR_RETURN(const bool sync, request.BoolField("sync", true));
  if (!sync) {
    TRY(manager_.RevokeLater(id));
    return Accepted();
  }
  TRY(manager_.Revoke(id));
  return NoContent();
}

}  // namespace coffer::expiration
