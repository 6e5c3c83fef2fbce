#include "auth/approle/approle.h"

#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <thread>

#include "auth/auth_test_util.h"
#include "storage/stalling_backend.h"

namespace coffer::auth::approle {
namespace {

using namespace ::coffer::auth::testing;  // NOLINT

class AppRoleTest : public ::testing::Test {
 protected:
  Result<Response> Do(Operation op, const std::string& path, Json body = Json::object()) {
    Request r = MakeRequest("approle", op, path, std::move(body));
    return method_->HandleRequest(r);
  }
  std::string RoleId(const std::string& role) {
    auto r = Do(Operation::kRead, "role/" + role + "/role-id");
    EXPECT_TRUE(r.has_value());
    return r->data.value("role_id", "");
  }
  Json NewSecretId(const std::string& role, Json body = Json::object()) {
    auto r = Do(Operation::kUpdate, "role/" + role + "/secret-id", std::move(body));
    EXPECT_TRUE(r.has_value()) << r.error().ToString();
    return r ? r->data : Json();
  }
  Result<Response> Login(const std::string& role_id, const std::string& secret_id) {
    return Do(Operation::kUpdate, "login", {{"role_id", role_id}, {"secret_id", secret_id}});
  }

  storage::InmemBackend storage_;
  FakeClock clock_;
  std::unique_ptr<logical::Backend> method_ = MakeMethod(storage_, clock_, "approle");
};

TEST_F(AppRoleTest, RoleCrudAndList) {
  ASSERT_TRUE(Do(Operation::kUpdate, "role/Web",
                 {{"token_policies", "web"}, {"secret_id_ttl", "10m"}, {"token_ttl", 60}}));
  auto read = Do(Operation::kRead, "role/web");
  ASSERT_TRUE(read.has_value());
  EXPECT_EQ(read->data["bind_secret_id"], true);
  EXPECT_EQ(read->data["secret_id_ttl"], 600);
  EXPECT_EQ(read->data["token_policies"], Json::array({"web"}));
  EXPECT_FALSE(read->data.contains("hmac_key"));
  EXPECT_EQ(Do(Operation::kList, "role")->data["keys"], Json::array({"web"}));
  ASSERT_TRUE(Do(Operation::kDelete, "role/web"));
  EXPECT_EQ(Do(Operation::kRead, "role/web")->http_status, 404);
}

// A missing role, in Vault's classes: 400 for the secret ID listing, a
// not-found for everything else under role/<name>/ (Terraform's provider
// drops a secret ID whose role went away only on a 404 or Vault's 500).
TEST_F(AppRoleTest, SecretIdPathsOfAMissingRoleAreNotFound) {
  auto code_of = [&](Operation op, const std::string& path, Json body = Json::object()) {
    auto r = Do(op, path, std::move(body));
    EXPECT_FALSE(r.has_value()) << path;
    if (r.has_value()) return Code::kOk;
    EXPECT_EQ(r.error().message(), "role \"gone\" does not exist") << path;
    return r.error().code();
  };
  EXPECT_EQ(code_of(Operation::kList, "role/gone/secret-id"), Code::kInvalidArgument);
  EXPECT_EQ(code_of(Operation::kUpdate, "role/gone/secret-id"), Code::kNotFound);
  EXPECT_EQ(code_of(Operation::kUpdate, "role/gone/secret-id/lookup", {{"secret_id", "x"}}),
            Code::kNotFound);
  EXPECT_EQ(code_of(Operation::kUpdate, "role/gone/secret-id-accessor/lookup",
                    {{"secret_id_accessor", "x"}}),
            Code::kNotFound);
  EXPECT_EQ(code_of(Operation::kUpdate, "role/gone/secret-id-accessor/destroy",
                    {{"secret_id_accessor", "x"}}),
            Code::kNotFound);
}

TEST_F(AppRoleTest, LoginWithRoleIdAndSecretId) {
  ASSERT_TRUE(Do(Operation::kUpdate, "role/web", {{"token_policies", "web"}}));
  std::string role_id = RoleId("web");
  ASSERT_FALSE(role_id.empty());
  Json sid = NewSecretId("web", {{"metadata", R"({"team":"blue"})"}});
  ASSERT_TRUE(sid["secret_id"].is_string());
  ASSERT_TRUE(sid["secret_id_accessor"].is_string());

  auto r = Login(role_id, sid["secret_id"]);
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  ASSERT_TRUE(r->login.has_value());
  EXPECT_EQ(r->login->policies, std::vector<std::string>{"web"});
  EXPECT_EQ(r->login->metadata.at("role_name"), "web");
  EXPECT_EQ(r->login->metadata.at("team"), "blue");

  auto wrong_secret = Login(role_id, "not-the-secret");
  ASSERT_FALSE(wrong_secret.has_value());
  EXPECT_EQ(wrong_secret.error().code(), Code::kInvalidArgument);
  EXPECT_EQ(wrong_secret.error().message(), "invalid role or secret ID");
  auto wrong_role = Login("no-such-role-id", sid["secret_id"]);
  ASSERT_FALSE(wrong_role.has_value());
  EXPECT_EQ(wrong_role.error().message(), "invalid role or secret ID");
}

TEST_F(AppRoleTest, SecretIdsAreStoredOnlyAsHmacs) {
  ASSERT_TRUE(Do(Operation::kUpdate, "role/web", Json::object()));
  Json sid = NewSecretId("web");
  std::string secret = sid["secret_id"];
  std::function<void(const std::string&)> walk = [&](const std::string& prefix) {
    auto names = storage_.List(prefix);
    ASSERT_TRUE(names.has_value());
    for (const auto& n : *names) {
      if (n.back() == '/') {
        walk(prefix + n);
        continue;
      }
      EXPECT_EQ((prefix + n).find(secret), std::string::npos);
      auto v = storage_.Get(prefix + n);
      EXPECT_EQ((*v)->value.find(secret), std::string::npos) << prefix + n;
    }
  };
  walk("");
}

TEST_F(AppRoleTest, NumUsesAreSpentAndTtlsExpire) {
  ASSERT_TRUE(Do(Operation::kUpdate, "role/web", Json::object()));
  std::string role_id = RoleId("web");
  Json twice = NewSecretId("web", {{"num_uses", 2}});
  EXPECT_EQ(twice["secret_id_num_uses"], 2);
  EXPECT_TRUE(Login(role_id, twice["secret_id"]).has_value());
  EXPECT_TRUE(Login(role_id, twice["secret_id"]).has_value());
  EXPECT_FALSE(Login(role_id, twice["secret_id"]).has_value());

  Json brief = NewSecretId("web", {{"ttl", "60s"}});
  EXPECT_EQ(brief["secret_id_ttl"], 60);
  clock_.Advance(std::chrono::seconds(59));
  EXPECT_TRUE(Login(role_id, brief["secret_id"]).has_value());
  clock_.Advance(std::chrono::seconds(1));
  EXPECT_FALSE(Login(role_id, brief["secret_id"]).has_value());
}

TEST_F(AppRoleTest, RoleLimitsBoundSecretIds) {
  ASSERT_TRUE(
      Do(Operation::kUpdate, "role/web", {{"secret_id_num_uses", 3}, {"secret_id_ttl", "1h"}}));
  Json d = NewSecretId("web");
  EXPECT_EQ(d["secret_id_num_uses"], 3);
  EXPECT_EQ(d["secret_id_ttl"], 3600);
  EXPECT_FALSE(Do(Operation::kUpdate, "role/web/secret-id", {{"num_uses", 5}}).has_value());
  EXPECT_FALSE(Do(Operation::kUpdate, "role/web/secret-id", {{"ttl", "2h"}}).has_value());
}

TEST_F(AppRoleTest, RoleIdCanBeSetAndOldOneStopsWorking) {
  ASSERT_TRUE(Do(Operation::kUpdate, "role/web", Json::object()));
  std::string old_id = RoleId("web");
  Json sid = NewSecretId("web");
  ASSERT_TRUE(Do(Operation::kUpdate, "role/web/role-id", {{"role_id", "custom-role-id"}}));
  EXPECT_EQ(RoleId("web"), "custom-role-id");
  EXPECT_FALSE(Login(old_id, sid["secret_id"]).has_value());
  EXPECT_TRUE(Login("custom-role-id", sid["secret_id"]).has_value());
  ASSERT_TRUE(Do(Operation::kUpdate, "role/other", Json::object()));
  EXPECT_FALSE(Do(Operation::kUpdate, "role/other/role-id", {{"role_id", "custom-role-id"}}));
  // A role_id longer than 4096 bytes is refused where it is set, and a
  // login naming one is refused before it is looked up (or counted by the
  // lockout under that name).
  const std::string huge(4097, 'r');
  auto set = Do(Operation::kUpdate, "role/other/role-id", {{"role_id", huge}});
  ASSERT_FALSE(set.has_value());
  EXPECT_EQ(set.error().message(), "role_id must be at most 4096 bytes");
  EXPECT_FALSE(Do(Operation::kUpdate, "role/third", {{"role_id", huge}}).has_value());
  auto login = Login(huge, sid["secret_id"]);
  ASSERT_FALSE(login.has_value());
  EXPECT_EQ(login.error().message(), "invalid role or secret ID");
  EXPECT_EQ(
      method_->LoginAlias(MakeRequest("approle", Operation::kUpdate, "login", {{"role_id", huge}})),
      "");
  // A role_id sent as a number is the same name to the lockout.
  EXPECT_EQ(method_->LoginAlias(
                MakeRequest("approle", Operation::kUpdate, "login", {{"role_id", 424242}})),
            "424242");
}

TEST_F(AppRoleTest, LookupDestroyAndAccessorsStayWithinTheirRole) {
  ASSERT_TRUE(Do(Operation::kUpdate, "role/a", Json::object()));
  ASSERT_TRUE(Do(Operation::kUpdate, "role/b", Json::object()));
  Json sid = NewSecretId("a", {{"metadata", Json{{"k", "v"}}}});
  std::string accessor = sid["secret_id_accessor"];

  auto lookup =
      Do(Operation::kUpdate, "role/a/secret-id/lookup", {{"secret_id", sid["secret_id"]}});
  ASSERT_TRUE(lookup.has_value());
  EXPECT_EQ(lookup->data["secret_id_accessor"], accessor);
  EXPECT_EQ(lookup->data["metadata"]["k"], "v");
  // Another role does not see it, by secret or by accessor.
  auto other = Do(Operation::kUpdate, "role/b/secret-id/lookup", {{"secret_id", sid["secret_id"]}});
  ASSERT_TRUE(other.has_value());
  EXPECT_EQ(other->http_status, 204);
  // An accessor not found answers 404 to a lookup (Vault since 1.9), 400 to
  // a destroy.
  auto foreign = Do(Operation::kUpdate, "role/b/secret-id-accessor/lookup",
                    {{"secret_id_accessor", accessor}});
  ASSERT_FALSE(foreign.has_value());
  EXPECT_EQ(foreign.error().code(), Code::kNotFound);
  auto foreign_destroy = Do(Operation::kUpdate, "role/b/secret-id-accessor/destroy",
                            {{"secret_id_accessor", accessor}});
  ASSERT_FALSE(foreign_destroy.has_value());
  EXPECT_EQ(foreign_destroy.error().code(), Code::kInvalidArgument);

  auto listed = Do(Operation::kList, "role/a/secret-id");
  ASSERT_TRUE(listed.has_value());
  EXPECT_EQ(listed->data["keys"], Json::array({accessor}));
  EXPECT_EQ(Do(Operation::kList, "role/b/secret-id")->http_status, 404);

  auto by_accessor = Do(Operation::kUpdate, "role/a/secret-id-accessor/lookup",
                        {{"secret_id_accessor", accessor}});
  ASSERT_TRUE(by_accessor.has_value());
  EXPECT_EQ(by_accessor->data["secret_id_accessor"], accessor);
  ASSERT_TRUE(Do(Operation::kUpdate, "role/a/secret-id-accessor/destroy",
                 {{"secret_id_accessor", accessor}}));
  EXPECT_FALSE(Login(RoleId("a"), sid["secret_id"]).has_value());

  Json second = NewSecretId("a");
  ASSERT_TRUE(
      Do(Operation::kUpdate, "role/a/secret-id/destroy", {{"secret_id", second["secret_id"]}}));
  EXPECT_FALSE(Login(RoleId("a"), second["secret_id"]).has_value());
}

TEST_F(AppRoleTest, CustomSecretId) {
  ASSERT_TRUE(Do(Operation::kUpdate, "role/web", Json::object()));
  auto r = Do(Operation::kUpdate, "role/web/custom-secret-id", {{"secret_id", "my-own-secret"}});
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->data["secret_id"], "my-own-secret");
  EXPECT_TRUE(Login(RoleId("web"), "my-own-secret").has_value());
  EXPECT_FALSE(
      Do(Operation::kUpdate, "role/web/custom-secret-id", {{"secret_id", "my-own-secret"}}));
}

TEST_F(AppRoleTest, CidrBindings) {
  ASSERT_TRUE(Do(Operation::kUpdate, "role/web", Json::object()));
  Json far = NewSecretId("web", {{"cidr_list", "10.0.0.0/8"}});
  Json near = NewSecretId("web", {{"cidr_list", "127.0.0.0/8"}});
  EXPECT_FALSE(Login(RoleId("web"), far["secret_id"]).has_value());
  EXPECT_TRUE(Login(RoleId("web"), near["secret_id"]).has_value());
  ASSERT_TRUE(Do(Operation::kUpdate, "role/web", {{"secret_id_bound_cidrs", "10.0.0.0/8"}}));
  EXPECT_FALSE(Login(RoleId("web"), near["secret_id"]).has_value());
}

// A secret ID narrows the role's CIDR blocks but cannot widen them: its
// token_bound_cidrs replace the role's at login.
TEST_F(AppRoleTest, SecretIdCidrsMustFitTheRole) {
  ASSERT_TRUE(Do(Operation::kUpdate, "role/db",
                 {{"token_bound_cidrs", "10.0.0.0/8"}, {"secret_id_bound_cidrs", "10.0.0.0/8"}}));
  auto wide = Do(Operation::kUpdate, "role/db/secret-id", {{"token_bound_cidrs", "127.0.0.1/32"}});
  ASSERT_FALSE(wide.has_value());
  EXPECT_EQ(wide.error().code(), Code::kInvalidArgument);
  EXPECT_EQ(wide.error().message(),
            "token_bound_cidrs must be a subset of the role's token_bound_cidrs");
  EXPECT_FALSE(Do(Operation::kUpdate, "role/db/secret-id", {{"token_bound_cidrs", "0.0.0.0/0"}})
                   .has_value());
  EXPECT_FALSE(
      Do(Operation::kUpdate, "role/db/secret-id", {{"cidr_list", "127.0.0.0/8"}}).has_value());
  EXPECT_TRUE(Do(Operation::kUpdate, "role/db/secret-id",
                 {{"token_bound_cidrs", "10.1.0.0/16"}, {"cidr_list", "10.2.3.4"}})
                  .has_value());
  // Nothing was stored for the refused ones: the role has one secret ID.
  auto list = Do(Operation::kList, "role/db/secret-id/");
  ASSERT_TRUE(list.has_value());
  EXPECT_EQ(list->data["keys"].size(), 1u);
  // A role without blocks takes any.
  ASSERT_TRUE(Do(Operation::kUpdate, "role/open", Json::object()));
  EXPECT_TRUE(Do(Operation::kUpdate, "role/open/secret-id", {{"token_bound_cidrs", "127.0.0.1/32"}})
                  .has_value());
}

// An AppRole mount over a storage that can stall one call, for races.
class AppRoleRaceTest : public ::testing::Test {
 protected:
  Result<Response> run(Operation op, const std::string& path, Json body) {
    Request r = MakeRequest("approle", op, path, std::move(body));
    return method->HandleRequest(r);
  }

