#pragma once
// Engines register a factory by type name; RegisterBuiltinEngines() (in
// core/builtins.cc) lists them all. No static-initialiser registration.

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "logical/backend.h"

namespace coffer::logical {

using Factory = std::function<Result<std::unique_ptr<Backend>>(const BackendConfig&)>;

void RegisterEngine(std::string type, Factory factory);
// kInvalidArgument naming the type when nothing is registered under it.
Result<std::unique_ptr<Backend>> CreateEngine(std::string_view type, const BackendConfig& config);
bool HasEngine(std::string_view type);

// Auth methods share the registry (and the mount table, under "auth/") but
// are marked, so sys/mounts refuses them and sys/auth accepts only them.
void RegisterAuthMethod(std::string type, Factory factory);
bool IsAuthMethod(std::string_view type);

// The registered type names, sorted: auth methods, or the other engines.
std::vector<std::string> RegisteredTypes(bool auth_methods);

}  // namespace coffer::logical
