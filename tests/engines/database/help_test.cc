#include "logical/help.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "common/clock.h"
#include "engines/database/backend.h"
#include "engines/database/database.h"
#include "help_test_util.h"
#include "storage/inmem/inmem_backend.h"

namespace coffer::engines::database {
namespace {

class DatabaseHelpTest : public ::testing::Test {
 protected:
  void SetUp() override {
    logical::BackendConfig config{storage_, clock_, "database/", "database"};
    auto engine = NewDatabaseBackend(config, DatabaseOptions{.rotation_thread = false});
    ASSERT_TRUE(engine.has_value()) << engine.error().ToString();
    engine_ = std::move(engine).value();
    ASSERT_NE(dynamic_cast<DatabaseBackend*>(engine_.get()), nullptr);
  }

  logical::EngineHelp Help() const { return engine_->Help(); }

  // The help text for `path`, or "" (with a test failure) when there is none.
  std::string HelpText(std::string_view path) const {
    return logical::testing::HelpTextOf(Help(), path);
  }

  storage::InmemBackend storage_;
  FakeClock clock_;
  std::unique_ptr<logical::Backend> engine_;
};

TEST_F(DatabaseHelpTest, DescribesTheEngineAndItsRoutes) {
  const logical::EngineHelp help = Help();
  EXPECT_NE(help.description.find("PostgreSQL"), std::string_view::npos);
  EXPECT_EQ(help.routes.size(), 11u);
  logical::testing::ExpectWellFormedTable(help);
}

TEST_F(DatabaseHelpTest, NamedRoute) {
  const std::string text = HelpText("roles/readonly");
  EXPECT_NE(text.find("Request:        roles/readonly\n"), std::string::npos) << text;
  EXPECT_NE(text.find("Matching Route: ^roles/(?P<name>[^/]+)$\n"), std::string::npos) << text;
  EXPECT_NE(text.find("creation_statements"), std::string::npos) << text;
  EXPECT_NE(HelpText("config/pg").find("Matching Route: ^config/(?P<name>[^/]+)$\n"),
            std::string::npos);
}

TEST_F(DatabaseHelpTest, ListRoutesAndTheirEntries) {
  // "static-roles" is its own route, not a "roles" one, with or without a
  // trailing slash.
  EXPECT_NE(HelpText("static-roles").find("Matching Route: ^static-roles$\n"), std::string::npos);
  EXPECT_NE(HelpText("static-roles/").find("Matching Route: ^static-roles$\n"), std::string::npos);
  const std::string text = HelpText("static-roles/app");
  EXPECT_NE(text.find("Matching Route: ^static-roles/(?P<name>[^/]+)$\n"), std::string::npos)
      << text;
  EXPECT_EQ(text.find("Matching Route: ^roles/"), std::string::npos) << text;
}

TEST_F(DatabaseHelpTest, UnknownPathIsNotFound) {
  for (std::string_view path : {"nope/x", "creds", "roles/a/b", "rotate-root"}) {
    auto r = logical::RenderHelp(Help(), path);
    ASSERT_FALSE(r.has_value()) << path;
    EXPECT_EQ(r.error().code(), Code::kNotFound) << path;
  }
}

}  // namespace
}  // namespace coffer::engines::database
