// config::Sanitized: what sys/config/state/sanitized shows of a config.
#include "config/sanitized.h"

#include <gtest/gtest.h>

namespace coffer::config {
namespace {

TEST(SanitizedConfigTest, ShowsSettingsButNoStorageOrSealParameter) {
  auto config = ParseConfig(R"(
storage "etcd" {
  address  = "http://127.0.0.1:2379"
  username = "coffer"
  password = "etcd-password-canary"
}
seal "transit" { token = "seal-token-canary" }
listener "tcp" {
  address       = "0.0.0.0:8200"
  tls_cert_file = "/etc/coffer/tls.crt"
  tls_key_file  = "/etc/coffer/tls.key"
}
api_addr          = "https://coffer.example:8200"
max_lease_ttl     = "720h"
default_lease_ttl = "1h"
ui                = true
cache_size        = 1000
)",
                            "config.hcl");
  ASSERT_TRUE(config.has_value()) << config.error().message();
  const nlohmann::json s = Sanitized(*config);
  const std::string text = s.dump();
  EXPECT_EQ(text.find("canary"), std::string::npos) << text;
  EXPECT_EQ(text.find("127.0.0.1:2379"), std::string::npos) << text;
  EXPECT_EQ(s["storage"], (nlohmann::json{{"type", "etcd"},
                                          {"redirect_addr", ""},
                                          {"cluster_addr", ""},
                                          {"disable_clustering", false}}));
  EXPECT_EQ(s["seals"], nlohmann::json::parse(R"([{"type":"transit","disabled":false}])"));
  ASSERT_EQ(s["listeners"].size(), 1U);
  EXPECT_EQ(s["listeners"][0]["type"], "tcp");
  EXPECT_EQ(s["listeners"][0]["config"]["address"], "0.0.0.0:8200");
  EXPECT_EQ(s["listeners"][0]["config"]["tls_cert_file"], "/etc/coffer/tls.crt");
  EXPECT_EQ(s["listeners"][0]["config"]["tls_disable"], false);
  EXPECT_EQ(s["api_addr"], "https://coffer.example:8200");
  EXPECT_EQ(s["max_lease_ttl"], 720 * 3600);
  EXPECT_EQ(s["default_lease_ttl"], 3600);
  EXPECT_EQ(s["enable_ui"], true);
  EXPECT_EQ(s["cache_size"], 1000);
  EXPECT_EQ(s["telemetry"]["prometheus_retention_time"], 86400LL * 1000000000LL);
}

}  // namespace
}  // namespace coffer::config
