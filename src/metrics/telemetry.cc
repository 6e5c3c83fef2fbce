#include "metrics/telemetry.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <string>

namespace coffer::metrics {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

constexpr std::array<std::string_view, kFamilyCount> kFamilyNames = {
    "sys", "auth", "kv", "transit", "database", "cubbyhole", "identity", "health", "other"};
constexpr std::array<std::string_view, kMethodCount> kMethodNames = {
    "GET", "LIST", "POST", "DELETE", "PATCH", "HEAD", "SCAN"};
constexpr std::array<std::string_view, kRefusalCount> kRefusalNames = {"framing", "rate_limit",
                                                                       "request"};
constexpr std::array<std::string_view, kBarrierOpCount> kBarrierOpNames = {"get", "put", "delete",
                                                                           "list"};
constexpr std::array<std::string_view, 4> kDeviceTypes = {"file", "socket", "syslog", "other"};
constexpr std::size_t kOtherDevice = kDeviceTypes.size() - 1;

std::vector<std::uint64_t> DurationBoundsNs() {
  std::vector<std::uint64_t> bounds;
  for (double b : kDurationBuckets)
    bounds.push_back(static_cast<std::uint64_t>(std::llround(b * 1e9)));
  return bounds;
}

std::size_t DeviceIndex(std::string_view type) {
  for (std::size_t i = 0; i < kOtherDevice; ++i) {
    if (kDeviceTypes[i] == type) return i;
  }
  return kOtherDevice;
}

ClientMetric Counter(std::vector<ClientMetric::Label> labels, std::uint64_t value) {
  ClientMetric m;
  m.label = std::move(labels);
  m.counter.value = static_cast<double>(value);
  return m;
}

MetricFamily NewFamily(std::string name, std::string help, MetricType type) {
  MetricFamily f;
  f.name = std::move(name);
  f.help = std::move(help);
  f.type = type;
  return f;
}

std::string StatusLabel(std::size_t index) {
  return index < std::size(kCountedStatuses) ? std::to_string(kCountedStatuses[index]) : "other";
}

}  // namespace

std::string_view FamilyName(Family family) {
  return kFamilyNames[static_cast<std::size_t>(family)];
}

Family FamilyOfMountType(std::string_view type) {
  if (type == "kv") return Family::kKv;
  if (type == "transit") return Family::kTransit;
  if (type == "database") return Family::kDatabase;
  if (type == "cubbyhole") return Family::kCubbyhole;
  return Family::kOther;
}

std::string_view MethodName(Method method) {
  return kMethodNames[static_cast<std::size_t>(method)];
}

Telemetry::Telemetry()
    : http_requests_(kFamilyCount * kMethodCount * kStatusCount),
      http_durations_(kFamilyCount, DurationBoundsNs()),
      refusals_(kRefusalCount * kStatusCount),
      barrier_(kBarrierOpCount),
      audit_failures_(2),
      audit_devices_(kDeviceTypes.size() * 2),
      rate_limited_audits_dropped_(1) {}

Telemetry& Telemetry::Global() {
  static Telemetry* telemetry = new Telemetry();  // never destroyed: threads may outlive main
  return *telemetry;
}

std::size_t Telemetry::StatusIndex(int status) noexcept {
  for (std::size_t i = 0; i < std::size(kCountedStatuses); ++i) {
    if (kCountedStatuses[i] == status) return i;
  }
  return std::size(kCountedStatuses);
}

void Telemetry::RecordHttp(Family family, Method method, int status,
                           std::chrono::nanoseconds elapsed) noexcept {
  const auto f = static_cast<std::size_t>(family);
  const auto m = static_cast<std::size_t>(method);
  http_requests_.Add((f * kMethodCount + m) * kStatusCount + StatusIndex(status));
  http_durations_.Observe(f,
                          static_cast<std::uint64_t>(std::max<std::int64_t>(elapsed.count(), 0)));
}

void Telemetry::RecordAuditDeviceWrite(std::string_view device_type, bool ok) noexcept {
  audit_devices_.Add(DeviceIndex(device_type) * 2 + (ok ? 0 : 1));
}

std::uint64_t Telemetry::HttpRequests(Family family, Method method, int status) const {
  const auto f = static_cast<std::size_t>(family);
  const auto m = static_cast<std::size_t>(method);
  return http_requests_.Value((f * kMethodCount + m) * kStatusCount + StatusIndex(status));
}

std::uint64_t Telemetry::Refusals(Refusal reason, int status) const {
  return refusals_.Value(static_cast<std::size_t>(reason) * kStatusCount + StatusIndex(status));
}

std::uint64_t Telemetry::BarrierOps(BarrierOp op) const {
  return barrier_.Value(static_cast<std::size_t>(op));
}

HistogramSnapshot Telemetry::HttpDurations(Family family) const {
  return http_durations_.Snapshot(static_cast<std::size_t>(family));
}

