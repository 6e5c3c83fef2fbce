// When a pass asks to come back: the static interval, or the configured
// share of the shortest lease among the secrets it read.
#include "agent/renderer.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>

namespace coffer::agent {
namespace {

class RendererTimingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/coffer-renderer-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // One template that reads a leased secret (lease_duration 100 s).
  PassResult Pass(const AgentConfig& base) {
    AgentConfig config = base;
    TemplateConfig t;
    t.contents = R"({{ with secret "db/creds/app" }}{{ .Data.username }}{{ end }})";
    t.destination = dir_ + "/out";
    config.templates.push_back(t);
    Result<std::unique_ptr<Renderer>> r = Renderer::Create(config);
    EXPECT_TRUE(r.has_value()) << r.error().message();
    if (!r) return {};
    return (*r)->RenderAll([](const std::string&, const Json&) -> Result<Json> {
      return Json{{"lease_id", "db/creds/app/abc"},
                  {"lease_duration", 100},
                  {"renewable", true},
                  {"data", {{"username", "v-app"}}}};
    });
  }

  std::string dir_;
};

TEST_F(RendererTimingTest, ALeasedSecretIsReadAgainAtTheThreshold) {
  AgentConfig config;
  PassResult by_default = Pass(config);
  EXPECT_TRUE(by_default.errors.empty());
  EXPECT_EQ(by_default.next.count(), 66);  // two thirds of 100 s

  config.lease_renewal_threshold = 0.9;
  EXPECT_EQ(Pass(config).next.count(), 90);

  // The static interval when it comes sooner.
  config.static_secret_render_interval = std::chrono::seconds(30);
  EXPECT_EQ(Pass(config).next.count(), 30);
}

}  // namespace
}  // namespace coffer::agent
