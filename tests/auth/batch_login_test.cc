// token_type=batch on auth method roles: the role stores it, the login
// answer carries it, and the token store turns it (with the mount's
// token_type) into a batch token. The full HTTP path is covered by
// tests/integration/test_batch_tokens.py.
#include <gtest/gtest.h>

#include "auth/auth_test_util.h"
#include "auth/token_fields.h"
#include "token/token_store.h"
#include "token/token_type.h"

namespace coffer::auth {
namespace {

using namespace ::coffer::auth::testing;  // NOLINT

class BatchLoginTest : public ::testing::Test {
 protected:
  Result<Response> Do(const std::string& method, logical::Backend& m, Operation op,
                      const std::string& path, Json body = Json::object()) {
    return m.HandleRequest(MakeRequest(method, op, path, std::move(body)));
  }
  // What core/login.cc does with a login answer, minus the pipeline.
  Result<token::CreatedToken> Mint(const logical::LoginResult& login,
                                   std::string_view mount_type = "") {
    token::TokenRequest tr;
    tr.policies = login.policies;
    tr.ttl = std::chrono::seconds(login.ttl);
    tr.period = std::chrono::seconds(login.period);
    tr.num_uses = login.num_uses;
    tr.batch = token::ResolveLoginType(login.token_type, mount_type);
    return tokens_.CreateToken(tr);
  }

  storage::InmemBackend storage_, token_view_;
  FakeClock clock_;
  token::TokenStore tokens_{token_view_, clock_};
};

TEST_F(BatchLoginTest, AppRoleRoleWithBatchTokenType) {
  ASSERT_TRUE(tokens_.Load().ok());
  auto approle = MakeMethod(storage_, clock_, "approle");
  ASSERT_TRUE(Do("approle", *approle, Operation::kUpdate, "role/ci",
                 {{"token_policies", "ci"}, {"token_type", "batch"}, {"token_ttl", "10m"}}));
  auto read = Do("approle", *approle, Operation::kRead, "role/ci");
  ASSERT_TRUE(read.has_value());
  EXPECT_EQ(read->data["token_type"], "batch");
  auto role_id = Do("approle", *approle, Operation::kRead, "role/ci/role-id");
  auto secret = Do("approle", *approle, Operation::kUpdate, "role/ci/secret-id");
  ASSERT_TRUE(role_id.has_value() && secret.has_value());
  auto login =
      Do("approle", *approle, Operation::kUpdate, "login",
         {{"role_id", role_id->data["role_id"]}, {"secret_id", secret->data["secret_id"]}});
  ASSERT_TRUE(login.has_value()) << login.error().ToString();
  ASSERT_TRUE(login->login.has_value());
  EXPECT_EQ(login->login->token_type, "batch");

  const std::size_t keys_before = token_view_.List("").value().size();
  auto minted = Mint(*login->login);
  ASSERT_TRUE(minted.has_value()) << minted.error().ToString();
  EXPECT_TRUE(minted->id.view().starts_with("hvb."));
  EXPECT_TRUE(minted->entry->batch);
  EXPECT_EQ(minted->entry->ttl, 600);
  EXPECT_EQ(token_view_.List("").value().size(), keys_before);  // nothing stored
  auto found = tokens_.Lookup(minted->id.view());
  ASSERT_TRUE(found.has_value() && *found != nullptr);
  EXPECT_EQ((*found)->policies, (std::vector<std::string>{"ci", "default"}));
  // A mount tuned to "service" overrides the role.
  auto forced = Mint(*login->login, "service");
  ASSERT_TRUE(forced.has_value());
  EXPECT_TRUE(forced->id.view().starts_with("hvs."));
}

TEST_F(BatchLoginTest, UserpassDefaultRoleFollowsTheMount) {
  ASSERT_TRUE(tokens_.Load().ok());
  auto userpass = MakeMethod(storage_, clock_, "userpass");
  ASSERT_TRUE(Do("userpass", *userpass, Operation::kUpdate, "users/alice",
                 {{"password", "pw"}, {"token_policies", "dev"}}));
  auto login = Do("userpass", *userpass, Operation::kUpdate, "login/alice", {{"password", "pw"}});
  ASSERT_TRUE(login.has_value() && login->login.has_value());
  EXPECT_EQ(login->login->token_type, "default");
  auto service = Mint(*login->login);
  ASSERT_TRUE(service.has_value());
  EXPECT_FALSE(service->entry->batch);
  auto batch = Mint(*login->login, "default-batch");
  ASSERT_TRUE(batch.has_value());
  EXPECT_TRUE(batch->entry->batch);

  ASSERT_TRUE(Do("userpass", *userpass, Operation::kUpdate, "users/bob",
                 {{"password", "pw"}, {"token_type", "default-batch"}}));
  auto bob = Do("userpass", *userpass, Operation::kUpdate, "login/bob", {{"password", "pw"}});
  ASSERT_TRUE(bob.has_value() && bob->login.has_value());
  auto bob_token = Mint(*bob->login);
  ASSERT_TRUE(bob_token.has_value());
  EXPECT_TRUE(bob_token->entry->batch);
}

TEST(BatchTokenFieldsTest, BatchWithPeriodOrUsesIsRefused) {
  for (Json body : {Json{{"token_type", "batch"}, {"token_period", "1h"}},
                    Json{{"token_type", "default-batch"}, {"token_num_uses", 3}}}) {
    logical::Request r;
    r.data = body;
    TokenFields f;
    Status s = f.Update(r);
    EXPECT_EQ(s.code(), Code::kInvalidArgument) << body.dump();
  }
  logical::Request ok;
  ok.data = {{"token_type", "batch"}, {"token_ttl", "5m"}};
  TokenFields f;
  ASSERT_TRUE(f.Update(ok).ok());
  EXPECT_EQ(f.ToLogin().token_type, "batch");
  EXPECT_EQ(TokenFields::FromStored(f.ToStored()).token_type, "batch");
  logical::Request bad;
  bad.data = {{"token_type", "sideways"}};
  EXPECT_FALSE(TokenFields().Update(bad).ok());
}

}  // namespace
}  // namespace coffer::auth
