// sys/mounts and sys/remount through the whole pipeline. A move keeps the
// mount's data and configuration, revokes what the mount issued, takes its
// rate limit quotas along and is recorded for the status path Vault's
// clients poll; a refused move changes nothing. A mount's lease TTLs as its
// engines see them: the tuned values, else the system's.
#include <gtest/gtest.h>

#include <string>
#include <tuple>
#include <vector>

#include "core/core_fixture.h"

namespace coffer::core {
namespace {

using logical::Json;
using logical::Operation;

class SysMountsTest : public CoreFixture {
 protected:
  static std::string Error(const logical::Response& r) {
    const Json& body = r.raw ? *r.raw : r.data;
    if (!body.contains("errors") || body["errors"].empty()) return "";
    return body["errors"][0].get<std::string>();
  }
  static Json Body(const logical::Response& r) { return r.raw ? (*r.raw)["data"] : r.data; }

  // Every mount path and its accessor, secrets engines and auth methods.
  Json Table() {
    Json t = Json::object();
    for (const char* list : {"sys/mounts", "sys/auth"}) {
      const Json listed = Body(Call(Operation::kRead, list));  // outlives the loop
      for (auto& [path, m] : listed.items()) {
        t[std::string(list) + ":" + path] = m["accessor"];
      }
    }
    return t;
  }
};

TEST_F(SysMountsTest, AMoveKeepsTheDataAndIsRecordedForTheStatusPath) {
  ASSERT_EQ(Call(Operation::kUpdate, "sys/mounts/team",
                 {{"type", "kv"}, {"options", {{"version", "2"}}}, {"description", "d"}})
                .http_status,
            204);
  ASSERT_EQ(Call(Operation::kUpdate, "team/data/app", {{"data", {{"v", "1"}}}}).http_status, 200);
  ASSERT_EQ(Call(Operation::kUpdate, "sys/quotas/rate-limit/team",
                 {{"path", "team/data/app"}, {"rate", 100}})
                .http_status,
            204);
  const Json accessor = Body(Call(Operation::kRead, "sys/mounts"))["team/"]["accessor"];

  auto moved = Call(Operation::kUpdate, "sys/remount", {{"from", "team"}, {"to", "teams/a"}});
  ASSERT_EQ(moved.http_status, 200) << Error(moved);
  const std::string id = Body(moved)["migration_id"].get<std::string>();
  EXPECT_EQ(id.size(), 36u) << id;
  // Also at the top level, as Vault answers it (Quarkus's client reads it there).
  ASSERT_TRUE(moved.raw.has_value());
  EXPECT_EQ((*moved.raw)["migration_id"], id);

  auto status = Call(Operation::kRead, "sys/remount/status/" + id);
  ASSERT_EQ(status.http_status, 200) << Error(status);
  EXPECT_EQ(
      status.data,
      (Json{{"migration_id", id},
            {"migration_info",
             {{"source_mount", "team/"}, {"target_mount", "teams/a/"}, {"status", "success"}}}}));
  EXPECT_EQ(Call(Operation::kRead, "sys/remount/status/not-an-id").http_status, 404);
  EXPECT_EQ(Call(Operation::kUpdate, "sys/remount/status/" + id).http_status, 405);

  // The same engine, data and configuration at the new path, none at the old.
  auto read = Call(Operation::kRead, "teams/a/data/app");
  ASSERT_EQ(read.http_status, 200) << Error(read);
  EXPECT_EQ(read.data["data"]["v"], "1");
  EXPECT_NE(Call(Operation::kRead, "team/data/app").http_status, 200);
  Json mounts = Body(Call(Operation::kRead, "sys/mounts"));
  EXPECT_FALSE(mounts.contains("team/"));
  EXPECT_EQ(mounts["teams/a/"]["accessor"], accessor);
  EXPECT_EQ(mounts["teams/a/"]["description"], "d");
  // The quota names the new path.
  EXPECT_EQ(Call(Operation::kRead, "sys/quotas/rate-limit/team").data["path"], "teams/a/data/app");
}

TEST_F(SysMountsTest, ARefusedMoveSaysWhyAndChangesNothing) {
  ASSERT_EQ(Call(Operation::kUpdate, "sys/mounts/team", {{"type", "kv"}}).http_status, 204);
  ASSERT_EQ(Call(Operation::kUpdate, "sys/mounts/other", {{"type", "kv"}}).http_status, 204);
  ASSERT_EQ(Call(Operation::kUpdate, "sys/auth/userpass", {{"type", "userpass"}}).http_status, 204);
  const Json before = Table();
  struct Case {
    Json body;
    std::string error;
  };
  const Case cases[] = {
      {{{"from", "team"}}, "both 'from' and 'to' path must be specified as a string"},
      {{{"from", "team"}, {"to", 3}}, "both 'from' and 'to' path must be specified as a string"},
      {{{"from", "team"}, {"to", "team"}}, "path already in use at \"team/\""},
      {{{"from", "team"}, {"to", "team/sub"}}, "path already in use at \"team/\""},
      {{{"from", "team"}, {"to", "other/x"}}, "path already in use at \"other/\""},
      {{{"from", "team"}, {"to", "a/../b"}}, "invalid to mount path \"a/../b/\""},
      {{{"from", "team"}, {"to", " x"}}, "'to' must be a mount path"},
      {{{"from", "nothing"}, {"to", "x"}}, "no matching mount at \"nothing/\""},
      {{{"from", "team"}, {"to", "sys/x"}}, "cannot remount to destination \"sys/x/\""},
      {{{"from", "team"}, {"to", "auth/x"}}, "cannot remount to destination \"auth/x/\""},
      {{{"from", "cubbyhole"}, {"to", "x"}}, "cannot remount \"cubbyhole/\""},
      {{{"from", "sys"}, {"to", "x"}}, "cannot remount \"sys/\""},
      {{{"from", "auth/userpass"}, {"to", "people"}},
       "cannot remount auth mount to non-auth mount \"people/\""},
      {{{"from", "auth/token"}, {"to", "auth/t2"}}, "cannot remount \"auth/token/\""},
      {{{"from", "auth/userpass"}, {"to", "auth/token"}},
       "cannot remount to destination \"auth/token/\""},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.body.dump());
    auto r = Call(Operation::kUpdate, "sys/remount", c.body);
    EXPECT_EQ(r.http_status, 400);
    EXPECT_NE(Error(r).find(c.error), std::string::npos) << Error(r);
  }
  EXPECT_EQ(Table(), before);
}

// Moving an auth method revokes the tokens its logins issued (Vault's
// "leases from the old path are revoked"); logins go on at the new path,
// under the same accessor.
TEST_F(SysMountsTest, MovingAnAuthMethodRevokesItsLoginsTokens) {
  ASSERT_EQ(Call(Operation::kUpdate, "sys/auth/userpass", {{"type", "userpass"}}).http_status, 204);
  ASSERT_EQ(Call(Operation::kUpdate, "auth/userpass/users/alice", {{"password", "pw"}}).http_status,
            204);
  auto login = Call(Operation::kUpdate, "auth/userpass/login/alice", {{"password", "pw"}}, "");
  ASSERT_EQ(login.http_status, 200);
  const std::string token = login.auth["client_token"].get<std::string>();
  ASSERT_EQ(Call(Operation::kRead, "auth/token/lookup-self", Json::object(), token).http_status,
            200);
  const Json accessor = Body(Call(Operation::kRead, "sys/auth"))["userpass/"]["accessor"];

  auto moved =
      Call(Operation::kUpdate, "sys/remount", {{"from", "auth/userpass"}, {"to", "auth/people"}});
  ASSERT_EQ(moved.http_status, 200) << Error(moved);
  EXPECT_EQ(Call(Operation::kRead, "auth/token/lookup-self", Json::object(), token).http_status,
            403);
  Json methods = Body(Call(Operation::kRead, "sys/auth"));
  EXPECT_FALSE(methods.contains("userpass/"));
  EXPECT_EQ(methods["people/"]["accessor"], accessor);
  auto again = Call(Operation::kUpdate, "auth/people/login/alice", {{"password", "pw"}}, "");
  ASSERT_EQ(again.http_status, 200);
  EXPECT_EQ(Call(Operation::kRead, "auth/token/lookup-self", Json::object(),
                 again.auth["client_token"].get<std::string>())
                .data["path"],
            "auth/people/login/alice");
  EXPECT_NE(
      Call(Operation::kUpdate, "auth/userpass/login/alice", {{"password", "pw"}}, "").http_status,
      200);
  // The login's entity alias (same accessor) reports where the mount is now.
  Json aliases = Call(Operation::kList, "identity/entity-alias/id").data["key_info"];
  ASSERT_EQ(aliases.size(), 1u) << aliases.dump();
  EXPECT_EQ(aliases.begin()->at("mount_path"), "auth/people/");
  const std::string alias_id = aliases.begin().key();
  EXPECT_EQ(Call(Operation::kRead, "identity/entity-alias/id/" + alias_id).data["mount_path"],
            "auth/people/");
}

// Vault's tune read reports the TTLs in effect (the system's where the
// mount has none), and a KV version 1 read without its own "ttl" reports
// the mount's default lease TTL, following a tune.
TEST_F(SysMountsTest, TuneReadsAndKvV1ReadsReportTheTtlsInEffect) {
  constexpr int kSystem = 768 * 3600;  // CoreOptions' defaults
  ASSERT_EQ(Call(Operation::kUpdate, "sys/mounts/kv1", {{"type", "kv"}}).http_status, 204);
  ASSERT_EQ(Call(Operation::kUpdate, "kv1/plain", {{"v", "1"}}).http_status, 204);
  ASSERT_EQ(Call(Operation::kUpdate, "kv1/own", {{"v", "1"}, {"ttl", "90s"}}).http_status, 204);
  Json t = Body(Call(Operation::kRead, "sys/mounts/kv1/tune"));
  EXPECT_EQ(t["default_lease_ttl"], kSystem);
  EXPECT_EQ(t["max_lease_ttl"], kSystem);
  // sys/mounts lists what is stored: 0, "the system's".
  EXPECT_EQ(Body(Call(Operation::kRead, "sys/mounts"))["kv1/"]["config"]["default_lease_ttl"], 0);
  EXPECT_EQ(Call(Operation::kRead, "kv1/plain").lease_duration, kSystem);

  ASSERT_EQ(Call(Operation::kUpdate, "sys/mounts/kv1/tune",
                 {{"default_lease_ttl", "1h"}, {"max_lease_ttl", "2h"}})
                .http_status,
            204);
  t = Body(Call(Operation::kRead, "sys/mounts/kv1/tune"));
  EXPECT_EQ(t["default_lease_ttl"], 3600);
  EXPECT_EQ(t["max_lease_ttl"], 7200);
  EXPECT_EQ(Call(Operation::kRead, "kv1/plain").lease_duration, 3600);
  EXPECT_EQ(Call(Operation::kRead, "kv1/own").lease_duration, 90);

  ASSERT_EQ(Call(Operation::kUpdate, "sys/auth/userpass", {{"type", "userpass"}}).http_status, 204);
  t = Body(Call(Operation::kRead, "sys/auth/userpass/tune"));
  EXPECT_EQ(t["default_lease_ttl"], kSystem);
  EXPECT_EQ(t["max_lease_ttl"], kSystem);
  t = Body(Call(Operation::kRead, "sys/auth/token/tune"));
  EXPECT_EQ(t["default_lease_ttl"], kSystem);
  EXPECT_EQ(t["token_type"], "default-service");
}

// The token auth method tunes as any auth method does (Vault's
// sys/auth/token/tune): its TTLs then govern the tokens auth/token/create
// makes, not the tokens of other methods' logins; the tune outlives a seal.
// It refuses a token type, as Vault does, and changes nothing then.
TEST_F(SysMountsTest, TheTokenAuthMethodTunesAndKeepsItsTuneAcrossASeal) {
  constexpr int kSystem = 768 * 3600;
  auto tuned = Call(Operation::kUpdate, "sys/auth/token/tune",
                    {{"default_lease_ttl", "30m"},
                     {"max_lease_ttl", "2h"},
                     {"description", "tokens"},
                     {"passthrough_request_headers", {"X-Foo"}},
                     {"allowed_response_headers", "X-Bar,X-Baz"}});
  ASSERT_EQ(tuned.http_status, 204) << Error(tuned);
  auto check = [&](const char* when) {
    for (const char* path : {"sys/auth/token/tune", "sys/mounts/auth/token/tune"}) {
      Json t = Body(Call(Operation::kRead, path));
      EXPECT_EQ(t["default_lease_ttl"], 1800) << when << path;
      EXPECT_EQ(t["max_lease_ttl"], 7200) << when << path;
      EXPECT_EQ(t["description"], "tokens") << when << path;
      EXPECT_EQ(t["passthrough_request_headers"], Json({"X-Foo"})) << when << path;
      EXPECT_EQ(t["allowed_response_headers"], Json({"X-Bar", "X-Baz"})) << when << path;
    }
    Json listed = Body(Call(Operation::kRead, "sys/auth"))["token/"];
    EXPECT_EQ(listed["description"], "tokens") << when;
    EXPECT_EQ(listed["config"]["max_lease_ttl"], 7200) << when;
    // A child of a token that expires gets the method's default TTL; a
    // longer TTL is capped at its max, with Vault's warning.
    const std::string parent =
        TokenWith(R"(path "auth/token/create" { capabilities = ["update"] })");
    auto child = Call(Operation::kUpdate, "auth/token/create", Json::object(), parent);
    ASSERT_EQ(child.http_status, 200) << Error(child);
    EXPECT_EQ(child.auth["lease_duration"], 1800) << when;
    auto capped = Call(Operation::kUpdate, "auth/token/create", {{"ttl", "5h"}}, parent);
    ASSERT_EQ(capped.http_status, 200) << Error(capped);
    EXPECT_EQ(capped.auth["lease_duration"], 7200) << when;
    EXPECT_EQ(capped.warnings.size(), 1u) << when;
  };
  check("after the tune: ");

  // A login's token follows its own method's TTLs and the system's max.
  ASSERT_EQ(Call(Operation::kUpdate, "sys/auth/userpass", {{"type", "userpass"}}).http_status, 204);
  ASSERT_EQ(Call(Operation::kUpdate, "auth/userpass/users/bob",
                 {{"password", "pw-for-bob"}, {"token_ttl", "3h"}})
                .http_status,
            204);
  auto login =
      Call(Operation::kUpdate, "auth/userpass/login/bob", {{"password", "pw-for-bob"}}, "");
  ASSERT_EQ(login.http_status, 200) << Error(login);
  EXPECT_EQ(login.auth["lease_duration"], 3 * 3600);

  // Refused, and nothing changes.
  auto bad = Call(Operation::kUpdate, "sys/auth/token/tune", {{"token_type", "batch"}});
  EXPECT_EQ(bad.http_status, 400);
  EXPECT_NE(Error(bad).find("token_type"), std::string::npos) << Error(bad);
  bad = Call(Operation::kUpdate, "sys/auth/token/tune", {{"default_lease_ttl", "3h"}});
  EXPECT_EQ(bad.http_status, 400);
  EXPECT_NE(Error(bad).find("would be less than"), std::string::npos) << Error(bad);

  ASSERT_TRUE(core_->Seal().ok());
  ASSERT_TRUE(core_->Unseal(key_).has_value());
  check("after a seal and an unseal: ");

  // "system" (0) gives the system's values back.
  ASSERT_EQ(Call(Operation::kUpdate, "sys/auth/token/tune",
                 {{"default_lease_ttl", "system"}, {"max_lease_ttl", "system"}})
                .http_status,
            204);
  Json t = Body(Call(Operation::kRead, "sys/auth/token/tune"));
  EXPECT_EQ(t["default_lease_ttl"], kSystem);
  EXPECT_EQ(t["max_lease_ttl"], kSystem);
}

// sys/mounts/<path>/tune reaches auth methods as auth/<path> (Vault's
// `auth tune` sends it so), and reads the sys/ and cubbyhole/ mounts, which
// cannot be tuned.
TEST_F(SysMountsTest, SysMountsTuneReachesAuthMethodsAndTheBuiltInMounts) {
  constexpr int kSystem = 768 * 3600;
  ASSERT_EQ(Call(Operation::kUpdate, "sys/auth/up", {{"type", "userpass"}}).http_status, 204);
  auto tuned = Call(Operation::kUpdate, "sys/mounts/auth/up/tune", {{"max_lease_ttl", "4h"}});
  ASSERT_EQ(tuned.http_status, 204) << Error(tuned);
  EXPECT_EQ(Body(Call(Operation::kRead, "sys/auth/up/tune"))["max_lease_ttl"], 4 * 3600);
  EXPECT_EQ(Body(Call(Operation::kRead, "sys/mounts/auth/up/tune"))["max_lease_ttl"], 4 * 3600);
  EXPECT_EQ(Call(Operation::kRead, "sys/mounts/auth/nothing/tune").http_status, 400);
  // A read of the mount itself is the auth method's, as sys/auth/up answers
  // it (Vault's Go client reads an auth method there); a missing one in the
  // secrets engines' words, which Terraform's provider reads as "gone".
  auto read = Call(Operation::kRead, "sys/mounts/auth/up");
  ASSERT_EQ(read.http_status, 200) << Error(read);
  EXPECT_EQ(Body(read), Body(Call(Operation::kRead, "sys/auth/up")));
  EXPECT_EQ(Body(read)["type"], "userpass");
  // Answers in Vault's older shape name the system backend too.
  ASSERT_TRUE(read.raw.has_value());
  EXPECT_EQ((*read.raw)["mount_type"], "system");
  EXPECT_EQ(Body(Call(Operation::kRead, "sys/mounts/auth/token"))["type"], "token");
  auto missing = Call(Operation::kRead, "sys/mounts/auth/nothing");
  EXPECT_EQ(missing.http_status, 400);
  EXPECT_EQ(Error(missing), "No secret engine mount at auth/nothing/");
  // A path below a mount reads that mount (Vault matches the longest prefix).
  EXPECT_EQ(Body(Call(Operation::kRead, "sys/mounts/auth/up/users/alice")), Body(read));
  ASSERT_EQ(Call(Operation::kUpdate, "sys/mounts/kvx", {{"type", "kv"}}).http_status, 204);
  auto below = Call(Operation::kRead, "sys/mounts/kvx/a/b");
  ASSERT_EQ(below.http_status, 200) << Error(below);
  EXPECT_EQ(Body(below), Body(Call(Operation::kRead, "sys/mounts/kvx")));
  EXPECT_EQ(Call(Operation::kRead, "sys/mounts/nothing/a").http_status, 400);

  for (const char* path : {"sys", "cubbyhole", "identity"}) {
    auto read = Call(Operation::kRead, std::string("sys/mounts/") + path + "/tune");
    ASSERT_EQ(read.http_status, 200) << path << ": " << Error(read);
    EXPECT_EQ(Body(read)["max_lease_ttl"], kSystem) << path;
    auto write = Call(Operation::kUpdate, std::string("sys/mounts/") + path + "/tune",
                      {{"max_lease_ttl", "1h"}});
    EXPECT_EQ(write.http_status, 400) << path;
    EXPECT_EQ(Error(write), std::string("cannot tune \"") + path + "/\"") << path;
  }
}

// sys/, cubbyhole/ and identity/ are listed, read and kept as Vault keeps
// them, though the router does not hold them.
// What Vault's Go client and Terraform's vault_mount send: "" for a TTL not
// given (left as it is), seal_wrap and external_entropy_access (kept and read
// back), the enterprise lists (kept), and a read of a mount that is gone
// answered in the words the provider looks for.
TEST_F(SysMountsTest, WhatVaultsClientsSendIsKeptAsVaultKeepsIt) {
  const Json empty_ttls{
      {"default_lease_ttl", ""}, {"max_lease_ttl", ""}, {"force_no_cache", false}};
  auto made = Call(Operation::kUpdate, "sys/mounts/tf",
                   {{"type", "kv"},
                    {"description", ""},
                    {"config", empty_ttls},
                    {"local", false},
                    {"seal_wrap", true},
                    {"external_entropy_access", true}});
  ASSERT_EQ(made.http_status, 204) << Error(made);
  Json m = Body(Call(Operation::kRead, "sys/mounts/tf"));
  EXPECT_EQ(m["seal_wrap"], true);
  EXPECT_EQ(m["external_entropy_access"], true);
  EXPECT_EQ(m["config"]["default_lease_ttl"], 0);

  auto tuned = Call(Operation::kUpdate, "sys/mounts/tf/tune",
                    {{"default_lease_ttl", "1h"},
                     {"max_lease_ttl", ""},
                     {"allowed_managed_keys", Json::array({"k1"})},
                     {"delegated_auth_accessors", "auth_a,auth_b"}});
  ASSERT_EQ(tuned.http_status, 204) << Error(tuned);
  EXPECT_EQ(Call(Operation::kUpdate, "sys/mounts/tf/tune", {{"max_lease_ttl", ""}}).http_status,
            204);  // "" leaves the TTL as it was
  m = Body(Call(Operation::kRead, "sys/mounts/tf"));
  EXPECT_EQ(m["config"]["default_lease_ttl"], 3600);
  EXPECT_EQ(m["config"]["allowed_managed_keys"], Json::array({"k1"}));
  EXPECT_EQ(m["config"]["delegated_auth_accessors"], Json::array({"auth_a", "auth_b"}));

  auto auth =
      Call(Operation::kUpdate, "sys/auth/up", {{"type", "userpass"}, {"config", empty_ttls}});
  EXPECT_EQ(auth.http_status, 204) << Error(auth);
  EXPECT_EQ(Call(Operation::kUpdate, "sys/auth/up/tune", empty_ttls).http_status, 204);

  auto gone = Call(Operation::kRead, "sys/mounts/gone");
  EXPECT_EQ(gone.http_status, 400);
  EXPECT_EQ(Error(gone), "No secret engine mount at gone/");
  auto gone_tune = Call(Operation::kUpdate, "sys/mounts/gone/tune", {{"max_lease_ttl", "1h"}});
  EXPECT_EQ(gone_tune.http_status, 400);
  EXPECT_EQ(Error(gone_tune), "tune of path \"gone/\" failed: no mount entry found");  // Vault's
  // The engines are built in: no other plugin version can be chosen.
  auto version = Call(Operation::kUpdate, "sys/mounts/tf/tune", {{"plugin_version", "v9.9.9"}});
  EXPECT_EQ(version.http_status, 400);
  EXPECT_NE(Error(version).find("v9.9.9"), std::string::npos) << Error(version);
  EXPECT_EQ(Call(Operation::kUpdate, "sys/mounts/tf/tune", {{"plugin_version", ""}}).http_status,
            204);
}

TEST_F(SysMountsTest, TheBuiltInMountsAreListedAndCannotBeUnmounted) {
  ASSERT_EQ(Call(Operation::kUpdate, "sys/mounts/app", {{"type", "kv"}}).http_status, 204);
  const Json mounts = Body(Call(Operation::kRead, "sys/mounts"));
  EXPECT_EQ(mounts["identity/"]["type"], "identity");
  EXPECT_EQ(mounts["sys/"]["type"], "system");
  EXPECT_EQ(mounts["cubbyhole/"]["type"], "cubbyhole");
  // The built-in engines mounted by the router are reported as supported,
  // the built-in mounts without the field, as in Vault.
  EXPECT_EQ(mounts["app/"]["deprecation_status"], "supported");
  EXPECT_FALSE(mounts["sys/"].contains("deprecation_status"));
  for (const char* path : {"sys", "cubbyhole", "identity"}) {
    const std::string at = std::string("sys/mounts/") + path;
    auto read = Call(Operation::kRead, at);
    ASSERT_EQ(read.http_status, 200) << path << ": " << Error(read);
    EXPECT_EQ(Body(read)["type"], mounts[std::string(path) + "/"]["type"]) << path;
    auto remove = Call(Operation::kDelete, at);
    EXPECT_EQ(remove.http_status, 400) << path;
    EXPECT_EQ(Error(remove), std::string("cannot unmount \"") + path + "/\"") << path;
  }
  EXPECT_EQ(Body(Call(Operation::kRead, "sys/mounts")), mounts);
}

// sys/internal/ui/mounts/<path> finds the mount of any path a client may
// ask about (Vault's CLI asks it before each kv command), the token store
// and sys/ included; a path no mount serves answers 403, naming the path
// with one trailing slash.
TEST_F(SysMountsTest, TheUiMountPathFindsEveryKindOfMount) {
  ASSERT_EQ(Call(Operation::kUpdate, "sys/mounts/app", {{"type", "kv"}}).http_status, 204);
  ASSERT_EQ(Call(Operation::kUpdate, "sys/auth/up", {{"type", "userpass"}}).http_status, 204);
  const std::vector<std::tuple<std::string, std::string, std::string>> cases = {
      {"auth/token", "auth/token/", "token"},
      {"auth/token/", "auth/token/", "token"},
      {"auth/token/lookup-self", "auth/token/", "token"},
      {"auth/up/login/alice", "auth/up/", "userpass"},
      {"sys/policy", "sys/", "system"},
      {"identity/entity/id", "identity/", "identity"},
      {"cubbyhole/x", "cubbyhole/", "cubbyhole"},
      {"app/x/y", "app/", "kv"},
  };
  for (const auto& [asked, mount, type] : cases) {
    auto r = Call(Operation::kRead, "sys/internal/ui/mounts/" + asked);
    ASSERT_EQ(r.http_status, 200) << asked << ": " << Error(r);
    EXPECT_EQ(r.data["path"], mount) << asked;
    EXPECT_EQ(r.data["type"], type) << asked;
  }
  EXPECT_EQ(Call(Operation::kRead, "sys/internal/ui/mounts/auth/up").data["config"]["token_type"],
            "default-service");
  for (const std::string asked : {"nowhere/x", "nowhere/x/", "auth/none"}) {
    auto r = Call(Operation::kRead, "sys/internal/ui/mounts/" + asked);
    EXPECT_EQ(r.http_status, 403) << asked;
    const std::string named = asked.ends_with('/') ? asked : asked + "/";
    EXPECT_NE(Error(r).find("path \"" + named + "\""), std::string::npos) << Error(r);
  }
}

// Without a token, sys/internal/ui/mounts lists only the mounts tuned to
// listing_visibility "unauth", and only their type, description and
// options; one mount's details still need a token that reaches it.
TEST_F(SysMountsTest, WithoutATokenTheUiListingShowsOnlyUnauthMounts) {
  ASSERT_EQ(Call(Operation::kUpdate, "sys/mounts/pub",
                 {{"type", "kv"},
                  {"description", "public"},
                  {"options", {{"version", "2"}}},
                  {"config", {{"listing_visibility", "unauth"}}}})
                .http_status,
            204);
  ASSERT_EQ(Call(Operation::kUpdate, "sys/mounts/priv", {{"type", "kv"}}).http_status, 204);
  ASSERT_EQ(Call(Operation::kUpdate, "sys/auth/userpass", {{"type", "userpass"}}).http_status, 204);
  ASSERT_EQ(Call(Operation::kUpdate, "sys/auth/userpass/tune", {{"listing_visibility", "unauth"}})
                .http_status,
            204);
  auto anonymous = Call(Operation::kRead, "sys/internal/ui/mounts", Json::object(), "");
  ASSERT_EQ(anonymous.http_status, 200) << Error(anonymous);
  EXPECT_EQ(
      anonymous.data,
      (Json{{"secret",
             {{"pub/",
               {{"type", "kv"}, {"description", "public"}, {"options", {{"version", "2"}}}}}}},
            {"auth",
             {{"userpass/", {{"type", "userpass"}, {"description", ""}, {"options", nullptr}}}}}}));
  EXPECT_EQ(Call(Operation::kRead, "sys/internal/ui/mounts/pub", Json::object(), "").http_status,
            403);
  EXPECT_EQ(
      Call(Operation::kRead, "sys/internal/ui/mounts", Json::object(), "hvs.unknown").http_status,
      403);
  // Tokens see what their ACL reaches, as before; the setting is reported.
  Json all = Call(Operation::kRead, "sys/internal/ui/mounts").data;
  EXPECT_TRUE(all["secret"].contains("priv/"));
  EXPECT_EQ(all["secret"]["pub/"]["config"]["listing_visibility"], "unauth");
  EXPECT_EQ(Body(Call(Operation::kRead, "sys/mounts/pub/tune"))["listing_visibility"], "unauth");

  // Back to hidden; a value Vault does not know is refused and changes nothing.
  auto bad = Call(Operation::kUpdate, "sys/mounts/pub/tune", {{"listing_visibility", "public"}});
  EXPECT_EQ(bad.http_status, 400);
  EXPECT_NE(Error(bad).find("invalid listing_visibility public"), std::string::npos) << Error(bad);
  EXPECT_EQ(Body(Call(Operation::kRead, "sys/mounts/pub/tune"))["listing_visibility"], "unauth");
  ASSERT_EQ(Call(Operation::kUpdate, "sys/mounts/pub/tune", {{"listing_visibility", "hidden"}})
                .http_status,
            204);
  EXPECT_EQ(Call(Operation::kRead, "sys/internal/ui/mounts", Json::object(), "").data["secret"],
            Json::object());
}

// kv-v1 and kv-v2 are kv of that version (`secrets enable kv-v1`); no other
// engine takes a version, as in Vault.
TEST_F(SysMountsTest, KvAliasesSetTheVersionAndOtherEnginesTakeNone) {
  for (const auto& [path, type, version] :
       std::vector<std::tuple<std::string, std::string, std::string>>{{"kvone", "kv-v1", "1"},
                                                                      {"kvtwo", "kv-v2", "2"}}) {
    auto r = Call(Operation::kUpdate, "sys/mounts/" + path,
                  {{"type", type}, {"options", {{"version", "2"}}}});
    ASSERT_EQ(r.http_status, 204) << type << ": " << Error(r);
    const Json m = Body(Call(Operation::kRead, "sys/mounts"))[path + "/"];
    EXPECT_EQ(m["type"], "kv") << type;
    EXPECT_EQ(m["options"]["version"], version) << type;
  }
  auto refused = Call(Operation::kUpdate, "sys/mounts/tv",
                      {{"type", "transit"}, {"options", {{"version", "2"}}}});
  EXPECT_EQ(refused.http_status, 400);
  EXPECT_EQ(Error(refused), "secrets engine \"transit\" does not allow setting a version");
  EXPECT_FALSE(Body(Call(Operation::kRead, "sys/mounts")).contains("tv/"));
  // A type there is no engine or auth method of: Vault's words for both.
  EXPECT_EQ(Error(Call(Operation::kUpdate, "sys/mounts/aws", {{"type", "aws"}})),
            "plugin not found in the catalog: aws");
  EXPECT_EQ(Error(Call(Operation::kUpdate, "sys/auth/g", {{"type", "gcp"}})),
            "plugin not found in the catalog: gcp");
  // generic, Vault's older name for kv, is kv (version 1).
  ASSERT_EQ(Call(Operation::kUpdate, "sys/mounts/gen", {{"type", "generic"}}).http_status, 204);
  EXPECT_EQ(Body(Call(Operation::kRead, "sys/mounts"))["gen/"]["type"], "kv");
  // An empty version is no version.
  EXPECT_EQ(Call(Operation::kUpdate, "sys/mounts/tv",
                 {{"type", "transit"}, {"options", {{"version", ""}}}})
                .http_status,
            204);
}

}  // namespace
}  // namespace coffer::core
