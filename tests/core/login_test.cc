// The core's login plumbing, end to end without HTTP: sys/auth mounts,
// unauthenticated login paths, token minting, TTL caps, lockout, and that a
// failed login creates no token.
#include "core/login.h"

#include <gtest/gtest.h>

#include "core/core_fixture.h"

namespace coffer::core {
namespace {

using logical::Json;
using logical::Operation;

class LoginTest : public CoreFixture {
 protected:
  // The body a client sees: raw for LegacyResponse answers, else data.
  static Json Body(const logical::Response& r) { return r.raw ? (*r.raw)["data"] : r.data; }

  std::size_t AccessorCount() {
    auto r = Call(Operation::kList, "auth/token/accessors");
    return r.data.is_object() ? r.data["keys"].size() : 0;
  }

  // Enables AppRole at approle/, writes role "app" with a token_ttl of 1h
  // and logs in with a fresh secret_id.
  logical::Response AppRoleLogin() {
    Call(Operation::kUpdate, "sys/auth/approle", {{"type", "approle"}});
    EXPECT_EQ(Call(Operation::kUpdate, "auth/approle/role/app", {{"token_ttl", "1h"}}).http_status,
              204);
    std::string role_id = Call(Operation::kRead, "auth/approle/role/app/role-id").data["role_id"];
    std::string secret_id =
        Call(Operation::kUpdate, "auth/approle/role/app/secret-id").data["secret_id"];
    return Call(Operation::kUpdate, "auth/approle/login",
                {{"role_id", role_id}, {"secret_id", secret_id}}, "");
  }
};

TEST_F(LoginTest, SysAuthListsEnablesTunesAndDisables) {
  auto enabled = Call(Operation::kUpdate, "sys/auth/userpass", {{"type", "userpass"}});
  EXPECT_EQ(enabled.http_status, 204);
  auto list = Call(Operation::kRead, "sys/auth");
  Json data = Body(list);
  ASSERT_TRUE(data.contains("userpass/")) << data.dump();
  EXPECT_TRUE(data.contains("token/"));
  EXPECT_EQ(data["userpass/"]["type"], "userpass");
  EXPECT_TRUE(data["userpass/"]["accessor"].get<std::string>().starts_with("auth_userpass_"));
  // Not a secrets engine.
  EXPECT_FALSE(Body(Call(Operation::kRead, "sys/mounts")).contains("auth/userpass/"));
  EXPECT_NE(Call(Operation::kUpdate, "sys/mounts/up", {{"type", "userpass"}}).http_status, 204);
  EXPECT_NE(Call(Operation::kUpdate, "sys/auth/kv", {{"type", "kv"}}).http_status, 204);
  EXPECT_NE(Call(Operation::kUpdate, "sys/auth/token", {{"type", "userpass"}}).http_status, 204);

  EXPECT_EQ(Call(Operation::kUpdate, "sys/auth/userpass/tune",
                 {{"max_lease_ttl", "2h"},
                  {"user_lockout_config", {{"lockout_threshold", 3}, {"lockout_duration", "1m"}}}})
                .http_status,
            204);
  Json tune = Body(Call(Operation::kRead, "sys/auth/userpass/tune"));
  EXPECT_EQ(tune["max_lease_ttl"], 7200);
  // Vault's tune read gives the settings at the top level, its listing under
  // config.user_lockout_config, both with Vault's user_lockout_* names.
  EXPECT_EQ(tune["user_lockout_threshold"], 3);
  EXPECT_EQ(tune["user_lockout_duration"], 60);
  EXPECT_FALSE(tune.contains("user_lockout_config"));
  EXPECT_EQ(Call(Operation::kUpdate, "sys/auth/userpass/tune",
                 {{"user_lockout_config", {{"lockout_counter_reset_duration", "7m"}}}})
                .http_status,
            204);
  const Json listed = Body(Call(Operation::kRead, "sys/auth"))["userpass/"]["config"];
  EXPECT_EQ(listed["user_lockout_config"], (Json{{"user_lockout_threshold", 3},
                                                 {"user_lockout_duration", 60},
                                                 {"user_lockout_counter_reset_duration", 420}}));
  // A threshold given as a string must be a number and nothing else.
  for (const char* bad : {"5abc", " 5", "", "-1"}) {
    SCOPED_TRACE(bad);
    EXPECT_EQ(Call(Operation::kUpdate, "sys/auth/userpass/tune",
                   {{"user_lockout_config", {{"lockout_threshold", bad}}}})
                  .http_status,
              400);
  }
  EXPECT_EQ(Call(Operation::kUpdate, "sys/auth/userpass/tune",
                 {{"user_lockout_config", {{"lockout_threshold", "7"}}}})
                .http_status,
            204);
  EXPECT_EQ(Body(Call(Operation::kRead, "sys/auth/userpass/tune"))["user_lockout_threshold"], 7);

  EXPECT_EQ(Call(Operation::kDelete, "sys/auth/userpass").http_status, 204);
  EXPECT_FALSE(Body(Call(Operation::kRead, "sys/auth")).contains("userpass/"));
}

TEST_F(LoginTest, UserpassLoginMintsAServiceToken) {
  Call(Operation::kUpdate, "sys/auth/userpass", {{"type", "userpass"}});
  ASSERT_EQ(Call(Operation::kUpdate, "auth/userpass/users/alice",
                 {{"password", "pw"}, {"token_policies", "dev"}, {"token_ttl", "1h"}})
                .http_status,
            204);
  std::size_t before = AccessorCount();
  auto r = Call(Operation::kUpdate, "auth/userpass/login/alice", {{"password", "pw"}}, "");
  ASSERT_EQ(r.http_status, 200) << (r.raw ? r.raw->dump() : r.data.dump());
  const Json& auth = r.auth;
  EXPECT_TRUE(auth["client_token"].get<std::string>().starts_with("hvs."));
  EXPECT_EQ(auth["policies"], Json::array({"default", "dev"}));
  EXPECT_EQ(auth["token_policies"], Json::array({"default", "dev"}));
  EXPECT_EQ(auth["metadata"]["username"], "alice");
  EXPECT_EQ(auth["lease_duration"], 3600);
  EXPECT_EQ(auth["renewable"], true);
  EXPECT_EQ(auth["token_type"], "service");
  EXPECT_EQ(auth["orphan"], true);
  // Every login is linked to an identity entity (identity/).
  EXPECT_FALSE(auth["entity_id"].get<std::string>().empty());
  EXPECT_EQ(AccessorCount(), before + 1);

  auto self = Call(Operation::kRead, "auth/token/lookup-self", Json::object(),
                   auth["client_token"].get<std::string>());
  ASSERT_EQ(self.http_status, 200);
  EXPECT_EQ(self.data["display_name"], "userpass-alice");
  EXPECT_EQ(self.data["path"], "auth/userpass/login/alice");

  // The token cannot manage users (only default + dev policies).
  EXPECT_EQ(Call(Operation::kUpdate, "auth/userpass/users/bob", {{"password", "x"}},
                 auth["client_token"].get<std::string>())
                .http_status,
            403);
}

// The mount's tuned token_type meets the user's (Vault's rules): a mount set
// to batch or service decides; default-batch gives batch unless the user
// asks for service. Also set when the method is enabled.
// A token whose entity was merged into another acts for that entity, as in
// Vault: it keeps working, with the target's identity policies; a token of
// a deleted entity is refused.
TEST_F(LoginTest, ATokenOfAMergedEntityActsForTheEntityItWasMergedInto) {
  Call(Operation::kUpdate, "sys/auth/userpass", {{"type", "userpass"}});
  ASSERT_EQ(Call(Operation::kUpdate, "sys/policy/readers",
                 {{"policy", R"(path "secret/data/shared" { capabilities = ["read"] })"}})
                .http_status,
            204);
  ASSERT_EQ(Call(Operation::kUpdate, "sys/mounts/secret",
                 {{"type", "kv"}, {"options", {{"version", "2"}}}})
                .http_status,
            204);
  ASSERT_EQ(Call(Operation::kUpdate, "secret/data/shared", {{"data", {{"v", "1"}}}}).http_status,
            200);
  ASSERT_EQ(Call(Operation::kUpdate, "auth/userpass/users/bob", {{"password", "pw"}}).http_status,
            204);
  auto login = Call(Operation::kUpdate, "auth/userpass/login/bob", {{"password", "pw"}}, "");
  ASSERT_EQ(login.http_status, 200);
  const std::string token = login.auth["client_token"];
  const std::string bob = login.auth["entity_id"];
  EXPECT_EQ(Call(Operation::kRead, "secret/data/shared", Json::object(), token).http_status, 403);

  auto target = Call(Operation::kUpdate, "identity/entity",
                     {{"name", "robert"}, {"policies", Json::array({"readers"})}});
  ASSERT_EQ(target.http_status, 200);
  const std::string robert = target.data["id"];
  ASSERT_EQ(Call(Operation::kUpdate, "identity/entity/merge",
                 {{"to_entity_id", robert}, {"from_entity_ids", Json::array({bob})}})
                .http_status,
            204);
  EXPECT_EQ(Call(Operation::kRead, "auth/token/lookup-self", Json::object(), token).http_status,
            200);
  EXPECT_EQ(Call(Operation::kRead, "secret/data/shared", Json::object(), token).http_status, 200);
  // Deleting the entity it now stands for ends it.
  ASSERT_EQ(Call(Operation::kDelete, "identity/entity/id/" + robert).http_status, 204);
  EXPECT_EQ(Call(Operation::kRead, "auth/token/lookup-self", Json::object(), token).http_status,
            403);
}

TEST_F(LoginTest, TheMountsTunedTokenTypeDecidesTheLoginsType) {
  ASSERT_EQ(Call(Operation::kUpdate, "sys/auth/userpass", {{"type", "userpass"}}).http_status, 204);
  ASSERT_EQ(Call(Operation::kUpdate, "auth/userpass/users/alice",
                 {{"password", "pw"}, {"token_policies", "dev"}})
                .http_status,
            204);
  auto login_type = [&] {
    auto r = Call(Operation::kUpdate, "auth/userpass/login/alice", {{"password", "pw"}}, "");
    EXPECT_EQ(r.http_status, 200) << (r.raw ? r.raw->dump() : r.data.dump());
    return r.auth.value("token_type", std::string());
  };
  auto tune = [&](const char* type) {
    return Call(Operation::kUpdate, "sys/auth/userpass/tune", {{"token_type", type}}).http_status;
  };
  EXPECT_EQ(login_type(), "service");
  EXPECT_EQ(Body(Call(Operation::kRead, "sys/auth/userpass/tune"))["token_type"],
            "default-service");

  ASSERT_EQ(tune("batch"), 204);
  EXPECT_EQ(Body(Call(Operation::kRead, "sys/auth/userpass/tune"))["token_type"], "batch");
  EXPECT_EQ(login_type(), "batch");
  ASSERT_EQ(tune("default-batch"), 204);
  EXPECT_EQ(login_type(), "batch");
  ASSERT_EQ(Call(Operation::kUpdate, "auth/userpass/users/alice", {{"token_type", "service"}})
                .http_status,
            204);
  EXPECT_EQ(login_type(), "service");
  ASSERT_EQ(tune("batch"), 204);
  EXPECT_EQ(login_type(), "batch");
  ASSERT_EQ(tune("default"), 204);
  EXPECT_EQ(Body(Call(Operation::kRead, "sys/auth/userpass/tune"))["token_type"],
            "default-service");
  EXPECT_EQ(login_type(), "service");

  // A bad value changes nothing.
  EXPECT_EQ(tune("sometimes"), 400);
  EXPECT_EQ(Body(Call(Operation::kRead, "sys/auth/userpass/tune"))["token_type"],
            "default-service");

  ASSERT_EQ(Call(Operation::kUpdate, "sys/auth/up2",
                 {{"type", "userpass"}, {"config", {{"token_type", "batch"}}}})
                .http_status,
            204);
  EXPECT_EQ(Body(Call(Operation::kRead, "sys/auth"))["up2/"]["config"]["token_type"], "batch");
  EXPECT_EQ(Call(Operation::kUpdate, "sys/auth/up3",
                 {{"type", "userpass"}, {"config", {{"token_type", "bulk"}}}})
                .http_status,
            400);
  EXPECT_FALSE(Body(Call(Operation::kRead, "sys/auth")).contains("up3/"));
}

// Tune also changes the description; a refused version change (one that is
// no KV version) changes nothing, the description included.
TEST_F(LoginTest, TuneChangesTheDescriptionNotTheVersion) {
  ASSERT_EQ(Call(Operation::kUpdate, "sys/mounts/kv1",
                 {{"type", "kv"}, {"description", "old"}, {"options", {{"version", "1"}}}})
                .http_status,
            204);
  EXPECT_EQ(Call(Operation::kUpdate, "sys/mounts/kv1/tune",
                 {{"description", "new words"}, {"options", {{"version", "1"}}}})
                .http_status,
            204);
  Json t = Body(Call(Operation::kRead, "sys/mounts/kv1/tune"));
  EXPECT_EQ(t["description"], "new words");
  auto up = Call(Operation::kUpdate, "sys/mounts/kv1/tune",
                 {{"description", "newer"}, {"options", {{"version", "3"}}}});
  EXPECT_EQ(up.http_status, 400);
  t = Body(Call(Operation::kRead, "sys/mounts/kv1/tune"));
  EXPECT_EQ(t["description"], "new words");
  EXPECT_EQ(t["options"]["version"], "1");
  EXPECT_EQ(Call(Operation::kUpdate, "sys/mounts/absent/tune", {{"description", "x"}}).http_status,
            400);

  ASSERT_EQ(Call(Operation::kUpdate, "sys/auth/userpass", {{"type", "userpass"}}).http_status, 204);
  EXPECT_EQ(
      Call(Operation::kUpdate, "sys/auth/userpass/tune", {{"description", "people"}}).http_status,
      204);
  EXPECT_EQ(Body(Call(Operation::kRead, "sys/auth"))["userpass/"]["description"], "people");
}

// As in Vault, a mount's default lease TTL may not exceed its max, at an
// enable or at a tune (where a field not given keeps its current value); a
// refused request changes nothing.
TEST_F(LoginTest, DefaultLeaseTtlAboveTheMaxIsRefused) {
  auto message = [](const logical::Response& r) {
    const Json body = r.raw ? *r.raw : r.data;
    return body.contains("errors") ? body["errors"][0].get<std::string>() : std::string();
  };
  auto bad =
      Call(Operation::kUpdate, "sys/mounts/t1",
           {{"type", "kv"}, {"config", {{"default_lease_ttl", "3h"}, {"max_lease_ttl", "1h"}}}});
  EXPECT_EQ(bad.http_status, 400);
  EXPECT_EQ(message(bad), "given default lease TTL greater than given max lease TTL");
  EXPECT_FALSE(Body(Call(Operation::kRead, "sys/mounts")).contains("t1/"));
  EXPECT_EQ(Call(Operation::kUpdate, "sys/auth/up",
                 {{"type", "userpass"},
                  {"config", {{"default_lease_ttl", 7200}, {"max_lease_ttl", 3600}}}})
                .http_status,
            400);
  EXPECT_FALSE(Body(Call(Operation::kRead, "sys/auth")).contains("up/"));

  ASSERT_EQ(Call(Operation::kUpdate, "sys/mounts/t1",
                 {{"type", "kv"}, {"config", {{"max_lease_ttl", "2h"}}}})
                .http_status,
            204);
  auto tune = Call(Operation::kUpdate, "sys/mounts/t1/tune", {{"default_lease_ttl", "3h"}});
  EXPECT_EQ(tune.http_status, 400);
  EXPECT_EQ(message(tune),
            "backend max lease TTL of 7200 would be less than backend default lease TTL of 10800");
  Json t = Body(Call(Operation::kRead, "sys/mounts/t1/tune"));
  EXPECT_EQ(t["max_lease_ttl"], 7200);
  EXPECT_EQ(t["default_lease_ttl"], 768 * 3600);  // the system's (the mount has none)
  EXPECT_EQ(
      Call(Operation::kUpdate, "sys/mounts/t1/tune", {{"default_lease_ttl", "1h"}}).http_status,
      204);
  EXPECT_EQ(Call(Operation::kUpdate, "sys/mounts/t1/tune", {{"max_lease_ttl", "30m"}}).http_status,
            400);
  // "system" (0) for the max lifts the bound.
  EXPECT_EQ(
      Call(Operation::kUpdate, "sys/mounts/t1/tune", {{"max_lease_ttl", "system"}}).http_status,
      204);

  ASSERT_EQ(Call(Operation::kUpdate, "sys/auth/up", {{"type", "userpass"}}).http_status, 204);
  EXPECT_EQ(Call(Operation::kUpdate, "sys/auth/up/tune",
                 {{"default_lease_ttl", "2h"}, {"max_lease_ttl", "1h"}})
                .http_status,
            400);
  EXPECT_EQ(Body(Call(Operation::kRead, "sys/auth/up/tune"))["max_lease_ttl"], 768 * 3600);
}

// No auth method mints root or an internal policy, however the name is
// spelled; the refused login leaves no token and no entity behind.
TEST_F(LoginTest, LoginsNeverMintRootOrInternalPolicies) {
  Call(Operation::kUpdate, "sys/auth/userpass", {{"type", "userpass"}});
  std::size_t before = AccessorCount();
  auto entities = [&] {
    auto r = Call(Operation::kList, "identity/entity/id");
    return r.data.is_object() && r.data.contains("keys") ? r.data["keys"].size() : 0;
  };
  const std::size_t entities_before = entities();
  for (const char* policy : {"root", " ROOT ", "response-wrapping", "control-group"}) {
    SCOPED_TRACE(policy);
    ASSERT_EQ(Call(Operation::kUpdate, "auth/userpass/users/eve",
                   {{"password", "pw"}, {"token_policies", Json::array({"dev", policy})}})
                  .http_status,
              204);
    auto r = Call(Operation::kUpdate, "auth/userpass/login/eve", {{"password", "pw"}}, "");
    EXPECT_EQ(r.http_status, 400);
    EXPECT_TRUE(r.auth.is_null() || r.auth.empty());
  }
  EXPECT_EQ(AccessorCount(), before);
  EXPECT_EQ(entities(), entities_before);
  // The same user with ordinary policies logs in.
  Call(Operation::kUpdate, "auth/userpass/users/eve",
       {{"password", "pw"}, {"token_policies", Json::array({"dev"})}});
  EXPECT_EQ(
      Call(Operation::kUpdate, "auth/userpass/login/eve", {{"password", "pw"}}, "").http_status,
      200);
  EXPECT_EQ(entities(), entities_before + 1);  // the count above could see an entity
}

TEST_F(LoginTest, FailedLoginsCreateNoToken) {
  Call(Operation::kUpdate, "sys/auth/userpass", {{"type", "userpass"}});
  Call(Operation::kUpdate, "auth/userpass/users/alice", {{"password", "pw"}});
  std::size_t before = AccessorCount();
  auto wrong = Call(Operation::kUpdate, "auth/userpass/login/alice", {{"password", "x"}}, "");
  EXPECT_EQ(wrong.http_status, 400);
  auto unknown = Call(Operation::kUpdate, "auth/userpass/login/zed", {{"password", "x"}}, "");
  EXPECT_EQ(unknown.http_status, 400);
  EXPECT_EQ(AccessorCount(), before);
}

TEST_F(LoginTest, TtlIsCappedByTheMountMaximum) {
  Call(Operation::kUpdate, "sys/auth/userpass",
       {{"type", "userpass"}, {"config", {{"max_lease_ttl", "30m"}}}});
  Call(Operation::kUpdate, "auth/userpass/users/alice", {{"password", "pw"}, {"token_ttl", "2h"}});
  auto r = Call(Operation::kUpdate, "auth/userpass/login/alice", {{"password", "pw"}}, "");
  ASSERT_EQ(r.http_status, 200);
  EXPECT_EQ(r.auth["lease_duration"], 1800);
  // Without a token_ttl: the mount's default, else the system's (768h).
  Call(Operation::kUpdate, "auth/userpass/users/bob", {{"password", "pw"}});
  Call(Operation::kUpdate, "sys/auth/userpass/tune", {{"max_lease_ttl", 0}});
  auto b = Call(Operation::kUpdate, "auth/userpass/login/bob", {{"password", "pw"}}, "");
  EXPECT_EQ(b.auth["lease_duration"], 768 * 3600);
}

// A user's token_max_ttl caps the login token's renewals, and a lookup
// shows it as Vault does: not as an explicit max TTL (only
// token_explicit_max_ttl is that).
TEST_F(LoginTest, TokenMaxTtlCapsRenewalsWithoutBeingAnExplicitMax) {
  Call(Operation::kUpdate, "sys/auth/userpass", {{"type", "userpass"}});
  Call(Operation::kUpdate, "auth/userpass/users/alice",
       {{"password", "pw"}, {"token_ttl", "1h"}, {"token_max_ttl", "2h"}});
  auto r = Call(Operation::kUpdate, "auth/userpass/login/alice", {{"password", "pw"}}, "");
  ASSERT_EQ(r.http_status, 200);
  const std::string token = r.auth["client_token"];
  auto self = Call(Operation::kRead, "auth/token/lookup-self", Json::object(), token);
  ASSERT_EQ(self.http_status, 200);
  EXPECT_EQ(self.data["explicit_max_ttl"], 0);
  EXPECT_EQ(self.data["ttl"], 3600);
  clock_.Advance(std::chrono::minutes(50));
  auto first = Call(Operation::kUpdate, "auth/token/renew-self", {{"increment", "1h"}}, token);
  ASSERT_EQ(first.http_status, 200);
  EXPECT_EQ(first.auth["lease_duration"], 3600);
  clock_.Advance(std::chrono::minutes(50));
  auto renewed = Call(Operation::kUpdate, "auth/token/renew-self", {{"increment", "1h"}}, token);
  ASSERT_EQ(renewed.http_status, 200);
  EXPECT_EQ(renewed.auth["lease_duration"], 1200);  // 2h from the login
  // token_explicit_max_ttl is reported.
  Call(Operation::kUpdate, "auth/userpass/users/bob",
       {{"password", "pw"}, {"token_explicit_max_ttl", "3h"}});
  auto b = Call(Operation::kUpdate, "auth/userpass/login/bob", {{"password", "pw"}}, "");
  auto bself = Call(Operation::kRead, "auth/token/lookup-self", Json::object(),
                    b.auth["client_token"].get<std::string>());
  EXPECT_EQ(bself.data["explicit_max_ttl"], 3 * 3600);
}

TEST_F(LoginTest, LockoutAfterThresholdPerCanonicalName) {
  Json lockout{
      {"lockout_threshold", 3}, {"lockout_duration", "10m"}, {"lockout_counter_reset", "5m"}};
  Json config{{"user_lockout_config", lockout}};
  Call(Operation::kUpdate, "sys/auth/userpass", {{"type", "userpass"}, {"config", config}});
  Call(Operation::kUpdate, "auth/userpass/users/alice", {{"password", "pw"}});
  auto login = [&](const std::string& name, const std::string& pw) {
    return Call(Operation::kUpdate, "auth/userpass/login/" + name, {{"password", pw}}, "")
        .http_status;
  };
  EXPECT_EQ(login("alice", "bad"), 400);
  EXPECT_EQ(login("ALICE", "bad"), 400);
  EXPECT_EQ(login(" alice", "bad"), 400);
  // Locked: even the right password is refused, without a hint.
  EXPECT_EQ(login("alice", "pw"), 403);
  clock_.Advance(std::chrono::minutes(9));
  EXPECT_EQ(login("alice", "pw"), 403);
  clock_.Advance(std::chrono::minutes(1));
  EXPECT_EQ(login("alice", "pw"), 200);

  // The counter resets after lockout_counter_reset without failures, and on success.
  EXPECT_EQ(login("alice", "bad"), 400);
  EXPECT_EQ(login("alice", "bad"), 400);
  clock_.Advance(std::chrono::minutes(5));
  EXPECT_EQ(login("alice", "bad"), 400);
  EXPECT_EQ(login("alice", "pw"), 200);
  EXPECT_EQ(login("alice", "bad"), 400);
  EXPECT_EQ(login("alice", "bad"), 400);
  EXPECT_EQ(login("alice", "pw"), 200);

  // Unknown users are counted the same way.
  EXPECT_EQ(login("ghost", "x"), 400);
  EXPECT_EQ(login("ghost", "x"), 400);
  EXPECT_EQ(login("ghost", "x"), 400);
  EXPECT_EQ(login("ghost", "x"), 403);

  // Disabled by tune.
  Call(Operation::kUpdate, "sys/auth/userpass/tune",
       {{"user_lockout_config", {{"lockout_disable", true}}}});
  for (int i = 0; i < 4; ++i) EXPECT_EQ(login("bob", "x"), 400);
}

TEST_F(LoginTest, AppRoleLoginCarriesTheRolePoliciesAndWraps) {
  Call(Operation::kUpdate, "sys/auth/approle", {{"type", "approle"}});
  Call(Operation::kUpdate, "sys/policy/app",
       {{"policy", "path \"secret/*\" { capabilities = [\"read\"] }"}});
  ASSERT_EQ(
      Call(Operation::kUpdate, "auth/approle/role/app", {{"token_policies", "app"}}).http_status,
      204);
  std::string role_id = Call(Operation::kRead, "auth/approle/role/app/role-id").data["role_id"];

  logical::Request wrapped;
  wrapped.id = "w";
  wrapped.operation = Operation::kUpdate;
  wrapped.path = "auth/approle/role/app/secret-id";
  wrapped.client_token = root_;
  wrapped.wrap_ttl = "60s";
  auto w = core_->HandleRequest(wrapped);
  ASSERT_EQ(w.http_status, 200);
  ASSERT_TRUE(w.wrap_info.is_object()) << w.data.dump();
  EXPECT_TRUE(w.data.is_null());
  std::string wrap_token = w.wrap_info["token"];
  auto unwrapped = Call(Operation::kUpdate, "sys/wrapping/unwrap", Json::object(), wrap_token);
  ASSERT_EQ(unwrapped.http_status, 200);
  std::string secret_id = unwrapped.data["secret_id"];
  // The wrap names the secret ID's accessor, as Vault's does.
  EXPECT_EQ(w.wrap_info["wrapped_accessor"], unwrapped.data["secret_id_accessor"]);
  EXPECT_FALSE(w.wrap_info["wrapped_accessor"].get<std::string>().empty());

  auto r = Call(Operation::kUpdate, "auth/approle/login",
                {{"role_id", role_id}, {"secret_id", secret_id}}, "");
  ASSERT_EQ(r.http_status, 200);
  EXPECT_EQ(r.auth["policies"], Json::array({"app", "default"}));
  EXPECT_EQ(r.auth["metadata"]["role_name"], "app");
  auto caps = Call(Operation::kUpdate, "sys/capabilities-self", {{"paths", {"secret/x"}}},
                   r.auth["client_token"].get<std::string>());
  EXPECT_EQ(Body(caps)["secret/x"], Json::array({"read"})) << Body(caps).dump();
}

// As Vault's auth methods check at renewal: a login token renews only while
// the user or role it came from exists.
TEST_F(LoginTest, ALoginTokenStopsRenewingWhenItsUserOrRoleIsDeleted) {
  // Renews `token`, then again after `remove` is deleted: refused with `words`.
  auto renews_until_deleted = [&](const std::string& token, const std::string& remove,
                                  const std::string& words) {
    EXPECT_EQ(Call(Operation::kUpdate, "auth/token/renew-self", Json::object(), token).http_status,
              200);
    ASSERT_EQ(Call(Operation::kDelete, remove).http_status, 204);
    auto refused = Call(Operation::kUpdate, "auth/token/renew-self", Json::object(), token);
    EXPECT_EQ(refused.http_status, 400);
    const std::string said = refused.raw ? refused.raw->dump() : refused.data.dump();
    EXPECT_NE(said.find(words), std::string::npos) << said;
  };
  Call(Operation::kUpdate, "sys/auth/userpass", {{"type", "userpass"}});
  Call(Operation::kUpdate, "auth/userpass/users/alice", {{"password", "pw"}, {"token_ttl", "1h"}});
  auto r = Call(Operation::kUpdate, "auth/userpass/login/alice", {{"password", "pw"}}, "");
  ASSERT_EQ(r.http_status, 200);
  const std::string token = r.auth["client_token"];
  renews_until_deleted(token, "auth/userpass/users/alice", "no longer exists");
  // The token itself still works until it expires, as in Vault.
  EXPECT_EQ(Call(Operation::kRead, "auth/token/lookup-self", Json::object(), token).http_status,
            200);
  // By accessor too (the root's renew of it).
  auto acc = r.auth["accessor"].get<std::string>();
  EXPECT_EQ(Call(Operation::kUpdate, "auth/token/renew-accessor", {{"accessor", acc}}).http_status,
            400);

  auto a = AppRoleLogin();
  ASSERT_EQ(a.http_status, 200);
  renews_until_deleted(a.auth["client_token"], "auth/approle/role/app",
                       "does not exist during renewal");
}

// As Vault's auth methods answer a renewal: the role's or user's token_ttl,
// token_max_ttl and token_period as they are now, within the mount's
// tuned max; userpass and cert also refuse once the token's policies are
// no longer the user's.
TEST_F(LoginTest, ALoginTokenRenewsOnItsRoleAsItIsNow) {
  auto renew = [&](const std::string& token, const Json& body) {
    return Call(Operation::kUpdate, "auth/token/renew-self", body, token);
  };
  auto duration = [](const logical::Response& r) -> std::int64_t {
    return r.auth.value("lease_duration", std::int64_t{-1});
  };
  auto a = AppRoleLogin();
  ASSERT_EQ(a.http_status, 200);
  EXPECT_EQ(a.auth["lease_duration"], 3600);
  const std::string token = a.auth["client_token"];

  // A longer token_ttl: a renewal without an increment grants it.
  ASSERT_EQ(Call(Operation::kUpdate, "auth/approle/role/app", {{"token_ttl", "2h"}}).http_status,
            204);
  auto r = renew(token, Json::object());
  ASSERT_EQ(r.http_status, 200) << r.data.dump();
  EXPECT_EQ(duration(r), 7200);

  // A token_max_ttl caps the TTL from the token's creation, with a warning.
  ASSERT_EQ(Call(Operation::kUpdate, "auth/approle/role/app",
                 {{"token_ttl", "30m"}, {"token_max_ttl", "90m"}})
                .http_status,
            204);
  r = renew(token, {{"increment", "10h"}});
  ASSERT_EQ(r.http_status, 200);
  EXPECT_GT(duration(r), 5000);
  EXPECT_LE(duration(r), 5400);
  EXPECT_TRUE(r.warnings.is_array() && !r.warnings.empty()) << r.warnings.dump();

  // A token_period makes its renewals periodic.
  ASSERT_EQ(Call(Operation::kUpdate, "auth/approle/role/app",
                 {{"token_max_ttl", "0"}, {"token_period", "20m"}})
                .http_status,
            204);
  r = renew(token, {{"increment", "10h"}});
  ASSERT_EQ(r.http_status, 200);
  EXPECT_EQ(duration(r), 1200);

  // The mount's tuned max caps it too.
  ASSERT_EQ(Call(Operation::kUpdate, "auth/approle/role/app", {{"token_period", "0"}}).http_status,
            204);
  ASSERT_EQ(
      Call(Operation::kUpdate, "sys/auth/approle/tune", {{"max_lease_ttl", "40m"}}).http_status,
      204);
  r = renew(token, {{"increment", "10h"}});
  ASSERT_EQ(r.http_status, 200);
  EXPECT_GT(duration(r), 2000);
  EXPECT_LE(duration(r), 2400);

  // userpass: a user whose token_policies changed stops the renewals; the
  // same policies in another order or case do not.
  Call(Operation::kUpdate, "sys/auth/userpass", {{"type", "userpass"}});
  Call(Operation::kUpdate, "auth/userpass/users/alice",
       {{"password", "pw"}, {"token_policies", "a,b"}, {"token_ttl", "1h"}});
  auto u = Call(Operation::kUpdate, "auth/userpass/login/alice", {{"password", "pw"}}, "");
  ASSERT_EQ(u.http_status, 200);
  const std::string user_token = u.auth["client_token"];
  Call(Operation::kUpdate, "auth/userpass/users/alice", {{"token_policies", "B, a,default"}});
  EXPECT_EQ(renew(user_token, Json::object()).http_status, 200);
  Call(Operation::kUpdate, "auth/userpass/users/alice", {{"token_policies", "a"}});
  auto refused = renew(user_token, Json::object());
  EXPECT_EQ(refused.http_status, 400);
  const std::string said = refused.raw ? refused.raw->dump() : refused.data.dump();
  EXPECT_NE(said.find("policies have changed, not renewing"), std::string::npos) << said;
  // Nothing changed: the token keeps its policies and still works.
  auto self = Call(Operation::kRead, "auth/token/lookup-self", Json::object(), user_token);
  ASSERT_EQ(self.http_status, 200);
  EXPECT_EQ(self.data["policies"], Json::array({"a", "b", "default"}));
}

TEST_F(LoginTest, DisablingTheMountRevokesItsTokens) {
  Call(Operation::kUpdate, "sys/auth/userpass", {{"type", "userpass"}});
  Call(Operation::kUpdate, "auth/userpass/users/alice", {{"password", "pw"}});
  auto r = Call(Operation::kUpdate, "auth/userpass/login/alice", {{"password", "pw"}}, "");
  std::string token = r.auth["client_token"];
  EXPECT_EQ(Call(Operation::kRead, "auth/token/lookup-self", Json::object(), token).http_status,
            200);
  Call(Operation::kDelete, "sys/auth/userpass");
  EXPECT_EQ(Call(Operation::kRead, "auth/token/lookup-self", Json::object(), token).http_status,
            403);
}

}  // namespace
}  // namespace coffer::core
