#include "config/config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace coffer::config {
namespace {

using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr const char* kLocalTls = R"(# Production-style config
storage "local" {
  path = "/var/lib/coffer"
  # the directory holds coffer.db, its WAL and coffer.lock
  # (another key here would be refused)
}

listener "tcp" {
  address         = "0.0.0.0:8200"
  cluster_address = "0.0.0.0:8201"
  tls_cert_file   = "/etc/coffer/tls/server.crt"
  tls_key_file    = "/etc/coffer/tls/server.key"
  tls_min_version = "tls13"
  max_request_size = 1048576
  max_json_array_element_count = 50000
  max_json_token = "1000000"
  http_read_header_timeout = "5s"
  http_idle_timeout = "2m"
}

listener "tcp" {
  address     = "127.0.0.1:8300"
  tls_disable = "1"
}

seal "transit" {
  address = "https://other:8200"
  key_name = "autounseal"
}

api_addr          = "https://coffer.example.com:8200"
cluster_addr      = "https://10.0.0.5:8201"
cluster_name      = "prod"
disable_mlock     = true
disable_core_dumps = false
ui                = true
log_level         = "Warning"
log_format        = "json"
default_lease_ttl = "1h"
max_lease_ttl     = "720h"
pid_file          = "/run/coffer.pid"
raw_storage_endpoint = false
)";

TEST(ConfigTest, FullConfigWithTls) {
  auto config = ParseConfig(kLocalTls, "config.hcl");
  ASSERT_TRUE(config.has_value()) << config.error().message();
  EXPECT_EQ(config->storage.type, "local");
  EXPECT_EQ(config->storage.params,
            (std::map<std::string, std::string>{{"path", "/var/lib/coffer"}}));
  EXPECT_EQ(config->storage.source, "config.hcl:2");
  ASSERT_EQ(config->listeners.size(), 2u);
  const auto& l0 = config->listeners[0];
  EXPECT_EQ(l0.type, "tcp");
  EXPECT_EQ(l0.address, "0.0.0.0:8200");
  EXPECT_EQ(l0.cluster_address, "0.0.0.0:8201");
  EXPECT_FALSE(l0.tls_disable);
  EXPECT_EQ(l0.tls_cert_file, "/etc/coffer/tls/server.crt");
  EXPECT_EQ(l0.tls_key_file, "/etc/coffer/tls/server.key");
  EXPECT_EQ(l0.tls_min_version, "tls13");
  EXPECT_EQ(l0.max_request_size, 1048576);
  EXPECT_EQ(l0.http_read_header_timeout, seconds(5));
  EXPECT_EQ(l0.http_idle_timeout, minutes(2));
  EXPECT_EQ(l0.http_read_timeout, seconds(30));  // default
  EXPECT_EQ(l0.max_request_duration, seconds(90));
  EXPECT_EQ(l0.source, "config.hcl:8");
  const auto& l1 = config->listeners[1];
  EXPECT_EQ(l1.address, "127.0.0.1:8300");
  EXPECT_TRUE(l1.tls_disable);
  EXPECT_EQ(l1.tls_min_version, "tls12");
  EXPECT_EQ(l1.max_request_size, 32 * 1024 * 1024);
  EXPECT_EQ(l0.max_json_array_element_count, 50000);
  EXPECT_EQ(l0.max_json_token, 1000000);
  EXPECT_EQ(l0.max_json_object_entry_count, 10000);  // Vault's defaults
  EXPECT_EQ(l1.max_json_depth, 500);
  EXPECT_EQ(l1.max_json_string_value_length, 1024 * 1024);
  EXPECT_EQ(l1.max_json_array_element_count, 10000);
  ASSERT_TRUE(config->seal.has_value());
  EXPECT_EQ(config->seal->type, "transit");
  EXPECT_EQ(config->seal->params.at("key_name"), "autounseal");
  EXPECT_EQ(config->api_addr, "https://coffer.example.com:8200");
  EXPECT_EQ(config->cluster_addr, "https://10.0.0.5:8201");
  EXPECT_EQ(config->cluster_name, "prod");
  EXPECT_TRUE(config->disable_mlock);
  EXPECT_FALSE(config->disable_core_dumps);
  EXPECT_TRUE(config->ui);
  EXPECT_EQ(config->log_level, "warn");
  EXPECT_EQ(config->log_format, "json");
  EXPECT_EQ(config->default_lease_ttl, hours(1));
  EXPECT_EQ(config->max_lease_ttl, hours(720));
  EXPECT_EQ(config->pid_file, "/run/coffer.pid");
  EXPECT_FALSE(config->raw_storage_endpoint);
}

