#include "metrics/exposition.h"

#include <prometheus/text_serializer.h>

#include <cmath>
#include <ctime>
#include <exception>
#include <limits>
#include <sstream>

namespace coffer::metrics {
namespace {

using nlohmann::json;
using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

json Labels(const ClientMetric& m) {
  json labels = json::object();
  for (const auto& l : m.label) labels[l.name] = l.value;
  return labels;
}

// Go's time.Time.String() for a UTC instant, as go-metrics prints it:
// "2006-01-02 15:04:05 +0000 UTC".
std::string GoTimestamp(std::chrono::system_clock::time_point now) {
  std::time_t t = std::chrono::system_clock::to_time_t(now);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[40];
  std::strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S +0000 UTC", &tm);
  return buf;
}

json Sampled(const std::string& name, const ClientMetric& m, double count, double sum, double min,
             double max, double stddev, double uptime_s) {
  return json{{"Name", name},
              {"Count", static_cast<std::uint64_t>(count)},
              {"Rate", uptime_s > 0 ? sum / uptime_s : 0.0},
              {"Sum", sum},
              {"Min", min},
              {"Max", max},
              {"Mean", count > 0 ? sum / count : 0.0},
              {"Stddev", stddev},
              {"Labels", Labels(m)}};
}

// A histogram in milliseconds, from its cumulative buckets (in seconds).
json HistogramSample(const std::string& name, const ClientMetric& m, double uptime_s) {
  const auto& h = m.histogram;
  const double count = static_cast<double>(h.sample_count);
  const double sum_ms = h.sample_sum * 1000;
  double min = 0, max = 0, sq = 0;
  bool seen = false;
  double lower = 0;
  std::uint64_t previous = 0;
  for (const auto& b : h.bucket) {
    const std::uint64_t n = b.cumulative_count - previous;
    previous = b.cumulative_count;
    const double upper_ms =
        std::isinf(b.upper_bound) ? std::max(lower, sum_ms) : b.upper_bound * 1000;
    if (n > 0) {
      if (!seen) min = lower;
      seen = true;
      max = upper_ms;
      const double mid = (lower + upper_ms) / 2;
      sq += static_cast<double>(n) * mid * mid;
    }
    lower = upper_ms;
  }
  max = std::min(max, sum_ms);
  double stddev = 0;
  if (count > 1) {
    const double variance = (count * sq - sum_ms * sum_ms) / (count * (count - 1));
    stddev = variance > 0 ? std::sqrt(variance) : 0;
  }
  return Sampled(name, m, count, sum_ms, min, max, stddev, uptime_s);
}

}  // namespace

Result<Format> ParseFormat(std::string_view format) {
  if (format.empty()) return Format::kJson;
  if (format == "prometheus") return Format::kPrometheus;
  return Err(
      InvalidArgument("unsupported metrics format; use format=prometheus, or no format for JSON"));
}

std::string_view FormatFromAccept(std::string_view accept) {
  if (accept.starts_with("application/openmetrics-text") ||
      accept.find("prometheus/telemetry") != std::string_view::npos ||
      accept.find("text/plain") != std::string_view::npos) {
    return "prometheus";
  }
  return "";
}

Result<std::string> RenderText(const std::vector<MetricFamily>& families) {
  try {
    std::ostringstream out;
    prometheus::TextSerializer().Serialize(out, families);
    return out.str();
  } catch (const std::exception& e) {
    return Err(Internal(std::string("metrics: cannot render text: ") + e.what()));
  }
}

json RenderJson(const std::vector<MetricFamily>& families,
                std::chrono::system_clock::time_point now, std::chrono::duration<double> uptime) {
  json gauges = json::array();
  json counters = json::array();
  json samples = json::array();
  const double uptime_s = uptime.count();
  for (const MetricFamily& f : families) {
    for (const ClientMetric& m : f.metric) {
      switch (f.type) {
        case MetricType::Gauge:
          gauges.push_back({{"Name", f.name}, {"Value", m.gauge.value}, {"Labels", Labels(m)}});
          break;
        case MetricType::Untyped:
          gauges.push_back({{"Name", f.name}, {"Value", m.untyped.value}, {"Labels", Labels(m)}});
          break;
        case MetricType::Counter: {
          // Every Coffer counter moves in steps of one: Count is Sum.
          const double v = m.counter.value;
          const double step = v > 0 ? 1.0 : 0.0;
          counters.push_back(Sampled(f.name, m, v, v, step, step, 0, uptime_s));
          break;
        }
        case MetricType::Histogram:
          samples.push_back(HistogramSample(f.name, m, uptime_s));
          break;
        case MetricType::Summary:
          break;  // not produced
      }
    }
  }
  return json{{"Timestamp", GoTimestamp(now)},
              {"Gauges", std::move(gauges)},
              {"Points", json::array()},
              {"Counters", std::move(counters)},
              {"Samples", std::move(samples)}};
}

MetricFamily GaugeFamily(std::string name, std::string help, double value) {
  MetricFamily f;
  f.name = std::move(name);
  f.help = std::move(help);
  f.type = MetricType::Gauge;
  ClientMetric m;
  m.gauge.value = value;
  f.metric.push_back(std::move(m));
  return f;
}

}  // namespace coffer::metrics
