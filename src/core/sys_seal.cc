// sys/init, sys/unseal, sys/seal-status, sys/health, sys/leader.

#include <unistd.h>

#include <charconv>

#include "common/encoding.h"
#include "core/core.h"
#include "core/system_backend.h"

namespace coffer::core {
namespace {

using logical::Json;

Json SealStatusJson(Core& core) {
  Json j{{"type", "shamir"},
         {"initialized", false},
         {"sealed", core.Sealed()},
         {"t", 0},
         {"n", 0},
         {"progress", 0},
         {"nonce", ""},
         {"version", ReportedVersion()},
         {"build_date", "2026-11-28T00:00:00Z"},
         {"migration", false},
         {"recovery_seal", false},
         {"storage_type", core.storage_type()}};
  auto initialized = core.Initialized();
  if (initialized && *initialized) {
    j["initialized"] = true;
    auto config = core.seal().Config();
    if (config && *config) {
      j["t"] = (*config)->secret_threshold;
      j["n"] = (*config)->secret_shares;
    }
    seal::UnsealProgress p = core.seal().Progress();
    j["progress"] = p.progress;
    j["nonce"] = p.nonce;
  }
  if (!core.Sealed()) {
    j["cluster_name"] = core.cluster_name();
    j["cluster_id"] = core.cluster_id();
  }
  return j;
}

Result<int> IntField(const logical::Request& request, const char* name, int fallback) {
  const Json* f = request.Field(name);
  if (f == nullptr || f->is_null()) return fallback;
  if (f->is_number_integer()) return f->get<int>();
  if (f->is_string()) {
    const std::string& s = f->get_ref<const std::string&>();
    int v = 0;
    auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec == std::errc() && ptr == s.data() + s.size()) return v;
  }
  return Err(InvalidArgument(std::string("'") + name + "' must be an integer"));
}

// Query parameters like standbycode=200 for sys/health.
Result<int> QueryCode(const logical::Request& request, const char* name, int fallback) {
  auto it = request.query.find(name);
  if (it == request.query.end()) return fallback;
  int v = 0;
  auto [ptr, ec] = std::from_chars(it->second.data(), it->second.data() + it->second.size(), v);
  if (ec != std::errc() || ptr != it->second.data() + it->second.size() || v < 100 || v > 999) {
    return Err(InvalidArgument(std::string("invalid ") + name + ": must be an HTTP status code"));
  }
  return v;
}

bool QueryBool(const logical::Request& request, const char* name) {
  auto it = request.query.find(name);
  return it != request.query.end() &&
         (it->second.empty() || it->second == "true" || it->second == "1");
}

}  // namespace

Result<logical::Response> SystemBackend::Init(const logical::Request& request) {
  if (request.operation == logical::Operation::kRead) {
    ASSIGN_OR_RETURN(bool initialized, core_.Initialized());
    logical::Response r;
    r.raw = Json{{"initialized", initialized}};
    return r;
  }
  if (request.operation != logical::Operation::kUpdate &&
      request.operation != logical::Operation::kCreate) {
    return Err(Status(Code::kMethodNotAllowed, "unsupported operation"));
  }
  for (const char* unsupported : {"pgp_keys", "root_token_pgp_key", "recovery_pgp_keys"}) {
    const Json* f = request.Field(unsupported);
    if (f != nullptr && !f->is_null() && !(f->is_array() && f->empty()) &&
        !(f->is_string() && f->get_ref<const std::string&>().empty())) {
      return Err(Unsupported(std::string(unsupported) + " is not supported"));
    }
  }
  ASSIGN_OR_RETURN(int shares, IntField(request, "secret_shares", 0));
  ASSIGN_OR_RETURN(int threshold, IntField(request, "secret_threshold", 0));
  if (shares == 0 && threshold == 0) {
    return Err(InvalidArgument("secret_shares and secret_threshold are required"));
  }
  ASSIGN_OR_RETURN(InitResult result, core_.Initialize(shares, threshold));
  Json keys = Json::array();
  Json keys_b64 = Json::array();
  for (const auto& k : result.keys) {
    keys.push_back(HexEncode(k.view()));
    keys_b64.push_back(Base64Encode(k.view()));
  }
  logical::Response r;
  r.raw = Json{{"keys", std::move(keys)},
               {"keys_base64", std::move(keys_b64)},
               {"root_token", std::string(result.root_token.view())}};
  return r;
}