  storage::test_util::StallingBackend storage;
  FakeClock clock;
  std::unique_ptr<logical::Backend> method = MakeMethod(storage, clock, "approle");
};

// A login that read a role just before the role changed must not keep the
// old role in the role_id cache: the next login sees the change.
TEST_F(AppRoleRaceTest, LoginRacingARoleUpdateDoesNotCacheTheOldRole) {
  ASSERT_TRUE(run(Operation::kUpdate, "role/ci",
                  {{"bind_secret_id", false},
                   {"secret_id_bound_cidrs", "127.0.0.0/8"},
                   {"token_policies", "old"}}));
  const std::string role_id =
      run(Operation::kRead, "role/ci/role-id", Json::object())->data["role_id"];
  storage.stall_get_key = "role/ci";  // the login's read of the role
  auto login = std::async(std::launch::async, [&] {
    return run(Operation::kUpdate, "login", {{"role_id", role_id}});
  });
  storage.entered.get_future().wait();
  ASSERT_TRUE(run(Operation::kUpdate, "role/ci", {{"token_policies", "new"}}));
  storage.release.set_value();
  ASSERT_TRUE(login.get().has_value());  // it started before the change

  auto after = run(Operation::kUpdate, "login", {{"role_id", role_id}});
  ASSERT_TRUE(after.has_value());
  ASSERT_TRUE(after->login.has_value());
  EXPECT_EQ(after->login->policies, std::vector<std::string>({"new"}));
}

TEST_F(AppRoleTest, WithoutBindSecretIdNeedsAConstraint) {
  EXPECT_FALSE(Do(Operation::kUpdate, "role/open", {{"bind_secret_id", false}}).has_value());
  ASSERT_TRUE(Do(Operation::kUpdate, "role/open",
                 {{"bind_secret_id", false}, {"secret_id_bound_cidrs", "127.0.0.1/32"}}));
  auto r = Do(Operation::kUpdate, "login", {{"role_id", RoleId("open")}});
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_TRUE(r->login.has_value());
}

TEST_F(AppRoleTest, TidyRemovesExpiredSecretIdsInTheBackground) {
  ASSERT_TRUE(Do(Operation::kUpdate, "role/web", Json::object()));
  NewSecretId("web", {{"ttl", 10}});
  Json keep = NewSecretId("web");
  ASSERT_TRUE(storage_.Put("accessor/ghost", R"({"role":"web","secret_id_hmac":"gone"})").ok());
  clock_.Advance(std::chrono::seconds(11));
  auto r = Do(Operation::kUpdate, "tidy/secret-id");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->http_status, 202);
  ASSERT_EQ(r->warnings.size(), 1u);
  EXPECT_TRUE(r->warnings[0].get<std::string>().starts_with("Tidy operation successfully started"));
  // The tidy runs on a thread of its own: wait for the walk to finish.
  for (int i = 0; i < 2000 && storage_.List("accessor/")->size() != 1u; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  auto listed = Do(Operation::kList, "role/web/secret-id");
  EXPECT_EQ(listed->data["keys"], Json::array({keep["secret_id_accessor"]}));
  EXPECT_EQ(storage_.List("accessor/")->size(), 1u);
  EXPECT_TRUE(Login(RoleId("web"), keep["secret_id"]).has_value());
}

// One tidy at a time: a second call while one runs starts nothing and says
// so; destroying the mount's backend stops a running tidy.
TEST_F(AppRoleRaceTest, TidyOneAtATimeAndStoppedWithTheBackend) {
  ASSERT_TRUE(run(Operation::kUpdate, "role/web", Json::object()));
  auto sid = run(Operation::kUpdate, "role/web/secret-id", {{"ttl", 10}});
  ASSERT_TRUE(sid.has_value());
  clock.Advance(std::chrono::seconds(11));
  storage.stall_get_key = "role/web";  // the tidy's read of the role
  auto first = run(Operation::kUpdate, "tidy/secret-id", Json::object());
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->http_status, 202);
  storage.entered.get_future().wait();
  auto second = run(Operation::kUpdate, "tidy/secret-id", Json::object());
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(second->http_status, 200);
  EXPECT_EQ(second->warnings, Json::array({"Tidy operation already in progress."}));
  auto destroyed = std::async(std::launch::async, [&] { method.reset(); });
  EXPECT_EQ(destroyed.wait_for(std::chrono::milliseconds(100)), std::future_status::timeout)
      << "the backend went while its tidy was still running";
  storage.release.set_value();
  destroyed.get();
}

