// sys/loggers: the level of the server's named loggers, changed while it
// runs (Vault's API). A change lasts until the next one or a restart; it is
// not stored, and DELETE goes back to the configured level (log_level, the
// -log-level flag or COFFER_LOG_LEVEL).
//
//   sys/loggers          GET  {name: level, ...}   POST {level}   DELETE
//   sys/loggers/:name    GET  {name: level}        POST {level}   DELETE

#include <algorithm>
#include <cctype>

#include "common/log.h"
#include "core/system_backend.h"

namespace coffer::core {
namespace {

using logical::Json;
using logical::Operation;

constexpr std::string_view kLoggers = "sys/loggers";

// Vault's level names, in any case: trace, debug, info (notice), warn
// (warning), error (err).
Result<spdlog::level::level_enum> RequestedLevel(const logical::Request& request) {
  const Json* field = request.Field("level");
  if (field == nullptr || field->is_null()) return Err(InvalidArgument("level is required"));
  if (!field->is_string()) return Err(InvalidArgument("level must be a string"));
  std::string name = field->get<std::string>();
  name.erase(0, name.find_first_not_of(" \t"));
  name.erase(name.find_last_not_of(" \t") + 1);
  if (name.empty()) return Err(InvalidArgument("level is empty"));
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (name == "notice") name = "info";
  if (name == "err") name = "error";
  auto level = name == "critical" ? std::nullopt : ParseLogLevel(name);
  if (!level) {
    return Err(
        InvalidArgument("invalid level provided: unknown log level: " + field->get<std::string>()));
  }
  return *level;
}

}  // namespace

Result<logical::Response> SystemBackend::Loggers(const logical::Request& request) {
  std::string_view name = request.path;
  name.remove_prefix(kLoggers.size());
  if (!name.empty()) name.remove_prefix(1);  // the '/' before the name
  logical::Response r;
  switch (request.operation) {
    case Operation::kRead: {
      r.data = Json::object();
      for (const auto& [logger, level] : NamedLogLevels()) {
        if (name.empty() || logger == name) r.data[logger] = LogLevelName(level);
      }
      return r;
    }
    case Operation::kCreate:
    case Operation::kUpdate: {
      ASSIGN_OR_RETURN(auto level, RequestedLevel(request));
      if (name.empty()) {
        SetAllLogLevels(level);
      } else if (!SetNamedLogLevel(name, level)) {
        return Err(InvalidArgument("logger \"" + std::string(name) + "\" not found"));
      }
      return r;
    }
    case Operation::kDelete:
      if (name.empty()) {
        SetAllLogLevels(ConfiguredLogLevel());
      } else if (!SetNamedLogLevel(name, ConfiguredLogLevel())) {
        return Err(InvalidArgument("logger \"" + std::string(name) + "\" not found"));
      }
      return r;
    default:
      return Err(Status(Code::kMethodNotAllowed, "unsupported operation"));
  }
}

}  // namespace coffer::core
