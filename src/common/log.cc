#include "common/log.h"

#include <fmt/format.h>
#include <spdlog/pattern_formatter.h>
#include <time.h>

#include <chrono>
#include <nlohmann/json.hpp>
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

}  // namespace

bool SetLogLevel(std::string_view level) {
  std::string name(level);
  if (name == "warning") name = "warn";
  auto parsed = spdlog::level::from_str(name);
  // from_str answers "off" for names it does not know.
  if (parsed == spdlog::level::off && name != "off") return false;
  spdlog::set_level(parsed);
  return true;
}

std::unique_ptr<spdlog::formatter> MakeJsonLogFormatter() {
  return std::make_unique<JsonFormatter>();
}

bool SetLogFormat(std::string_view format) {
  if (format == "standard") {
    spdlog::set_formatter(std::make_unique<spdlog::pattern_formatter>());
    return true;
  }
  if (format == "json") {
    spdlog::set_formatter(MakeJsonLogFormatter());
    return true;
  }
  return false;
}

}  // namespace coffer