std::vector<MetricFamily> Telemetry::Collect() const {
  std::vector<MetricFamily> out;

  MetricFamily requests = NewFamily(
      "coffer_http_requests_total",
      "API requests answered, by route family, method and HTTP status.", MetricType::Counter);
  for (std::size_t f = 0; f < kFamilyCount; ++f) {
    for (std::size_t m = 0; m < kMethodCount; ++m) {
      for (std::size_t s = 0; s < kStatusCount; ++s) {
        std::uint64_t v = http_requests_.Value((f * kMethodCount + m) * kStatusCount + s);
        if (v == 0) continue;
        requests.metric.push_back(Counter({{"code", StatusLabel(s)},
                                           {"family", std::string(kFamilyNames[f])},
                                           {"method", std::string(kMethodNames[m])}},
                                          v));
      }
    }
  }
  out.push_back(std::move(requests));

  MetricFamily durations =
      NewFamily("coffer_http_request_duration_seconds",
                "Time from the core receiving an API request to its answer, by route family.",
                MetricType::Histogram);
  for (std::size_t f = 0; f < kFamilyCount; ++f) {
    HistogramSnapshot snap = http_durations_.Snapshot(f);
    if (snap.count == 0) continue;
    ClientMetric m;
    m.label = {{"family", std::string(kFamilyNames[f])}};
    m.histogram.sample_count = snap.count;
    m.histogram.sample_sum = static_cast<double>(snap.sum) / 1e9;
    std::uint64_t cumulative = 0;
    for (std::size_t b = 0; b < snap.buckets.size(); ++b) {
      cumulative += snap.buckets[b];
      double bound = b < std::size(kDurationBuckets) ? kDurationBuckets[b]
                                                     : std::numeric_limits<double>::infinity();
      m.histogram.bucket.push_back({cumulative, bound});
    }
    durations.metric.push_back(std::move(m));
  }
  out.push_back(std::move(durations));

  MetricFamily refused =
      NewFamily("coffer_http_refused_total",
                "Requests the HTTP layer answered itself before they reached the core, by reason "
                "(framing, rate_limit, request) and HTTP status.",
                MetricType::Counter);
  for (std::size_t r = 0; r < kRefusalCount; ++r) {
    for (std::size_t s = 0; s < kStatusCount; ++s) {
      std::uint64_t v = refusals_.Value(r * kStatusCount + s);
      if (v == 0) continue;
      refused.metric.push_back(
          Counter({{"code", StatusLabel(s)}, {"reason", std::string(kRefusalNames[r])}}, v));
    }
  }
  out.push_back(std::move(refused));

  MetricFamily barrier =
      NewFamily("coffer_barrier_operations_total",
                "Operations on the encrypted barrier (each a storage access), by "
                "operation.",
                MetricType::Counter);
  for (std::size_t op = 0; op < kBarrierOpCount; ++op) {
    barrier.metric.push_back(
        Counter({{"op", std::string(kBarrierOpNames[op])}}, barrier_.Value(op)));
  }
  out.push_back(std::move(barrier));

  // Indexed by AuditEntry: kRequest, kResponse.
  const std::array<std::pair<const char*, const char*>, 2> audit_failures = {{
      {"coffer_audit_log_request_failures_total",
       "Requests refused because no audit device could record their request entry."},
      {"coffer_audit_log_response_failures_total",
       "Answers withheld because no audit device could record their response entry."},
  }};
  for (std::size_t i = 0; i < audit_failures.size(); ++i) {
    MetricFamily f =
        NewFamily(audit_failures[i].first, audit_failures[i].second, MetricType::Counter);
    f.metric.push_back(Counter({}, audit_failures_.Value(i)));
    out.push_back(std::move(f));
  }

  MetricFamily writes = NewFamily(
      "coffer_audit_device_writes_total",
      "Audit entries (or request/response pairs) written, by device type.", MetricType::Counter);
  MetricFamily failures =
      NewFamily("coffer_audit_device_write_failures_total",
                "Audit writes that failed, by device type.", MetricType::Counter);
  for (std::size_t t = 0; t < kDeviceTypes.size(); ++t) {
    std::uint64_t ok = audit_devices_.Value(t * 2);
    std::uint64_t failed = audit_devices_.Value(t * 2 + 1);
    if (t == kOtherDevice && ok == 0 && failed == 0) continue;
    writes.metric.push_back(Counter({{"type", std::string(kDeviceTypes[t])}}, ok));
    failures.metric.push_back(Counter({{"type", std::string(kDeviceTypes[t])}}, failed));
  }
  out.push_back(std::move(writes));
  out.push_back(std::move(failures));

  MetricFamily dropped =
      NewFamily("coffer_audit_rate_limited_dropped_total",
                "Audit entries of requests refused by a rate limit quota that were dropped "
                "because too many were waiting to be written.",
                MetricType::Counter);
  dropped.metric.push_back(Counter({}, rate_limited_audits_dropped_.Value(0)));
  out.push_back(std::move(dropped));
  return out;
}

}  // namespace coffer::metrics
