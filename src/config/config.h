#pragma once
// The server's configuration file: Vault's HCL (or JSON) server config,
// decoded strictly into ServerConfig. docs/configuration.md is the reference
// for every key.
//
// Strict means: an unknown key, a value of the wrong type, a missing or
// second storage block, or a TLS listener without certificate and key is an
// error, where Vault would often warn and carry on. Every error message names
// the file, the line and the key, e.g.
//   config.hcl:7: listener "tcp": tls_min_version: must be "tls12" or "tls13"
// (a missing block has no line: "config.hcl: storage: a storage block is
// required ..."). Messages never contain configured values, since storage and
// seal parameters may hold credentials.
//
// Errors: kInvalidArgument for any invalid config (including HCL syntax
// errors, "config.hcl:L:C: ..."), kTooLarge for a file over 4 MiB, kNotFound
// when the file does not exist, kUnavailable when it cannot be read.
//
// Thread-safety: the functions are reentrant; ServerConfig is a plain value.

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace coffer::config {

struct ServerConfig {
  // storage "TYPE" { ... } and seal "TYPE" { ... }: the parameters are kept
  // as strings, as Vault passes them to backends (numbers and booleans are
  // rendered as text). Backend factories validate their own parameters;
  // here only `local` is checked for its required `path`.
  struct Storage {
    std::string type;
    std::map<std::string, std::string> params;
    std::string source;  // "config.hcl:3", for messages of later stages
  };
  struct Seal {
    std::string type;
    std::map<std::string, std::string> params;
    std::string source;
  };
  struct Listener {
    std::string type = "tcp";
    std::string address = "127.0.0.1:8200";
    std::string cluster_address;  // empty: the address's port + 1, as Vault does
    bool tls_disable = false;
    std::string tls_cert_file;
    std::string tls_key_file;
    std::string tls_client_ca_file;
    std::string tls_min_version = "tls12";  // "tls12" or "tls13"
    bool tls_require_and_verify_client_cert = false;
    bool tls_disable_client_certs = false;
    // Bytes; 0 means no limit (written as a negative number in the file, as
    // in Vault; a 0 in the file means the default).
    std::int64_t max_request_size = 32 * 1024 * 1024;
    // Bounds on a JSON body, checked as it is read (Vault's listener keys
    // and defaults): nesting, the longest string, the entries of one
    // object, the elements of one array, and all the values and keys.
    std::int64_t max_json_depth = 500;
    std::int64_t max_json_string_value_length = 1024 * 1024;
    std::int64_t max_json_object_entry_count = 10000;
    std::int64_t max_json_array_element_count = 10000;
    std::int64_t max_json_token = 500000;
    std::chrono::milliseconds max_request_duration = std::chrono::seconds(90);
    std::chrono::milliseconds http_read_header_timeout = std::chrono::seconds(10);
    std::chrono::milliseconds http_read_timeout = std::chrono::seconds(30);
    std::chrono::milliseconds http_write_timeout{0};  // 0: no limit
    std::chrono::milliseconds http_idle_timeout = std::chrono::minutes(5);
    // Threads that serve this listener's connections; 0: one per core.
    std::int64_t io_threads = 0;
    // Pins each of those threads to one CPU (see http::ServerOptions).
    bool pin_io_threads = false;
    // telemetry { unauthenticated_metrics_access = true }: GET sys/metrics
    // on this listener needs no token and answers while sealed.
    bool unauthenticated_metrics_access = false;
    // inflight_requests_logging { unauthenticated_in_flight_requests_access
    // = true }: GET sys/in-flight-req on this listener needs no token.
    bool unauthenticated_in_flight_requests_access = false;
    // OpenBao's listener keys: sys/rekey/* and sys/rekey-recovery-key/*
    // (anyone may cancel a rekey there), and sys/generate-root/*, answer
    // 405 on this listener. Off by default, as in Vault, for the clients
    // that use them.
    bool disable_unauthed_rekey_endpoints = false;
    bool disable_unauthed_generate_root_endpoints = false;
    std::string source;
  };
  // The top-level telemetry { ... } block (docs/metrics.md). Only
  // prometheus_retention_time has an effect: 0 turns the Prometheus format
  // of sys/metrics off, as in Vault (Coffer's counters are cumulative, so
  // a non-zero retention changes nothing). disable_hostname (Coffer never
  // prefixes names with the host) and usage_gauge_period (gauges are
  // computed at each scrape) are accepted so Vault configs load.
  struct Telemetry {
    bool disable_hostname = false;
    std::chrono::seconds prometheus_retention_time = std::chrono::hours(24);
    std::chrono::seconds usage_gauge_period = std::chrono::minutes(10);
  };

  Storage storage;                  // exactly one storage block is required
  std::vector<Listener> listeners;  // at least one; in file order
  std::optional<Seal> seal;         // absent: Shamir seal
  Telemetry telemetry;

  bool disable_mlock = false;
  // Core dumps could hold key material, so the server turns them off unless
  // this is set to false (a Coffer key; Vault has none).
  bool disable_core_dumps = true;
  std::string log_level = "info";       // trace, debug, info, warn, error
  std::string log_format = "standard";  // standard or json
  // Logs every completed request at this level (Vault's log_requests_level):
  // trace, debug, info, warn, error, or off (the default). Reloaded on SIGHUP.
  std::string log_requests_level = "off";
  std::string api_addr;      // URL advertised to clients
  std::string cluster_addr;  // URL advertised to cluster peers
  std::string cluster_name;
  bool ui = false;
  bool raw_storage_endpoint = false;
  // The read cache in front of the "local" store (Vault's keys): entries
  // kept, and whether to turn it off. Other store types are not cached.
  bool disable_cache = false;
  std::int64_t cache_size = 131072;
  // Coffer's own: the memory the cache's entries may take, in bytes.
  std::int64_t cache_max_bytes = std::int64_t{64} << 20;
  std::string pid_file;
  std::chrono::seconds default_lease_ttl = std::chrono::hours(768);
  std::chrono::seconds max_lease_ttl = std::chrono::hours(768);
};

// Reads and parses one config file. `path` as given is the file name used in
// error messages.
Result<ServerConfig> LoadConfigFile(const std::string& path);

// Parses config text (HCL, or JSON when it starts with `{`); `file_name`
// prefixes every error message.
Result<ServerConfig> ParseConfig(std::string_view text, std::string_view file_name);

}  // namespace coffer::config
