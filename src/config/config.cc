#include "config/config.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <system_error>

#include "config/decode.h"
#include "config/duration.h"
#include "hcl/hcl.h"

namespace coffer::config {
namespace {

using internal::Block;
using internal::BlockError;
using nlohmann::json;

constexpr std::size_t kMaxConfigBytes = 4 * 1024 * 1024;
constexpr std::int64_t kMaxIoThreads = 1024;

const std::set<std::string, std::less<>> kTopLevelKeys = {
    "storage",       "listener",           "seal",
    "disable_mlock", "disable_core_dumps", "log_level",
    "log_format",    "log_requests_level", "api_addr",
    "cluster_addr",  "cluster_name",       "ui",
    "disable_cache", "cache_size",         "raw_storage_endpoint",
    "pid_file",      "default_lease_ttl",  "max_lease_ttl",
    "telemetry",     "cache_max_bytes"};

const std::set<std::string, std::less<>> kListenerKeys = {
    "address",
    "cluster_address",
    "tls_disable",
    "tls_cert_file",
    "tls_key_file",
    "tls_client_ca_file",
    "tls_min_version",
    "tls_require_and_verify_client_cert",
    "tls_disable_client_certs",
    "max_request_size",
    "max_json_depth",
    "max_json_string_value_length",
    "max_json_object_entry_count",
    "max_json_array_element_count",
    "max_json_token",
    "max_request_duration",
    "http_read_header_timeout",
    "http_read_timeout",
    "http_write_timeout",
    "http_idle_timeout",
    "io_threads",
    "pin_io_threads",
    "disable_unauthed_rekey_endpoints",
    "disable_unauthed_generate_root_endpoints",
    "telemetry",
    "inflight_requests_logging"};

const std::set<std::string, std::less<>> kTelemetryKeys = {
    "disable_hostname", "prometheus_retention_time", "usage_gauge_period"};
const std::set<std::string, std::less<>> kListenerTelemetryKeys = {
    "unauthenticated_metrics_access"};
const std::set<std::string, std::less<>> kListenerInFlightKeys = {
    "unauthenticated_in_flight_requests_access"};

// A level name, case-insensitive, with Vault's spellings "warning" and
// "err"; with `off_ok`, "off" (or nothing) too. nullopt for anything else.
std::optional<std::string> CanonicalLogLevel(std::string level, bool off_ok) {
  std::transform(level.begin(), level.end(), level.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (level == "warning") level = "warn";
  if (level == "err") level = "error";
  if (off_ok && level.empty()) level = "off";
  if (level == "trace" || level == "debug" || level == "info" || level == "warn" ||
      level == "error" || (off_ok && level == "off")) {
    return level;
  }
  return std::nullopt;
}

// host:port, with an optional [IPv6] host and a port in 0..65535.
bool IsHostPort(std::string_view address) {
  const std::size_t colon = address.rfind(':');
  if (colon == std::string_view::npos) return false;
  const std::string_view host = address.substr(0, colon);
  const std::string_view port = address.substr(colon + 1);
  if (host.find(':') != std::string_view::npos && !(host.starts_with('[') && host.ends_with(']'))) {
    return false;
  }
  unsigned value = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  return !port.empty() && ec == std::errc() && end == port.data() + port.size() && value <= 65535;
}

bool IsHttpUrl(std::string_view url) {
  return (url.starts_with("http://") && url.size() > 7) ||
         (url.starts_with("https://") && url.size() > 8);
}

std::string Quoted(std::string_view s) { return "\"" + std::string(s) + "\""; }

class Decoder {
 public:
  Decoder(const hcl::Document& doc, std::string_view file) : doc_(doc), file_(file) {}

  Result<ServerConfig> Decode() {
    ServerConfig config;
    const json& root = doc_.json();
    TRY(CheckUnknownTopLevel(root));
    TRY(DecodeStorage(root, config));
    TRY(DecodeListeners(root, config));
    TRY(DecodeSeal(root, config));
    TRY(DecodeTelemetry(root, config.telemetry));

    TRY(Field(root, "", "", "disable_mlock", internal::ReadBool, &config.disable_mlock));
    TRY(Field(root, "", "", "disable_core_dumps", internal::ReadBool, &config.disable_core_dumps));
    TRY(Field(root, "", "", "ui", internal::ReadBool, &config.ui));
    TRY(Field(root, "", "", "disable_cache", internal::ReadBool, &config.disable_cache));
    TRY(Field(root, "", "", "cache_size", internal::ReadInt, &config.cache_size));
    if (config.cache_size < 0) {
      return Err(Fail("/cache_size", "", "cache_size", "must not be negative"));
    }
    if (config.cache_size == 0) config.cache_size = 131072;  // Vault: 0 means the default
    TRY(Field(root, "", "", "cache_max_bytes", internal::ReadInt, &config.cache_max_bytes));
    if (config.cache_max_bytes < 0) {
      return Err(Fail("/cache_max_bytes", "", "cache_max_bytes", "must not be negative"));
    }
    if (config.cache_max_bytes == 0) config.cache_max_bytes = ServerConfig{}.cache_max_bytes;
    TRY(Field(root, "", "", "raw_storage_endpoint", internal::ReadBool,
              &config.raw_storage_endpoint));
    TRY(Field(root, "", "", "pid_file", internal::ReadString, &config.pid_file));
    TRY(Field(root, "", "", "cluster_name", internal::ReadString, &config.cluster_name));

    TRY(Field(root, "", "", "log_level", internal::ReadString, &config.log_level));
    std::optional<std::string> level = CanonicalLogLevel(config.log_level, /*off_ok=*/false);
    if (!level) {
      return Err(
          Fail("/log_level", "", "log_level", "must be one of trace, debug, info, warn, error"));
    }
    config.log_level = *level;

    TRY(Field(root, "", "", "log_requests_level", internal::ReadString,
              &config.log_requests_level));
    level = CanonicalLogLevel(config.log_requests_level, /*off_ok=*/true);
    if (!level) {
      return Err(Fail("/log_requests_level", "", "log_requests_level",
                      "must be one of trace, debug, info, warn, error, off"));
    }
    config.log_requests_level = *level;

    TRY(Field(root, "", "", "log_format", internal::ReadString, &config.log_format));
    if (config.log_format != "standard" && config.log_format != "json") {
      return Err(Fail("/log_format", "", "log_format", "must be \"standard\" or \"json\""));
    }

    for (const char* key : {"api_addr", "cluster_addr"}) {
      std::string* out =
          std::string_view(key) == "api_addr" ? &config.api_addr : &config.cluster_addr;
      TRY(Field(root, "", "", key, internal::ReadString, out));
      if (root.contains(key) && !IsHttpUrl(*out)) {
        return Err(Fail(hcl::JoinPointer("", key), "", key,
                        "must be a URL such as https://coffer.example.com:8200"));
      }
    }

    auto read_seconds = [](const json& v) -> Result<std::chrono::seconds> {
      ASSIGN_OR_RETURN(auto ms, internal::ReadDuration(v));
      return std::chrono::duration_cast<std::chrono::seconds>(ms);
    };
    TRY(Field(root, "", "", "default_lease_ttl", read_seconds, &config.default_lease_ttl));
    TRY(Field(root, "", "", "max_lease_ttl", read_seconds, &config.max_lease_ttl));
    if (config.max_lease_ttl.count() == 0) {
      return Err(Fail("/max_lease_ttl", "", "max_lease_ttl", "must be greater than zero"));
    }
    if (config.default_lease_ttl > config.max_lease_ttl) {
      return Err(Fail(
          "/default_lease_ttl", "", "default_lease_ttl",
          "must not be greater than max_lease_ttl (" + FormatDuration(config.max_lease_ttl) + ")"));
    }
    return config;
  }

 private:
  // "FILE:LINE: CONTEXT: KEY: what", leaving out what is unknown or empty.
  Status Fail(const std::string& pointer, std::string_view context, std::string_view key,
              std::string_view what) const {
    std::string message = Source(pointer) + ": ";
    if (!context.empty()) message += std::string(context) + ": ";
    if (!key.empty()) message += std::string(key) + ": ";
    message += what;
    return InvalidArgument(std::move(message));
  }

  std::string Source(const std::string& pointer) const {
    // The root pointer stands for "the whole file": no line.
    const int line = pointer.empty() ? 0 : doc_.LineOf(pointer);
    return line > 0 ? file_ + ":" + std::to_string(line) : file_;
  }

  // Reads body[key] with `reader` into *out when present.
  template <typename T, typename Reader>
  Status Field(const json& body, const std::string& body_pointer, std::string_view context,
               std::string_view key, Reader reader, T* out) const {
    auto it = body.find(key);
    if (it == body.end()) return Status::Ok();
    auto value = reader(*it);
    if (!value.has_value()) {
      return Fail(hcl::JoinPointer(body_pointer, key), context, key, value.error().message());
    }
    *out = std::move(*value);
    return Status::Ok();
  }

  Status CheckUnknownTopLevel(const json& root) const {
    std::vector<std::pair<int, std::string>> unknown;  // (line, key), reported in file order
    for (const auto& [key, value] : root.items()) {
      if (!kTopLevelKeys.contains(key))
        unknown.emplace_back(doc_.LineOf(hcl::JoinPointer("", key)), key);
    }
    if (unknown.empty()) return Status::Ok();
    std::sort(unknown.begin(), unknown.end());
    std::string names;
    for (const auto& [line, key] : unknown) {
      if (!names.empty()) names += ", ";
      names += key + " (line " + std::to_string(line) + ")";
    }
    return Fail(hcl::JoinPointer("", unknown.front().second), "", "",
                "unknown configuration key(s): " + names +
                    "; see docs/configuration.md for the recognised keys");
  }

  Result<std::vector<Block>> Blocks(const json& root, std::string_view name) const {
    const std::string pointer = hcl::JoinPointer("", name);
    auto it = root.find(name);
    if (it == root.end()) return std::vector<Block>{};
    BlockError error;
    std::vector<Block> blocks = internal::CollectBlocks(doc_, *it, pointer, &error);
    if (!error.reason.empty()) return Err(Fail(error.pointer, "", name, error.reason));
    return blocks;
  }

  // Parameters of storage and seal blocks, all as strings.
  Result<std::map<std::string, std::string>> Params(const Block& block,
                                                    std::string_view context) const {
    std::map<std::string, std::string> params;
    for (const auto& [key, value] : block.body->items()) {
      auto text = internal::ReadParam(value);
      if (!text.has_value()) {
        return Err(
            Fail(hcl::JoinPointer(block.pointer, key), context, key, text.error().message()));
      }
      params[key] = std::move(*text);
    }
    return params;
  }

  Status DecodeStorage(const json& root, ServerConfig& config) const {
    ASSIGN_OR_RETURN(std::vector<Block> blocks, Blocks(root, "storage"));
    if (blocks.empty()) {
      return Fail(
          "", "", "storage",
          "a storage block is required, e.g. storage \"local\" { path = \"/var/lib/coffer\" }");
    }
    if (blocks.size() > 1) {
      return Fail(blocks[1].pointer, "", "storage",
                  "only one storage block is allowed (another at line " +
                      std::to_string(blocks[0].position.line) + ")");
    }
    const Block& block = blocks[0];
    if (block.label.empty()) {
      return Fail(block.pointer, "", "storage",
                  "the storage type must not be empty, e.g. storage \"local\" { ... }");
    }
    const std::string context = "storage " + Quoted(block.label);
    config.storage.type = block.label;
    ASSIGN_OR_RETURN(config.storage.params, Params(block, context));
    config.storage.source = Source(block.pointer);
    // The parameters each built-in type reads; another key would be silently
    // ignored, so it is an error like any unknown key. (An unknown type is
    // refused when the server opens the storage, naming the known ones.)
    static const std::map<std::string, std::set<std::string, std::less<>>, std::less<>>
        kStorageParams = {{"local", {"path"}}, {"inmem", {}}};
    if (auto known = kStorageParams.find(block.label); known != kStorageParams.end()) {
      for (const auto& [key, value] : config.storage.params) {
        if (known->second.contains(key)) continue;
        std::string names;
        for (const std::string& k : known->second) names += (names.empty() ? "" : ", ") + k;
        return Fail(hcl::JoinPointer(block.pointer, key), context, key,
                    names.empty() ? "unknown parameter: this storage type takes none"
                                  : "unknown parameter (known: " + names + ")");
      }
    }
    if (block.label == "local") {
      auto path = config.storage.params.find("path");
      if (path == config.storage.params.end() || path->second.empty()) {
        return Fail(path == config.storage.params.end() ? block.pointer
                                                        : hcl::JoinPointer(block.pointer, "path"),
                    context, "path", "required (the directory for the database)");
      }
    }
    return Status::Ok();
  }

  Status DecodeSeal(const json& root, ServerConfig& config) const {
    ASSIGN_OR_RETURN(std::vector<Block> blocks, Blocks(root, "seal"));
    if (blocks.empty()) return Status::Ok();
    if (blocks.size() > 1) {
      return Fail(blocks[1].pointer, "", "seal",
                  "only one seal block is allowed (another at line " +
                      std::to_string(blocks[0].position.line) + ")");
    }
    const Block& block = blocks[0];
    if (block.label.empty()) {
      return Fail(block.pointer, "", "seal",
                  "the seal type must not be empty, e.g. seal \"transit\" { ... }");
    }
    ServerConfig::Seal seal;
    seal.type = block.label;
    ASSIGN_OR_RETURN(seal.params, Params(block, "seal " + Quoted(block.label)));
    seal.source = Source(block.pointer);
    config.seal = std::move(seal);
    return Status::Ok();
  }

  // An unlabelled block that may appear once (telemetry { ... }): its body,
  // or null when absent. Checks its keys against `known`.
  Result<const json*> SingleBlock(const json& body, const std::string& pointer,
                                  std::string_view context, std::string_view name,
                                  const std::set<std::string, std::less<>>& known) const {
    auto it = body.find(name);
    if (it == body.end()) return nullptr;
    std::string block_pointer = hcl::JoinPointer(pointer, name);
    const json* block = &*it;
    if (block->is_array() && block->size() == 1) {
      block = &(*block)[0];
      block_pointer = hcl::JoinPointer(block_pointer, "0");
    }
    if (block->is_array()) {
      return Err(Fail(block_pointer, context, name,
                      "only one " + std::string(name) + " block is allowed"));
    }
    if (!block->is_object()) {
      return Err(Fail(block_pointer, context, name,
                      "must be a block, e.g. " + std::string(name) + " { ... }"));
    }
    for (const auto& [key, value] : block->items()) {
      if (!known.contains(key)) {
        return Err(Fail(hcl::JoinPointer(block_pointer, key), context,
                        std::string(name) + "." + key, "unknown key"));
      }
    }
    return block;
  }

  Status DecodeTelemetry(const json& root, ServerConfig::Telemetry& t) const {
    ASSIGN_OR_RETURN(const json* block, SingleBlock(root, "", "", "telemetry", kTelemetryKeys));
    if (block == nullptr) return Status::Ok();
    const std::string p = hcl::JoinPointer("", "telemetry");
    auto read_seconds = [](const json& v) -> Result<std::chrono::seconds> {
      ASSIGN_OR_RETURN(auto ms, internal::ReadDuration(v));
      return std::chrono::duration_cast<std::chrono::seconds>(ms);
    };
    TRY(Field(*block, p, "telemetry", "disable_hostname", internal::ReadBool, &t.disable_hostname));
    TRY(Field(*block, p, "telemetry", "prometheus_retention_time", read_seconds,
              &t.prometheus_retention_time));
    TRY(Field(*block, p, "telemetry", "usage_gauge_period", read_seconds, &t.usage_gauge_period));
    return Status::Ok();
  }

  Status DecodeListeners(const json& root, ServerConfig& config) const {
    ASSIGN_OR_RETURN(std::vector<Block> blocks, Blocks(root, "listener"));
    if (blocks.empty()) {
      return Fail("", "", "listener",
                  "at least one listener block is required, e.g. listener \"tcp\" { ... }");
    }
    std::map<std::string, int> addresses;  // address -> line, to refuse duplicates
    for (const Block& block : blocks) {
      ServerConfig::Listener listener;
      TRY(DecodeListener(block, listener));
      auto [it, inserted] = addresses.emplace(listener.address, block.position.line);
      if (!inserted) {
        return Fail(hcl::JoinPointer(block.pointer, "address"), "listener " + Quoted(block.label),
                    "address",
                    "already used by the listener at line " + std::to_string(it->second));
      }
      config.listeners.push_back(std::move(listener));
    }
    return Status::Ok();
  }

  Status DecodeListener(const Block& block, ServerConfig::Listener& l) const {
    const std::string context = "listener " + Quoted(block.label);
    if (block.label != "tcp") {
      return Fail(block.pointer, context, "", "only \"tcp\" listeners are supported");
    }
    const json& body = *block.body;
    for (const auto& [key, value] : body.items()) {
      if (!kListenerKeys.contains(key)) {
        return Fail(hcl::JoinPointer(block.pointer, key), context, key, "unknown key");
      }
    }
    l.type = block.label;
    l.source = Source(block.pointer);
    const std::string& p = block.pointer;
    TRY(Field(body, p, context, "address", internal::ReadString, &l.address));
    if (!IsHostPort(l.address)) {
      return Fail(hcl::JoinPointer(p, "address"), context, "address",
                  "must be host:port, e.g. 127.0.0.1:8200");
    }
    TRY(Field(body, p, context, "cluster_address", internal::ReadString, &l.cluster_address));
    if (body.contains("cluster_address") && !IsHostPort(l.cluster_address)) {
      return Fail(hcl::JoinPointer(p, "cluster_address"), context, "cluster_address",
                  "must be host:port, e.g. 127.0.0.1:8201");
    }
    TRY(Field(body, p, context, "tls_disable", internal::ReadBool, &l.tls_disable));
    TRY(Field(body, p, context, "tls_cert_file", internal::ReadString, &l.tls_cert_file));
    TRY(Field(body, p, context, "tls_key_file", internal::ReadString, &l.tls_key_file));
    TRY(Field(body, p, context, "tls_client_ca_file", internal::ReadString, &l.tls_client_ca_file));
    TRY(Field(body, p, context, "tls_min_version", internal::ReadString, &l.tls_min_version));
    if (l.tls_min_version != "tls12" && l.tls_min_version != "tls13") {
      return Fail(hcl::JoinPointer(p, "tls_min_version"), context, "tls_min_version",
                  "must be \"tls12\" or \"tls13\"");
    }
    TRY(Field(body, p, context, "tls_require_and_verify_client_cert", internal::ReadBool,
              &l.tls_require_and_verify_client_cert));
    TRY(Field(body, p, context, "tls_disable_client_certs", internal::ReadBool,
              &l.tls_disable_client_certs));
    if (!l.tls_disable) {
      for (const char* key : {"tls_cert_file", "tls_key_file"}) {
        const std::string& file =
            std::string_view(key) == "tls_cert_file" ? l.tls_cert_file : l.tls_key_file;
        if (file.empty()) {
          return Fail(body.contains(key) ? hcl::JoinPointer(p, key) : p, context, key,
                      "required unless tls_disable = true");
        }
      }
    }
    if (l.tls_require_and_verify_client_cert && l.tls_disable_client_certs) {
      return Fail(hcl::JoinPointer(p, "tls_disable_client_certs"), context,
                  "tls_disable_client_certs",
                  "cannot be combined with tls_require_and_verify_client_cert");
    }
    if (l.tls_require_and_verify_client_cert && l.tls_client_ca_file.empty()) {
      return Fail(hcl::JoinPointer(p, "tls_require_and_verify_client_cert"), context,
                  "tls_client_ca_file", "required when tls_require_and_verify_client_cert = true");
    }

    std::int64_t max_request_size = l.max_request_size;
    TRY(Field(body, p, context, "max_request_size", internal::ReadInt, &max_request_size));
    if (max_request_size < 0) {
      l.max_request_size = 0;  // Vault: negative turns the limit off
    } else if (max_request_size > 0) {
      l.max_request_size = max_request_size;
    }
    for (auto [key, value] : {std::pair{"max_json_depth", &l.max_json_depth},
                              {"max_json_string_value_length", &l.max_json_string_value_length},
                              {"max_json_object_entry_count", &l.max_json_object_entry_count},
                              {"max_json_array_element_count", &l.max_json_array_element_count},
                              {"max_json_token", &l.max_json_token}}) {
      TRY(Field(body, p, context, key, internal::ReadInt, value));
      if (*value < 1) return Fail(hcl::JoinPointer(p, key), context, key, "must be at least 1");
    }
    TRY(Field(body, p, context, "max_request_duration", internal::ReadDuration,
              &l.max_request_duration));
    TRY(Field(body, p, context, "http_read_header_timeout", internal::ReadDuration,
              &l.http_read_header_timeout));
    TRY(Field(body, p, context, "http_read_timeout", internal::ReadDuration, &l.http_read_timeout));
    TRY(Field(body, p, context, "http_write_timeout", internal::ReadDuration,
              &l.http_write_timeout));
    TRY(Field(body, p, context, "http_idle_timeout", internal::ReadDuration, &l.http_idle_timeout));
    TRY(Field(body, p, context, "io_threads", internal::ReadInt, &l.io_threads));
    if (l.io_threads < 0 || l.io_threads > kMaxIoThreads) {
      return Fail(hcl::JoinPointer(p, "io_threads"), context, "io_threads",
                  "must be between 0 (one per core) and " + std::to_string(kMaxIoThreads));
    }
    TRY(Field(body, p, context, "pin_io_threads", internal::ReadBool, &l.pin_io_threads));
    TRY(Field(body, p, context, "disable_unauthed_rekey_endpoints", internal::ReadBool,
              &l.disable_unauthed_rekey_endpoints));
    TRY(Field(body, p, context, "disable_unauthed_generate_root_endpoints", internal::ReadBool,
              &l.disable_unauthed_generate_root_endpoints));
    ASSIGN_OR_RETURN(const json* telemetry,
                     SingleBlock(body, p, context, "telemetry", kListenerTelemetryKeys));
    if (telemetry != nullptr) {
      TRY(Field(*telemetry, hcl::JoinPointer(p, "telemetry"), context,
                "unauthenticated_metrics_access", internal::ReadBool,
                &l.unauthenticated_metrics_access));
    }
    ASSIGN_OR_RETURN(
        const json* in_flight,
        SingleBlock(body, p, context, "inflight_requests_logging", kListenerInFlightKeys));
    if (in_flight != nullptr) {
      TRY(Field(*in_flight, hcl::JoinPointer(p, "inflight_requests_logging"), context,
                "unauthenticated_in_flight_requests_access", internal::ReadBool,
                &l.unauthenticated_in_flight_requests_access));
    }
    return Status::Ok();
  }

  const hcl::Document& doc_;
  std::string file_;
};

}  // namespace

Result<ServerConfig> ParseConfig(std::string_view text, std::string_view file_name) {
  hcl::ParseOptions options;
  options.source_name = std::string(file_name);
  options.max_bytes = kMaxConfigBytes;
  ASSIGN_OR_RETURN(hcl::Document doc, hcl::Parse(text, options));
  return Decoder(doc, file_name).Decode();
}

Result<ServerConfig> LoadConfigFile(const std::string& path) {
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  if (ec || !std::filesystem::exists(status)) {
    if (ec == std::errc::no_such_file_or_directory || !std::filesystem::exists(status)) {
      return Err(NotFound(path + ": no such file"));
    }
    return Err(Unavailable(path + ": cannot read: " + ec.message()));
  }
  if (!std::filesystem::is_regular_file(status)) {
    return Err(InvalidArgument(path + ": not a regular file"));
  }
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) return Err(Unavailable(path + ": cannot read: " + ec.message()));
  if (size > kMaxConfigBytes) {
    return Err(TooLarge(path + ": config file is larger than 4 MiB"));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return Err(Unavailable(path + ": cannot open for reading"));
  std::ostringstream contents;
  contents << in.rdbuf();
  if (in.bad()) return Err(Unavailable(path + ": read error"));
  return ParseConfig(contents.str(), path);
}

}  // namespace coffer::config
