#pragma once
// The one list of built-in plugins: storage backends and secrets engines.
// Adding a plugin touches its own folder plus one line in builtins.cc.

namespace coffer::core {

// Idempotent; call once at start, before any lookup by type name.
void RegisterBuiltins();

}  // namespace coffer::core