Result<logical::Response> SystemBackend::Unseal(const logical::Request& request) {
  if (request.operation == logical::Operation::kRead) {
    return Err(Status(Code::kMethodNotAllowed, "unsupported operation"));
  }
  ASSIGN_OR_RETURN(bool initialized, core_.Initialized());
  if (!initialized) return Err(InvalidArgument("Coffer is not initialized"));
  const Json* reset = request.Field("reset");
  if (reset != nullptr && reset->is_boolean() && reset->get<bool>()) {
    core_.seal().ResetProgress();
  } else {
    const Json* key = request.Field("key");
    if (key == nullptr || !key->is_string() || key->get_ref<const std::string&>().empty()) {
      return Err(InvalidArgument(
          "'key' must be specified in request body as JSON, or 'reset' set to true"));
    }
    const std::string& text = key->get_ref<const std::string&>();
    std::optional<SecretBytes> bytes = HexDecode(text);
    if (!bytes) bytes = Base64Decode(text);
    if (!bytes) return Err(InvalidArgument("'key' must be a valid hex or base64 string"));
    ASSIGN_OR_RETURN(seal::UnsealProgress progress, core_.Unseal(*bytes));
    (void)progress;
  }
  logical::Response r;
  r.raw = SealStatusJson(core_);
  return r;
}

Result<logical::Response> SystemBackend::SealStatus(const logical::Request& request) {
  (void)request;
  logical::Response r;
  r.raw = SealStatusJson(core_);
  return r;
}

Result<logical::Response> SystemBackend::Health(const logical::Request& request) {
  ASSIGN_OR_RETURN(int active_code, QueryCode(request, "activecode", 200));
  ASSIGN_OR_RETURN(int standby_code, QueryCode(request, "standbycode", 429));
  ASSIGN_OR_RETURN(int sealed_code, QueryCode(request, "sealedcode", 503));
  ASSIGN_OR_RETURN(int uninit_code, QueryCode(request, "uninitcode", 501));
  ASSIGN_OR_RETURN(int dr_code, QueryCode(request, "drsecondarycode", 472));
  ASSIGN_OR_RETURN(int perf_code, QueryCode(request, "performancestandbycode", 473));
  (void)dr_code;
  (void)perf_code;
  (void)standby_code;
  // A single node is always active; standbyok/perfstandbyok only matter for
  // standbys and are accepted for compatibility.
  (void)QueryBool(request, "standbyok");

  ASSIGN_OR_RETURN(bool initialized, core_.Initialized());
  bool sealed = core_.Sealed();
  int status = !initialized ? uninit_code : sealed ? sealed_code : active_code;
  auto now =
      std::chrono::duration_cast<std::chrono::seconds>(core_.clock().Wall().time_since_epoch())
          .count();
  Json body{{"initialized", initialized},
            {"sealed", sealed},
            {"standby", false},
            {"performance_standby", false},
            {"replication_performance_mode", "disabled"},
            {"replication_dr_mode", "disabled"},
            {"server_time_utc", now},
            {"version", ReportedVersion()}};
  if (!sealed) {
    body["cluster_name"] = core_.cluster_name();
    body["cluster_id"] = core_.cluster_id();
  }
  logical::Response r;
  r.http_status = status;
  r.raw = std::move(body);
  r.no_body = request.operation == logical::Operation::kHead;
  return r;
}

Result<logical::Response> SystemBackend::Leader(const logical::Request& request) {
  (void)request;
  // Sealed or not, as Vault answers it for storage without HA (its Go
  // client's Sys().Leader() and `status` read it while sealed too).
  logical::Response r;
  r.raw = Json{{"ha_enabled", false},
               {"is_self", false},
               {"active_time", "0001-01-01T00:00:00Z"},
               {"leader_address", ""},
               {"leader_cluster_address", ""},
               {"performance_standby", false},
               {"performance_standby_last_remote_wal", 0}};
  return r;
}

// Vault's answer for a server without HA storage: the node is the only
// member and the active one. It advertises the configured api_addr, if any.
Result<logical::Response> SystemBackend::HaStatus(const logical::Request& request) {
  if (request.operation != logical::Operation::kRead) {
    return Err(Status(Code::kMethodNotAllowed, "unsupported operation"));
  }
  char host[256] = {};
  if (gethostname(host, sizeof(host) - 1) != 0) host[0] = '\0';
  std::string api_address;
  const std::shared_ptr<const Json> config = core_.sanitized_config();
  if (config && config->is_object()) {
    auto it = config->find("api_addr");
    if (it != config->end() && it->is_string()) api_address = it->get<std::string>();
  }
  Json node{{"hostname", std::string(host)},
            {"api_address", api_address},
            {"cluster_address", ""},
            {"active_node", true},
            {"last_echo", nullptr},
            {"echo_duration_ms", 0},
            {"clock_skew_ms", 0},
            {"version", ReportedVersion()}};
  return LegacyResponse(request, Json{{"nodes", Json::array({std::move(node)})}});
}

// A single node has no standby to hand the active role to: as Vault without
// HA storage, the request (sudo, PUT) succeeds and changes nothing.
Result<logical::Response> SystemBackend::StepDown(const logical::Request& request) {
  if (request.operation != logical::Operation::kUpdate &&
      request.operation != logical::Operation::kCreate) {
    return Err(Status(Code::kMethodNotAllowed, "sys/step-down accepts only PUT and POST"));
  }
  return logical::Response{};
}

}  // namespace coffer::core
