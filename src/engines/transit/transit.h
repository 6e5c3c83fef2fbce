#pragma once
// The transit secrets engine: encryption as a service with Vault's API
// (docs/transit.md). Keys never leave the engine unless they were created
// exportable; callers send plaintext and get "vault:vN:<base64>" back.

#include <memory>

#include "logical/backend.h"

namespace coffer::engines::transit {

struct TransitOptions {
  // Run the background thread that applies auto_rotate_period. Unit tests
  // turn it off and call TransitBackend::RotateDueKeys with a fake clock.
  bool rotation_thread = true;
  // The shortest auto_rotate_period accepted, in seconds. Vault's is one
  // hour; a mount may lower it with the option "min_auto_rotate_period"
  // (e.g. "1s" for tests and demos).
  std::int64_t min_auto_rotate_period_s = 3600;
};

// Registers the engine type "transit" with logical::RegisterEngine.
// Idempotent.
void RegisterTransitEngine();

// An engine for `config`; mount options are read from config.options
// ("min_auto_rotate_period", a duration). kInvalidArgument for a bad option.
Result<std::unique_ptr<logical::Backend>> NewTransitBackend(const logical::BackendConfig& config,
                                                            TransitOptions options = {});

}  // namespace coffer::engines::transit
