#include "common/log.h"

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

namespace coffer {
namespace {

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

TEST(JsonLogFormatTest, EachLineIsOneJsonObjectWithVaultsKeys) {
  std::ostringstream os;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(os);
  spdlog::logger logger("core", sink);
  logger.set_formatter(MakeJsonLogFormatter());
  logger.set_level(spdlog::level::trace);
  logger.warn("mount \"{}\" said:\nline two\t\x01", "kv/");
  logger.error("not UTF-8: \xff\xfe end");
  logger.info("plain");

  std::vector<std::string> lines = Lines(os.str());
  ASSERT_EQ(lines.size(), 3U) << os.str();
  auto first = nlohmann::json::parse(lines[0]);
  EXPECT_EQ(first["@level"], "warn");
  EXPECT_EQ(first["@message"], "mount \"kv/\" said:\nline two\t\x01");
  EXPECT_EQ(first["@module"], "core");
  EXPECT_TRUE(std::regex_match(first["@timestamp"].get<std::string>(),
                               std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z)")))
      << first["@timestamp"];
  EXPECT_EQ(first.size(), 4U);

  auto second = nlohmann::json::parse(lines[1]);
  EXPECT_EQ(second["@level"], "error");
  EXPECT_EQ(second["@message"], "not UTF-8: \xEF\xBF\xBD\xEF\xBF\xBD end");
  EXPECT_EQ(nlohmann::json::parse(lines[2])["@level"], "info");
}

TEST(JsonLogFormatTest, TheDefaultLoggerIsNamedCoffer) {
  std::ostringstream os;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(os);
  auto previous = spdlog::default_logger();
  spdlog::set_default_logger(std::make_shared<spdlog::logger>("", sink));
  ASSERT_TRUE(SetLogFormat("json"));
  spdlog::info("started");
  ASSERT_TRUE(SetLogFormat("standard"));
  spdlog::info("plain again");
  EXPECT_FALSE(SetLogFormat("xml"));
  spdlog::set_default_logger(previous);

  std::vector<std::string> lines = Lines(os.str());
  ASSERT_EQ(lines.size(), 2U) << os.str();
  auto json = nlohmann::json::parse(lines[0]);
  EXPECT_EQ(json["@module"], "coffer");
  EXPECT_EQ(json["@message"], "started");
  EXPECT_FALSE(nlohmann::json::accept(lines[1]));
  EXPECT_NE(lines[1].find("[info] plain again"), std::string::npos) << lines[1];
}

// The tap (sys/monitor): a monitor gets lines at its own level, also below
// the server's, while the server's sink keeps the server's level; nothing
// reaches a detached target.
TEST(LogTapTest, MonitorsGetTheirLevelAndTheServerKeepsItsOwn) {
  struct Target : LogTapTarget {
    std::vector<std::pair<spdlog::level::level_enum, std::string>> standard;
    std::vector<std::string> json;
    void Line(spdlog::level::level_enum level, std::string_view text,
              std::string_view as_json) override {
      standard.emplace_back(level, std::string(text));
      json.emplace_back(as_json);
    }
  } target;
  std::ostringstream os;
  auto previous = spdlog::default_logger();
  spdlog::set_default_logger(
      std::make_shared<spdlog::logger>("", std::make_shared<spdlog::sinks::ostream_sink_mt>(os)));
  ASSERT_TRUE(SetLogLevel("info"));
  InstallLogTap();
  SetLogTapTarget(&target);
  spdlog::debug("wanted by nobody");
  {
    auto hold = HoldLogLevel(spdlog::level::debug);
    auto second = HoldLogLevel(spdlog::level::warn);
    spdlog::debug("for the monitor");
    spdlog::info("for both");
  }
  spdlog::debug("wanted by nobody again");
  ASSERT_TRUE(SetLogLevel("warn"));
  spdlog::info("below the server");
  spdlog::warn("a warning");
  ClearLogTapTarget(&target);
  spdlog::warn("after detaching");
  ASSERT_TRUE(SetLogLevel("info"));
  spdlog::set_default_logger(previous);

  ASSERT_EQ(target.standard.size(), 3U) << os.str();
  EXPECT_EQ(target.standard[0].first, spdlog::level::debug);
  EXPECT_NE(target.standard[0].second.find("[debug] for the monitor"), std::string::npos);
  EXPECT_NE(target.standard[1].second.find("[info] for both"), std::string::npos);
  EXPECT_NE(target.standard[2].second.find("[warning] a warning"), std::string::npos);
  EXPECT_EQ(nlohmann::json::parse(target.json[0])["@message"], "for the monitor");
  EXPECT_EQ(nlohmann::json::parse(target.json[2])["@level"], "warn");
  std::vector<std::string> lines = Lines(os.str());
  ASSERT_EQ(lines.size(), 3U) << os.str();
  EXPECT_NE(lines[0].find("for both"), std::string::npos);
  EXPECT_NE(lines[1].find("a warning"), std::string::npos);
  EXPECT_NE(lines[2].find("after detaching"), std::string::npos);
}

// Named loggers: "name: " before the message in the standard format, the
// name as "@module" in JSON, and a level of their own that gates the
// server's sinks while a monitor's hold still reaches the tap.
TEST(NamedLoggerTest, EachHasItsNameAndItsOwnLevel) {
  struct Target : LogTapTarget {
    std::vector<std::string> standard;
    void Line(spdlog::level::level_enum, std::string_view text, std::string_view) override {
      standard.emplace_back(text);
    }
  } target;
  std::ostringstream os;
  auto previous = spdlog::default_logger();
  spdlog::set_default_logger(
      std::make_shared<spdlog::logger>("", std::make_shared<spdlog::sinks::ostream_sink_mt>(os)));
  ASSERT_TRUE(SetLogFormat("standard"));
  ASSERT_TRUE(SetLogLevel("info"));
  InstallLogTap();
  SetLogTapTarget(&target);
  Log(LogModule::kExpiration).info("lease {} revoked", "a/b");
  Log(LogModule::kExpiration).debug("below its level");
  ASSERT_TRUE(SetNamedLogLevel("expiration", spdlog::level::debug));
  EXPECT_FALSE(SetNamedLogLevel("no-such-logger", spdlog::level::debug));
  Log(LogModule::kExpiration).debug("now at its level");
  Log(LogModule::kCore).debug("core stays at info");
  spdlog::debug("so does the default logger");
  {
    auto hold = HoldLogLevel(spdlog::level::debug);
    Log(LogModule::kCore).debug("for the monitor only");
  }
  ASSERT_TRUE(SetLogFormat("json"));
  Log(LogModule::kCore).warn("as JSON");
  ASSERT_TRUE(SetLogFormat("standard"));
  SetAllLogLevels(spdlog::level::err);
  Log(LogModule::kExpiration).warn("dropped everywhere");
  ClearLogTapTarget(&target);
  ASSERT_TRUE(SetLogLevel("info"));
  spdlog::set_default_logger(previous);

  std::vector<std::string> lines = Lines(os.str());
  ASSERT_EQ(lines.size(), 3U) << os.str();
  EXPECT_TRUE(std::regex_search(
      lines[0],
      std::regex(
          R"(^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}\] \[info\] expiration: lease a/b revoked$)")))
      << lines[0];
  EXPECT_NE(lines[1].find("] [debug] expiration: now at its level"), std::string::npos) << lines[1];
  auto json = nlohmann::json::parse(lines[2]);
  EXPECT_EQ(json["@module"], "core");
  EXPECT_EQ(json["@message"], "as JSON");
  ASSERT_EQ(target.standard.size(), 4U);
  EXPECT_NE(target.standard[2].find("[debug] core: for the monitor only"), std::string::npos)
      << target.standard[2];
  const auto levels = NamedLogLevels();
  ASSERT_FALSE(levels.empty());
  EXPECT_TRUE(std::is_sorted(levels.begin(), levels.end()));
  for (const auto& [name, level] : levels) EXPECT_EQ(level, spdlog::level::info) << name;
}

}  // namespace
}  // namespace coffer
