#include "metrics/exposition.h"

#include <gtest/gtest.h>

#include <map>
#include <sstream>
#include <string>

#include "metrics/process.h"
#include "metrics/telemetry.h"

namespace coffer::metrics {
namespace {

// Parses Prometheus text exposition back into "name{labels}" -> value, and
// the # TYPE lines into name -> type. Fails the test on a line it cannot read.
struct Parsed {
  std::map<std::string, double> samples;
  std::map<std::string, std::string> types;
};

Parsed ParseText(const std::string& text) {
  Parsed p;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    if (line.starts_with("# TYPE ")) {
      std::istringstream t(line.substr(7));
      std::string name, type;
      t >> name >> type;
      p.types[name] = type;
      continue;
    }
    if (line.starts_with("# HELP ")) continue;
    if (line.starts_with("#")) {
      ADD_FAILURE() << "unexpected comment " << line;
      continue;
    }
    std::size_t space = line.rfind(' ');
    if (space == std::string::npos) {
      ADD_FAILURE() << "no value: " << line;
      continue;
    }
    p.samples[line.substr(0, space)] = std::stod(line.substr(space + 1));
  }
  return p;
}

TEST(ExpositionTest, ParseFormat) {
  EXPECT_EQ(ParseFormat("").value(), Format::kJson);
  EXPECT_EQ(ParseFormat("prometheus").value(), Format::kPrometheus);
  auto bad = ParseFormat("xml");
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code(), Code::kInvalidArgument);
  EXPECT_EQ(bad.error().message().find("xml"), std::string::npos) << "no client input echoed";
}

TEST(ExpositionTest, FormatFromAccept) {
  EXPECT_EQ(FormatFromAccept("application/openmetrics-text; version=1.0.0"), "prometheus");
  EXPECT_EQ(FormatFromAccept("text/plain;version=0.0.4;q=0.5,*/*;q=0.1"), "prometheus");
  EXPECT_EQ(FormatFromAccept("application/json"), "");
  EXPECT_EQ(FormatFromAccept("*/*"), "");
  EXPECT_EQ(FormatFromAccept(""), "");
}

TEST(ExpositionTest, TextOfTelemetryParsesBack) {
  Telemetry t;
  for (int i = 0; i < 3; ++i) {
    t.RecordHttp(Family::kKv, Method::kGet, 200, std::chrono::microseconds(100));
  }
  t.RecordHttp(Family::kKv, Method::kGet, 404, std::chrono::milliseconds(2));
  t.RecordHttp(Family::kSys, Method::kPost, 599, std::chrono::seconds(20));
  t.RecordBarrier(BarrierOp::kGet);
  t.RecordBarrier(BarrierOp::kGet);
  t.RecordAuditFailure(AuditEntry::kResponse);
  t.RecordAuditDeviceWrite("file", false);
  t.RecordAuditDeviceWrite("file", true);
  t.RecordAuditDeviceWrite("socket", true);
  t.RecordRateLimitedAuditDropped();
  t.RecordRateLimitedAuditDropped();

  std::vector<prometheus::MetricFamily> families = t.Collect();
  families.push_back(GaugeFamily("coffer_core_unsealed", "help", 1));
  auto text = RenderText(families);
  ASSERT_TRUE(text.has_value());
  Parsed p = ParseText(*text);

  EXPECT_EQ(p.types["coffer_http_requests_total"], "counter");
  EXPECT_EQ(p.types["coffer_http_request_duration_seconds"], "histogram");
  EXPECT_EQ(p.types["coffer_core_unsealed"], "gauge");
  EXPECT_EQ(p.samples[R"(coffer_http_requests_total{code="200",family="kv",method="GET"})"], 3);
  EXPECT_EQ(p.samples[R"(coffer_http_requests_total{code="404",family="kv",method="GET"})"], 1);
  EXPECT_EQ(p.samples[R"(coffer_http_requests_total{code="other",family="sys",method="POST"})"], 1);
  // 100 us is exactly the first bound; 2 ms is in le="0.0025".
  EXPECT_EQ(p.samples[R"(coffer_http_request_duration_seconds_bucket{family="kv",le="0.0001"})"],
            3);
  EXPECT_EQ(p.samples[R"(coffer_http_request_duration_seconds_bucket{family="kv",le="0.001"})"], 3);
  EXPECT_EQ(p.samples[R"(coffer_http_request_duration_seconds_bucket{family="kv",le="0.0025"})"],
            4);
  EXPECT_EQ(p.samples[R"(coffer_http_request_duration_seconds_bucket{family="kv",le="+Inf"})"], 4);
  EXPECT_EQ(p.samples[R"(coffer_http_request_duration_seconds_count{family="kv"})"], 4);
  EXPECT_NEAR(p.samples[R"(coffer_http_request_duration_seconds_sum{family="kv"})"], 0.0023, 1e-9);
  EXPECT_EQ(p.samples[R"(coffer_http_request_duration_seconds_bucket{family="sys",le="10"})"], 0);
  EXPECT_EQ(p.samples[R"(coffer_http_request_duration_seconds_bucket{family="sys",le="+Inf"})"], 1);
  EXPECT_EQ(p.samples.count(R"(coffer_http_request_duration_seconds_count{family="auth"})"), 0u)
      << "families never used are left out";
  EXPECT_EQ(p.samples[R"(coffer_barrier_operations_total{op="get"})"], 2);
  EXPECT_EQ(p.samples[R"(coffer_barrier_operations_total{op="put"})"], 0);
  EXPECT_EQ(p.samples["coffer_audit_log_request_failures_total"], 0);
  EXPECT_EQ(p.samples["coffer_audit_log_response_failures_total"], 1);
  EXPECT_EQ(p.samples[R"(coffer_audit_device_writes_total{type="file"})"], 1);
  EXPECT_EQ(p.samples[R"(coffer_audit_device_write_failures_total{type="file"})"], 1);
  EXPECT_EQ(p.samples[R"(coffer_audit_device_writes_total{type="socket"})"], 1);
  EXPECT_EQ(p.types["coffer_audit_rate_limited_dropped_total"], "counter");
  EXPECT_EQ(p.samples["coffer_audit_rate_limited_dropped_total"], 2);
  EXPECT_EQ(p.samples["coffer_core_unsealed"], 1);
}

