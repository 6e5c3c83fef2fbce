// sys/loggers: the named loggers' levels, changed and reverted while the
// server runs.
#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>

#include <sstream>

#include "common/log.h"
#include "core/core_fixture.h"

namespace coffer::core {
namespace {

using logical::Json;
using logical::Operation;

class LoggersTest : public CoreFixture {
 protected:
  void SetUp() override {
    CoreFixture::SetUp();
    ASSERT_TRUE(SetLogLevel("warn"));  // the configured level DELETE goes back to
  }
  void TearDown() override {
    ASSERT_TRUE(SetLogLevel("info"));
    CoreFixture::TearDown();
  }
};

TEST_F(LoggersTest, ReadsSetsAndRevertsLevels) {
  logical::Response all = Call(Operation::kRead, "sys/loggers");
  ASSERT_EQ(all.http_status, 200) << all.data.dump();
  EXPECT_EQ(all.data["expiration"], "warn");
  EXPECT_EQ(all.data["core"], "warn");
  EXPECT_EQ(all.data.size(), NamedLogLevels().size());

  // One logger, then all of them; each read shows what was set.
  EXPECT_EQ(
      Call(Operation::kUpdate, "sys/loggers/expiration", Json{{"level", "DEBUG"}}).http_status,
      204);
  logical::Response one = Call(Operation::kRead, "sys/loggers/expiration");
  EXPECT_EQ(one.data, (Json{{"expiration", "debug"}}));
  EXPECT_EQ(Call(Operation::kRead, "sys/loggers/core").data, (Json{{"core", "warn"}}));
  EXPECT_TRUE(Log(LogModule::kExpiration).should_log(spdlog::level::debug));
  EXPECT_FALSE(Log(LogModule::kCore).should_log(spdlog::level::info));

  EXPECT_EQ(Call(Operation::kUpdate, "sys/loggers", Json{{"level", "trace"}}).http_status, 204);
  const Json traced = Call(Operation::kRead, "sys/loggers").data;
  for (const auto& [name, level] : traced.items()) EXPECT_EQ(level, "trace") << name;
  EXPECT_TRUE(spdlog::default_logger()->should_log(spdlog::level::trace));

  // DELETE goes back to the configured level, one logger or all.
  EXPECT_EQ(Call(Operation::kDelete, "sys/loggers/core").http_status, 204);
  EXPECT_EQ(Call(Operation::kRead, "sys/loggers/core").data, (Json{{"core", "warn"}}));
  EXPECT_EQ(Call(Operation::kRead, "sys/loggers/kv").data, (Json{{"kv", "trace"}}));
  EXPECT_EQ(Call(Operation::kDelete, "sys/loggers").http_status, 204);
  const Json reverted = Call(Operation::kRead, "sys/loggers").data;
  EXPECT_EQ(reverted, all.data);
  EXPECT_FALSE(spdlog::default_logger()->should_log(spdlog::level::info));
}

TEST_F(LoggersTest, BadRequestsChangeNothing) {
  struct Case {
    std::string path;
    Json body;
    std::string error;
  } cases[] = {
      {"sys/loggers", Json::object(), "level is required"},
      {"sys/loggers", Json{{"level", " "}}, "level is empty"},
      {"sys/loggers", Json{{"level", "loud"}}, "invalid level provided: unknown log level: loud"},
      {"sys/loggers", Json{{"level", 3}}, "level must be a string"},
      {"sys/loggers/core", Json{{"level", "critical"}}, "unknown log level: critical"},
      {"sys/loggers/nope", Json{{"level", "debug"}}, "logger \"nope\" not found"},
  };
  const Json before = Call(Operation::kRead, "sys/loggers").data;
  for (const auto& c : cases) {
    logical::Response r = Call(Operation::kUpdate, c.path, c.body);
    EXPECT_EQ(r.http_status, 400) << c.path << " " << c.body.dump();
    const Json body = r.raw ? *r.raw : r.data;
    ASSERT_TRUE(body["errors"].is_array()) << body.dump();
    EXPECT_NE(body["errors"][0].get<std::string>().find(c.error), std::string::npos) << body.dump();
  }
  EXPECT_EQ(Call(Operation::kDelete, "sys/loggers/nope").http_status, 400);
  // An unknown logger reads as nothing, as in Vault.
  logical::Response unknown = Call(Operation::kRead, "sys/loggers/nope");
  EXPECT_EQ(unknown.http_status, 200);
  EXPECT_TRUE(unknown.data.empty()) << unknown.data.dump();
  EXPECT_EQ(Call(Operation::kRead, "sys/loggers").data, before);
  EXPECT_EQ(Call(Operation::kList, "sys/loggers").http_status, 405);
}

}  // namespace
}  // namespace coffer::core
