#include "core/builtins.h"

#include <mutex>

#include "auth/builtins.h"
#include "engines/database/database.h"
#include "engines/kv/kv.h"
#include "engines/transit/transit.h"
#include "storage/registry.h"

namespace coffer::core {

void RegisterBuiltins() {
  static std::once_flag once;
  std::call_once(once, [] {
    storage::RegisterBuiltinBackends();
    engines::kv::RegisterKvEngine();
    engines::transit::RegisterTransitEngine();
    engines::database::RegisterDatabaseEngine();
    auth::RegisterAuthMethods();
  });
}

}  // namespace coffer::core
