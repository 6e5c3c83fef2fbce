#include "common/log.h"

#include <fmt/format.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/base_sink.h>
#include <time.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

namespace coffer {
namespace {

// The level names of Vault's logs ("warn", not spdlog's "warning").
std::string_view LevelName(spdlog::level::level_enum level) {
  switch (level) {
    case spdlog::level::trace:
      return "trace";
    case spdlog::level::debug:
      return "debug";
    case spdlog::level::info:
      return "info";
    case spdlog::level::warn:
      return "warn";
    case spdlog::level::err:
      return "error";
    case spdlog::level::critical:
      return "critical";
    default:
      return "off";
  }
}

void AppendJson(spdlog::memory_buf_t& dest, std::string_view key, std::string_view value) {
  // nlohmann's dump escapes quotes and control characters and, with
  // `replace`, turns bytes that are not UTF-8 into U+FFFD, so that every line
  // stays JSON a log shipper can read whatever a message carries.
  std::string text = nlohmann::json(std::string(value))
                         .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  fmt::format_to(std::back_inserter(dest), "\"{}\":{}", key, text);
}

class JsonFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    using std::chrono::duration_cast;
    using std::chrono::microseconds;
    using std::chrono::seconds;
    auto since_epoch = msg.time.time_since_epoch();
    auto secs = duration_cast<seconds>(since_epoch);
    auto micros = duration_cast<microseconds>(since_epoch - secs).count();
    std::time_t t = static_cast<std::time_t>(secs.count());
    std::tm tm{};
    gmtime_r(&t, &tm);
    char stamp[96];
    std::snprintf(stamp, sizeof(stamp), "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                  static_cast<long>(micros));
    dest.push_back('{');
    AppendJson(dest, "@level", LevelName(msg.level));
    dest.push_back(',');
    AppendJson(dest, "@message", std::string_view(msg.payload.data(), msg.payload.size()));
    dest.push_back(',');
    AppendJson(dest, "@module",
               msg.logger_name.size() == 0
                   ? std::string_view("coffer")
                   : std::string_view(msg.logger_name.data(), msg.logger_name.size()));
    dest.push_back(',');
    AppendJson(dest, "@timestamp", stamp);
    dest.push_back('}');
    dest.push_back('\n');
  }
  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<JsonFormatter>();
  }
};

// ---- the standard format -----------------------------------------------------

// "name: " for a named logger, nothing for the default one: a line reads
// "[time] [level] expiration: message", as Vault's do.
class ModulePrefixFlag final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    if (msg.logger_name.size() == 0) return;
    dest.append(msg.logger_name.data(), msg.logger_name.data() + msg.logger_name.size());
    dest.push_back(':');
    dest.push_back(' ');
  }
  std::unique_ptr<spdlog::custom_flag_formatter> clone() const override {
    return std::make_unique<ModulePrefixFlag>();
  }
};

std::unique_ptr<spdlog::formatter> MakeStandardFormatter() {
  auto f = std::make_unique<spdlog::pattern_formatter>();
  f->add_flag<ModulePrefixFlag>('&').set_pattern("[%Y-%m-%d %H:%M:%S.%e] [%^%l%$] %&%v");
  return f;
}

// ---- the log tap ------------------------------------------------------------

// Formats each line both ways for the target; its own formatters, so the
// server's SetLogFormat (which sets every sink's) leaves them alone.
class TapSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  TapSink() : standard_(MakeStandardFormatter()) {}
  void SetTarget(LogTapTarget* target) {
    std::scoped_lock lock(mutex_);
    target_ = target;
  }
  void ClearTarget(LogTapTarget* target) {
    std::scoped_lock lock(mutex_);
    if (target_ == target) target_ = nullptr;
  }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    static thread_local bool inside = false;
    if (target_ == nullptr || inside || !target_->Listening()) return;
    inside = true;
    struct Leave {
      ~Leave() { inside = false; }
    } leave;
    spdlog::memory_buf_t standard;
    spdlog::memory_buf_t json;
    standard_->format(msg, standard);
    json_.format(msg, json);
    target_->Line(msg.level, std::string_view(standard.data(), standard.size()),
                  std::string_view(json.data(), json.size()));
  }
  void flush_() override {}
  void set_pattern_(const std::string&) override {}
  void set_formatter_(std::unique_ptr<spdlog::formatter>) override {}

 private:
  LogTapTarget* target_ = nullptr;  // guarded by mutex_
  std::unique_ptr<spdlog::formatter> standard_;
  JsonFormatter json_;
};

