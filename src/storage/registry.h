#pragma once
// Storage backends by type name, as named in the server config's `storage`
// stanza. Adding a backend touches its own folder plus one line in
// RegisterBuiltinBackends(); there is no static-initialiser registration.
//
// Thread safety: every function may be called from any thread; registration
// normally happens once at start-up, before any CreateBackend.

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "storage/backend.h"

namespace coffer::storage {

// Builds a backend from the stanza's parameters (e.g. {"path": "/var/lib/coffer"}).
// Returns kInvalidArgument for a missing or bad parameter.
using BackendFactory = std::function<Result<std::unique_ptr<Backend>>(
    const std::map<std::string, std::string>& params)>;

// Registers (or replaces) the factory for `type`.
void RegisterBackend(std::string type, BackendFactory factory);

// Creates a backend of a registered type. kInvalidArgument naming the type and
// the known types when `type` is not registered; otherwise the factory's error.
Result<std::unique_ptr<Backend>> CreateBackend(std::string_view type,
                                               const std::map<std::string, std::string>& params);

// The registered type names, sorted.
std::vector<std::string> RegisteredBackendTypes();

// Registers the backends built into this binary:
//   "inmem"  no parameters; nothing survives the process.
//   "local"  "path" (required): the directory of the SQLite database.
// Unknown parameters are ignored. Safe to call more than once.
void RegisterBuiltinBackends();

}  // namespace coffer::storage
