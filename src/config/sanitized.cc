#include "config/sanitized.h"

namespace coffer::config {
namespace {

using nlohmann::json;

std::int64_t Seconds(std::chrono::milliseconds d) {
  return std::chrono::duration_cast<std::chrono::seconds>(d).count();
}

// Go's time.Duration as JSON: nanoseconds.
std::int64_t Nanoseconds(std::chrono::seconds d) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(d).count();
}

json Listener(const ServerConfig::Listener& l) {
  json config{
      {"address", l.address},
      {"tls_disable", l.tls_disable},
      {"tls_min_version", l.tls_min_version},
      {"tls_require_and_verify_client_cert", l.tls_require_and_verify_client_cert},
      {"tls_disable_client_certs", l.tls_disable_client_certs},
      {"max_request_size", l.max_request_size},
      {"max_json_depth", l.max_json_depth},
      {"max_json_string_value_length", l.max_json_string_value_length},
      {"max_json_object_entry_count", l.max_json_object_entry_count},
      {"max_json_array_element_count", l.max_json_array_element_count},
      {"max_json_token", l.max_json_token},
      {"max_request_duration", Seconds(l.max_request_duration)},
      {"http_read_header_timeout", Seconds(l.http_read_header_timeout)},
      {"http_read_timeout", Seconds(l.http_read_timeout)},
      {"http_write_timeout", Seconds(l.http_write_timeout)},
      {"http_idle_timeout", Seconds(l.http_idle_timeout)},
      {"io_threads", l.io_threads},
      {"pin_io_threads", l.pin_io_threads},
      {"disable_unauthed_rekey_endpoints", l.disable_unauthed_rekey_endpoints},
      {"disable_unauthed_generate_root_endpoints", l.disable_unauthed_generate_root_endpoints},
      {"telemetry", {{"unauthenticated_metrics_access", l.unauthenticated_metrics_access}}},
      {"inflight_requests_logging",
       {{"unauthenticated_in_flight_requests_access",
         l.unauthenticated_in_flight_requests_access}}}};
  if (!l.cluster_address.empty()) config["cluster_address"] = l.cluster_address;
  if (!l.tls_cert_file.empty()) config["tls_cert_file"] = l.tls_cert_file;
  if (!l.tls_key_file.empty()) config["tls_key_file"] = l.tls_key_file;
  if (!l.tls_client_ca_file.empty()) config["tls_client_ca_file"] = l.tls_client_ca_file;
  return json{{"type", l.type}, {"config", std::move(config)}};
}

}  // namespace

json Sanitized(const ServerConfig& c) {
  json listeners = json::array();
  for (const auto& l : c.listeners) listeners.push_back(Listener(l));
  return json{
      {"api_addr", c.api_addr},
      {"cache_max_bytes", c.cache_max_bytes},
      {"cache_size", c.cache_size},
      {"cluster_addr", c.cluster_addr},
      {"cluster_name", c.cluster_name},
      {"default_lease_ttl", c.default_lease_ttl.count()},
      {"default_max_request_duration", 0},
      {"disable_cache", c.disable_cache},
      {"disable_clustering", false},
      {"disable_core_dumps", c.disable_core_dumps},
      {"disable_mlock", c.disable_mlock},
      {"enable_ui", c.ui},
      {"listeners", std::move(listeners)},
      {"log_format", c.log_format},
      {"log_level", c.log_level},
      {"log_requests_level", c.log_requests_level},
      {"max_lease_ttl", c.max_lease_ttl.count()},
      {"pid_file", c.pid_file},
      {"raw_storage_endpoint", c.raw_storage_endpoint},
      {"seals", json::array({{{"type", c.seal ? c.seal->type : "shamir"}, {"disabled", false}}})},
      {"storage",
       {{"type", c.storage.type},
        {"redirect_addr", ""},
        {"cluster_addr", ""},
        {"disable_clustering", false}}},
      {"telemetry",
       {{"disable_hostname", c.telemetry.disable_hostname},
        {"prometheus_retention_time", Nanoseconds(c.telemetry.prometheus_retention_time)},
        {"usage_gauge_period", Nanoseconds(c.telemetry.usage_gauge_period)}}},
  };
}

}  // namespace coffer::config
