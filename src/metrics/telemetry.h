#pragma once
// Coffer's own counters and histograms, and their names as Prometheus sees
// them (docs/metrics.md lists every one).
//
// Label values come only from the fixed enums below, never from a request:
// no path, secret name, token, accessor or other client input can become a
// label, so the number of series is bounded (and small) whatever clients do.
//
// One process-wide instance, Telemetry::Global(), is fed by the hooks in
// http/core (requests), barrier (storage operations) and audit (writes and
// failures). Recording is a few relaxed atomic adds on the calling thread's
// shard (sharded.h); Collect() aggregates at scrape time.
//
// Thread-safety: every method is safe from any thread.

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "metrics/sharded.h"

namespace coffer::metrics {

// What kind of thing a request went to, from the mount that served it.
enum class Family : std::uint8_t {
  kSys,
  kAuth,
  kKv,
  kTransit,
  kDatabase,
  kCubbyhole,
  kIdentity,
  kHealth,
  kOther
};
inline constexpr std::size_t kFamilyCount = 9;
std::string_view FamilyName(Family family);
// The family of a secrets engine's mount type: "kv" → kKv, "transit",
// "database", "cubbyhole"; any other type → kOther.
Family FamilyOfMountType(std::string_view type);

// The request's method as the API sees it (PUT and POST are one operation
// and both count as POST).
enum class Method : std::uint8_t { kGet, kList, kPost, kDelete, kPatch, kHead, kScan };
inline constexpr std::size_t kMethodCount = 7;
std::string_view MethodName(Method method);

// HTTP statuses counted under their own code; any other status counts as
// code="other".
inline constexpr int kCountedStatuses[] = {200, 204, 206, 301, 307, 400, 401, 403, 404, 405, 409,
                                           412, 413, 415, 429, 431, 500, 501, 502, 503, 507};
inline constexpr std::size_t kStatusCount = std::size(kCountedStatuses) + 1;

// Why the HTTP layer answered a request itself, before the core saw it:
// the bytes were not a well-formed HTTP request (malformed or ambiguous
// framing, header or body over its limit), a rate-limit quota refused it,
// or it was HTTP but not a valid API call (bad JSON body, unsupported method,
// a path that cannot be canonicalised, ...).
enum class Refusal : std::uint8_t { kFraming, kRateLimit, kRequest };
inline constexpr std::size_t kRefusalCount = 3;

enum class BarrierOp : std::uint8_t { kGet, kPut, kDelete, kList };
inline constexpr std::size_t kBarrierOpCount = 4;

enum class AuditEntry : std::uint8_t { kRequest, kResponse };

// Request duration buckets, in seconds as exported (0.1 ms .. 10 s).
inline constexpr double kDurationBuckets[] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                              0.01,   0.025,   0.05,   0.1,   0.25,   0.5,
                                              1,      2.5,     5,      10};

class Telemetry final : public prometheus::Collectable {
 public:
  Telemetry();
  static Telemetry& Global();

  void RecordHttp(Family family, Method method, int status,
                  std::chrono::nanoseconds elapsed) noexcept;
  void RecordRefusal(Refusal reason, int status) noexcept {
    refusals_.Add(static_cast<std::size_t>(reason) * kStatusCount + StatusIndex(status));
  }
  void RecordBarrier(BarrierOp op) noexcept { barrier_.Add(static_cast<std::size_t>(op)); }
  void RecordAuditFailure(AuditEntry entry) noexcept {
    audit_failures_.Add(static_cast<std::size_t>(entry));
  }
  // One device's write of a request's entries; `device_type` is the
  // device's type ("file", "socket", "syslog"; anything else counts as
  // "other"), never its path.
  void RecordAuditDeviceWrite(std::string_view device_type, bool ok) noexcept;
  // The audit entry of a request refused by a rate limit quota, dropped
  // because too many were waiting to be written (Core::PreflightRefused).
  void RecordRateLimitedAuditDropped() noexcept { rate_limited_audits_dropped_.Add(0); }

  // Counters, then histograms, in a fixed order. Series that were never
  // incremented are left out of the per-request metrics (as Prometheus
  // clients do for labelled series); the others are always present.
  std::vector<prometheus::MetricFamily> Collect() const override;

  // Readers for tests.
  std::uint64_t HttpRequests(Family family, Method method, int status) const;
  std::uint64_t BarrierOps(BarrierOp op) const;
  std::uint64_t Refusals(Refusal reason, int status) const;
  std::uint64_t RateLimitedAuditsDropped() const { return rate_limited_audits_dropped_.Value(0); }
  HistogramSnapshot HttpDurations(Family family) const;

 private:
  static std::size_t StatusIndex(int status) noexcept;

  CounterSet http_requests_;  // family x method x status
  HistogramSet http_durations_;
  CounterSet refusals_;  // reason x status
  CounterSet barrier_;
  CounterSet audit_failures_;
  CounterSet audit_devices_;  // type x {written, failed}
  CounterSet rate_limited_audits_dropped_;
};

}  // namespace coffer::metrics
