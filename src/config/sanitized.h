#pragma once
// The server's configuration as sys/config/state/sanitized shows it (Vault's
// shape): every setting, but of the storage and seal blocks only their type,
// since their parameters may hold credentials (an etcd password, a cloud
// key). Listener settings (addresses, certificate file paths, timeouts) are
// shown: they hold no secret.

#include <nlohmann/json.hpp>

#include "config/config.h"

namespace coffer::config {

nlohmann::json Sanitized(const ServerConfig& config);

}  // namespace coffer::config
