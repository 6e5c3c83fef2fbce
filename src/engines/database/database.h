#pragma once
// The database secrets engine (mount type "database"), Vault's API with a
// PostgreSQL plugin built on libpq (docs/database.md): connection configs,
// dynamic roles whose credentials are leased PostgreSQL users, static roles
// whose passwords rotate on a schedule, and root credential rotation.

#include <memory>

#include "logical/backend.h"

namespace coffer::engines::database {

struct DatabaseOptions {
  // Run the thread that rotates static roles when they fall due. Unit
  // tests turn it off.
  bool rotation_thread = true;
};

// Registers the engine type "database" with logical::RegisterEngine.
// Idempotent.
void RegisterDatabaseEngine();

Result<std::unique_ptr<logical::Backend>> NewDatabaseBackend(const logical::BackendConfig& config,
                                                             DatabaseOptions options = {});

}  // namespace coffer::engines::database
