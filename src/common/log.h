#pragma once
// Logging goes through spdlog. Never log a secret value, a token, an unseal
// key or a request body: log paths, codes and accessors instead.

#include <spdlog/spdlog.h>

#include <memory>
#include <string_view>

namespace coffer {

// Sets the process-wide level from a config string ("trace", "debug", "info",
// "warn", "error"); returns false for an unknown name.
bool SetLogLevel(std::string_view level);

// Sets the format of every registered logger's lines, as Vault's log_format:
// "standard" (spdlog's text lines) or "json" (one JSON object per line, the
// keys of Vault's JSON logs: "@level", "@message", "@module", "@timestamp"
// in UTC with microseconds). Returns false for an unknown name.
bool SetLogFormat(std::string_view format);

// The formatter behind "json", for a logger that is not the default one.
std::unique_ptr<spdlog::formatter> MakeJsonLogFormatter();

}  // namespace coffer
