#pragma once
// A change or security event, as the bus carries it and subscribers receive
// it (Vault's CloudEvents shape, see docs/events.md). An event never carries
// a secret value: only paths, versions and operation names.
//
// Thread safety: a plain value; ToCloudEventJson is reentrant.

#include <chrono>
#include <map>
#include <string>

namespace coffer::events {

struct Event {
  std::string id;                                // UUID; Bus::Publish fills it when empty
  std::string type;                              // "kv-v2/data-write", "coffer/login-failed", ...
  std::chrono::system_clock::time_point time{};  // Bus::Publish fills it when zero

  // The path a subscriber must be allowed to read (or list, with
  // acl_list) to receive the event. Empty for security events, which need
  // only read on sys/events/subscribe/<type>.
  std::string acl_path;
  bool acl_list = false;

  std::string mount_path;  // "secret/" (plugin_info.mount_path)
  std::string plugin;      // "kv" (plugin_info.plugin)
  // data.event.metadata: "path", "data_path", "current_version",
  // "operation", "modified", ... (strings only, never a secret value).
  std::map<std::string, std::string> metadata;
};

// {"id","source":"coffer","specversion":"1.0","type","datacontenttype",
//  "time","data":{"event":{"id","metadata"},"event_type","plugin_info"}}
std::string ToCloudEventJson(const Event& event);

// The path that prefix filters compare: metadata["path"], else acl_path.
const std::string& EventPath(const Event& event);

}  // namespace coffer::events