TEST_F(AppRoleTest, DeletingARoleRemovesItsSecretIds) {
  ASSERT_TRUE(Do(Operation::kUpdate, "role/web", Json::object()));
  std::string role_id = RoleId("web");
  Json sid = NewSecretId("web");
  ASSERT_TRUE(Do(Operation::kDelete, "role/web"));
  EXPECT_FALSE(Login(role_id, sid["secret_id"]).has_value());
  EXPECT_TRUE(storage_.List("accessor/")->empty());
  EXPECT_TRUE(storage_.List("secret_id/")->empty());
}

TEST_F(AppRoleTest, LoginIsUnauthenticatedAndNamesTheRoleId) {
  EXPECT_TRUE(method_->IsUnauthenticated("login"));
  EXPECT_FALSE(method_->IsUnauthenticated("role/web"));
  Request r = MakeRequest("approle", Operation::kUpdate, "login", {{"role_id", "rid"}});
  EXPECT_EQ(method_->LoginAlias(r), "rid");
}

}  // namespace
}  // namespace coffer::auth::approle

namespace coffer::auth::approle {
namespace {

using namespace ::coffer::auth::testing;  // NOLINT

TEST(AppRoleListTest, TrailingSlashesOnLists) {
  storage::InmemBackend storage;
  FakeClock clock;
  auto method = MakeMethod(storage, clock, "approle");
  Request create = MakeRequest("approle", Operation::kUpdate, "role/web");
  ASSERT_TRUE(method->HandleRequest(create).has_value());
  Request gen = MakeRequest("approle", Operation::kUpdate, "role/web/secret-id");
  ASSERT_TRUE(method->HandleRequest(gen).has_value());
  Request roles = MakeRequest("approle", Operation::kList, "role/");
  auto r = method->HandleRequest(roles);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->data["keys"], Json::array({"web"}));
  Request ids = MakeRequest("approle", Operation::kList, "role/web/secret-id/");
  auto i = method->HandleRequest(ids);
  ASSERT_TRUE(i.has_value()) << i.error().ToString();
  EXPECT_EQ(i->data["keys"].size(), 1u);
}

}  // namespace
}  // namespace coffer::auth::approle
