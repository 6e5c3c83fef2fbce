#include "core/quotas.h"

#include <algorithm>
#include <cmath>
#include <functional>

#include "common/duration.h"

namespace coffer::core {
namespace {

using logical::Json;

constexpr std::string_view kConfigKey = "config";
constexpr std::string_view kQuotaPrefix = "rate-limit/";

// Vault's default rate_limit_exempt_paths.
const std::vector<std::string>& DefaultExemptPaths() {
  static const std::vector<std::string> paths = {
      "sys/generate-recovery-token/attempt",
      "sys/generate-recovery-token/update",
      "sys/generate-root/attempt",
      "sys/generate-root/update",
      "sys/health",
      "sys/seal-status",
      "sys/unseal",
  };
  return paths;
}

// How specific a quota's path is for `path`; -1 when it does not match.
// Role quotas rank above path ones, a path suffix above a mount, a mount
// above the global quota; among path suffixes the longer one wins.
int Specificity(const RateLimitQuota& q, std::string_view path) {
  if (q.path.empty()) return 0;
  if (q.path.ends_with("/*")) {
    std::string_view prefix = std::string_view(q.path).substr(0, q.path.size() - 1);
    if (!path.starts_with(prefix)) return -1;
    return 2 + static_cast<int>(prefix.size());
  }
  if (q.path.ends_with('/')) {
    if (!path.starts_with(q.path) &&
        path != std::string_view(q.path).substr(0, q.path.size() - 1)) {
      return -1;
    }
    return 1;
  }
  if (path != q.path) return -1;
  return 2 + static_cast<int>(q.path.size()) + 1;
}

Result<RateLimitQuota> QuotaFromJson(const Json& j) {
  RateLimitQuota q;
  q.name = j.value("name", "");
  q.path = j.value("path", "");
  q.role = j.value("role", "");
  q.rate = j.value("rate", 0.0);
  q.interval = std::chrono::milliseconds(j.value("interval_ms", std::int64_t{1000}));
  q.block_interval = std::chrono::milliseconds(j.value("block_interval_ms", std::int64_t{0}));
  return q;
}

Json QuotaToStored(const RateLimitQuota& q) {
  return Json{{"name", q.name},
              {"path", q.path},
              {"role", q.role},
              {"rate", q.rate},
              {"interval_ms", q.interval.count()},
              {"block_interval_ms", q.block_interval.count()}};
}

}  // namespace

Json RateLimitQuota::ToJson() const {
  // Vault reports interval and block_interval as whole seconds.
  return Json{{"name", name},
              {"path", path},
              {"role", role},
              {"type", "rate-limit"},
              {"rate", rate},
              {"interval", interval.count() / 1000},
              {"block_interval", block_interval.count() / 1000},
              {"inheritable", path.empty()}};
}

Json QuotaConfig::ToJson() const {
  return Json{{"rate_limit_exempt_paths", exempt_paths},
              {"enable_rate_limit_audit_logging", audit_logging},
              {"enable_rate_limit_response_headers", response_headers}};
}

QuotaConfig QuotaConfig::Defaults() {
  QuotaConfig c;
  c.exempt_paths = DefaultExemptPaths();
  return c;
}

Result<std::chrono::milliseconds> RateLimiter::ParseInterval(const Json& value) {
  if (value.is_number_integer() || value.is_number_unsigned()) {
    auto s = value.get<std::int64_t>();
    if (s < 0) return Err(InvalidArgument("interval must not be negative"));
    return std::chrono::milliseconds(s * 1000);
  }
  if (value.is_number_float()) {
    double s = value.get<double>();
    if (!(s >= 0) || s > 1e9) return Err(InvalidArgument("invalid interval"));
    return std::chrono::milliseconds(static_cast<std::int64_t>(s * 1000));
  }
  if (!value.is_string()) return Err(InvalidArgument("interval must be a duration string"));
  std::string text = value.get<std::string>();
  if (text.empty()) return std::chrono::milliseconds(0);
  if (text.ends_with("ms")) {
    std::string digits = text.substr(0, text.size() - 2);
    if (digits.empty() || !std::all_of(digits.begin(), digits.end(), ::isdigit) ||
        digits.size() > 12) {
      return Err(InvalidArgument("invalid interval \"" + text + "\""));
    }
    return std::chrono::milliseconds(std::stoll(digits));
  }
  auto parsed = ParseDuration(text);
  if (!parsed) return Err(InvalidArgument("invalid interval \"" + text + "\""));
  return std::chrono::duration_cast<std::chrono::milliseconds>(*parsed);
}

std::int64_t RateLimiter::NowNs() const {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(clock_.Monotonic().time_since_epoch())
      .count();
}

Status RateLimiter::Load() {
  std::map<std::string, RateLimitQuota, std::less<>> quotas;
  QuotaConfig config = QuotaConfig::Defaults();
  ASSIGN_OR_RETURN(auto stored_config, view_.Get(kConfigKey));
  if (stored_config) {
    Json j = Json::parse(stored_config->value, nullptr, false);
    if (j.is_discarded()) return Err(Internal("quotas: corrupt config record"));
    config.exempt_paths = j.value("rate_limit_exempt_paths", DefaultExemptPaths());
    config.audit_logging = j.value("enable_rate_limit_audit_logging", false);
    config.response_headers = j.value("enable_rate_limit_response_headers", false);
  }
  ASSIGN_OR_RETURN(std::vector<std::string> keys, view_.List(kQuotaPrefix));
  for (const std::string& key : keys) {
    ASSIGN_OR_RETURN(auto entry, view_.Get(std::string(kQuotaPrefix) + key));
    if (!entry) continue;
    Json j = Json::parse(entry->value, nullptr, false);
    if (j.is_discarded()) return Err(Internal("quotas: corrupt quota record"));
    ASSIGN_OR_RETURN(RateLimitQuota q, QuotaFromJson(j));
    quotas.emplace(q.name, std::move(q));
  }
  std::unique_lock lock(mu_);
  quotas_ = std::move(quotas);
  config_ = std::move(config);
  return Status::Ok();
}

void RateLimiter::Clear() {
  {
    std::unique_lock lock(mu_);
    quotas_.clear();
    config_ = QuotaConfig::Defaults();
  }
  for (Shard& shard : shards_) {
    std::scoped_lock lock(shard.mu);
    shard.buckets.clear();
  }
}

bool RateLimiter::Exempt(std::string_view path) const {
  for (const std::string& p : config_.exempt_paths) {
    if (p.ends_with('*') ? path.starts_with(std::string_view(p).substr(0, p.size() - 1))
                         : path == p) {
      return true;
    }
  }
  return false;
}

bool RateLimiter::HasRoleQuotas(std::string_view mount_path) const {
  std::shared_lock lock(mu_);
  for (const auto& [name, q] : quotas_) {
    if (!q.role.empty() && q.path == mount_path) return true;
  }
  return false;
}

const RateLimitQuota* RateLimiter::MostSpecific(std::string_view path,
                                                std::optional<std::string_view> role,
                                                bool* deferred) const {
  const RateLimitQuota* best = nullptr;
  int best_rank = -1;
  for (const auto& [name, q] : quotas_) {
    int rank = Specificity(q, path);
    if (rank < 0) continue;
    if (!q.role.empty()) {
      // A role quota needs the parsed body: decide at the login stage.
      if (!role) {
        if (deferred != nullptr && path.starts_with("auth/")) *deferred = true;
        continue;
      }
      if (*role != q.role) continue;
      rank = 1 << 20;
    }
    if (rank > best_rank) {
      best = &q;
      best_rank = rank;
    }
  }
  return best;
}

RateLimiter::Verdict RateLimiter::Check(std::string_view path, std::string_view client) {
  std::shared_lock lock(mu_);
  if (quotas_.empty() || Exempt(path)) return {};
  bool deferred = false;
  const RateLimitQuota* q = MostSpecific(path, std::nullopt, &deferred);
  if (deferred || q == nullptr) return {};
  return Apply(*q, path, client);
}

RateLimiter::Verdict RateLimiter::CheckLogin(std::string_view path, std::string_view role,
                                             std::string_view client) {
  std::shared_lock lock(mu_);
  if (quotas_.empty() || Exempt(path)) return {};
  const RateLimitQuota* q = MostSpecific(path, role, nullptr);
  if (q == nullptr) return {};
  return Apply(*q, path, client);
}

RateLimiter::Verdict RateLimiter::Apply(const RateLimitQuota& q, std::string_view path,
                                        std::string_view client) {
  const std::int64_t now = NowNs();
  const double interval_ns = static_cast<double>(q.interval.count()) * 1e6;
  std::string key = q.name;
  key += '\n';
  key += client;
  Shard& shard = shards_[std::hash<std::string>{}(key) % kShards];
  bool allowed = false;
  double remaining = 0;
  std::int64_t retry_ns = 0;
  {
    std::scoped_lock lock(shard.mu);
    if (++shard.since_sweep >= 4096) {
      // Forget clients idle for longer than a refill plus a block.
      shard.since_sweep = 0;
      const std::int64_t idle =
          static_cast<std::int64_t>(interval_ns) + q.block_interval.count() * 1'000'000;
      std::erase_if(shard.buckets,
                    [&](const auto& kv) { return now - kv.second.last_seen_ns > 2 * idle; });
    }
    auto [it, inserted] = shard.buckets.try_emplace(std::move(key));
    Bucket& b = it->second;
    if (inserted) {
      b.tokens = q.rate;
      b.last_ns = now;
    }
    b.last_seen_ns = now;
    if (b.blocked_until_ns != 0 && now < b.blocked_until_ns) {
      retry_ns = b.blocked_until_ns - now;
    } else {
      b.blocked_until_ns = 0;
      double refill = static_cast<double>(now - b.last_ns) / interval_ns * q.rate;
      b.tokens = std::min(q.rate, b.tokens + refill);
      b.last_ns = now;
      if (b.tokens >= 1.0) {
        b.tokens -= 1.0;
        allowed = true;
      } else {
        if (q.block_interval.count() > 0) {
          b.blocked_until_ns = now + q.block_interval.count() * 1'000'000;
          retry_ns = b.blocked_until_ns - now;
        } else {
          retry_ns = static_cast<std::int64_t>((1.0 - b.tokens) / q.rate * interval_ns);
        }
      }
    }
    remaining = b.tokens;
  }
  Verdict v;
  const auto retry_s = std::max<std::int64_t>(1, (retry_ns + 999'999'999) / 1'000'000'000);
  if (!allowed) {
    v.refusal = logical::ErrorResponse(
        429, "request path \"" + std::string(path) + "\": rate limit quota exceeded");
    v.headers["Retry-After"] = std::to_string(retry_s);
  }
  if (config_.response_headers) {
    v.headers["X-Ratelimit-Limit"] = std::to_string(static_cast<std::int64_t>(q.rate));
    v.headers["X-Ratelimit-Remaining"] =
        std::to_string(static_cast<std::int64_t>(std::floor(remaining)));
    v.headers["X-Ratelimit-Reset"] = std::to_string(
        static_cast<std::int64_t>(std::ceil((q.rate - remaining) / q.rate * interval_ns / 1e9)));
  }
  if (v.refusal) v.refusal->headers = v.headers;
  return v;
}

Status RateLimiter::Put(RateLimitQuota quota) {
  if (quota.name.empty() || quota.name.find('/') != std::string::npos ||
      quota.name.find('\n') != std::string::npos) {
    return InvalidArgument("invalid quota name");
  }
  if (!(quota.rate > 0) || !std::isfinite(quota.rate)) {
    return InvalidArgument("rate must be positive");
  }
  if (quota.interval.count() <= 0) quota.interval = std::chrono::milliseconds(1000);
  if (quota.block_interval.count() < 0) return InvalidArgument("invalid block_interval");
  if (quota.path.starts_with('/')) quota.path.erase(0, 1);
  if (quota.path.find('*') != std::string::npos && !quota.path.ends_with("/*")) {
    return InvalidArgument("a glob is allowed only as the last path segment (\"mount/prefix/*\")");
  }
  if (!quota.role.empty() && !(quota.path.starts_with("auth/") && quota.path.ends_with('/'))) {
    return InvalidArgument("role can only be set on a quota whose path is an auth mount");
  }
  TRY(view_.Put(std::string(kQuotaPrefix) + quota.name, QuotaToStored(quota).dump()));
  std::unique_lock lock(mu_);
  quotas_[quota.name] = std::move(quota);
  return Status::Ok();
}

Result<RateLimitQuota> RateLimiter::Get(std::string_view name) const {
  std::shared_lock lock(mu_);
  auto it = quotas_.find(name);
  if (it == quotas_.end()) return Err(NotFound("no such quota"));
  return it->second;
}

Status RateLimiter::Delete(std::string_view name) {
  TRY(view_.Delete(std::string(kQuotaPrefix) + std::string(name)));
  std::unique_lock lock(mu_);
  auto it = quotas_.find(name);
  if (it != quotas_.end()) quotas_.erase(it);
  return Status::Ok();
}

std::vector<std::string> RateLimiter::List() const {
  std::shared_lock lock(mu_);
  std::vector<std::string> names;
  for (const auto& [name, q] : quotas_) names.push_back(name);
  return names;
}

QuotaConfig RateLimiter::config() const {
  std::shared_lock lock(mu_);
  return config_;
}

bool RateLimiter::AuditLogging() const {
  std::shared_lock lock(mu_);
  return config_.audit_logging;
}

Status RateLimiter::SetConfig(QuotaConfig config) {
  for (std::string& p : config.exempt_paths) {
    if (p.starts_with('/')) p.erase(0, 1);
    if (p.starts_with("v1/")) p.erase(0, 3);
  }
  TRY(view_.Put(kConfigKey, config.ToJson().dump()));
  std::unique_lock lock(mu_);
  config_ = std::move(config);
  return Status::Ok();
}

}  // namespace coffer::core
