#pragma once
// Logging goes through spdlog. Never log a secret value, a token, an unseal
// key or a request body: log paths, codes and accessors instead.

#include <spdlog/spdlog.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace coffer {

// Sets the process-wide level from a config string ("trace", "debug", "info",
// "warn", "error"), for every logger including the named ones below, and
// makes it the configured level that RevertLogLevels goes back to; returns
// false for an unknown name.
bool SetLogLevel(std::string_view level);

// Sets the format of every registered logger's lines, as Vault's log_format:
// "standard" (spdlog's text lines) or "json" (one JSON object per line, the
// keys of Vault's JSON logs: "@level", "@message", "@module", "@timestamp"
// in UTC with microseconds). Returns false for an unknown name.
bool SetLogFormat(std::string_view format);

// The formatter behind "json", for a logger that is not the default one.
std::unique_ptr<spdlog::formatter> MakeJsonLogFormatter();

// A level name as SetLogLevel takes it ("warning" is "warn"); nullopt for
// an unknown name (and for "off").
std::optional<spdlog::level::level_enum> ParseLogLevel(std::string_view level);
// Vault's name of a level: "trace", "debug", "info", "warn", "error".
std::string_view LogLevelName(spdlog::level::level_enum level);

// ---- named loggers (sys/loggers) -------------------------------------------
//
// The server's subsystems log through named loggers, as Vault's do, so that
// an operator can turn one of them up while the server runs (sys/loggers).
// A line reads "[time] [level] expiration: message" ("@module":
// "expiration" in JSON). Named loggers write to the default logger's sinks
// (whatever they are when the line is written, so SetLogFormat and the tap
// apply to them), each line only if it is at or above its logger's level;
// the tap still gets what a monitor holds (HoldLogLevel).
enum class LogModule {
  kAgent,
  kApprole,
  kAudit,
  kBarrier,
  kConfig,
  kCore,
  kDatabase,
  kEvents,
  kExpiration,
  kFiber,
  kGithub,
  kHttp,
  kIdentity,
  kJwt,
  kKubernetes,
  kKv,
  kLdap,
  kToken,
  kTransit,
};
// The logger of a subsystem; lives as long as the process. Thread-safe.
spdlog::logger& Log(LogModule module);
// Every named logger's name and level, sorted by name.
std::vector<std::pair<std::string, spdlog::level::level_enum>> NamedLogLevels();
// Sets the level of the named logger `name` (false if there is none), or
// of every logger, the default one included, until the next change; the
// configured level (SetLogLevel) is not changed.
bool SetNamedLogLevel(std::string_view name, spdlog::level::level_enum level);
void SetAllLogLevels(spdlog::level::level_enum level);
// The level SetLogLevel last set (info before it is called).
spdlog::level::level_enum ConfiguredLogLevel();

// ---- the log tap (sys/monitor) ---------------------------------------------
//
// The server installs a tap on the default logger once at start, before it
// starts other threads (InstallLogTap). A target (SetLogTapTarget) then
// gets every line the logger writes, formatted both ways, and monitors can
// ask for more detail than the server logs (HoldLogLevel): the logger's
// level becomes the most detailed of the server's and the holds', while the
// server's own sinks keep the level SetLogLevel set. Without the tap (the
// CLI, tests), SetLogLevel sets every logger's level as before.
class LogTapTarget {
 public:
  virtual ~LogTapTarget() = default;
  // On the logging thread, under the tap's lock: must not block or log (a
  // line logged from inside it is not tapped).
  virtual void Line(spdlog::level::level_enum level, std::string_view standard,
                    std::string_view json) = 0;
  // Whether Line would do anything now (lines are not formatted otherwise).
  virtual bool Listening() { return true; }
};
void InstallLogTap();
// The caller keeps `target` alive until ClearLogTapTarget(target), which
// detaches it only if it is still the target, and returns once no line is
// being handed to it.
void SetLogTapTarget(LogTapTarget* target);
void ClearLogTapTarget(LogTapTarget* target);
// Lines at `level` and above reach the tap while the returned hold lives.
std::shared_ptr<void> HoldLogLevel(spdlog::level::level_enum level);
// Whether the server's lines are JSON (SetLogFormat("json")).
bool LogFormatIsJson();

}  // namespace coffer
