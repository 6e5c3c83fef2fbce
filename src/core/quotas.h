#pragma once
// Rate limit quotas (Vault's sys/quotas/rate-limit): token buckets per quota
// and per client IP address, applied before the request body is parsed and
// before an auth method hashes a password.
//
// A quota has a `rate` (requests per `interval`, default 1s; the bucket's
// size and refill), an optional `block_interval` (a client that empties the
// bucket is refused for that long), a `path` and an optional `role`:
//   ""                   global: every request
//   "secret/"            a mount: every request under it
//   "secret/data/app"    one path; "secret/data/app/*" every path below it
//   "auth/approle/" + role "ci"   logins to that mount with that role
// Only the most specific quota that matches a request applies (role, then
// path, then mount, then global), as in Vault. Paths in
// `rate_limit_exempt_paths` (sys/quotas/config; Vault's defaults: health,
// seal-status, unseal, ...) are never limited.
//
// Refused requests get 429 "request path \"P\": rate limit quota exceeded";
// with enable_rate_limit_response_headers, answers carry X-Ratelimit-Limit,
// X-Ratelimit-Remaining, X-Ratelimit-Reset and (on 429) Retry-After.
//
// Quotas are stored under the barrier ("sys/quotas/"), loaded at unseal and
// dropped at seal; the buckets live in memory on this server only (Vault's
// quotas are per node too).
//
// Thread-safe: Check() is called on I/O threads and takes a shared lock on
// the quota table and a short exclusive lock on one shard of the buckets.

#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "logical/request.h"
#include "storage/backend.h"

namespace coffer::core {

struct RateLimitQuota {
  std::string name;
  std::string path;  // "", "mount/", "mount/suffix" or "mount/prefix/*"
  std::string role;  // only with an auth mount path
  double rate = 0;   // > 0
  std::chrono::milliseconds interval{1000};
  std::chrono::milliseconds block_interval{0};

  logical::Json ToJson() const;
};

struct QuotaConfig {
  std::vector<std::string> exempt_paths;
  bool audit_logging = false;  // enable_rate_limit_audit_logging
  bool response_headers = false;

  logical::Json ToJson() const;
  static QuotaConfig Defaults();
};

class RateLimiter {
 public:
  // `view` is the barrier view for "sys/quotas/"; `clock` gives monotonic
  // time for the buckets.
  RateLimiter(storage::Backend& view, Clock& clock) : view_(view), clock_(clock) {}

  // Reads the quotas and the config from storage (at unseal).
  Status Load();
  // Forgets quotas and buckets (at seal).
  void Clear();

  // What a check decided: `refusal` is the 429 answer when the request must
  // not go on; `headers` go on the answer either way (response headers
  // enabled, or Retry-After on a refusal).
  struct Verdict {
    std::optional<logical::Response> refusal;
    std::map<std::string, std::string> headers;
  };
  // The admission check for a request: `path` is the canonical request
  // path ("secret/data/app"), `client` the remote address (IP only).
  // Logins to auth mounts that have role quotas are left to CheckLogin.
  Verdict Check(std::string_view path, std::string_view client);
  // The check for a login whose role is known (`role` may be empty):
  // called by the login stage after the body is parsed, before the method.
  Verdict CheckLogin(std::string_view path, std::string_view role, std::string_view client);
  // True when some quota names a role on the auth mount `mount_path`.
  bool HasRoleQuotas(std::string_view mount_path) const;

  // Management (sys/quotas/*). Put validates: kInvalidArgument for a bad
  // name, rate, interval or path shape.
  Status Put(RateLimitQuota quota);
  Result<RateLimitQuota> Get(std::string_view name) const;  // kNotFound
  Status Delete(std::string_view name);
  std::vector<std::string> List() const;
  QuotaConfig config() const;
  // enable_rate_limit_audit_logging: refused requests get an audit entry.
  bool AuditLogging() const;
  Status SetConfig(QuotaConfig config);

  // Parses a duration field ("1s", "2m", or seconds as a number).
  static Result<std::chrono::milliseconds> ParseInterval(const logical::Json& value);

 private:
  struct Bucket {
    double tokens = 0;
    std::int64_t last_ns = 0;           // monotonic time of the last refill
    std::int64_t blocked_until_ns = 0;  // 0 = not blocked
    std::int64_t last_seen_ns = 0;
  };
  struct Shard {
    std::mutex mu;
    std::unordered_map<std::string, Bucket> buckets;  // "<quota>\n<client>"
    std::uint32_t since_sweep = 0;
  };
  static constexpr std::size_t kShards = 16;

  const RateLimitQuota* MostSpecific(std::string_view path, std::optional<std::string_view> role,
                                     bool* deferred) const;
  Verdict Apply(const RateLimitQuota& quota, std::string_view path, std::string_view client);
  bool Exempt(std::string_view path) const;
  std::int64_t NowNs() const;

  storage::Backend& view_;
  Clock& clock_;
  mutable std::shared_mutex mu_;
  std::map<std::string, RateLimitQuota, std::less<>> quotas_;  // guarded by mu_
  QuotaConfig config_ = QuotaConfig::Defaults();               // guarded by mu_
  std::array<Shard, kShards> shards_;
};

}  // namespace coffer::core
