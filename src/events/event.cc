#include "events/event.h"

#include <nlohmann/json.hpp>

#include "common/clock.h"

namespace coffer::events {

const std::string& EventPath(const Event& event) {
  auto it = event.metadata.find("path");
  return it != event.metadata.end() ? it->second : event.acl_path;
}

std::string ToCloudEventJson(const Event& event) {
  nlohmann::json metadata = nlohmann::json::object();
  for (const auto& [k, v] : event.metadata) metadata[k] = v;
  nlohmann::json plugin_info = nlohmann::json::object();
  if (!event.mount_path.empty()) plugin_info["mount_path"] = event.mount_path;
  if (!event.plugin.empty()) plugin_info["plugin"] = event.plugin;
  nlohmann::json j{
      {"id", event.id},
      {"source", "coffer"},
      {"specversion", "1.0"},
      {"type", event.type},
      {"datacontenttype", "application/cloudevents"},
      {"time", FormatRfc3339(event.time)},
      {"data",
       {{"event", {{"id", event.id}, {"metadata", metadata}}},
        {"event_type", event.type},
        {"plugin_info", plugin_info}}},
  };
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace coffer::events
