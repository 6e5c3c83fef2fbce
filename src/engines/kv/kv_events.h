#pragma once
// The change events the KV engine publishes after a change is durable
// (the storage write or Transact returned): Vault's kv-v1/* and kv-v2/*
// event types with Vault's metadata (path, data_path, current_version,
// operation, modified). Never a secret value. Thread-safe (Bus is).

#include <cstdint>
#include <optional>
#include <string>

#include "events/bus.h"
#include "logical/request.h"

namespace coffer::engines::kv {

// For a successful v1 write or delete (no-op otherwise or when bus is null).
void PublishV1Change(events::Bus* bus, const logical::Request& request);

// For a successful v2 change: `section` is "data", "metadata", "delete",
// "undelete" or "destroy"; `current_version` the key's current version after
// the change (nullopt when the key is gone).
void PublishV2Change(events::Bus* bus, const logical::Request& request, std::string_view section,
                     std::string_view key, std::optional<std::uint64_t> current_version);

// A KV v2 event built by hand (rotation events): type, the key, the
// operation name, extra metadata.
events::Event V2Event(std::string type, std::string_view mount_point, std::string_view key,
                      std::string operation, std::optional<std::uint64_t> current_version);

}  // namespace coffer::engines::kv
