// The telemetry blocks: top level (Vault's telemetry stanza) and inside a
// listener (unauthenticated_metrics_access).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config/config.h"

namespace coffer::config {
namespace {

using ::testing::HasSubstr;

TEST(TelemetryConfigTest, DefaultsWithoutBlocks) {
  auto c = ParseConfig("storage \"inmem\" {}\nlistener \"tcp\" { tls_disable = true }\n", "t.hcl");
  ASSERT_TRUE(c.has_value()) << c.error().message();
  EXPECT_FALSE(c->listeners[0].unauthenticated_metrics_access);
  EXPECT_EQ(c->telemetry.prometheus_retention_time, std::chrono::hours(24));
  EXPECT_FALSE(c->telemetry.disable_hostname);
  EXPECT_EQ(c->telemetry.usage_gauge_period, std::chrono::minutes(10));
}

TEST(TelemetryConfigTest, ListenerAndTopLevelBlocks) {
  auto c = ParseConfig(R"(
storage "inmem" {}
listener "tcp" {
  address = "127.0.0.1:8200"
  tls_disable = true
  telemetry {
    unauthenticated_metrics_access = true
  }
}
listener "tcp" {
  address = "127.0.0.1:8300"
  tls_disable = true
}
telemetry {
  disable_hostname = true
  prometheus_retention_time = "0s"
  usage_gauge_period = "5m"
}
)",
                       "t.hcl");
  ASSERT_TRUE(c.has_value()) << c.error().message();
  EXPECT_TRUE(c->listeners[0].unauthenticated_metrics_access);
  EXPECT_FALSE(c->listeners[1].unauthenticated_metrics_access);
  EXPECT_TRUE(c->telemetry.disable_hostname);
  EXPECT_EQ(c->telemetry.prometheus_retention_time, std::chrono::seconds(0));
  EXPECT_EQ(c->telemetry.usage_gauge_period, std::chrono::minutes(5));
}

TEST(TelemetryConfigTest, JsonForm) {
  auto c = ParseConfig(R"({"storage":{"inmem":{}},"listener":[{"tcp":{"tls_disable":true,)"
                       R"("telemetry":{"unauthenticated_metrics_access":"true"}}}],)"
                       R"("telemetry":[{"prometheus_retention_time":"1h"}]})",
                       "t.json");
  ASSERT_TRUE(c.has_value()) << c.error().message();
  EXPECT_TRUE(c->listeners[0].unauthenticated_metrics_access);
  EXPECT_EQ(c->telemetry.prometheus_retention_time, std::chrono::hours(1));
}

TEST(TelemetryConfigTest, UnknownKeysAndBadValuesAreRefused) {
  auto unknown = ParseConfig(R"(
storage "inmem" {}
listener "tcp" { tls_disable = true }
telemetry {
  statsd_address = "127.0.0.1:8125"
}
)",
                             "t.hcl");
  ASSERT_FALSE(unknown.has_value());
  EXPECT_THAT(unknown.error().message(),
              HasSubstr("t.hcl:5: telemetry.statsd_address: unknown key"));
  EXPECT_THAT(unknown.error().message(), ::testing::Not(HasSubstr("8125")));

  auto listener = ParseConfig(R"(
storage "inmem" {}
listener "tcp" {
  tls_disable = true
  telemetry { unauthenticated_metrics_acces = true }
}
)",
                              "t.hcl");
  ASSERT_FALSE(listener.has_value());
  EXPECT_THAT(listener.error().message(),
              HasSubstr("listener \"tcp\": telemetry.unauthenticated_metrics_acces: unknown key"));

  auto bad = ParseConfig(R"(
storage "inmem" {}
listener "tcp" {
  tls_disable = true
  telemetry { unauthenticated_metrics_access = "maybe" }
}
)",
                         "t.hcl");
  ASSERT_FALSE(bad.has_value());
  EXPECT_THAT(bad.error().message(), HasSubstr("unauthenticated_metrics_access"));

  auto twice = ParseConfig(R"(
storage "inmem" {}
listener "tcp" { tls_disable = true }
telemetry { disable_hostname = true }
telemetry { disable_hostname = false }
)",
                           "t.hcl");
  ASSERT_FALSE(twice.has_value());
  EXPECT_THAT(twice.error().message(), HasSubstr("only one telemetry block is allowed"));

  auto attribute = ParseConfig(R"(
storage "inmem" {}
listener "tcp" { tls_disable = true }
telemetry = "on"
)",
                               "t.hcl");
  ASSERT_FALSE(attribute.has_value());
  EXPECT_THAT(attribute.error().message(), HasSubstr("must be a block"));
}

}  // namespace
}  // namespace coffer::config