TEST(ConfigTest, MinimalInmemGetsDefaults) {
  auto config = ParseConfig(R"(
storage "inmem" {}
listener "tcp" { tls_disable = true }
)",
                            "dev.hcl");
  ASSERT_TRUE(config.has_value()) << config.error().message();
  EXPECT_EQ(config->storage.type, "inmem");
  EXPECT_TRUE(config->storage.params.empty());
  ASSERT_EQ(config->listeners.size(), 1u);
  EXPECT_EQ(config->listeners[0].address, "127.0.0.1:8200");
  EXPECT_EQ(config->listeners[0].http_write_timeout, milliseconds(0));
  EXPECT_EQ(config->listeners[0].http_idle_timeout, minutes(5));
  EXPECT_FALSE(config->seal.has_value());
  EXPECT_FALSE(config->disable_mlock);
  EXPECT_TRUE(config->disable_core_dumps);
  EXPECT_FALSE(config->ui);
  EXPECT_EQ(config->log_level, "info");
  EXPECT_EQ(config->default_lease_ttl, hours(768));
  EXPECT_EQ(config->max_lease_ttl, hours(768));
}

// Found by fuzz_hcl_config in the CI smoke run: an empty block label was
// accepted as a storage type (and would fail later, at start-up, with a
// confusing "unknown storage type """).
TEST(ConfigTest, EmptyStorageOrSealTypeIsRefused) {
  auto storage = ParseConfig(
      R"({"storage":{"":{}},"listener":[{"tcp":{"address":"127.0.0.1:0","tls_disable":"1"}}]})",
      "fuzz.json");
  ASSERT_FALSE(storage.has_value());
  EXPECT_THAT(storage.error().message(), HasSubstr("storage type must not be empty"));
  auto seal = ParseConfig(R"(
storage "inmem" {}
listener "tcp" { tls_disable = true }
seal "" {}
)",
                          "seal.hcl");
  ASSERT_FALSE(seal.has_value());
  EXPECT_THAT(seal.error().message(), HasSubstr("seal type must not be empty"));
}

TEST(ConfigTest, CacheKeys) {
  auto config = ParseConfig(R"(
storage "local" { path = "/tmp/x" }
listener "tcp" { tls_disable = true }
disable_cache = true
cache_size = 1000
cache_max_bytes = 1073741824
)",
                            "cache.hcl");
  ASSERT_TRUE(config.has_value()) << config.error().message();
  EXPECT_TRUE(config->disable_cache);
  EXPECT_EQ(config->cache_size, 1000);
  EXPECT_EQ(config->cache_max_bytes, 1073741824);
  auto defaults = ParseConfig(
      "storage \"inmem\" {}\nlistener \"tcp\" { tls_disable = true }\n"
      "cache_max_bytes = 0\n",
      "cache.hcl");
  ASSERT_TRUE(defaults.has_value()) << defaults.error().message();
  EXPECT_EQ(defaults->cache_size, 131072);
  EXPECT_EQ(defaults->cache_max_bytes, 64 << 20);  // 0 means the default, as for cache_size
  auto negative_bytes = ParseConfig(
      "storage \"inmem\" {}\nlistener \"tcp\" { tls_disable = true }\ncache_max_bytes = -5\n",
      "cache.hcl");
  ASSERT_FALSE(negative_bytes.has_value());
  EXPECT_THAT(negative_bytes.error().message(), HasSubstr("cache_max_bytes"));
  auto negative = ParseConfig(R"(
storage "inmem" {}
listener "tcp" { tls_disable = true }
cache_size = -1
)",
                              "cache.hcl");
  ASSERT_FALSE(negative.has_value());
  EXPECT_THAT(negative.error().message(), HasSubstr("cache_size"));
}

