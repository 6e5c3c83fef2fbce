// log_requests_level (top level) and a listener's inflight_requests_logging
// block, as Vault's configuration spells them.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config/config.h"
#include "config/sanitized.h"

namespace coffer::config {
namespace {

using ::testing::HasSubstr;

constexpr std::string_view kBase =
    "storage \"inmem\" {}\nlistener \"tcp\" { tls_disable = true }\n";

TEST(RequestLoggingConfigTest, OffAndClosedByDefault) {
  auto c = ParseConfig(kBase, "t.hcl");
  ASSERT_TRUE(c.has_value()) << c.error().message();
  EXPECT_EQ(c->log_requests_level, "off");
  EXPECT_FALSE(c->listeners[0].unauthenticated_in_flight_requests_access);
  const auto s = Sanitized(*c);
  EXPECT_EQ(s["log_requests_level"], "off");
  EXPECT_EQ(s["listeners"][0]["config"]["inflight_requests_logging"]
             ["unauthenticated_in_flight_requests_access"],
            false);
}

TEST(RequestLoggingConfigTest, LevelsAreCanonicalised) {
  for (const auto& [given, want] :
       std::vector<std::pair<std::string, std::string>>{{"info", "info"},
                                                        {"DEBUG", "debug"},
                                                        {"Warning", "warn"},
                                                        {"trace", "trace"},
                                                        {"error", "error"},
                                                        {"OFF", "off"},
                                                        {"", "off"}}) {
    auto c = ParseConfig(std::string(kBase) + "log_requests_level = \"" + given + "\"\n", "t.hcl");
    ASSERT_TRUE(c.has_value()) << given << ": " << c.error().message();
    EXPECT_EQ(c->log_requests_level, want) << given;
  }
  auto bad = ParseConfig(std::string(kBase) + "log_requests_level = \"loud\"\n", "t.hcl");
  ASSERT_FALSE(bad.has_value());
  EXPECT_THAT(bad.error().message(), HasSubstr("log_requests_level"));
  EXPECT_THAT(bad.error().message(), HasSubstr("trace, debug, info, warn, error, off"));
}

TEST(RequestLoggingConfigTest, ListenerBlockInHclAndJson) {
  auto c = ParseConfig(R"(
storage "inmem" {}
log_requests_level = "info"
listener "tcp" {
  address = "127.0.0.1:8200"
  tls_disable = true
  inflight_requests_logging {
    unauthenticated_in_flight_requests_access = true
  }
}
listener "tcp" {
  address = "127.0.0.1:8300"
  tls_disable = true
}
)",
                       "t.hcl");
  ASSERT_TRUE(c.has_value()) << c.error().message();
  EXPECT_TRUE(c->listeners[0].unauthenticated_in_flight_requests_access);
  EXPECT_FALSE(c->listeners[1].unauthenticated_in_flight_requests_access);
  EXPECT_EQ(Sanitized(*c)["log_requests_level"], "info");

  auto j = ParseConfig(R"({"storage":{"inmem":{}},"listener":[{"tcp":{"tls_disable":true,)"
                       R"("inflight_requests_logging":)"
                       R"({"unauthenticated_in_flight_requests_access":"true"}}}]})",
                       "t.json");
  ASSERT_TRUE(j.has_value()) << j.error().message();
  EXPECT_TRUE(j->listeners[0].unauthenticated_in_flight_requests_access);
}

TEST(RequestLoggingConfigTest, BadListenerBlocksAreNamed) {
  auto typo = ParseConfig(R"(
storage "inmem" {}
listener "tcp" {
  tls_disable = true
  inflight_requests_logging { unauthenticated_in_flight_request_access = true }
}
)",
                          "t.hcl");
  ASSERT_FALSE(typo.has_value());
  EXPECT_THAT(typo.error().message(), HasSubstr("unauthenticated_in_flight_request_access"));
  EXPECT_THAT(typo.error().message(), HasSubstr("unknown key"));

  auto bad = ParseConfig(R"(
storage "inmem" {}
listener "tcp" {
  tls_disable = true
  inflight_requests_logging { unauthenticated_in_flight_requests_access = "maybe" }
}
)",
                         "t.hcl");
  ASSERT_FALSE(bad.has_value());
  EXPECT_THAT(bad.error().message(), HasSubstr("unauthenticated_in_flight_requests_access"));
}

}  // namespace
}  // namespace coffer::config
