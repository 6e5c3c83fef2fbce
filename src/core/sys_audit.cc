// sys/audit, sys/audit-hash and sys/audit-verify.
#include "core/core.h"
#include "core/system_backend.h"

namespace coffer::core {
namespace {

using logical::Json;

Json DeviceJson(const audit::DeviceConfig& c) {
  return Json{{"type", c.type},
              {"description", c.description},
              {"options", c.options},
              {"local", c.local},
              {"path", c.path}};
}

// The device path after a prefix such as "sys/audit/".
std::string_view Rest(std::string_view path, std::string_view prefix) {
  path.remove_prefix(std::min(path.size(), prefix.size()));
  return path;
}

}  // namespace

Result<logical::Response> SystemBackend::Audit(const logical::Request& request) {
  audit::Broker& broker = core_.audit();
  if (request.path == "sys/audit") {
    if (request.operation != logical::Operation::kRead) {
      return Err(Status(Code::kMethodNotAllowed, "unsupported operation"));
    }
    Json data = Json::object();
    for (const auto& c : broker.List()) data[c.path] = DeviceJson(c);
    return LegacyResponse(request, std::move(data));
  }
  std::string_view path = Rest(request.path, "sys/audit/");
  switch (request.operation) {
    case logical::Operation::kCreate:
    case logical::Operation::kUpdate: {
      audit::DeviceConfig config;
      config.path = std::string(path);
      const Json* type = request.Field("type");
      if (type == nullptr || !type->is_string() || type->get_ref<const std::string&>().empty()) {
        return Err(InvalidArgument("'type' must be set to the audit device type"));
      }
      config.type = type->get<std::string>();
      if (const Json* d = request.Field("description"); d != nullptr && d->is_string()) {
        config.description = d->get<std::string>();
      }
      if (const Json* o = request.Field("options"); o != nullptr && !o->is_null()) {
        if (!o->is_object()) return Err(InvalidArgument("options must be an object"));
        for (const auto& [k, v] : o->items()) {
          if (v.is_object() || v.is_array()) {
            return Err(InvalidArgument("option " + k + " must be a string"));
          }
          config.options[k] = v.is_string() ? v : Json(v.dump());
        }
      }
      if (const Json* l = request.Field("local"); l != nullptr && l->is_boolean()) {
        config.local = l->get<bool>();
      }
      TRY(broker.Enable(std::move(config)));
      return logical::Response{};
    }
    case logical::Operation::kDelete: {
      Status s = broker.Disable(path);
      // As Vault: disabling a path with no device is not an error.
      if (s.code() == Code::kNotFound) return logical::Response{};
      TRY(s);
      return logical::Response{};
    }
    default:
      return Err(Status(Code::kMethodNotAllowed, "unsupported operation"));
  }
}

Result<logical::Response> SystemBackend::AuditHash(const logical::Request& request) {
  if (request.operation != logical::Operation::kUpdate &&
      request.operation != logical::Operation::kCreate) {
    return Err(Status(Code::kMethodNotAllowed, "unsupported operation"));
  }
  const Json* input = request.Field("input");
  if (input == nullptr || !input->is_string()) {
    return Err(InvalidArgument("'input' must be a string"));
  }
  const std::string path(Rest(request.path, "sys/audit-hash/"));
  Result<std::string> hash = core_.audit().Hash(path, input->get_ref<const std::string&>());
  if (!hash && hash.error().code() == Code::kNotFound) {
    // Vault's answer for a device that is not there.
    std::string named = path;
    if (!named.ends_with('/')) named += '/';
    return Err(InvalidArgument("unknown audit backend \"" + named + "\""));
  }
  if (!hash) return Err(std::move(hash).error());
  return LegacyResponse(request, Json{{"hash", *hash}});
}

Result<logical::Response> SystemBackend::AuditVerify(const logical::Request& request) {
  if (request.operation != logical::Operation::kUpdate &&
      request.operation != logical::Operation::kCreate) {
    return Err(Status(Code::kMethodNotAllowed, "unsupported operation"));
  }
  std::string_view path = Rest(request.path, "sys/audit-verify/");
  ASSIGN_OR_RETURN(audit::ChainHead head, core_.audit().Head(path));
  Json results = Json::array();
  if (const Json* list = request.Field("checkpoints"); list != nullptr && !list->is_null()) {
    if (!list->is_array()) return Err(InvalidArgument("checkpoints must be a list"));
    if (list->size() > 100000) return Err(InvalidArgument("at most 100000 checkpoints per call"));
    for (const auto& c : *list) {
      if (!c.is_object() || !c.contains("seq") || !c["seq"].is_number_unsigned() ||
          !c.contains("prev_hash") || !c["prev_hash"].is_string() || !c.contains("hmac") ||
          !c["hmac"].is_string()) {
        return Err(InvalidArgument("each checkpoint needs seq, prev_hash and hmac"));
      }
      auto seq = c["seq"].get<std::uint64_t>();
      ASSIGN_OR_RETURN(bool valid,
                       core_.audit().VerifyCheckpoint(path, seq, c["prev_hash"].get<std::string>(),
                                                      c["hmac"].get<std::string>()));
      results.push_back({{"seq", seq}, {"valid", valid}});
    }
  }
  return LegacyResponse(
      request, Json{{"head_seq", head.seq}, {"head_hash", head.hash}, {"checkpoints", results}});
}

}  // namespace coffer::core
