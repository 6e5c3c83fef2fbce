// sys/plugins/catalog: the built-in engines and auth methods, read-only.
#include <gtest/gtest.h>

#include "core/core_fixture.h"
#include "core/system_backend.h"

namespace coffer::core {
namespace {

using logical::Json;
using logical::Operation;

class PluginCatalogTest : public CoreFixture {};

TEST_F(PluginCatalogTest, ListsTheBuiltinsByType) {
  logical::Response all = Call(Operation::kRead, "sys/plugins/catalog");
  ASSERT_EQ(all.http_status, 200) << all.data.dump();
  EXPECT_EQ(all.data["auth"], Json::array({"approle", "cert", "github", "jwt", "kubernetes", "ldap",
                                           "oidc", "userpass"}));
  EXPECT_EQ(all.data["database"], Json::array({"postgresql-database-plugin"}));
  EXPECT_EQ(all.data["secret"], Json::array({"database", "kv", "transit"}));
  ASSERT_EQ(all.data["detailed"].size(), 12u);
  const Json& first = all.data["detailed"][0];
  EXPECT_EQ(first["type"], "auth");
  EXPECT_EQ(first["name"], "approle");
  EXPECT_EQ(first["builtin"], true);
  EXPECT_EQ(first["version"], "v" + std::string(CofferVersion()) + "+builtin");
  // Every plugin listed can be mounted.
  for (const auto& name : all.data["secret"]) {
    Json body{{"type", name}};
    logical::Response m = Call(Operation::kUpdate, "sys/mounts/p-" + name.get<std::string>(), body);
    EXPECT_LT(m.http_status, 300) << name << ": " << m.data.dump();
  }
  for (const auto& name : all.data["auth"]) {
    Json body{{"type", name}};
    logical::Response m = Call(Operation::kUpdate, "sys/auth/p-" + name.get<std::string>(), body);
    EXPECT_LT(m.http_status, 300) << name << ": " << m.data.dump();
  }

  logical::Response typed = Call(Operation::kList, "sys/plugins/catalog/secret/");
  ASSERT_EQ(typed.http_status, 200);
  EXPECT_EQ(typed.data["keys"], all.data["secret"]);
}

TEST_F(PluginCatalogTest, ReadsOneAndRefusesRegistration) {
  logical::Response kv = Call(Operation::kRead, "sys/plugins/catalog/secret/kv");
  ASSERT_EQ(kv.http_status, 200) << kv.data.dump();
  EXPECT_EQ(kv.data["name"], "kv");
  EXPECT_EQ(kv.data["builtin"], true);
  EXPECT_EQ(kv.data["command"], "");
  EXPECT_EQ(Call(Operation::kRead, "sys/plugins/catalog/secret/nope").http_status, 404);
  EXPECT_EQ(Call(Operation::kRead, "sys/plugins/catalog/auth/kv").http_status, 404);
  logical::Response bad_type = Call(Operation::kList, "sys/plugins/catalog/widget");
  EXPECT_EQ(bad_type.http_status, 400);

  logical::Response reg = Call(Operation::kUpdate, "sys/plugins/catalog/secret/mine",
                               Json{{"sha256", std::string(64, 'a')}, {"command", "mine"}});
  EXPECT_EQ(reg.http_status, 400);
  ASSERT_TRUE(reg.raw.has_value());
  EXPECT_NE(reg.raw->dump().find("external plugins are not supported"), std::string::npos);
  EXPECT_EQ(Call(Operation::kDelete, "sys/plugins/catalog/secret/kv").http_status, 400);
  EXPECT_EQ(Call(Operation::kRead, "sys/plugins/catalog/secret/mine").http_status, 404);
}

}  // namespace
}  // namespace coffer::core