TEST(ConfigTest, TlsDisableAcceptsVaultSpellings) {
  for (const char* v : {"true", "\"true\"", "\"1\"", "1", "\"t\"", "\"TRUE\""}) {
    auto config = ParseConfig(
        std::string("storage \"inmem\" {}\nlistener \"tcp\" { tls_disable = ") + v + " }\n",
        "c.hcl");
    ASSERT_TRUE(config.has_value()) << v << ": " << config.error().message();
    EXPECT_TRUE(config->listeners[0].tls_disable) << v;
  }
}

TEST(ConfigTest, NumbersAndDurationsAsStringsOrIntegers) {
  auto config = ParseConfig(R"(
storage "inmem" {}
listener "tcp" {
  tls_disable = true
  max_request_size = "2048"
  http_read_timeout = 45
}
listener "tcp" {
  address = "[::1]:8201"
  tls_disable = true
  max_request_size = -1
  io_threads = "3"
  pin_io_threads = true
  disable_unauthed_rekey_endpoints = true
  disable_unauthed_generate_root_endpoints = "true"
}
default_lease_ttl = 60
max_lease_ttl = "2d"
)",
                            "c.hcl");
  ASSERT_TRUE(config.has_value()) << config.error().message();
  EXPECT_EQ(config->listeners[0].max_request_size, 2048);
  EXPECT_EQ(config->listeners[0].http_read_timeout, seconds(45));
  EXPECT_EQ(config->listeners[1].max_request_size, 0);  // no limit
  EXPECT_EQ(config->listeners[0].io_threads, 0);        // one per core
  EXPECT_EQ(config->listeners[1].io_threads, 3);
  EXPECT_FALSE(config->listeners[0].pin_io_threads);  // off unless asked for
  EXPECT_TRUE(config->listeners[1].pin_io_threads);
  EXPECT_FALSE(config->listeners[0].disable_unauthed_rekey_endpoints);  // served by default
  EXPECT_FALSE(config->listeners[0].disable_unauthed_generate_root_endpoints);
  EXPECT_TRUE(config->listeners[1].disable_unauthed_rekey_endpoints);
  EXPECT_TRUE(config->listeners[1].disable_unauthed_generate_root_endpoints);
  EXPECT_EQ(config->default_lease_ttl, seconds(60));
  EXPECT_EQ(config->max_lease_ttl, hours(48));
}

TEST(ConfigTest, JsonConfigInVaultShapes) {
  auto config = ParseConfig(R"({
  "storage": {"local": {"path": "/data"}},
  "listener": [
    {"tcp": {"address": "127.0.0.1:8200", "tls_disable": "true"}},
    {"tcp": {"address": "127.0.0.1:8201", "tls_disable": 1}}
  ],
  "ui": true
})",
                            "config.json");
  ASSERT_TRUE(config.has_value()) << config.error().message();
  EXPECT_EQ(config->storage.params.at("path"), "/data");
  ASSERT_EQ(config->listeners.size(), 2u);
  EXPECT_EQ(config->listeners[1].address, "127.0.0.1:8201");
  EXPECT_TRUE(config->ui);
}

struct BadConfig {
  const char* name;
  const char* text;
  std::vector<const char*> expected;  // substrings of the error message
};

void PrintTo(const BadConfig& c, std::ostream* os) { *os << c.name; }

constexpr const char* kStorage = "storage \"inmem\" {}\n";
constexpr const char* kListener = "listener \"tcp\" { tls_disable = true }\n";

