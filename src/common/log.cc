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

// ---- the log tap ------------------------------------------------------------

// Formats each line both ways for the target; its own formatters, so the
// server's SetLogFormat (which sets every sink's) leaves them alone.
class TapSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
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
    standard_.format(msg, standard);
    json_.format(msg, json);
    target_->Line(msg.level, std::string_view(standard.data(), standard.size()),
                  std::string_view(json.data(), json.size()));
  }
  void flush_() override {}
  void set_pattern_(const std::string&) override {}
  void set_formatter_(std::unique_ptr<spdlog::formatter>) override {}

 private:
  LogTapTarget* target_ = nullptr;  // guarded by mutex_
  spdlog::pattern_formatter standard_;
  JsonFormatter json_;
};

struct TapState {
  std::mutex mu;
  std::shared_ptr<TapSink> sink;                                 // set once by InstallLogTap
  spdlog::level::level_enum server_level = spdlog::level::info;  // guarded by mu
  std::multiset<int> holds;                                      // guarded by mu
};

TapState& Tap() {
  static TapState* state = new TapState();  // never destroyed: loggers outlive statics
  return *state;
}

std::atomic<bool> g_json_format{false};

// The logger's level: the most detailed of the server's and the holds'; the
// server's own sinks keep the server's. Called with Tap().mu held.
void ApplyLevelsLocked(TapState& tap) {
  auto logger = spdlog::default_logger();
  int level = tap.server_level;
  if (!tap.holds.empty()) level = std::min(level, *tap.holds.begin());
  for (const auto& sink : logger->sinks()) {
    if (sink != tap.sink) sink->set_level(tap.server_level);
  }
  logger->set_level(static_cast<spdlog::level::level_enum>(level));
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
  if (tap.sink == nullptr) {
    spdlog::set_level(parsed);
    return true;
  }
  tap.server_level = parsed;
  ApplyLevelsLocked(tap);
  return true;
}

void InstallLogTap() {
  TapState& tap = Tap();
  std::scoped_lock lock(tap.mu);
  if (tap.sink != nullptr) return;
  auto logger = spdlog::default_logger();
  tap.server_level = logger->level();
  tap.sink = std::make_shared<TapSink>();
  tap.sink->set_level(spdlog::level::trace);
  logger->sinks().push_back(tap.sink);
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
    spdlog::set_formatter(std::make_unique<spdlog::pattern_formatter>());
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
