#include "engines/kv/kv_events.h"

namespace coffer::engines::kv {

using logical::Operation;

void PublishV1Change(events::Bus* bus, const logical::Request& request) {
  if (bus == nullptr) return;
  std::string operation;
  switch (request.operation) {
    case Operation::kCreate:
    case Operation::kUpdate:
      operation = "write";
      break;
    case Operation::kDelete:
      operation = "delete";
      break;
    default:
      return;
  }
  events::Event e;
  e.type = "kv-v1/" + operation;
  e.acl_path = request.path;
  e.mount_path = request.mount_point;
  e.plugin = "kv";
  e.metadata = {{"path", request.path}, {"operation", operation}, {"modified", "true"}};
  bus->Publish(std::move(e));
}

events::Event V2Event(std::string type, std::string_view mount_point, std::string_view key,
                      std::string operation, std::optional<std::uint64_t> current_version) {
  events::Event e;
  e.type = std::move(type);
  e.mount_path = std::string(mount_point);
  e.plugin = "kv";
  std::string data_path = std::string(mount_point) + "data/" + std::string(key);
  e.acl_path = data_path;
  e.metadata = {{"path", data_path},
                {"data_path", data_path},
                {"operation", std::move(operation)},
                {"modified", "true"}};
  if (current_version) e.metadata["current_version"] = std::to_string(*current_version);
  return e;
}

void PublishV2Change(events::Bus* bus, const logical::Request& request, std::string_view section,
                     std::string_view key, std::optional<std::uint64_t> current_version) {
  if (bus == nullptr) return;
  std::string operation;
  const Operation op = request.operation;
  const bool write = op == Operation::kCreate || op == Operation::kUpdate;
  if (section == "data") {
    if (write) {
      operation = "data-write";
    } else if (op == Operation::kPatch) {
      operation = "data-patch";
    } else if (op == Operation::kDelete) {
      operation = "data-delete";
    }
  } else if (section == "metadata") {
    if (write) {
      operation = "metadata-write";
    } else if (op == Operation::kPatch) {
      operation = "metadata-patch";
    } else if (op == Operation::kDelete) {
      operation = "metadata-delete";
    }
  } else if (write && (section == "delete" || section == "undelete" || section == "destroy")) {
    operation = std::string(section);
  }
  if (operation.empty()) return;
  events::Event e =
      V2Event("kv-v2/" + operation, request.mount_point, key, operation, current_version);
  e.metadata["path"] = request.path;
  if (section == "metadata") {
    // Metadata events reach whoever may read or list the metadata path.
    e.acl_path = request.path;
    e.acl_list = true;
  }
  bus->Publish(std::move(e));
}

}  // namespace coffer::engines::kv