// ---- levels -------------------------------------------------------------------

constexpr std::string_view kModuleNames[] = {
    "agent",      "approle",    "audit", "barrier", "config",  "core",     "database",
    "events",     "expiration", "fiber", "github",  "http",    "identity", "jwt",
    "kubernetes", "kv",         "ldap",  "token",   "transit",
};
constexpr std::size_t kModules = std::size(kModuleNames);
static_assert(kModules == static_cast<std::size_t>(LogModule::kTransit) + 1);

// A named logger's only sink: hands each line to the default logger's sinks
// of the moment, the server's own only at or above the module's level (the
// logger's may be lower while a monitor holds one), the tap every time.
class ModuleSink final : public spdlog::sinks::sink {
 public:
  explicit ModuleSink(std::size_t module) : module_(module) {}
  void log(const spdlog::details::log_msg& msg) override;
  void flush() override {
    for (const auto& sink : spdlog::default_logger_raw()->sinks()) sink->flush();
  }
  void set_pattern(const std::string&) override {}
  void set_formatter(std::unique_ptr<spdlog::formatter>) override {}

 private:
  std::size_t module_;
};

struct TapState {
  TapState() {
    for (std::size_t i = 0; i < kModules; ++i) {
      module_levels[i] = spdlog::level::info;
      modules[i] = std::make_shared<spdlog::logger>(std::string(kModuleNames[i]),
                                                    std::make_shared<ModuleSink>(i));
      modules[i]->set_level(spdlog::level::info);
    }
  }
  std::mutex mu;
  // Set once by InstallLogTap, before the server's threads start; read
  // without the lock after that.
  std::shared_ptr<TapSink> sink;
  spdlog::level::level_enum configured = spdlog::level::info;    // guarded by mu
  spdlog::level::level_enum server_level = spdlog::level::info;  // guarded by mu
  std::atomic<int> module_levels[kModules];                      // written under mu
  std::shared_ptr<spdlog::logger> modules[kModules];
  std::multiset<int> holds;  // guarded by mu
};

TapState& Tap() {
  static TapState* state = new TapState();  // never destroyed: loggers outlive statics
  return *state;
}

void ModuleSink::log(const spdlog::details::log_msg& msg) {
  TapState& tap = Tap();
  const bool wanted = msg.level >= tap.module_levels[module_].load(std::memory_order_relaxed);
  spdlog::logger* logger = spdlog::default_logger_raw();
  // The default logger's flush policy too (the agent flushes each line to
  // its log file).
  const bool flush = msg.level >= logger->flush_level();
  for (const auto& sink : logger->sinks()) {
    if (!wanted && sink != tap.sink) continue;
    sink->log(msg);
    if (flush) sink->flush();
  }
}

std::atomic<bool> g_json_format{false};

// Each logger's level: the most detailed of its own and the holds'; the
// server's own sinks keep the default logger's. Called with Tap().mu held.
void ApplyLevelsLocked(TapState& tap) {
  auto logger = spdlog::default_logger();
  int held = spdlog::level::off;
  if (!tap.holds.empty()) held = *tap.holds.begin();
  auto lowest = [&](int level) {
    return static_cast<spdlog::level::level_enum>(std::min(level, held));
  };
  if (tap.sink == nullptr) {
    logger->set_level(tap.server_level);
  } else {
    for (const auto& sink : logger->sinks()) {
      if (sink != tap.sink) sink->set_level(tap.server_level);
    }
    logger->set_level(lowest(tap.server_level));
  }
  for (std::size_t i = 0; i < kModules; ++i) {
    tap.modules[i]->set_level(lowest(tap.module_levels[i].load()));
  }
}

}  // namespace

std::optional<spdlog::level::level_enum> ParseLogLevel(std::string_view level) {
  std::string name(level);
  if (name == "warning") name = "warn";
  auto parsed = spdlog::level::from_str(name);
  // from_str answers "off" for names it does not know.
  if (parsed == spdlog::level::off) return std::nullopt;
  return parsed;
}

