#include "auth/userpass/userpass.h"

#include <gtest/gtest.h>

#include "auth/auth_test_util.h"
#include "auth/userpass/password.h"

namespace coffer::auth::userpass {
namespace {

using namespace ::coffer::auth::testing;  // NOLINT

class UserpassTest : public ::testing::Test {
 protected:
  Result<Response> Do(Operation op, const std::string& path, Json body = Json::object()) {
    Request r = MakeRequest("userpass", op, path, std::move(body));
    return method_->HandleRequest(r);
  }

  storage::InmemBackend storage_;
  FakeClock clock_;
  std::unique_ptr<logical::Backend> method_ = MakeMethod(storage_, clock_, "userpass");
};

TEST(PasswordTest, HashesWithArgon2idAndVerifies) {
  auto hash = HashPassword("correct horse");
  ASSERT_TRUE(hash.has_value());
  EXPECT_TRUE(hash->starts_with("$argon2id$v=19$m=19456,t=2,p=1$")) << *hash;
  EXPECT_TRUE(VerifyPassword(*hash, "correct horse"));
  EXPECT_FALSE(VerifyPassword(*hash, "correct horsf"));
  EXPECT_FALSE(VerifyPassword("", "correct horse"));
  EXPECT_FALSE(VerifyPassword("$argon2id$garbage", "correct horse"));
  EXPECT_FALSE(NeedsRehash(*hash));
  // Salted: two hashes of one password differ.
  EXPECT_NE(*hash, *HashPassword("correct horse"));
  EXPECT_FALSE(VerifyAgainstDummy("correct horse"));
}

TEST_F(UserpassTest, CreateReadListDelete) {
  ASSERT_TRUE(Do(Operation::kUpdate, "users/Alice",
                 {{"password", "s3cret"}, {"token_policies", "dev,ops"}, {"token_ttl", "1h"}}));
  auto read = Do(Operation::kRead, "users/alice");
  ASSERT_TRUE(read.has_value());
  EXPECT_EQ(read->data["token_policies"], Json::array({"dev", "ops"}));
  EXPECT_EQ(read->data["policies"], Json::array({"dev", "ops"}));
  EXPECT_EQ(read->data["token_ttl"], 3600);
  EXPECT_FALSE(read->data.contains("password"));
  EXPECT_FALSE(read->data.contains("password_hash"));
  EXPECT_EQ(read->data.dump().find("argon2"), std::string::npos);

  auto list = Do(Operation::kList, "users");
  ASSERT_TRUE(list.has_value());
  EXPECT_EQ(list->data["keys"], Json::array({"alice"}));

  ASSERT_TRUE(Do(Operation::kDelete, "users/alice"));
  EXPECT_EQ(Do(Operation::kRead, "users/alice")->http_status, 404);
  EXPECT_EQ(Do(Operation::kList, "users")->http_status, 404);
}

TEST_F(UserpassTest, StoresOnlyTheHash) {
  ASSERT_TRUE(Do(Operation::kUpdate, "users/bob", {{"password", "plain-canary-123"}}));
  auto stored = storage_.Get("user/bob");
  ASSERT_TRUE(stored.has_value() && stored->has_value());
  EXPECT_EQ((*stored)->value.find("plain-canary-123"), std::string::npos);
  EXPECT_NE((*stored)->value.find("$argon2id$"), std::string::npos);
}

TEST_F(UserpassTest, CreateNeedsPassword) {
  auto r = Do(Operation::kUpdate, "users/carol", {{"token_policies", "dev"}});
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), Code::kInvalidArgument);
}

TEST_F(UserpassTest, LoginAnswersALoginResult) {
  ASSERT_TRUE(Do(Operation::kUpdate, "users/alice",
                 {{"password", "pw"},
                  {"token_policies", Json::array({"dev"})},
                  {"token_ttl", 600},
                  {"token_max_ttl", "2h"},
                  {"token_num_uses", 3}}));
  auto r = Do(Operation::kUpdate, "login/ALICE ", {{"password", "pw"}});
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  ASSERT_TRUE(r->login.has_value());
  EXPECT_EQ(r->login->policies, std::vector<std::string>{"dev"});
  EXPECT_EQ(r->login->metadata.at("username"), "alice");
  EXPECT_EQ(r->login->display_name, "alice");
  EXPECT_EQ(r->login->ttl, 600);
  EXPECT_EQ(r->login->max_ttl, 7200);
  EXPECT_EQ(r->login->num_uses, 3);
  EXPECT_TRUE(r->auth.is_null());  // the core mints the token, not the method
}

TEST_F(UserpassTest, WrongPasswordAndUnknownUserLookTheSame) {
  ASSERT_TRUE(Do(Operation::kUpdate, "users/alice", {{"password", "pw"}}));
  auto wrong = Do(Operation::kUpdate, "login/alice", {{"password", "nope"}});
  auto unknown = Do(Operation::kUpdate, "login/mallory", {{"password", "pw"}});
  ASSERT_FALSE(wrong.has_value());
  ASSERT_FALSE(unknown.has_value());
  EXPECT_EQ(wrong.error().code(), Code::kInvalidArgument);
  EXPECT_EQ(wrong.error().message(), "invalid username or password");
  EXPECT_EQ(unknown.error().code(), wrong.error().code());
  EXPECT_EQ(unknown.error().message(), wrong.error().message());
  auto missing = Do(Operation::kUpdate, "login/alice", Json::object());
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().message(), "missing password");
}

