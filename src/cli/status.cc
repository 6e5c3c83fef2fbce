// `coffer status`: GET /v1/sys/seal-status. Exit 0 unsealed, 2 sealed, 1 error.
#include "cli/status.h"

namespace coffer::cli {

bool JsonBool(const Json& obj, const char* key) {
  if (!obj.is_object()) return false;
  auto it = obj.find(key);
  return it != obj.end() && it->is_boolean() && it->get<bool>();
}

long long JsonInt(const Json& obj, const char* key) {
  if (!obj.is_object()) return 0;
  auto it = obj.find(key);
  if (it == obj.end() || !it->is_number()) return 0;
  return it->get<long long>();
}

std::string JsonString(const Json& obj, const char* key) {
  if (!obj.is_object()) return "";
  auto it = obj.find(key);
  if (it == obj.end()) return "";
  return ScalarText(*it);
}

int PrintSealStatus(Invocation& inv, ApiClient& client, const Json& status) {
  Json leader = Json::object();
  if (Result<Json> l = client.Request("GET", "/v1/sys/leader"); l && l->is_object()) {
    leader = std::move(*l);
  }
  const bool ha = JsonBool(leader, "ha_enabled");
  const bool sealed = JsonBool(status, "sealed");

  if (IsStructured(inv.format)) {
    Json out = status.is_object() ? status : Json::object();
    out["ha_enabled"] = ha;
    if (ha) {
      for (const char* k : {"is_self", "active_time", "leader_address", "leader_cluster_address"}) {
        if (leader.contains(k)) out[k] = leader[k];
      }
    }
    inv.out() << FormatStructured(inv.format, out);
    return 0;
  }

  const std::string prefix = JsonBool(status, "recovery_seal") ? "Recovery " : "";
  auto b = [](bool v) { return std::string(v ? "true" : "false"); };
  std::vector<std::pair<std::string, std::string>> rows;
  rows.emplace_back(prefix + "Seal Type", JsonString(status, "type"));
  rows.emplace_back("Initialized", b(JsonBool(status, "initialized")));
  rows.emplace_back("Sealed", b(sealed));
  rows.emplace_back("Total " + prefix + "Shares", std::to_string(JsonInt(status, "n")));
  rows.emplace_back("Threshold", std::to_string(JsonInt(status, "t")));
  if (sealed) {
    rows.emplace_back("Unseal Progress", std::to_string(JsonInt(status, "progress")) + "/" +
                                             std::to_string(JsonInt(status, "t")));
    rows.emplace_back("Unseal Nonce", JsonString(status, "nonce"));
  }
  if (JsonBool(status, "migration")) rows.emplace_back("Seal Migration in Progress", "true");
  rows.emplace_back("Version", JsonString(status, "version"));
  rows.emplace_back("Build Date", JsonString(status, "build_date"));
  rows.emplace_back("Storage Type", JsonString(status, "storage_type"));
  std::string cluster_name = JsonString(status, "cluster_name");
  std::string cluster_id = JsonString(status, "cluster_id");
  if (!cluster_name.empty() && !cluster_id.empty()) {
    rows.emplace_back("Cluster Name", cluster_name);
    rows.emplace_back("Cluster ID", cluster_id);
  }
  rows.emplace_back("HA Enabled", b(ha));
  if (ha && !sealed) {
    rows.emplace_back("HA Cluster", JsonString(leader, "leader_cluster_address"));
    const bool self = JsonBool(leader, "is_self");
    rows.emplace_back("HA Mode", self ? "active" : "standby");
    if (self && !JsonString(leader, "active_time").empty() &&
        !JsonString(leader, "active_time").starts_with("0001-01-01")) {
      rows.emplace_back("Active Since", JsonString(leader, "active_time"));
    }
    if (!self) {
      std::string addr = JsonString(leader, "leader_address");
      rows.emplace_back("Active Node Address", addr.empty() ? "<none>" : addr);
    }
  }
  inv.out() << FormatKeyValue(rows);
  return 0;
}

namespace {

class StatusCommand : public Command {
 public:
  int Run(Invocation& inv) override {
    Result<std::unique_ptr<ApiClient>> client = inv.Client();
    if (!client) {
      inv.err() << client.error().message() << "\n";
      return 1;
    }
    Result<Json> status = (*client)->Request("GET", "/v1/sys/seal-status");
    if (!status) {
      inv.err() << "Error checking seal status: " << status.error().message() << "\n";
      return 1;
    }
    PrintSealStatus(inv, **client, *status);
    return JsonBool(*status, "sealed") ? 2 : 0;
  }
};

}  // namespace

void RegisterStatusCommands(Registry& registry) {
  registry.Add({"status", "Print seal and HA status",
                "Usage: coffer status [options]\n\n"
                "  Prints the current state of Coffer including whether it is sealed and if\n"
                "  HA mode is enabled. This command prints regardless of whether the server\n"
                "  is sealed.\n\n"
                "  The exit code reflects the seal status:\n\n"
                "      - 0 - unsealed\n"
                "      - 1 - error\n"
                "      - 2 - sealed",
                [] { return std::make_unique<StatusCommand>(); }});
}

}  // namespace coffer::cli
