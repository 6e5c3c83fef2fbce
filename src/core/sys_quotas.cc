// sys/quotas/rate-limit[/:name] and sys/quotas/config: Vault's rate limit
// quota API over core::RateLimiter (quotas.h).

#include "core/core.h"
#include "core/system_backend.h"

namespace coffer::core {
namespace {

using logical::Json;
using logical::Operation;

bool IsWrite(const logical::Request& request) {
  return request.operation == Operation::kCreate || request.operation == Operation::kUpdate;
}

Result<bool> BoolField(const logical::Request& request, std::string_view name, bool current) {
  const Json* v = request.Field(name);
  if (v == nullptr || v->is_null()) return current;
  if (v->is_boolean()) return v->get<bool>();
  if (v->is_string()) {
    const std::string& s = v->get_ref<const std::string&>();
    if (s == "true" || s == "1") return true;
    if (s == "false" || s == "0") return false;
  }
  return Err(InvalidArgument(std::string(name) + " must be a boolean"));
}

// The quota's path must be "" (global) or lie in a mount; a mount path is
// kept with its trailing slash ("secret" → "secret/").
Result<std::string> NormalizeQuotaPath(const router::Router& router, std::string path) {
  while (path.starts_with('/')) path.erase(0, 1);
  if (path.empty()) return path;
  std::string probe = path.ends_with("/*") ? path.substr(0, path.size() - 1) : path;
  auto match = router.Route(probe);
  if (!match) {
    return Err(InvalidArgument("invalid mount path \"" + path + "\": no mount is there"));
  }
  const std::string& mount = match->mount->entry.path;
  if (probe == mount || probe + "/" == mount) return mount;
  return path;
}

Result<RateLimitQuota> QuotaFromRequest(const logical::Request& request,
                                        const router::Router& router, std::string name,
                                        std::optional<RateLimitQuota> existing) {
  RateLimitQuota q = existing.value_or(RateLimitQuota{});
  q.name = std::move(name);
  if (const Json* v = request.Field("rate"); v != nullptr && !v->is_null()) {
    if (v->is_number()) {
      q.rate = v->get<double>();
    } else if (v->is_string()) {
      try {
        std::size_t used = 0;
        q.rate = std::stod(v->get<std::string>(), &used);
        if (used != v->get_ref<const std::string&>().size()) throw std::invalid_argument("rate");
      } catch (const std::exception&) {
        return Err(InvalidArgument("rate must be a number"));
      }
    } else {
      return Err(InvalidArgument("rate must be a number"));
    }
  }
  if (!(q.rate > 0)) return Err(InvalidArgument("rate must be positive"));
  if (const Json* v = request.Field("interval"); v != nullptr && !v->is_null()) {
    ASSIGN_OR_RETURN(q.interval, RateLimiter::ParseInterval(*v));
    if (q.interval.count() == 0) q.interval = std::chrono::milliseconds(1000);
  }
  if (const Json* v = request.Field("block_interval"); v != nullptr && !v->is_null()) {
    ASSIGN_OR_RETURN(q.block_interval, RateLimiter::ParseInterval(*v));
  }
  if (const Json* v = request.Field("path"); v != nullptr && !v->is_null()) {
    if (!v->is_string()) return Err(InvalidArgument("path must be a string"));
    ASSIGN_OR_RETURN(q.path, NormalizeQuotaPath(router, v->get<std::string>()));
  }
  if (const Json* v = request.Field("role"); v != nullptr && !v->is_null()) {
    if (!v->is_string()) return Err(InvalidArgument("role must be a string"));
    q.role = v->get<std::string>();
  }
  return q;
}

}  // namespace

Result<logical::Response> SystemBackend::Quotas(const logical::Request& request) {
  RateLimiter& limiter = core_.quotas();
  std::string_view rest = request.path;
  rest.remove_prefix(std::string_view("sys/quotas/").size());
  if (rest == "config") {
    if (request.operation == Operation::kRead) {
      logical::Response r;
      r.data = limiter.config().ToJson();
      return r;
    }
    if (!IsWrite(request)) return Err(MethodNotAllowed());
    QuotaConfig c = limiter.config();
    if (const Json* v = request.Field("rate_limit_exempt_paths"); v != nullptr && !v->is_null()) {
      std::vector<std::string> paths;
      if (v->is_string()) {
        // The CLI's comma-separated form.
        std::string s = v->get<std::string>();
        for (std::size_t start = 0; start <= s.size();) {
          std::size_t comma = s.find(',', start);
          if (comma == std::string::npos) comma = s.size();
          if (comma > start) paths.push_back(s.substr(start, comma - start));
          start = comma + 1;
        }
      } else if (v->is_array()) {
        for (const Json& p : *v) {
          if (!p.is_string()) return Err(InvalidArgument("rate_limit_exempt_paths: strings only"));
          paths.push_back(p.get<std::string>());
        }
      } else {
        return Err(InvalidArgument("rate_limit_exempt_paths must be a list of paths"));
      }
      c.exempt_paths = std::move(paths);
    }
    ASSIGN_OR_RETURN(c.audit_logging,
                     BoolField(request, "enable_rate_limit_audit_logging", c.audit_logging));
    ASSIGN_OR_RETURN(c.response_headers,
                     BoolField(request, "enable_rate_limit_response_headers", c.response_headers));
    TRY(limiter.SetConfig(std::move(c)));
    return logical::NoContent();
  }
  if (rest == "rate-limit" || rest == "rate-limit/") {
    if (request.operation != Operation::kList) return Err(MethodNotAllowed());
    std::vector<std::string> names = limiter.List();
    if (names.empty()) return logical::NotFoundResponse();
    logical::Response r;
    r.data = Json{{"keys", names}};
    return r;
  }
  if (!rest.starts_with("rate-limit/")) return Err(NotFound("unsupported path"));
  std::string name(rest.substr(std::string_view("rate-limit/").size()));
  if (name.empty() || name.find('/') != std::string::npos) {
    return Err(InvalidArgument("invalid quota name"));
  }
  switch (request.operation) {
    case Operation::kRead: {
      auto q = limiter.Get(name);
      if (!q) return logical::NotFoundResponse();
      logical::Response r;
      r.data = q->ToJson();
      return r;
    }
    case Operation::kCreate:
    case Operation::kUpdate: {
      std::optional<RateLimitQuota> existing;
      if (auto q = limiter.Get(name)) existing = std::move(*q);
      ASSIGN_OR_RETURN(RateLimitQuota q,
                       QuotaFromRequest(request, core_.router(), name, std::move(existing)));
      if (!q.role.empty()) {
        auto match = core_.router().Route(q.path);
        if (!q.path.starts_with("auth/") || !match || match->mount->entry.path != q.path) {
          return Err(
              InvalidArgument("role can only be set on a quota whose path is an auth mount"));
        }
      }
      TRY(limiter.Put(std::move(q)));
      core_.QuotasChanged();
      return logical::NoContent();
    }
    case Operation::kDelete:
      TRY(limiter.Delete(name));
      core_.QuotasChanged();
      return logical::NoContent();
    default:
      return Err(MethodNotAllowed());
  }
}

}  // namespace coffer::core