TEST_F(UserpassTest, PasswordAndPoliciesEndpoints) {
  ASSERT_TRUE(Do(Operation::kUpdate, "users/alice", {{"password", "old"}}));
  ASSERT_TRUE(Do(Operation::kUpdate, "users/alice/password", {{"password", "new"}}));
  EXPECT_FALSE(Do(Operation::kUpdate, "login/alice", {{"password", "old"}}).has_value());
  EXPECT_TRUE(Do(Operation::kUpdate, "login/alice", {{"password", "new"}}).has_value());

  ASSERT_TRUE(Do(Operation::kUpdate, "users/alice/policies", {{"policies", "a,b"}}));
  auto r = Do(Operation::kUpdate, "login/alice", {{"password", "new"}});
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->login->policies, (std::vector<std::string>{"a", "b"}));

  auto absent = Do(Operation::kUpdate, "users/nobody/password", {{"password", "x"}});
  ASSERT_FALSE(absent.has_value());
  EXPECT_EQ(absent.error().code(), Code::kInvalidArgument);
}

TEST_F(UserpassTest, UpdateKeepsThePasswordWhenNotGiven) {
  ASSERT_TRUE(Do(Operation::kUpdate, "users/alice", {{"password", "pw"}}));
  ASSERT_TRUE(Do(Operation::kUpdate, "users/alice", {{"token_policies", "x"}}));
  EXPECT_TRUE(Do(Operation::kUpdate, "login/alice", {{"password", "pw"}}).has_value());
}

TEST_F(UserpassTest, TokenBoundCidrsAreCheckedAtLogin) {
  ASSERT_TRUE(Do(Operation::kUpdate, "users/alice",
                 {{"password", "pw"}, {"token_bound_cidrs", "10.0.0.0/8"}}));
  auto r = Do(Operation::kUpdate, "login/alice", {{"password", "pw"}});
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), Code::kPermissionDenied);
  auto bad = Do(Operation::kUpdate, "users/alice", {{"token_bound_cidrs", "10.0.0.0/99"}});
  EXPECT_FALSE(bad.has_value());
}

// Vault's older names for a user's token fields (ttl, max_ttl, bound_cidrs)
// are stored as the token_* fields, not dropped: a binding given by its old
// name still binds.
TEST_F(UserpassTest, OlderFieldNamesSetTheTokenFields) {
  ASSERT_TRUE(
      Do(Operation::kUpdate, "users/bob",
         {{"password", "pw"}, {"ttl", "1h"}, {"max_ttl", "2h"}, {"bound_cidrs", "10.0.0.0/8"}}));
  auto read = Do(Operation::kRead, "users/bob");
  ASSERT_TRUE(read.has_value());
  EXPECT_EQ(read->data["token_ttl"], 3600);
  EXPECT_EQ(read->data["token_max_ttl"], 7200);
  EXPECT_EQ(read->data["token_bound_cidrs"], logical::Json::array({"10.0.0.0/8"}));
  // Read back under the names they were given too, as Vault's entries keep
  // them (tools that compare a read with what they wrote see no change).
  EXPECT_EQ(read->data["ttl"], 3600);
  EXPECT_EQ(read->data["max_ttl"], 7200);
  EXPECT_EQ(read->data["bound_cidrs"], logical::Json::array({"10.0.0.0/8"}));
  auto login = Do(Operation::kUpdate, "login/bob", {{"password", "pw"}});
  ASSERT_FALSE(login.has_value());
  EXPECT_EQ(login.error().code(), Code::kPermissionDenied);
  // A value under the token_* name replaces the older name's.
  ASSERT_TRUE(Do(Operation::kUpdate, "users/bob", {{"token_ttl", "30m"}}));
  read = Do(Operation::kRead, "users/bob");
  ASSERT_TRUE(read.has_value());
  EXPECT_EQ(read->data["token_ttl"], 1800);
  EXPECT_FALSE(read->data.contains("ttl")) << read->data.dump();
  EXPECT_EQ(read->data["max_ttl"], 7200);
}

TEST_F(UserpassTest, PeriodicBatchTokensAndBadTtlsAreRefused) {
  auto batch = Do(Operation::kUpdate, "users/a",
                  {{"password", "pw"}, {"token_type", "batch"}, {"token_period", "1h"}});
  EXPECT_FALSE(batch.has_value());
  auto ttl = Do(Operation::kUpdate, "users/a",
                {{"password", "pw"}, {"token_ttl", "2h"}, {"token_max_ttl", "1h"}});
  EXPECT_FALSE(ttl.has_value());
}

TEST_F(UserpassTest, LoginPathsAreUnauthenticatedAndNameTheAlias) {
  EXPECT_TRUE(method_->IsUnauthenticated("login/alice"));
  EXPECT_FALSE(method_->IsUnauthenticated("users/alice"));
  Request r = MakeRequest("userpass", Operation::kUpdate, "login/ Alice\t");
  EXPECT_EQ(method_->LoginAlias(r), "alice");
  r = MakeRequest("userpass", Operation::kUpdate, "users/alice");
  EXPECT_EQ(method_->LoginAlias(r), "");
  // The path the ACL checks besides the one named: the user's canonical name.
  EXPECT_EQ(method_->AclPath("users/ ALICE/password"), "users/alice/password");
  EXPECT_EQ(method_->AclPath("users/Bob"), "users/bob");
  EXPECT_EQ(method_->AclPath("users/"), "users/");
  EXPECT_EQ(method_->AclPath("login/Bob"), "login/Bob");
  EXPECT_EQ(WithCanonicalSegment("map/teams/Dev/", 2), "map/teams/dev/");
  EXPECT_EQ(WithCanonicalSegment("a", 3), "a");
}

}  // namespace
}  // namespace coffer::auth::userpass