std::string With(const char* tail) { return std::string(kStorage) + kListener + tail; }

const std::string kUnknownTop = With("\nfoo = 1\nbar { }\n");
const std::string kWrongBool = With("ui = \"yes\"\n");
const std::string kWrongBoolList = With("disable_mlock = [true]\n");
const std::string kLogLevel = With("log_level = \"loud\"\n");
const std::string kApiAddr = With("api_addr = \"coffer:8200\"\n");
const std::string kTtl = With("default_lease_ttl = \"10x\"\n");
const std::string kTtlOrder = With("default_lease_ttl = \"800h\"\n");
const std::string kSecondStorage = With("storage \"local\" { path = \"/x\" }\n");
const std::string kTwoSeals = With("seal \"a\" {}\nseal \"b\" {}\n");
const std::string kSyntax = With("ui = \n");

const BadConfig kBadConfigs[] = {
    {"tls_min_version",
     "storage \"inmem\" {}\n\nlistener \"tcp\" {\n  tls_disable = true\n\n\n  tls_min_version = "
     "\"tls11\"\n}\n",
     {"config.hcl:7: listener \"tcp\": tls_min_version: must be \"tls12\" or \"tls13\""}},
    {"unknown_top_level_keys",
     kUnknownTop.c_str(),
     {"config.hcl:4:", "unknown configuration key(s)", "foo (line 4)", "bar (line 5)"}},
    {"missing_storage", kListener, {"config.hcl: storage: a storage block is required"}},
    {"empty_storage", "storage {}\n", {"config.hcl:1: storage: expected a type label"}},
    {"local_storage_unknown_parameter",
     "storage \"local\" {\n  path = \"/x\"\n  pth = \"/y\"\n}\n",
     {"config.hcl:3: storage \"local\": pth: unknown parameter (known: path)"}},
    {"inmem_storage_parameter",
     "storage \"inmem\" {\n  node_id = \"n1\"\n}\n",
     {"config.hcl:2: storage \"inmem\": node_id: unknown parameter: this storage type takes none"}},
    {"storage_not_a_block",
     "storage = \"local\"\n",
     {"config.hcl:1: storage: expected a labelled block"}},
    {"two_storage_blocks",
     kSecondStorage.c_str(),
     {"config.hcl:3: storage: only one storage block is allowed (another at line 1)"}},
    {"same_storage_twice",
     "storage \"inmem\" {}\n\nstorage \"inmem\" {}\n",
     {"config.hcl:3: storage: only one storage block is allowed"}},
    {"local_without_path",
     "storage \"local\" {\n}\n",
     {"config.hcl:1: storage \"local\": path: required"}},
    {"storage_param_not_scalar",
     "storage \"local\" {\n  path = \"/x\"\n  opts = [1]\n}\n",
     {"config.hcl:3: storage \"local\": opts: expected a string, number or boolean"}},
    {"no_listener", kStorage, {"config.hcl: listener: at least one listener block is required"}},
    {"tls_without_cert",
     "storage \"inmem\" {}\nlistener \"tcp\" {\n  address = \"127.0.0.1:8200\"\n}\n",
     {"config.hcl:2: listener \"tcp\": tls_cert_file: required unless tls_disable = true"}},
    {"tls_without_key",
     "storage \"inmem\" {}\nlistener \"tcp\" {\n  tls_cert_file = \"/c.pem\"\n  tls_disable = "
     "\"false\"\n}\n",
     {"config.hcl:2: listener \"tcp\": tls_key_file: required unless tls_disable = true"}},
    {"tls_disable_wrong_string",
     "storage \"inmem\" {}\nlistener \"tcp\" {\n  tls_disable = \"yes\"\n}\n",
     {"config.hcl:3: listener \"tcp\": tls_disable: expected true or false"}},
    {"tls_disable_wrong_type",
     "storage \"inmem\" {}\nlistener \"tcp\" {\n  tls_disable = [true]\n}\n",
     {"config.hcl:3: listener \"tcp\": tls_disable: expected true or false, got a list"}},
    {"listener_unknown_key",
     "storage \"inmem\" {}\nlistener \"tcp\" {\n  tls_disable = true\n  adress = \"x:1\"\n}\n",
     {"config.hcl:4: listener \"tcp\": adress: unknown key"}},
    {"listener_bad_address",
     "storage \"inmem\" {}\nlistener \"tcp\" {\n  tls_disable = true\n  address = "
     "\"localhost\"\n}\n",
     {"config.hcl:4: listener \"tcp\": address: must be host:port"}},
    {"listener_address_not_string",
     "storage \"inmem\" {}\nlistener \"tcp\" {\n  tls_disable = true\n  address = 8200\n}\n",
     {"config.hcl:4: listener \"tcp\": address: expected a string, got a number"}},
    {"listener_duplicate_address",
     "storage \"inmem\" {}\nlistener \"tcp\" { tls_disable = true }\nlistener \"tcp\" { "
     "tls_disable = true }\n",
     {"config.hcl:3: listener \"tcp\": address: already used by the listener at line 2"}},
    {"listener_unix",
     "storage \"inmem\" {}\nlistener \"unix\" { address = \"/tmp/s\" }\n",
     {"config.hcl:2: listener \"unix\": only \"tcp\" listeners are supported"}},
    {"listener_bad_timeout",
     "storage \"inmem\" {}\nlistener \"tcp\" {\n  tls_disable = true\n  http_idle_timeout = "
     "\"5 minutes\"\n}\n",
     {"config.hcl:4: listener \"tcp\": http_idle_timeout: invalid duration"}},
    {"listener_bad_size",
     "storage \"inmem\" {}\nlistener \"tcp\" {\n  tls_disable = true\n  max_request_size = "
     "\"big\"\n}\n",
     {"config.hcl:4: listener \"tcp\": max_request_size: expected an integer"}},
    {"listener_negative_io_threads",
     "storage \"inmem\" {}\nlistener \"tcp\" {\n  tls_disable = true\n  io_threads = -2\n}\n",
     {"config.hcl:4: listener \"tcp\": io_threads: must be between 0 (one per core) and 1024"}},
    {"listener_too_many_io_threads",
     "storage \"inmem\" {}\nlistener \"tcp\" {\n  tls_disable = true\n  io_threads = 5000\n}\n",
     {"config.hcl:4: listener \"tcp\": io_threads: must be between 0 (one per core) and 1024"}},
    {"listener_pin_io_threads_not_bool",
     "storage \"inmem\" {}\nlistener \"tcp\" {\n  tls_disable = true\n  pin_io_threads = "
     "\"yes\"\n}\n",
     {"config.hcl:4: listener \"tcp\": pin_io_threads: expected true or false"}},
    {"listener_disable_unauthed_rekey_not_bool",
     "storage \"inmem\" {}\nlistener \"tcp\" {\n  tls_disable = true\n  "
     "disable_unauthed_rekey_endpoints = \"yes\"\n}\n",
     {"config.hcl:4: listener \"tcp\": disable_unauthed_rekey_endpoints: expected true or false"}},
    // Go's range: an integer as long as the string form allows.
    {"max_lease_ttl_past_gos_range",
     "storage \"inmem\" {}\nlistener \"tcp\" {\n  tls_disable = true\n}\nmax_lease_ttl = "
     "9223372037\n",
     {"config.hcl:5: max_lease_ttl: duration too large"}},
    {"ui_string", kWrongBool.c_str(), {"config.hcl:3: ui: expected true or false"}},
    {"disable_mlock_list",
     kWrongBoolList.c_str(),
     {"config.hcl:3: disable_mlock: expected true or false, got a list"}},
    {"log_level", kLogLevel.c_str(), {"config.hcl:3: log_level: must be one of"}},
    {"api_addr", kApiAddr.c_str(), {"config.hcl:3: api_addr: must be a URL"}},
    {"ttl_syntax", kTtl.c_str(), {"config.hcl:3: default_lease_ttl: invalid duration"}},
    {"ttl_order",
     kTtlOrder.c_str(),
     {"config.hcl:3: default_lease_ttl: must not be greater than max_lease_ttl (768h0m0s)"}},
    {"two_seals", kTwoSeals.c_str(), {"config.hcl:4: seal: only one seal block is allowed"}},
    {"syntax_error", kSyntax.c_str(), {"config.hcl:4:1: expected a value"}},
    {"json_wrong_type",
     "{\"storage\": {\"inmem\": {}},\n \"listener\": {\"tcp\": {\"tls_disable\": true}},\n \"ui\": "
     "\"no way\"}",
     {"config.hcl:3: ui: expected true or false"}},
};

