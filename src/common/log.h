#pragma once
// Logging goes through spdlog. Never log a secret value, a token, an unseal
// key or a request body: log paths, codes and accessors instead.

#include <spdlog/spdlog.h>

#include <string_view>

namespace coffer {

// Sets the process-wide level from a config string ("trace", "debug", "info",
// "warn", "error"); returns false for an unknown name.
bool SetLogLevel(std::string_view level);

}  // namespace coffer
