#pragma once
// The two shapes sys/metrics answers in: Prometheus text exposition 0.0.4
// (rendered by prometheus-cpp's TextSerializer) and the JSON summary of
// go-metrics' in-memory sink, which Vault returns without a format.
//
// Thread-safe (pure functions). Errors: kInvalidArgument for an unknown
// format, kInternal if the serializer throws.

#include <prometheus/metric_family.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace coffer::metrics {

enum class Format { kJson, kPrometheus };

inline constexpr std::string_view kPrometheusContentType =
    "text/plain; version=0.0.4; charset=utf-8";

// "" → kJson, "prometheus" → kPrometheus; anything else is kInvalidArgument
// (the message names the accepted values, not the value given).
Result<Format> ParseFormat(std::string_view format);

// Vault's FormatFromRequest: "prometheus" when an Accept header asks for
// OpenMetrics or Prometheus text (application/openmetrics-text,
// text/plain, prometheus/telemetry), "" otherwise.
std::string_view FormatFromAccept(std::string_view accept);

Result<std::string> RenderText(const std::vector<prometheus::MetricFamily>& families);

// {"Timestamp","Gauges":[{Name,Value,Labels}],"Points":[],
//  "Counters":[{Name,Count,Rate,Sum,Min,Max,Mean,Stddev,Labels}],
//  "Samples":[same, in milliseconds]}. Counters are cumulative since the
// process started; Rate is Sum per second of `uptime`. A histogram's Min,
// Max and Stddev are estimated from its buckets.
nlohmann::json RenderJson(const std::vector<prometheus::MetricFamily>& families,
                          std::chrono::system_clock::time_point now,
                          std::chrono::duration<double> uptime);

// A family with one unlabelled gauge.
prometheus::MetricFamily GaugeFamily(std::string name, std::string help, double value);

}  // namespace coffer::metrics
