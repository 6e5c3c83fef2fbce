// Policy rules the core enforces around a handler: mandatory response
// wrapping (min/max_wrapping_ttl) and parameter rules that a query string
// cannot get around.
#include <gtest/gtest.h>

#include "core/core_fixture.h"

namespace coffer::core {
namespace {

using logical::Json;
using logical::Operation;

class PolicyEnforcementTest : public CoreFixture {
 protected:
  // The answer's data; null for an answer without any (a 404's raw body).
  static Json Body(const logical::Response& r) {
    return r.raw ? r.raw->value("data", Json()) : r.data;
  }
  // A token holding only `policy` (written from `hcl`).
  std::string TokenWith(const std::string& policy, const std::string& hcl) {
    EXPECT_EQ(Call(Operation::kUpdate, "sys/policy/" + policy, {{"policy", hcl}}).http_status, 204);
    auto r = Call(Operation::kUpdate, "auth/token/create",
                  {{"policies", {policy}}, {"no_default_policy", true}});
    EXPECT_EQ(r.http_status, 200) << r.data.dump();
    return r.auth["client_token"];
  }
  logical::Request Base(Operation op, const std::string& path, const std::string& token) {
    logical::Request r;
    r.id = "req";
    r.operation = op;
    r.path = path;
    r.client_token = token;
    r.remote_address = "127.0.0.1";
    return r;
  }
  logical::Response Wrapped(Operation op, const std::string& path, const std::string& token,
                            const std::string& wrap_ttl) {
    logical::Request r = Base(op, path, token);
    r.wrap_ttl = wrap_ttl;
    return core_->HandleRequest(r);
  }
};

// Either bound makes wrapping mandatory: an unwrapped read, or a TTL outside
// the bounds, is refused as permission denied and returns no secret.
TEST_F(PolicyEnforcementTest, WrappingBoundsMakeWrappingMandatory) {
  ASSERT_EQ(Call(Operation::kUpdate, "sys/mounts/kv", {{"type", "kv"}}).http_status, 204);
  ASSERT_EQ(Call(Operation::kUpdate, "kv/app", {{"pw", "s3cret"}}).http_status, 204);
  const std::string t = TokenWith("wrapped", R"(path "kv/app" {
    capabilities = ["read"]
    min_wrapping_ttl = "10s"
    max_wrapping_ttl = "90s"
  }
  path "kv/max-only" {
    capabilities = ["read"]
    max_wrapping_ttl = "90s"
  })");
  auto plain = Call(Operation::kRead, "kv/app", Json::object(), t);
  EXPECT_EQ(plain.http_status, 403);
  EXPECT_EQ(plain.data.dump().find("s3cret"), std::string::npos);
  EXPECT_EQ(Wrapped(Operation::kRead, "kv/app", t, "300s").http_status, 403);
  EXPECT_EQ(Wrapped(Operation::kRead, "kv/app", t, "5s").http_status, 403);
  auto ok = Wrapped(Operation::kRead, "kv/app", t, "30s");
  ASSERT_EQ(ok.http_status, 200);
  ASSERT_TRUE(ok.wrap_info.is_object());
  EXPECT_TRUE(ok.data.is_null());
  // A max bound alone makes wrapping mandatory too.
  ASSERT_EQ(Call(Operation::kUpdate, "kv/max-only", {{"pw", "x"}}).http_status, 204);
  EXPECT_EQ(Call(Operation::kRead, "kv/max-only", Json::object(), t).http_status, 403);
  EXPECT_EQ(Wrapped(Operation::kRead, "kv/max-only", t, "60s").http_status, 200);
}

// A use-limited token spends a use on every request it makes, a refused one
// too (as in Vault), and a refused last use revokes it: such a token cannot
// probe paths for free.
TEST_F(PolicyEnforcementTest, ARefusedRequestSpendsAUse) {
  ASSERT_EQ(Call(Operation::kUpdate, "sys/mounts/kv", {{"type", "kv"}}).http_status, 204);
  ASSERT_EQ(Call(Operation::kUpdate, "kv/app", {{"pw", "s3cret"}}).http_status, 204);
  ASSERT_EQ(Call(Operation::kUpdate, "sys/policy/limited",
                 {{"policy", R"(path "kv/app" { capabilities = ["read"] }
path "sys/audit" { capabilities = ["read"] })"}})
                .http_status,
            204);
  auto made = Call(Operation::kUpdate, "auth/token/create",
                   {{"policies", {"limited"}}, {"num_uses", 4}, {"no_default_policy", true}});
  ASSERT_EQ(made.http_status, 200) << made.data.dump();
  const std::string t = made.auth["client_token"];
  auto uses_left = [&]() {
    auto r = Call(Operation::kUpdate, "auth/token/lookup", {{"token", t}});
    return r.http_status == 200 ? r.data["num_uses"].get<int>() : -1;
  };
  ASSERT_EQ(Call(Operation::kRead, "kv/app", Json::object(), t).http_status, 200);
  EXPECT_EQ(uses_left(), 3);
  // Denied by its policy, and a sudo path without sudo: a use each.
  EXPECT_EQ(Call(Operation::kRead, "kv/other", Json::object(), t).http_status, 403);
  EXPECT_EQ(uses_left(), 2);
  EXPECT_EQ(Call(Operation::kRead, "sys/audit", Json::object(), t).http_status, 403);
  EXPECT_EQ(uses_left(), 1);
  // The last use, refused: the token is gone, and the allowed path too.
  EXPECT_EQ(Call(Operation::kUpdate, "kv/app", {{"pw", "changed"}}, t).http_status, 403);
  EXPECT_EQ(uses_left(), -1);
  auto after = Call(Operation::kRead, "kv/app", Json::object(), t);
  EXPECT_EQ(after.http_status, 403);
  EXPECT_EQ(Call(Operation::kRead, "kv/app").data["pw"], "s3cret");

  // Help and the UI's mount listing need only a valid token: they spend a
  // use as well, and the last one revokes the token after the answer.
  auto two = Call(Operation::kUpdate, "auth/token/create",
                  {{"policies", {"limited"}}, {"num_uses", 2}, {"no_default_policy", true}});
  ASSERT_EQ(two.http_status, 200) << two.data.dump();
  const std::string t2 = two.auth["client_token"];
  EXPECT_EQ(Call(Operation::kHelp, "kv/app", Json::object(), t2).http_status, 200);
  auto left = Call(Operation::kUpdate, "auth/token/lookup", {{"token", t2}});
  EXPECT_EQ(left.data["num_uses"], 1);
  EXPECT_EQ(Call(Operation::kRead, "sys/internal/ui/mounts", Json::object(), t2).http_status, 200);
  EXPECT_NE(Call(Operation::kUpdate, "auth/token/lookup", {{"token", t2}}).http_status, 200);
}

// A write takes its parameters from the body only: a query string can
// neither slip a value past allowed_parameters nor change what the body
// (which the ACL checked and the audit entry records) asks for.
TEST_F(PolicyEnforcementTest, QueryStringCannotOverrideAWritesBody) {
  ASSERT_EQ(Call(Operation::kUpdate, "sys/mounts/secret",
                 {{"type", "kv"}, {"options", {{"version", "2"}}}})
                .http_status,
            204);
  for (int i = 1; i <= 3; ++i) {
    ASSERT_EQ(Call(Operation::kUpdate, "secret/data/app", {{"data", {{"v", i}}}}).http_status, 200);
  }
  const std::string t = TokenWith("destroy-three", R"(path "secret/destroy/app" {
    capabilities = ["update"]
    allowed_parameters = { "versions" = ["3"] }
  })");
  logical::Request r = Base(Operation::kUpdate, "secret/destroy/app", t);
  r.data = {{"versions", "3"}};
  r.query = {{"versions", "1"}};
  auto destroyed = core_->HandleRequest(r);
  ASSERT_EQ(destroyed.http_status, 204) << destroyed.data.dump();
  Json versions = Call(Operation::kRead, "secret/metadata/app").data["versions"];
  EXPECT_EQ(versions["1"]["destroyed"], false) << versions.dump();
  EXPECT_EQ(versions["3"]["destroyed"], true) << versions.dump();
  // Reads still take their parameters from the query string.
  logical::Request read = Base(Operation::kRead, "secret/data/app", root_);
  read.query = {{"version", "1"}};
  auto v1 = core_->HandleRequest(read);
  ASSERT_EQ(v1.http_status, 200);
  // Without audit devices a KV read answers as text (Response::data_text).
  Json data = v1.data_text.empty() ? v1.data : Json::parse(v1.data_text);
  EXPECT_EQ(data["metadata"]["version"], 1);
}

// Creating something new under auth/ or in a cubbyhole needs "create";
// "update" only changes what exists (Vault's existence checks).
TEST_F(PolicyEnforcementTest, NewObjectsUnderAuthAndCubbyholeNeedCreate) {
  ASSERT_EQ(Call(Operation::kUpdate, "sys/auth/userpass", {{"type", "userpass"}}).http_status, 204);
  ASSERT_EQ(Call(Operation::kUpdate, "sys/auth/approle", {{"type", "approle"}}).http_status, 204);
  ASSERT_EQ(Call(Operation::kUpdate, "auth/userpass/users/alice", {{"password", "pw"}}).http_status,
            204);
  ASSERT_EQ(Call(Operation::kUpdate, "auth/approle/role/app", Json::object()).http_status, 204);
  ASSERT_EQ(Call(Operation::kUpdate, "auth/token/roles/ci", Json::object()).http_status, 204);
  const std::string hcl = R"(path "auth/userpass/users/*" { capabilities = ["update"] }
    path "auth/approle/role/*" { capabilities = ["update"] }
    path "auth/token/roles/*" { capabilities = ["update"] }
    path "cubbyhole/*" { capabilities = ["update"] })";
  const std::string updater = TokenWith("updater", hcl);
  // Existing objects: update is enough.
  EXPECT_EQ(Call(Operation::kUpdate, "auth/userpass/users/alice", {{"password", "pw2"}}, updater)
                .http_status,
            204);
  EXPECT_EQ(
      Call(Operation::kUpdate, "auth/approle/role/app", {{"token_ttl", "1h"}}, updater).http_status,
      204);
  EXPECT_EQ(
      Call(Operation::kUpdate, "auth/token/roles/ci", {{"orphan", true}}, updater).http_status,
      204);
  // New ones: refused, and nothing is created.
  EXPECT_EQ(Call(Operation::kUpdate, "auth/userpass/users/mallory", {{"password", "pw"}}, updater)
                .http_status,
            403);
  EXPECT_EQ(
      Call(Operation::kUpdate, "auth/userpass/login/mallory", {{"password", "pw"}}, "").http_status,
      400);
  EXPECT_EQ(Call(Operation::kUpdate, "auth/approle/role/new", Json::object(), updater).http_status,
            403);
  EXPECT_EQ(Call(Operation::kRead, "auth/approle/role/new").http_status, 404);
  EXPECT_EQ(
      Call(Operation::kUpdate, "auth/token/roles/admin", {{"allowed_policies", "admin"}}, updater)
          .http_status,
      403);
  EXPECT_EQ(Call(Operation::kRead, "auth/token/roles/admin").http_status, 404);
  EXPECT_EQ(Call(Operation::kUpdate, "cubbyhole/new", {{"v", "1"}}, updater).http_status, 403);
  // With "create" the same writes go through.
  const std::string creator =
      TokenWith("creator", std::string(hcl).replace(hcl.find("\"update\""), 8, "\"create\""));
  EXPECT_EQ(Call(Operation::kUpdate, "auth/userpass/users/mallory", {{"password", "pw"}}, creator)
                .http_status,
            204);
}

// sys/seal seals on PUT/POST only, and a single-use token spent on it is
// revoked before the seal (afterwards there is no token store to do it).
TEST_F(PolicyEnforcementTest, SealTakesOnlyWritesAndSpendsASingleUseToken) {
  const std::string reader =
      TokenWith("seal-read", R"(path "sys/seal" { capabilities = ["read", "delete", "sudo"] })");
  EXPECT_EQ(Call(Operation::kRead, "sys/seal", Json::object(), reader).http_status, 405);
  EXPECT_EQ(Call(Operation::kDelete, "sys/seal", Json::object(), reader).http_status, 405);
  ASSERT_FALSE(core_->Sealed());

  ASSERT_EQ(Call(Operation::kUpdate, "sys/policy/sealer",
                 {{"policy", R"(path "sys/seal" { capabilities = ["update", "sudo"] })"}})
                .http_status,
            204);
  auto once = Call(Operation::kUpdate, "auth/token/create",
                   {{"policies", {"sealer"}}, {"num_uses", 1}, {"no_default_policy", true}});
  ASSERT_EQ(once.http_status, 200);
  const std::string token = once.auth["client_token"];
  ASSERT_EQ(Call(Operation::kUpdate, "sys/seal", Json::object(), token).http_status, 204);
  ASSERT_TRUE(core_->Sealed());
  ASSERT_TRUE(core_->Unseal(key_).has_value());
  auto looked = Call(Operation::kUpdate, "auth/token/lookup", {{"token", token}});
  EXPECT_NE(looked.http_status, 200) << looked.data.dump();
  EXPECT_EQ(Call(Operation::kUpdate, "sys/seal", Json::object(), token).http_status, 403);
  EXPECT_FALSE(core_->Sealed());
}

// sys/internal/ui/resultant-acl: the caller's rules after merging, as
// Vault's UI reads them. Exact paths and globs (without their '*') apart,
// capabilities in Vault's order, "deny" alone where denied, bounds and
// parameter rules only where set, "+" rules left out; root says only that.
TEST_F(PolicyEnforcementTest, ResultantAclShowsTheCallersMergedRules) {
  ASSERT_EQ(Call(Operation::kUpdate, "sys/policy/app",
                 {{"policy", R"(path "secret/data/app/*" { capabilities = ["read", "list"] }
path "secret/data/app/admin" { capabilities = ["deny"] }
path "secret/data/+/shared" { capabilities = ["read"] }
path "transit/encrypt/app" {
  capabilities = ["update"]
  allowed_parameters = { "plaintext" = [] }
  denied_parameters = { "key_version" = [] }
  required_parameters = ["plaintext"]
})"}}).http_status,
            204);
  const std::string t = TokenWith("ops", R"(path "secret/data/app/*" {
  capabilities = ["patch", "update", "create", "delete", "sudo"]
}
path "sys/internal/ui/resultant-acl" { capabilities = ["read"] }
path "sys/wrapping/wrap" {
  capabilities = ["update"]
  min_wrapping_ttl = "1m"
  max_wrapping_ttl = "1h"
})");
  // Add the first policy to the same token: the rules merge.
  auto both = Call(Operation::kUpdate, "auth/token/create",
                   {{"policies", {"app", "ops"}}, {"no_default_policy", true}});
  ASSERT_EQ(both.http_status, 200) << both.data.dump();
  const std::string token = both.auth["client_token"];

  auto r = Call(Operation::kRead, "sys/internal/ui/resultant-acl", Json::object(), token);
  ASSERT_EQ(r.http_status, 200) << r.data.dump();
  const Json expected = Json::parse(R"({
    "root": false,
    "exact_paths": {
      "secret/data/app/admin": {"capabilities": ["deny"]},
      "sys/internal/ui/resultant-acl": {"capabilities": ["read"]},
      "sys/wrapping/wrap": {"capabilities": ["update"], "min_wrapping_ttl": 60,
                            "max_wrapping_ttl": 3600},
      "transit/encrypt/app": {"capabilities": ["update"],
                              "allowed_parameters": {"plaintext": []},
                              "denied_parameters": {"key_version": []},
                              "required_parameters": ["plaintext"]}
    },
    "glob_paths": {
      "secret/data/app/": {"capabilities": ["create", "delete", "list", "read", "sudo",
                                            "update", "patch"]}
    }
  })");
  EXPECT_EQ(r.data, expected) << r.data.dump(2);

  // The "ops" token alone: only its own rules.
  auto own = Call(Operation::kRead, "sys/internal/ui/resultant-acl", Json::object(), t);
  ASSERT_EQ(own.http_status, 200) << own.data.dump();
  EXPECT_EQ(own.data["glob_paths"]["secret/data/app/"]["capabilities"],
            Json::parse(R"(["create", "delete", "sudo", "update", "patch"])"));
  EXPECT_FALSE(own.data["exact_paths"].contains("secret/data/app/admin"));

  auto root = Call(Operation::kRead, "sys/internal/ui/resultant-acl");
  ASSERT_EQ(root.http_status, 200) << root.data.dump();
  EXPECT_EQ(root.data, Json::parse(R"({"root": true})"));
  EXPECT_EQ(Call(Operation::kUpdate, "sys/internal/ui/resultant-acl").http_status, 405);

  // A token whose policies do not grant read on the path is refused.
  const std::string none = TokenWith("none", R"(path "secret/*" { capabilities = ["read"] })");
  EXPECT_EQ(
      Call(Operation::kRead, "sys/internal/ui/resultant-acl", Json::object(), none).http_status,
      403);
}

// A policy name never ends in '/': the ACL checks the path as sent, so a
// name read with its slash stripped would let "sys/policies/acl/admin/"
// reach a policy the caller is denied.
TEST_F(PolicyEnforcementTest, ATrailingSlashDoesNotReachADeniedPolicy) {
  const std::string admin = R"(path "*" { capabilities = ["read"] })";
  ASSERT_EQ(Call(Operation::kUpdate, "sys/policies/acl/admin", {{"policy", admin}}).http_status,
            204);
  const std::string t = TokenWith("policy-editor", R"(
path "sys/policies/acl/*" { capabilities = ["create", "update", "delete", "read"] }
path "sys/policies/acl/admin" { capabilities = ["deny"] }
path "sys/policy/*" { capabilities = ["create", "update", "delete", "read"] }
path "sys/policy/admin" { capabilities = ["deny"] })");
  const Json evil = {{"policy", R"(path "sys/*" { capabilities = ["sudo", "update"] })"}};
  for (const std::string prefix : {"sys/policies/acl/", "sys/policy/"}) {
    EXPECT_EQ(Call(Operation::kUpdate, prefix + "admin", evil, t).http_status, 403);
    // The ACL refuses the slashed path as it refuses the bare one ...
    EXPECT_EQ(Call(Operation::kUpdate, prefix + "admin/", evil, t).http_status, 403) << prefix;
    EXPECT_EQ(Call(Operation::kDelete, prefix + "admin/", Json::object(), t).http_status, 403);
    EXPECT_EQ(Call(Operation::kRead, prefix + "admin/", Json::object(), t).http_status, 403);
    // ... and the handler refuses such a name anyway.
    auto put = Call(Operation::kUpdate, prefix + "admin/", evil);
    EXPECT_EQ(put.http_status, 400) << prefix;
    const std::string error = (put.raw ? *put.raw : put.data).dump();
    EXPECT_NE(error.find("policy name"), std::string::npos) << error;
    EXPECT_EQ(Call(Operation::kUpdate, prefix + "mine", evil, t).http_status, 204);
  }
  auto stored = Call(Operation::kRead, "sys/policies/acl/admin");
  ASSERT_EQ(stored.http_status, 200);
  EXPECT_EQ(Body(stored)["policy"], admin);
  // The collection itself still lists with or without the slash.
  EXPECT_EQ(Call(Operation::kList, "sys/policies/acl/").http_status, 200);
  EXPECT_EQ(Call(Operation::kRead, "sys/policy/").http_status, 200);
}

// Routes that serve "name/" as "name" (an auth method's role or config):
// the ACL checks a slashed path without its slash too, so a deny on the
// name holds. Lists keep their slash and their own rules.
TEST_F(PolicyEnforcementTest, ATrailingSlashIsCheckedWithoutItToo) {
  ASSERT_EQ(Call(Operation::kUpdate, "sys/auth/jwt", {{"type", "jwt"}}).http_status, 204);
  const Json admin = {{"role_type", "jwt"},
                      {"user_claim", "sub"},
                      {"bound_audiences", "a"},
                      {"token_policies", "admin"}};
  ASSERT_EQ(Call(Operation::kUpdate, "auth/jwt/role/admin", admin).http_status, 204);
  const std::string t = TokenWith("role-editor", R"(
path "auth/jwt/role/*" { capabilities = ["create", "update", "read", "list"] }
path "auth/jwt/role/admin" { capabilities = ["deny"] }
path "auth/jwt/config" { capabilities = ["deny"] }
path "auth/jwt/*" { capabilities = ["update"] })");
  const Json open = {{"role_type", "jwt"}, {"user_claim", "sub"}, {"bound_audiences", "any"}};
  for (const std::string path : {"auth/jwt/role/admin", "auth/jwt/role/admin/",
                                 "auth/jwt/role/admin//", "auth/jwt/config/"}) {
    EXPECT_EQ(Call(Operation::kUpdate, path, open, t).http_status, 403) << path;
    EXPECT_EQ(Call(Operation::kRead, path, Json::object(), t).http_status, 403) << path;
  }
  EXPECT_EQ(Body(Call(Operation::kRead, "auth/jwt/role/admin"))["bound_audiences"],
            Json::array({"a"}));
  // What the policy allows still works, with or without the slash.
  EXPECT_EQ(Call(Operation::kUpdate, "auth/jwt/role/dev/", open, t).http_status, 204);
  EXPECT_EQ(Call(Operation::kRead, "auth/jwt/role/dev", Json::object(), t).http_status, 200);
  EXPECT_EQ(Call(Operation::kList, "auth/jwt/role/", Json::object(), t).http_status, 200);
}

// Policy names, and the names of userpass users, AppRole roles, LDAP users
// and groups and GitHub mappings, are stored in canonical form (lower case,
// trimmed): "sys/policies/acl/ADMIN" is the policy "admin". The ACL checks
// the canonical path too, so a deny on it holds for every spelling.
TEST_F(PolicyEnforcementTest, ANameIsCheckedInItsCanonicalFormToo) {
  const std::string admin = R"(path "*" { capabilities = ["read"] })";
  ASSERT_EQ(Call(Operation::kUpdate, "sys/policies/acl/admin", {{"policy", admin}}).http_status,
            204);
  ASSERT_EQ(Call(Operation::kUpdate, "sys/auth/userpass", {{"type", "userpass"}}).http_status, 204);
  ASSERT_EQ(Call(Operation::kUpdate, "auth/userpass/users/alice", {{"password", "pw"}}).http_status,
            204);
  const std::string t = TokenWith("editor", R"(
path "sys/policies/acl/*" { capabilities = ["create", "update", "read", "delete"] }
path "sys/policies/acl/admin" { capabilities = ["deny"] }
path "sys/policy/*" { capabilities = ["create", "update", "read"] }
path "sys/policy/admin" { capabilities = ["deny"] }
path "auth/userpass/users/*" { capabilities = ["create", "update", "read"] }
path "auth/userpass/users/alice" { capabilities = ["deny"] }
path "auth/userpass/users/alice/*" { capabilities = ["deny"] })");
  const Json evil = {{"policy", R"(path "*" { capabilities = ["sudo", "update"] })"}};
  for (const std::string path : {"sys/policies/acl/ADMIN", "sys/policies/acl/ admin",
                                 "sys/policies/acl/Admin ", "sys/policy/ADMIN"}) {
    EXPECT_EQ(Call(Operation::kUpdate, path, evil, t).http_status, 403) << path;
    EXPECT_EQ(Call(Operation::kRead, path, Json::object(), t).http_status, 403) << path;
  }
  EXPECT_EQ(Call(Operation::kDelete, "sys/policies/acl/ADMIN", Json::object(), t).http_status, 403);
  EXPECT_EQ(Body(Call(Operation::kRead, "sys/policies/acl/admin"))["policy"], admin);
  for (const std::string path :
       {"auth/userpass/users/ALICE/password", "auth/userpass/users/Alice",
        "auth/userpass/users/ alice/policies", "auth/userpass/users/ALICE/"}) {
    EXPECT_EQ(Call(Operation::kUpdate, path, {{"password", "mine"}, {"token_policies", "x"}}, t)
                  .http_status,
              403)
        << path;
  }
  // Names the policy allows still work in any spelling.
  EXPECT_EQ(Call(Operation::kUpdate, "sys/policies/acl/Mine", evil, t).http_status, 204);
  EXPECT_EQ(Call(Operation::kRead, "sys/policies/acl/mine", Json::object(), t).http_status, 200);
  EXPECT_EQ(Call(Operation::kUpdate, "auth/userpass/users/BOB", {{"password", "b"}}, t).http_status,
            204);
  EXPECT_EQ(Call(Operation::kRead, "auth/userpass/users/bob", Json::object(), t).http_status, 200);
  // Another spelling and a trailing slash together: "users/ALICE/" is alice.
  const std::string exact = TokenWith("exact-deny", R"(
path "auth/userpass/users/*" { capabilities = ["create", "update", "read"] }
path "auth/userpass/users/alice" { capabilities = ["deny"] })");
  EXPECT_EQ(Call(Operation::kUpdate, "auth/userpass/users/ALICE/", {{"password", "mine"}}, exact)
                .http_status,
            403);
}

// A token whose entity was deleted is refused, as in Vault: it does not
// fall back to its own policies. sys/capabilities answers "invalid token"
// for it, sys/capabilities-self refuses it like any request.
TEST_F(PolicyEnforcementTest, ATokenWhoseEntityIsGoneIsRefused) {
  ASSERT_EQ(Call(Operation::kUpdate, "sys/auth/userpass", {{"type", "userpass"}}).http_status, 204);
  ASSERT_EQ(Call(Operation::kUpdate, "auth/userpass/users/alice",
                 {{"password", "pw"}, {"token_policies", "default"}})
                .http_status,
            204);
  auto login = Call(Operation::kUpdate, "auth/userpass/login/alice", {{"password", "pw"}}, "");
  ASSERT_EQ(login.http_status, 200);
  const std::string token = login.auth["client_token"];
  const std::string accessor = login.auth["accessor"];
  const std::string entity = login.auth["entity_id"];
  ASSERT_FALSE(entity.empty());
  ASSERT_EQ(Call(Operation::kRead, "auth/token/lookup-self", Json::object(), token).http_status,
            200);

  ASSERT_EQ(Call(Operation::kDelete, "identity/entity/id/" + entity).http_status, 204);
  EXPECT_EQ(Call(Operation::kRead, "auth/token/lookup-self", Json::object(), token).http_status,
            403);
  EXPECT_EQ(Call(Operation::kUpdate, "sys/capabilities-self", {{"paths", {"cubbyhole/x"}}}, token)
                .http_status,
            403);
  auto other =
      Call(Operation::kUpdate, "sys/capabilities", {{"token", token}, {"paths", {"cubbyhole/x"}}});
  EXPECT_EQ(other.http_status, 400);
  EXPECT_NE((other.raw ? *other.raw : other.data).dump().find("invalid token"), std::string::npos);
  EXPECT_EQ(Call(Operation::kUpdate, "sys/capabilities-accessor",
                 {{"accessor", accessor}, {"paths", {"cubbyhole/x"}}})
                .http_status,
            400);
}

// sys/internal/ui/mounts shows a mount as Vault does: when the caller's
// capabilities on the mount path are not a deny, or some rule at or under
// the mount grants something. A glob that covers the mount does not show
// it when a deny on the mount path governs it.
TEST_F(PolicyEnforcementTest, TheUiMountListingHonoursDenies) {
  for (const char* mount : {"kv", "app", "team", "open"}) {
    ASSERT_EQ(
        Call(Operation::kUpdate, std::string("sys/mounts/") + mount, {{"type", "kv"}}).http_status,
        204);
  }
  const std::string t = TokenWith("ui", R"(
path "*" { capabilities = ["read"] }
path "kv/*" { capabilities = ["deny"] }
path "app/*" { capabilities = ["deny"] }
path "app/config" { capabilities = ["read"] }
path "team/*" { capabilities = ["deny"] }
path "team/+/shared" { capabilities = ["read"] })");
  auto r = Call(Operation::kRead, "sys/internal/ui/mounts", Json::object(), t);
  ASSERT_EQ(r.http_status, 200);
  const Json& secret = r.data["secret"];
  EXPECT_FALSE(secret.contains("kv/")) << secret.dump();
  EXPECT_TRUE(secret.contains("app/")) << secret.dump();   // app/config under it
  EXPECT_TRUE(secret.contains("team/")) << secret.dump();  // team/+/shared under it
  EXPECT_TRUE(secret.contains("open/")) << secret.dump();  // "*" governs it
  EXPECT_EQ(Call(Operation::kRead, "sys/internal/ui/mounts/kv", Json::object(), t).http_status,
            403);
  EXPECT_EQ(Call(Operation::kRead, "sys/internal/ui/mounts/app", Json::object(), t).http_status,
            200);
}

// sys/capabilities*: "paths" and "path" are comma-separated lists (items
// trimmed), as Vault reads them; "path" counts only when "paths" is empty.
TEST_F(PolicyEnforcementTest, CapabilitiesTakeCommaSeparatedPaths) {
  const std::string t = TokenWith("caps", R"(path "secret/a" { capabilities = ["read"] }
path "secret/b" { capabilities = ["update"] }
path "sys/capabilities-self" { capabilities = ["update"] })");
  auto ask = [&](const Json& body) {
    return Call(Operation::kUpdate, "sys/capabilities-self", body, t);
  };
  const Json both = {{"secret/a", {"read"}}, {"secret/b", {"update"}}};
  for (const char* field : {"paths", "path"}) {
    auto r = ask({{field, "secret/a, secret/b"}});
    ASSERT_EQ(r.http_status, 200) << field;
    EXPECT_EQ(Body(r), both) << field;
  }
  auto list = ask({{"paths", {" secret/a", "secret/b "}}});
  ASSERT_EQ(list.http_status, 200);
  EXPECT_EQ(Body(list), both);
  auto preferred = ask({{"paths", "secret/a"}, {"path", "secret/b"}});
  ASSERT_EQ(preferred.http_status, 200);
  EXPECT_EQ(Body(preferred), (Json{{"secret/a", {"read"}}, {"capabilities", {"read"}}}));
  auto fallback = ask({{"paths", ""}, {"path", "secret/b"}});
  ASSERT_EQ(fallback.http_status, 200);
  EXPECT_EQ(Body(fallback), (Json{{"secret/b", {"update"}}, {"capabilities", {"update"}}}));
  EXPECT_EQ(ask(Json::object()).http_status, 400);
  EXPECT_EQ(ask({{"paths", "secret/a,,secret/b"}}).http_status, 400);
}

// Vault copies "data" to the top of the body for the legacy sys/policy
// endpoints only; sys/policies/acl answers in the ordinary envelope.
TEST_F(PolicyEnforcementTest, OnlyLegacyPolicyEndpointsRepeatDataAtTheTop) {
  const std::string text = R"(path "secret/*" { capabilities = ["read"] })";
  ASSERT_EQ(Call(Operation::kUpdate, "sys/policies/acl/dev", {{"policy", text}}).http_status, 204);
  for (const auto& [op, path] : {std::pair{Operation::kRead, "sys/policies/acl/dev"},
                                 std::pair{Operation::kList, "sys/policies/acl"}}) {
    auto r = Call(op, path);
    ASSERT_EQ(r.http_status, 200) << path;
    EXPECT_FALSE(r.raw.has_value()) << path << ": " << r.raw->dump();
  }
  EXPECT_EQ(Call(Operation::kRead, "sys/policies/acl/dev").data["policy"], text);
  auto legacy = Call(Operation::kRead, "sys/policy/dev");
  ASSERT_TRUE(legacy.raw.has_value());
  EXPECT_EQ((*legacy.raw)["rules"], text);
  EXPECT_EQ((*legacy.raw)["data"]["rules"], text);
  auto names = Call(Operation::kRead, "sys/policy");
  ASSERT_TRUE(names.raw.has_value());
  EXPECT_EQ((*names.raw)["policies"], (*names.raw)["data"]["keys"]);
}

}  // namespace
}  // namespace coffer::core

namespace coffer::core {
namespace {

// OpenBao's SCAN: a recursive list needs the "scan" capability (a list
// grant does not reach into sub-folders the policy may deny), reaches only
// engines that take it, and every other path answers 405 without running.
class ScanTest : public PolicyEnforcementTest {};

TEST_F(ScanTest, NeedsTheScanCapabilityAndOnlyReachesKv) {
  ASSERT_EQ(Call(Operation::kUpdate, "sys/mounts/secret",
                 {{"type", "kv"}, {"options", {{"version", "2"}}}})
                .http_status,
            204);
  for (const char* k : {"app/db", "app/private/key", "other"}) {
    ASSERT_EQ(Call(Operation::kUpdate, std::string("secret/data/") + k, {{"data", {{"v", 1}}}})
                  .http_status,
              200);
  }
  const std::string lister = TokenWith("lister", R"(
    path "secret/metadata/*" { capabilities = ["list"] }
    path "secret/metadata/app/private/*" { capabilities = ["deny"] })");
  // A list grant lists one level, but does not scan the tree.
  EXPECT_EQ(Call(Operation::kList, "secret/metadata/app/", Json::object(), lister).http_status,
            200);
  auto refused = Call(Operation::kScan, "secret/metadata/app/", Json::object(), lister);
  EXPECT_EQ(refused.http_status, 403);
  EXPECT_EQ(refused.data.dump().find("private"), std::string::npos);

  const std::string scanner = TokenWith("scanner", R"(
    path "secret/metadata/app/*" { capabilities = ["scan"] }
    path "sys/capabilities-self" { capabilities = ["update"] })");
  auto scan = Call(Operation::kScan, "secret/metadata/app/", Json::object(), scanner);
  ASSERT_EQ(scan.http_status, 200);
  EXPECT_EQ(Body(scan)["keys"], (Json{"db", "private/key"}));
  EXPECT_EQ(Call(Operation::kScan, "secret/metadata/", Json::object(), scanner).http_status, 403);
  EXPECT_EQ(Call(Operation::kList, "secret/metadata/app/", Json::object(), scanner).http_status,
            403);
  auto caps = Call(Operation::kUpdate, "sys/capabilities-self",
                   {{"paths", Json::array({"secret/metadata/app/"})}}, scanner);
  ASSERT_EQ(caps.http_status, 200) << caps.data.dump();
  EXPECT_EQ(Body(caps)["capabilities"], (Json{"scan"}));

  // Root may scan, but only engines that take scans: anything else is 405.
  EXPECT_EQ(Call(Operation::kScan, "secret/metadata/").http_status, 200);
  for (const char* path : {"sys/policies/acl/", "sys/mounts/", "auth/token/accessors/",
                           "identity/entity/id/", "cubbyhole/", "sys/health/", "sys/seal/"}) {
    EXPECT_EQ(Call(Operation::kScan, path).http_status, 405) << path;
  }
  ASSERT_EQ(Call(Operation::kUpdate, "sys/mounts/transit", {{"type", "transit"}}).http_status, 204);
  EXPECT_EQ(Call(Operation::kScan, "transit/keys/").http_status, 405);
  // The scan of sys/seal/ sealed nothing.
  EXPECT_EQ(Call(Operation::kRead, "secret/data/other").http_status, 200);
}

}  // namespace
}  // namespace coffer::core

namespace coffer::core {
namespace {

// OpenBao's list_scan_response_keys_filter_path: a LIST or SCAN answer keeps
// only the names whose filter path the caller may read (list, for folders).
// A hidden name is never the paging cursor, and a page whose names are all
// hidden does not end the walk early.
TEST_F(ScanTest, AFilterPathHidesWhatTheCallerMayNotRead) {
  ASSERT_EQ(Call(Operation::kUpdate, "sys/mounts/secret",
                 {{"type", "kv"}, {"options", {{"version", "2"}}}})
                .http_status,
            204);
  for (const char* k : {"app/private1", "app/private2", "app/private3", "app/pub-1", "app/shared/x",
                        "app/shared/y", "hidden/only"}) {
    ASSERT_EQ(Call(Operation::kUpdate, std::string("secret/data/") + k, {{"data", {{"v", 1}}}})
                  .http_status,
              200);
  }
  const std::string t = TokenWith("filtered", R"(
    path "secret/metadata/*" {
      capabilities = ["list", "scan"]
      list_scan_response_keys_filter_path = "{{ .path }}{{ .key }}"
    }
    path "secret/metadata/app/pub-*" { capabilities = ["read"] }
    path "secret/metadata/app/shared/*" { capabilities = ["read", "list"] })");
  auto keys = [&](Operation op, const std::string& path, Json query = Json::object()) {
    logical::Request r = Base(op, path, t);
    for (const auto& [k, v] : query.items()) r.query[k] = v.get<std::string>();
    logical::Response resp = core_->HandleRequest(r);
    return std::pair{resp.http_status, Body(resp)};
  };

  auto [st, list] = keys(Operation::kList, "secret/metadata/app/");
  ASSERT_EQ(st, 200) << list.dump();
  EXPECT_EQ(list, (Json{{"keys", {"pub-1", "shared/"}}}));
  auto [st2, scan] = keys(Operation::kScan, "secret/metadata/app/");
  ASSERT_EQ(st2, 200) << scan.dump();
  EXPECT_EQ(scan, (Json{{"keys", {"pub-1", "shared/x", "shared/y"}}}));

  // Pages of 2: the first engine page is all hidden, so the next is fetched;
  // the cursor is the last visible name.
  auto [st3, page] = keys(Operation::kScan, "secret/metadata/app/", {{"limit", "2"}});
  ASSERT_EQ(st3, 200) << page.dump();
  EXPECT_EQ(page, (Json{{"keys", {"pub-1"}}, {"next_after", "pub-1"}}));
  auto [st4, rest] =
      keys(Operation::kScan, "secret/metadata/app/", {{"limit", "2"}, {"after", "pub-1"}});
  ASSERT_EQ(st4, 200) << rest.dump();
  EXPECT_EQ(rest, (Json{{"keys", {"shared/x", "shared/y"}}}));
  auto [st5, level] = keys(Operation::kList, "secret/metadata/app/", {{"limit", "3"}});
  ASSERT_EQ(st5, 200) << level.dump();
  EXPECT_EQ(level, (Json{{"keys", {"pub-1", "shared/"}}}));

  // Nothing visible: the answer of an empty list.
  EXPECT_EQ(keys(Operation::kList, "secret/metadata/hidden/").first, 404);
  EXPECT_EQ(keys(Operation::kScan, "secret/metadata/hidden/").first, 404);
  // Root is never filtered.
  EXPECT_EQ(Body(Call(Operation::kList, "secret/metadata/hidden/"))["keys"], (Json{"only"}));
}

}  // namespace
}  // namespace coffer::core

namespace coffer::core {
namespace {

// As in Vault: auth/token/revoke-orphan is not a root path (only its
// deprecated revoke-orphan/<token> form is); the handler itself requires
// sudo and answers 400 without it, revoking nothing.
TEST_F(PolicyEnforcementTest, RevokeOrphanWithoutSudoIsABadRequest) {
  auto victim = Call(Operation::kUpdate, "auth/token/create", {{"policies", {"default"}}});
  ASSERT_EQ(victim.http_status, 200);
  const std::string id = victim.auth["client_token"];
  const std::string t =
      TokenWith("orphaner", R"(path "auth/token/revoke-orphan*" { capabilities = ["update"] })");
  auto r = Call(Operation::kUpdate, "auth/token/revoke-orphan", {{"token", id}}, t);
  EXPECT_EQ(r.http_status, 400);
  const std::string body = (r.raw ? *r.raw : r.data).dump();
  EXPECT_NE(body.find("root or sudo privileges required"), std::string::npos) << body;
  EXPECT_EQ(Call(Operation::kUpdate, "auth/token/revoke-orphan/", {{"token", id}}, t).http_status,
            403);
  EXPECT_EQ(Call(Operation::kUpdate, "auth/token/lookup", {{"token", id}}).http_status, 200);
  const std::string sudo = TokenWith(
      "orphaner-sudo", R"(path "auth/token/revoke-orphan*" { capabilities = ["update", "sudo"] })");
  EXPECT_EQ(Call(Operation::kUpdate, "auth/token/revoke-orphan", {{"token", id}}, sudo).http_status,
            204);
  EXPECT_NE(Call(Operation::kUpdate, "auth/token/lookup", {{"token", id}}).http_status, 200);
}

}  // namespace
}  // namespace coffer::core

namespace coffer::core {
namespace {

// OpenBao's pagination_limit: the engine sees the bounded limit, a larger
// one is refused before anything runs, and `max` is the bound.
TEST_F(ScanTest, PaginationLimitBoundsWhatAListReturns) {
  ASSERT_EQ(Call(Operation::kUpdate, "sys/mounts/secret",
                 {{"type", "kv"}, {"options", {{"version", "2"}}}})
                .http_status,
            204);
  for (int i = 0; i < 5; ++i) {
    ASSERT_EQ(Call(Operation::kUpdate, "secret/data/k" + std::to_string(i), {{"data", {{"v", i}}}})
                  .http_status,
              200);
  }
  const std::string t = TokenWith("paged", R"(
    path "secret/metadata/*" {
      capabilities = ["list", "scan"]
      pagination_limit = 2
    })");
  auto list = [&](Operation op, std::map<std::string, std::string> query) {
    logical::Request r = Base(op, "secret/metadata/", t);
    r.query = std::move(query);
    return core_->HandleRequest(r);
  };
  for (auto query :
       std::vector<std::map<std::string, std::string>>{{}, {{"limit", "max"}}, {{"limit", "0"}}}) {
    for (Operation op : {Operation::kList, Operation::kScan}) {
      auto r = list(op, query);
      ASSERT_EQ(r.http_status, 200) << r.data.dump();
      EXPECT_EQ(Body(r), (Json{{"keys", {"k0", "k1"}}, {"next_after", "k1"}}));
    }
  }
  EXPECT_EQ(Body(list(Operation::kScan, {{"limit", "1"}, {"after", "k3"}})),
            (Json{{"keys", {"k4"}}}));
  EXPECT_EQ(list(Operation::kList, {{"limit", "3"}}).http_status, 403);
  EXPECT_EQ(list(Operation::kScan, {{"limit", "lots"}}).http_status, 403);
  // Root is not bounded, and max means every key.
  logical::Request all = Base(Operation::kScan, "secret/metadata/", root_);
  all.query = {{"limit", "max"}};
  EXPECT_EQ(Body(core_->HandleRequest(all))["keys"].size(), 5u);
}

}  // namespace
}  // namespace coffer::core
