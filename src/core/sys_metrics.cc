// sys/metrics: Coffer's telemetry as Prometheus text or go-metrics JSON
// (docs/metrics.md). Authenticated requests come through the normal
// pipeline (ACL `read` on sys/metrics, audited); a listener with
// unauthenticated_metrics_access hands GET sys/metrics to
// Core::HandleUnauthenticatedMetrics, which answers here without a token.

#include <mutex>

#include "core/core.h"
#include "core/request_metrics.h"
#include "core/system_backend.h"
#include "http/error_map.h"
#include "http/in_flight.h"
#include "metrics/exposition.h"
#include "metrics/process.h"
#include "metrics/telemetry.h"

namespace coffer::core {
namespace {

// Everything a scrape reports. `state_readable`: the caller holds the
// core's state lock (shared) and the core is unsealed, so the expiration
// manager may be asked for its lease count.
std::vector<prometheus::MetricFamily> Gather(Core& core, bool state_readable) {
  std::vector<prometheus::MetricFamily> families = metrics::Telemetry::Global().Collect();
  families.push_back(metrics::GaugeFamily("coffer_core_unsealed",
                                          "1 when the server is unsealed, 0 when sealed.",
                                          core.Sealed() ? 0 : 1));
  if (auto initialized = core.Initialized()) {
    families.push_back(metrics::GaugeFamily("coffer_core_initialized",
                                            "1 when the server has been initialised, else 0.",
                                            *initialized ? 1 : 0));
  }
  families.push_back(metrics::GaugeFamily(
      "coffer_core_in_flight_requests",
      "Requests the listeners are handling, this scrape included (sys/in-flight-req).",
      static_cast<double>(http::InFlightRegistry::Global().Count())));
  if (state_readable) {
    families.push_back(
        metrics::GaugeFamily("coffer_expire_num_leases",
                             "Leases (secret and token leases) the expiration manager tracks.",
                             static_cast<double>(core.expiration().IndexSize())));
  }
  for (auto& f : metrics::CollectProcess()) families.push_back(std::move(f));
  return families;
}

}  // namespace

Result<logical::Response> MetricsResponse(Core& core, const logical::Request& request,
                                          bool state_readable) {
  if (request.operation != logical::Operation::kRead) {
    return Err(Status(Code::kMethodNotAllowed, "sys/metrics supports only GET"));
  }
  auto it = request.query.find("format");
  ASSIGN_OR_RETURN(metrics::Format format,
                   metrics::ParseFormat(it == request.query.end() ? "" : it->second));
  if (format == metrics::Format::kPrometheus && !core.prometheus_metrics()) {
    return Err(
        InvalidArgument("prometheus is not enabled (telemetry prometheus_retention_time is 0)"));
  }
  std::vector<prometheus::MetricFamily> families = Gather(core, state_readable);
  logical::Response r;
  if (format == metrics::Format::kPrometheus) {
    ASSIGN_OR_RETURN(std::string text, metrics::RenderText(families));
    r.raw = std::move(text);
    r.headers["Content-Type"] = std::string(metrics::kPrometheusContentType);
    return r;
  }
  r.raw = metrics::RenderJson(families, std::chrono::system_clock::now(),
                              std::chrono::steady_clock::now() - core.created_at());
  return r;
}

Result<logical::Response> SystemBackend::Metrics(const logical::Request& request) {
  // Dispatch holds the state lock and refuses sealed requests before this.
  return MetricsResponse(core_, request, /*state_readable=*/true);
}

void Core::HandleUnauthenticatedMetrics(logical::Request request,
                                        std::function<void(logical::Response)> done) {
  const auto started = std::chrono::steady_clock::now();
  // Never waits: while a seal or unseal holds the state lock, the answer
  // leaves without the gauges that need it.
  std::shared_lock lock(state_mu_, std::try_to_lock);
  const bool state_readable = lock.owns_lock() && !sealed_.load();
  Result<logical::Response> result = MetricsResponse(*this, request, state_readable);
  if (lock.owns_lock()) lock.unlock();
  logical::Response response = result ? std::move(*result) : http::ResponseFor(result.error());
  CountRequest(metrics::Family::kSys, MetricsMethod(request.operation), response, started);
  done(std::move(response));
}

}  // namespace coffer::core
