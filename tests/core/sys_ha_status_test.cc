// sys/ha-status and sys/step-down on a single node: the node is the only
// member and the active one; a step-down (sudo) succeeds and changes nothing.

#include <unistd.h>

#include "core_fixture.h"

namespace coffer::core {
namespace {

using logical::Json;
using logical::Operation;

using HaStatusTest = CoreFixture;

TEST_F(HaStatusTest, TheNodeIsTheOnlyActiveMember) {
  auto r = Call(Operation::kRead, "sys/ha-status");
  ASSERT_EQ(r.http_status, 200);
  // In the envelope's data and at the top level, as Vault's clients read it.
  ASSERT_TRUE(r.raw.has_value());
  ASSERT_TRUE(r.raw->contains("nodes")) << r.raw->dump();
  EXPECT_EQ(r.raw->at("data").at("nodes"), r.raw->at("nodes"));
  const Json& nodes = r.raw->at("nodes");
  ASSERT_EQ(nodes.size(), 1u);
  EXPECT_EQ(nodes[0].at("active_node"), true);
  char host[256] = {};
  ASSERT_EQ(gethostname(host, sizeof(host) - 1), 0);
  EXPECT_EQ(nodes[0].at("hostname"), std::string(host));
  EXPECT_TRUE(nodes[0].at("last_echo").is_null());
  EXPECT_FALSE(nodes[0].at("version").get<std::string>().empty());
  EXPECT_EQ(Call(Operation::kUpdate, "sys/ha-status").http_status, 405);
}

TEST_F(HaStatusTest, StepDownNeedsSudoAndChangesNothing) {
  EXPECT_EQ(Call(Operation::kUpdate, "sys/step-down").http_status, 204);
  EXPECT_EQ(Call(Operation::kRead, "sys/mounts").http_status, 200);  // still serving
  EXPECT_EQ(Call(Operation::kRead, "sys/step-down").http_status, 405);
  const std::string no_sudo = TokenWith(R"(path "sys/step-down" { capabilities = ["update"] })");
  EXPECT_EQ(Call(Operation::kUpdate, "sys/step-down", Json::object(), no_sudo).http_status, 403);
  const std::string sudo =
      TokenWith(R"(path "sys/step-down" { capabilities = ["update", "sudo"] })");
  EXPECT_EQ(Call(Operation::kUpdate, "sys/step-down", Json::object(), sudo).http_status, 204);
  EXPECT_EQ(Call(Operation::kRead, "sys/ha-status", Json::object(), no_sudo).http_status, 403);
  EXPECT_EQ(Call(Operation::kRead, "sys/ha-status", Json::object(), "").http_status, 403);
}

}  // namespace
}  // namespace coffer::core