TEST(ExpositionTest, JsonHasVaultsShape) {
  Telemetry t;
  t.RecordHttp(Family::kKv, Method::kGet, 200, std::chrono::milliseconds(1));
  t.RecordHttp(Family::kKv, Method::kGet, 200, std::chrono::milliseconds(3));
  std::vector<prometheus::MetricFamily> families = t.Collect();
  families.push_back(GaugeFamily("coffer_core_unsealed", "help", 1));
  auto when = std::chrono::system_clock::from_time_t(1700000000);
  nlohmann::json j = RenderJson(families, when, std::chrono::seconds(10));
  EXPECT_EQ(j["Timestamp"], "2023-11-14 22:13:20 +0000 UTC");
  ASSERT_TRUE(j["Points"].is_array());
  ASSERT_TRUE(j["Gauges"].is_array());
  ASSERT_EQ(j["Gauges"].size(), 1u);
  EXPECT_EQ(j["Gauges"][0]["Name"], "coffer_core_unsealed");
  EXPECT_EQ(j["Gauges"][0]["Value"], 1.0);
  EXPECT_TRUE(j["Gauges"][0]["Labels"].is_object());

  const nlohmann::json* requests = nullptr;
  for (const auto& c : j["Counters"]) {
    for (const char* key :
         {"Name", "Count", "Rate", "Sum", "Min", "Max", "Mean", "Stddev", "Labels"}) {
      EXPECT_TRUE(c.contains(key)) << key << " in " << c.dump();
    }
    if (c["Name"] == "coffer_http_requests_total") requests = &c;
  }
  ASSERT_NE(requests, nullptr);
  EXPECT_EQ((*requests)["Count"], 2);
  EXPECT_EQ((*requests)["Sum"], 2.0);
  EXPECT_DOUBLE_EQ((*requests)["Rate"].get<double>(), 0.2);
  EXPECT_EQ((*requests)["Labels"]["family"], "kv");

  ASSERT_EQ(j["Samples"].size(), 1u);
  const auto& s = j["Samples"][0];
  EXPECT_EQ(s["Name"], "coffer_http_request_duration_seconds");
  EXPECT_EQ(s["Count"], 2);
  EXPECT_NEAR(s["Sum"].get<double>(), 4.0, 1e-9);  // milliseconds
  EXPECT_NEAR(s["Mean"].get<double>(), 2.0, 1e-9);
  EXPECT_NEAR(s["Min"].get<double>(), 0.5, 1e-9);  // the bucket (0.5 ms, 1 ms]
  EXPECT_NEAR(s["Max"].get<double>(), 4.0, 1e-9);  // bounded by the bucket (2.5, 5] and the sum
  EXPECT_GE(s["Stddev"].get<double>(), 0.0);
}

TEST(ProcessTest, StatFieldCopesWithSpacesInTheCommand) {
  std::string line = "1234 (my (odd) prog) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20\n";
  EXPECT_EQ(StatField(line, 1), "1234");
  EXPECT_EQ(StatField(line, 2), "(my (odd) prog)");
  EXPECT_EQ(StatField(line, 3), "S");
  EXPECT_EQ(StatField(line, 4), "1");
  EXPECT_EQ(StatField(line, 14), "11");
  EXPECT_EQ(StatField(line, 22), "19");
  EXPECT_EQ(StatField(line, 30), "");
  EXPECT_EQ(StatField("garbage", 3), "");
}

TEST(ProcessTest, ReadsThisProcess) {
  std::map<std::string, double> values;
  for (const auto& f : CollectProcess()) values[f.name] = f.metric.at(0).gauge.value;
  EXPECT_GT(values["coffer_process_resident_memory_bytes"], 1024 * 1024);
  EXPECT_GE(values["coffer_process_open_fds"], 3);  // stdin, stdout, stderr
  const double now = static_cast<double>(std::time(nullptr));
  EXPECT_GT(values["coffer_process_start_time_seconds"], now - 3600);
  EXPECT_LE(values["coffer_process_start_time_seconds"], now + 1);
}

}  // namespace
}  // namespace coffer::metrics
