// token_bound_cidrs carried by tokens: a token bound to CIDR blocks is
// refused from any other address, on every path, and the refusal spends
// nothing. The binding comes from a token role, a parent or a login.
#include <gtest/gtest.h>

#include "core/core_fixture.h"

namespace coffer::core {
namespace {

using logical::Json;
using logical::Operation;

constexpr char kInside[] = "10.1.2.3";
constexpr char kOutside[] = "192.168.7.7";

class BoundCidrsTest : public CoreFixture {
 protected:
  void SetUp() override {
    CoreFixture::SetUp();
    ASSERT_EQ(Call(Operation::kUpdate, "sys/mounts/kv", {{"type", "kv"}}).http_status, 204);
    ASSERT_EQ(Call(Operation::kUpdate, "kv/app", {{"pw", "s3cret"}}).http_status, 204);
    ASSERT_EQ(Call(Operation::kUpdate, "sys/policy/app",
                   {{"policy", R"(path "kv/app" { capabilities = ["read"] })"}})
                  .http_status,
              204);
  }
  // A token from role "ci" (bound to 10.0.0.0/8), with extra create fields.
  Json FromRole(Json body = Json::object()) {
    EXPECT_EQ(Call(Operation::kUpdate, "auth/token/roles/ci",
                   {{"allowed_policies", {"app"}}, {"token_bound_cidrs", {"10.0.0.0/8"}}})
                  .http_status,
              204);
    body["policies"] = {"app"};
    auto r = Call(Operation::kUpdate, "auth/token/create/ci", body);
    EXPECT_EQ(r.http_status, 200) << r.data.dump();
    return r.auth;
  }
  int Status(Operation op, const std::string& path, const std::string& token,
             const std::string& from, Json body = Json::object()) {
    return Call(op, path, std::move(body), token, from).http_status;
  }
};

TEST_F(BoundCidrsTest, ARoleBindsItsTokensToItsBlocks) {
  auto role = Call(Operation::kRead, "auth/token/roles/ci");
  EXPECT_EQ(role.http_status, 404);
  const std::string t = FromRole({{"num_uses", 3}})["client_token"];
  EXPECT_EQ(Call(Operation::kRead, "auth/token/roles/ci").data["token_bound_cidrs"],
            Json::parse(R"(["10.0.0.0/8"])"));

  auto self = Call(Operation::kRead, "auth/token/lookup-self", Json::object(), t, kInside);
  ASSERT_EQ(self.http_status, 200) << self.data.dump();
  EXPECT_EQ(self.data["bound_cidrs"], Json::parse(R"(["10.0.0.0/8"])"));
  EXPECT_EQ(self.data["num_uses"], 2);
  auto read = Call(Operation::kRead, "kv/app", Json::object(), t, kInside);
  ASSERT_EQ(read.http_status, 200);
  EXPECT_EQ(read.data["pw"], "s3cret");

  // From elsewhere: refused on every path, and no use is spent.
  EXPECT_EQ(Status(Operation::kRead, "kv/app", t, kOutside), 403);
  EXPECT_EQ(Status(Operation::kRead, "auth/token/lookup-self", t, kOutside), 403);
  EXPECT_EQ(Status(Operation::kUpdate, "auth/token/renew-self", t, kOutside), 403);
  EXPECT_EQ(Status(Operation::kUpdate, "auth/token/revoke-self", t, kOutside), 403);
  EXPECT_EQ(Status(Operation::kRead, "sys/internal/ui/mounts", t, kOutside), 403);
  EXPECT_EQ(Status(Operation::kRead, "kv/app", t, "not-an-address"), 403);
  EXPECT_EQ(Status(Operation::kRead, "kv/app", t, ""), 403);
  auto looked = Call(Operation::kUpdate, "auth/token/lookup", {{"token", t}});
  ASSERT_EQ(looked.http_status, 200);
  EXPECT_EQ(looked.data["num_uses"], 1);  // only the two reads from inside

  // A block that is not one is refused, and the role keeps its binding.
  auto bad = Call(Operation::kUpdate, "auth/token/roles/ci", {{"token_bound_cidrs", {"10.0.0/8"}}});
  EXPECT_EQ(bad.http_status, 400);
  const std::string said = bad.raw ? bad.raw->dump() : bad.data.dump();
  EXPECT_NE(said.find("invalid CIDR block: 10.0.0/8"), std::string::npos) << said;
  EXPECT_EQ(Call(Operation::kRead, "auth/token/roles/ci").data["token_bound_cidrs"],
            Json::parse(R"(["10.0.0.0/8"])"));
}

TEST_F(BoundCidrsTest, ChildrenKeepTheParentsBindingAndRolesSetTheirOwn) {
  ASSERT_EQ(Call(Operation::kUpdate, "sys/policy/maker",
                 {{"policy", R"(path "auth/token/create" { capabilities = ["update"] }
path "auth/token/create/*" { capabilities = ["update"] }
path "kv/app" { capabilities = ["read"] })"}})
                .http_status,
            204);
  ASSERT_EQ(Call(Operation::kUpdate, "auth/token/roles/ci",
                 {{"allowed_policies", {"maker"}}, {"token_bound_cidrs", {"10.0.0.0/8"}}})
                .http_status,
            204);
  auto parent = Call(Operation::kUpdate, "auth/token/create/ci", {{"policies", {"maker"}}});
  ASSERT_EQ(parent.http_status, 200) << parent.data.dump();
  const std::string p = parent.auth["client_token"];

  auto child = Call(Operation::kUpdate, "auth/token/create", Json::object(), p, kInside);
  ASSERT_EQ(child.http_status, 200) << child.data.dump();
  const std::string c = child.auth["client_token"];
  EXPECT_EQ(Status(Operation::kRead, "kv/app", c, kInside), 200);
  EXPECT_EQ(Status(Operation::kRead, "kv/app", c, kOutside), 403);

  // A role decides for its tokens: one without blocks gives an unbound token.
  ASSERT_EQ(Call(Operation::kUpdate, "auth/token/roles/open", {{"allowed_policies", {"maker"}}})
                .http_status,
            204);
  auto open = Call(Operation::kUpdate, "auth/token/create/open", Json::object(), p, kInside);
  ASSERT_EQ(open.http_status, 200) << open.data.dump();
  EXPECT_EQ(Status(Operation::kRead, "kv/app", open.auth["client_token"], kOutside), 200);

  // A token that never expires is not bound (Vault): the root token's
  // child with the root policy, through the bound role.
  ASSERT_EQ(Call(Operation::kUpdate, "auth/token/roles/ci",
                 {{"allowed_policies", {"root"}}, {"token_bound_cidrs", {"10.0.0.0/8"}}})
                .http_status,
            204);
  auto root = Call(Operation::kUpdate, "auth/token/create/ci", {{"policies", {"root"}}});
  ASSERT_EQ(root.http_status, 200) << root.data.dump();
  EXPECT_EQ(Status(Operation::kRead, "kv/app", root.auth["client_token"], kOutside), 200);
}

TEST_F(BoundCidrsTest, BatchTokensCarryTheBinding) {
  const std::string t = FromRole({{"type", "batch"}})["client_token"];
  ASSERT_FALSE(t.starts_with("hvs.")) << t;
  EXPECT_EQ(Status(Operation::kRead, "kv/app", t, kInside), 200);
  EXPECT_EQ(Status(Operation::kRead, "kv/app", t, kOutside), 403);
}

TEST_F(BoundCidrsTest, ALoginTokenCarriesTheMethodsBinding) {
  ASSERT_EQ(Call(Operation::kUpdate, "sys/auth/userpass", {{"type", "userpass"}}).http_status, 204);
  ASSERT_EQ(Call(Operation::kUpdate, "auth/userpass/users/ci",
                 {{"password", "pw"},
                  {"token_policies", {"app"}},
                  {"token_bound_cidrs", {"10.0.0.0/8", "fd00::/8"}}})
                .http_status,
            204);
  auto login =
      Call(Operation::kUpdate, "auth/userpass/login/ci", {{"password", "pw"}}, "", kInside);
  ASSERT_EQ(login.http_status, 200) << login.data.dump();
  const std::string t = login.auth["client_token"];
  EXPECT_EQ(Status(Operation::kRead, "kv/app", t, kInside), 200);
  EXPECT_EQ(Status(Operation::kRead, "kv/app", t, "fd12::1"), 200);
  EXPECT_EQ(Status(Operation::kRead, "kv/app", t, kOutside), 403);
  EXPECT_EQ(Status(Operation::kRead, "kv/app", t, "fe80::1"), 403);
}

}  // namespace
}  // namespace coffer::core