std::string_view LogLevelName(spdlog::level::level_enum level) { return LevelName(level); }

bool SetLogLevel(std::string_view level) {
  spdlog::level::level_enum parsed = spdlog::level::off;
  if (level != "off") {
    auto known = ParseLogLevel(level);
    if (!known) return false;
    parsed = *known;
  }
  TapState& tap = Tap();
  std::scoped_lock lock(tap.mu);
  if (tap.sink == nullptr) spdlog::set_level(parsed);  // loggers a test registered too
  tap.configured = parsed;
  tap.server_level = parsed;
  for (auto& m : tap.module_levels) m = parsed;
  ApplyLevelsLocked(tap);
  return true;
}

spdlog::logger& Log(LogModule module) { return *Tap().modules[static_cast<std::size_t>(module)]; }

std::vector<std::pair<std::string, spdlog::level::level_enum>> NamedLogLevels() {
  TapState& tap = Tap();
  std::scoped_lock lock(tap.mu);
  std::vector<std::pair<std::string, spdlog::level::level_enum>> out;
  for (std::size_t i = 0; i < kModules; ++i) {
    out.emplace_back(kModuleNames[i],
                     static_cast<spdlog::level::level_enum>(tap.module_levels[i].load()));
  }
  return out;
}

bool SetNamedLogLevel(std::string_view name, spdlog::level::level_enum level) {
  const auto* it = std::find(std::begin(kModuleNames), std::end(kModuleNames), name);
  if (it == std::end(kModuleNames)) return false;
  TapState& tap = Tap();
  std::scoped_lock lock(tap.mu);
  tap.module_levels[it - std::begin(kModuleNames)] = level;
  ApplyLevelsLocked(tap);
  return true;
}

void SetAllLogLevels(spdlog::level::level_enum level) {
  TapState& tap = Tap();
  std::scoped_lock lock(tap.mu);
  tap.server_level = level;
  for (auto& m : tap.module_levels) m = level;
  ApplyLevelsLocked(tap);
}

spdlog::level::level_enum ConfiguredLogLevel() {
  TapState& tap = Tap();
  std::scoped_lock lock(tap.mu);
  return tap.configured;
}

void InstallLogTap() {
  TapState& tap = Tap();
  std::scoped_lock lock(tap.mu);
  auto logger = spdlog::default_logger();
  if (tap.sink == nullptr) {
    tap.sink = std::make_shared<TapSink>();
    tap.sink->set_level(spdlog::level::trace);
  }
  auto& sinks = logger->sinks();
  if (std::find(sinks.begin(), sinks.end(), tap.sink) == sinks.end()) sinks.push_back(tap.sink);
  ApplyLevelsLocked(tap);
}

void SetLogTapTarget(LogTapTarget* target) {
  TapState& tap = Tap();
  std::scoped_lock lock(tap.mu);
  if (tap.sink != nullptr) tap.sink->SetTarget(target);
}

void ClearLogTapTarget(LogTapTarget* target) {
  TapState& tap = Tap();
  std::scoped_lock lock(tap.mu);
  if (tap.sink != nullptr) tap.sink->ClearTarget(target);
}

std::shared_ptr<void> HoldLogLevel(spdlog::level::level_enum level) {
  TapState& tap = Tap();
  {
    std::scoped_lock lock(tap.mu);
    tap.holds.insert(level);
    if (tap.sink != nullptr) ApplyLevelsLocked(tap);
  }
  return std::shared_ptr<void>(nullptr, [level](void*) {
    TapState& tap = Tap();
    std::scoped_lock lock(tap.mu);
    tap.holds.erase(tap.holds.find(level));
    if (tap.sink != nullptr) ApplyLevelsLocked(tap);
  });
}

bool LogFormatIsJson() { return g_json_format.load(); }

std::unique_ptr<spdlog::formatter> MakeJsonLogFormatter() {
  return std::make_unique<JsonFormatter>();
}

bool SetLogFormat(std::string_view format) {
  if (format == "standard") {
    spdlog::set_formatter(MakeStandardFormatter());
    g_json_format = false;
    return true;
  }
  if (format == "json") {
    spdlog::set_formatter(MakeJsonLogFormatter());
    g_json_format = true;
    return true;
  }
  return false;
}

}  // namespace coffer
