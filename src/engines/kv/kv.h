#pragma once
// The KV secrets engine, Vault-compatible: version 1 (plain key/value) and
// version 2 (versioned, check-and-set, soft delete, metadata). See docs/kv.md
// for the HTTP API and engines/kv/kv_v2.h for the storage layout.

#include <memory>

#include "logical/backend.h"

namespace coffer::engines::kv {

// Registers the engine types "kv" (options.version "1" or "2", default 1)
// and "kv-v2" (always version 2) with logical::RegisterEngine. Idempotent.
void RegisterKvEngine();

// Creates an engine for `config`, with the version taken from
// config.options["version"] (string or number) unless `force_version` is
// non-zero. kInvalidArgument for a version other than 1 or 2.
Result<std::unique_ptr<logical::Backend>> NewKvBackend(const logical::BackendConfig& config,
                                                       int force_version = 0);

}  // namespace coffer::engines::kv