class BadConfigTest : public ::testing::TestWithParam<BadConfig> {};

TEST_P(BadConfigTest, ErrorNamesFileLineAndKey) {
  const BadConfig& c = GetParam();
  auto config = ParseConfig(c.text, "config.hcl");
  ASSERT_FALSE(config.has_value());
  EXPECT_EQ(config.error().code(), Code::kInvalidArgument);
  for (const char* part : c.expected) {
    EXPECT_THAT(config.error().message(), HasSubstr(part));
  }
}

INSTANTIATE_TEST_SUITE_P(Table, BadConfigTest, ::testing::ValuesIn(kBadConfigs),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(ConfigTest, ErrorsDoNotEchoParameterValues) {
  auto config = ParseConfig(
      "storage \"postgresql\" {\n  connection_url = \"postgres://u:hunter2@db\"\n  x = "
      "[\"hunter2\"]\n}\n",
      "c.hcl");
  ASSERT_FALSE(config.has_value());
  EXPECT_THAT(config.error().message(), AllOf(HasSubstr("c.hcl:3"), Not(HasSubstr("hunter2"))));
}

class ConfigFileTest : public ::testing::Test {
 protected:
  std::string Write(const std::string& name, const std::string& text) {
    const std::string path = ::testing::TempDir() + "/coffer_config_test_" + name;
    std::ofstream(path, std::ios::binary) << text;
    paths_.push_back(path);
    return path;
  }
  void TearDown() override {
    for (const auto& p : paths_) std::filesystem::remove(p);
  }
  std::vector<std::string> paths_;
};

TEST_F(ConfigFileTest, LoadsAFile) {
  const std::string path = Write("good.hcl", kLocalTls);
  auto config = LoadConfigFile(path);
  ASSERT_TRUE(config.has_value()) << config.error().message();
  EXPECT_EQ(config->storage.source, path + ":2");
}

TEST_F(ConfigFileTest, ErrorsNameTheFile) {
  const std::string path = Write("bad.hcl", "storage \"inmem\" {}\nlistener \"tcp\" {\n}\n");
  auto config = LoadConfigFile(path);
  ASSERT_FALSE(config.has_value());
  EXPECT_THAT(config.error().message(), HasSubstr(path + ":2: listener \"tcp\": tls_cert_file"));
}

TEST_F(ConfigFileTest, MissingAndOversizedFiles) {
  auto missing = LoadConfigFile(::testing::TempDir() + "/coffer_config_test_nope.hcl");
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code(), Code::kNotFound);
  EXPECT_THAT(missing.error().message(), HasSubstr("coffer_config_test_nope.hcl"));

  const std::string big = Write("big.hcl", std::string(4 * 1024 * 1024 + 1, '\n'));
  auto too_large = LoadConfigFile(big);
  ASSERT_FALSE(too_large.has_value());
  EXPECT_EQ(too_large.error().code(), Code::kTooLarge);

  auto dir = LoadConfigFile(::testing::TempDir());
  ASSERT_FALSE(dir.has_value());
  EXPECT_EQ(dir.error().code(), Code::kInvalidArgument);
}

}  // namespace
}  // namespace coffer::config
