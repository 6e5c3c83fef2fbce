#include "token/token_backend.h"

#include <gtest/gtest.h>

#include "storage/inmem/inmem_backend.h"

namespace coffer::token {
namespace {

using logical::Json;
using logical::Operation;
using logical::Request;
using namespace std::chrono_literals;

class TokenBackendTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(store_.Load().ok());
    auto root = store_.CreateRoot();
    ASSERT_TRUE(root.has_value());
    root_id_ = std::string(root->view());
  }
  // A request as the core would build it for `token_id`.
  Request Req(Operation op, std::string path, Json data, const std::string& token_id,
              bool sudo = false) {
    Request r;
    r.operation = op;
    r.relative_path = std::move(path);
    r.path = "auth/token/" + r.relative_path;
    r.data = std::move(data);
    r.client_token = token_id;
    auto entry = store_.Lookup(token_id).value();
    auto auth = std::make_shared<logical::Auth>();
    if (entry) {
      auth->token_hmac = entry->id_hmac;
      auth->accessor = entry->accessor;
      auth->policies = entry->policies;
      auth->root = entry->IsRoot();
    }
    auth->sudo = sudo || auth->root;
    r.auth = auth;
    return r;
  }
  Json CreateAs(const std::string& token, Json body, std::string path = "create") {
    auto r = backend_.HandleRequest(Req(Operation::kUpdate, path, std::move(body), token));
    EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().ToString());
    return r ? r->auth : Json();
  }

  storage::InmemBackend view_;
  FakeClock clock_;
  TokenStore store_{view_, clock_};
  TokenBackend backend_{store_};
  std::string root_id_;
};

TEST_F(TokenBackendTest, CreateReturnsVaultAuthShape) {
  Json auth = CreateAs(root_id_, {{"policies", {"Dev", "ops"}},
                                  {"ttl", "1h"},
                                  {"meta", {{"team", "a"}}},
                                  {"display_name", "ci"},
                                  {"num_uses", 3}});
  ASSERT_TRUE(auth.is_object());
  for (const char* k :
       {"client_token", "accessor", "policies", "token_policies", "metadata", "lease_duration",
        "renewable", "entity_id", "token_type", "orphan", "mfa_requirement", "num_uses"}) {
    EXPECT_TRUE(auth.contains(k)) << k;
  }
  EXPECT_TRUE(auth["client_token"].get<std::string>().starts_with("hvs."));
  EXPECT_EQ(auth["policies"], Json({"default", "dev", "ops"}));
  EXPECT_EQ(auth["lease_duration"], 3600);
  EXPECT_EQ(auth["renewable"], true);
  EXPECT_EQ(auth["token_type"], "service");
  EXPECT_EQ(auth["orphan"], false);
  EXPECT_EQ(auth["num_uses"], 3);
  EXPECT_EQ(auth["metadata"], Json({{"team", "a"}}));
  auto entry = store_.Lookup(auth["client_token"].get<std::string>()).value();
  EXPECT_EQ(entry->display_name, "token-ci");
  // A number given as a string is read whole, as Vault reads it.
  EXPECT_EQ(CreateAs(root_id_, {{"num_uses", "2"}})["num_uses"], 2);
  for (const char* bad : {" 2", "2x", ""}) {
    auto r =
        backend_.HandleRequest(Req(Operation::kUpdate, "create", {{"num_uses", bad}}, root_id_));
    ASSERT_FALSE(r.has_value()) << bad;
    EXPECT_EQ(r.error().code(), Code::kInvalidArgument) << bad;
  }
}

// Metadata is read as Vault reads it, weakly: a number keeps its digits, a
// boolean becomes "1" or "0", a null ""; OpenBao's ["key=value"] list form
// is read too. A nested value or a pair without "=" is refused.
TEST_F(TokenBackendTest, MetadataIsReadWeaklyAsVaultReadsIt) {
  Json auth = CreateAs(root_id_, {{"meta", {{"n", 1}, {"f", 1.5}, {"t", true}, {"z", nullptr}}}});
  EXPECT_EQ(auth["metadata"], (Json{{"n", "1"}, {"f", "1.5"}, {"t", "1"}, {"z", ""}}));
  auth = CreateAs(root_id_, {{"meta", {"team=a", "url=x=y"}}});
  EXPECT_EQ(auth["metadata"], (Json{{"team", "a"}, {"url", "x=y"}}));
  for (const Json& bad : {Json{{"k", Json::array()}}, Json{{"k", {{"a", "b"}}}}, Json{"novalue"},
                          Json{"=v"}, Json(3)}) {
    auto r = backend_.HandleRequest(Req(Operation::kUpdate, "create", {{"meta", bad}}, root_id_));
    ASSERT_FALSE(r.has_value()) << bad.dump();
    EXPECT_EQ(r.error().code(), Code::kInvalidArgument) << bad.dump();
  }
}

// A renewal that its max TTL cuts short says so, with Vault's warning.
TEST_F(TokenBackendTest, ACappedRenewalCarriesVaultsWarning) {
  const std::string token = CreateAs(
      root_id_,
      {{"policies", {"dev"}}, {"ttl", "10m"}, {"explicit_max_ttl", "20m"}})["client_token"];
  auto r = backend_.HandleRequest(
      Req(Operation::kUpdate, "renew", {{"token", token}, {"increment", "5h"}}, root_id_));
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_EQ(r->auth["lease_duration"], 1200);
  EXPECT_EQ(r->warnings, Json::array({"TTL of \"5h\" exceeded the effective max_ttl of \"20m\"; "
                                      "TTL value is capped accordingly"}));
  r = backend_.HandleRequest(
      Req(Operation::kUpdate, "renew", {{"token", token}, {"increment", "5m"}}, root_id_));
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_TRUE(r->warnings.is_null() || r->warnings.empty()) << r->warnings.dump();
}

// When the answer may come as text (Request::data_text_ok), create and
// renew send the auth block as text: the same members and values as the
// tree, including metadata that needs escaping, orphans and null metadata.
TEST_F(TokenBackendTest, AuthBlockAsTextMatchesTheTree) {
  const Json bodies[] = {
      {{"policies", {"Dev", "ops"}},
       {"ttl", "1h"},
       {"meta", {{"team", "a \"b\"\n\u00e9\u0001"}, {"z", ""}}},
       {"num_uses", 3}},
      {{"no_parent", true}, {"no_default_policy", true}, {"policies", {"ops"}}},
      {{"period", "2h"}},
  };
  for (const Json& body : bodies) {
    Request req = Req(Operation::kUpdate, "create", body, root_id_, /*sudo=*/true);
    req.data_text_ok = true;
    auto r = backend_.HandleRequest(req);
    ASSERT_TRUE(r.has_value()) << r.error().ToString();
    ASSERT_TRUE(r->auth.is_null());
    ASSERT_FALSE(r->auth_text.empty());
    Json text = Json::parse(r->auth_text);
    const std::string token = text["client_token"];
    auto entry = store_.Lookup(token).value();
    ASSERT_NE(entry, nullptr) << body.dump();
    EXPECT_EQ(text, AuthJson(*entry, token)) << body.dump();
    EXPECT_EQ(r->auth_text, AuthJson(*entry, token).dump()) << body.dump();

    Request renew = Req(Operation::kUpdate, "renew-self", {{"increment", "30m"}}, token);
    renew.data_text_ok = true;
    auto renewed = backend_.HandleRequest(renew);
    ASSERT_TRUE(renewed.has_value()) << renewed.error().ToString();
    ASSERT_TRUE(renewed->auth.is_null());
    auto after = store_.Lookup(token).value();
    EXPECT_EQ(Json::parse(renewed->auth_text), AuthJson(*after, token)) << body.dump();
  }
  EXPECT_TRUE(
      Json::parse(AuthText(*store_.Lookup(root_id_).value(), root_id_))["metadata"].is_null());
}

TEST_F(TokenBackendTest, PolicySubsetAndSudoRules) {
  Json parent = CreateAs(root_id_, {{"policies", {"dev"}}});
  const std::string p = parent["client_token"];
  // Subset: fine; default may always be kept.
  EXPECT_TRUE(backend_.HandleRequest(Req(Operation::kUpdate, "create", {{"policies", {"dev"}}}, p))
                  .has_value());
  auto bad = backend_.HandleRequest(Req(Operation::kUpdate, "create", {{"policies", {"ops"}}}, p));
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().message(), "child policies must be subset of parent");
  // With sudo the subset rule is lifted; root still needs a root parent.
  EXPECT_TRUE(
      backend_.HandleRequest(Req(Operation::kUpdate, "create", {{"policies", {"ops"}}}, p, true))
          .has_value());
  auto root_child =
      backend_.HandleRequest(Req(Operation::kUpdate, "create", {{"policies", {"root"}}}, p, true));
  ASSERT_FALSE(root_child.has_value());
  EXPECT_EQ(root_child.error().code(), Code::kInvalidArgument);
  // Orphans: no_parent needs sudo, create-orphan does not (the ACL guards it).
  EXPECT_FALSE(backend_.HandleRequest(Req(Operation::kUpdate, "create", {{"no_parent", true}}, p))
                   .has_value());
  Json orphan = CreateAs(p, Json::object(), "create-orphan");
  EXPECT_EQ(orphan["orphan"], true);
  // A specific id needs sudo.
  EXPECT_FALSE(
      backend_.HandleRequest(Req(Operation::kUpdate, "create", {{"id", "mine"}}, p)).has_value());
  // No policies: inherit the parent's.
  Json inherit = CreateAs(p, Json::object());
  EXPECT_EQ(inherit["policies"], Json({"default", "dev"}));
}

// Vault's rules for "default": a child gets it only when its parent has it
// (or the caller has sudo), never against no_default_policy or a role that
// disallows it, and asking for it from a parent without it is a subset
// violation. Internal policies cannot be assigned.
TEST_F(TokenBackendTest, DefaultPolicyFollowsTheParentAndTheRole) {
  Json bare = CreateAs(root_id_, {{"policies", {"dev"}}, {"no_default_policy", true}});
  ASSERT_EQ(bare["policies"], Json({"dev"}));
  const std::string p = bare["client_token"];
  EXPECT_EQ(CreateAs(p, {{"policies", {"dev"}}})["policies"], Json({"dev"}));
  EXPECT_EQ(CreateAs(p, Json::object())["policies"], Json({"dev"}));
  auto asked = backend_.HandleRequest(
      Req(Operation::kUpdate, "create", {{"policies", {"dev", "default"}}}, p));
  ASSERT_FALSE(asked.has_value());
  EXPECT_EQ(asked.error().message(), "child policies must be subset of parent");

  ASSERT_TRUE(backend_
                  .HandleRequest(Req(Operation::kUpdate, "roles/nodefault",
                                     {{"disallowed_policies", {"default"}}}, root_id_))
                  .has_value());
  EXPECT_EQ(CreateAs(root_id_, {{"policies", {"dev"}}}, "create/nodefault")["policies"],
            Json({"dev"}));
  EXPECT_FALSE(backend_
                   .HandleRequest(Req(Operation::kUpdate, "create/nodefault",
                                      {{"policies", {"dev", "default"}}}, root_id_))
                   .has_value());

  for (const char* internal : {"response-wrapping", " Response-Wrapping", "control-group"}) {
    auto r = backend_.HandleRequest(
        Req(Operation::kUpdate, "create", {{"policies", {internal}}}, root_id_));
    ASSERT_FALSE(r.has_value()) << internal;
    EXPECT_EQ(r.error().code(), Code::kInvalidArgument);
    EXPECT_TRUE(r.error().message().starts_with("cannot assign policy")) << r.error().message();
  }
}

// An expiring root token cannot mint one that never expires; it can mint
// one that expires.
TEST_F(TokenBackendTest, ExpiringRootCannotCreateNonExpiringRoot) {
  Json limited = CreateAs(root_id_, {{"policies", {"root"}}, {"ttl", "60s"}});
  ASSERT_EQ(limited["lease_duration"], 60);
  const std::string t = limited["client_token"];
  for (const char* path : {"create", "create-orphan"}) {
    auto forever = backend_.HandleRequest(Req(Operation::kUpdate, path, {{"no_parent", true}}, t));
    ASSERT_FALSE(forever.has_value()) << path;
    EXPECT_EQ(forever.error().message(),
              "expiring root tokens cannot create non-expiring root tokens");
  }
  Json bounded = CreateAs(t, {{"ttl", "30s"}});
  EXPECT_EQ(bounded["policies"], Json({"root"}));
  EXPECT_EQ(bounded["lease_duration"], 30);
  // The initial root token never expires, so its root children may not either.
  EXPECT_EQ(CreateAs(root_id_, {{"policies", {"root"}}})["lease_duration"], 0);
}

// A root token's explicit max TTL becomes its TTL: one past Go's duration
// range is refused as a bad field, and one whose expiry would pass the
// clock's end (2262) is refused too, rather than wrapping to a token that
// expired in 1688 or never does.
TEST_F(TokenBackendTest, TtlsPastTheClocksRangeAreRefused) {
  for (Json huge : {Json(9223372036854775807LL), Json("100000000000"), Json(9223372037LL)}) {
    auto r = backend_.HandleRequest(
        Req(Operation::kUpdate, "create", {{"explicit_max_ttl", huge}}, root_id_));
    ASSERT_FALSE(r.has_value()) << huge.dump();
    EXPECT_EQ(r.error().code(), Code::kInvalidArgument) << huge.dump();
  }
  auto past = backend_.HandleRequest(
      Req(Operation::kUpdate, "create", {{"explicit_max_ttl", 9223372036LL}}, root_id_));
  ASSERT_FALSE(past.has_value());
  EXPECT_EQ(past.error().message(), "the token's TTL reaches past the year 2262");
  // Long but within the range: a working token that renews within it.
  Json long_lived = CreateAs(root_id_, {{"explicit_max_ttl", "100000h"}});
  ASSERT_EQ(long_lived["lease_duration"], 360000000);
  const std::string t = long_lived["client_token"];
  auto looked = store_.Lookup(t);
  ASSERT_TRUE(looked.has_value() && *looked != nullptr);
  EXPECT_EQ((*looked)->expire_time, (*looked)->creation_time + 360000000);
}

// A child carries its parent's entity (so disabling the entity stops it);
// an orphan does not.
TEST_F(TokenBackendTest, ChildInheritsTheParentsEntity) {
  TokenRequest login;
  login.policies = {"dev"};
  login.entity_id = "entity-1";
  login.ttl = 1h;
  auto created = store_.CreateToken(login);
  ASSERT_TRUE(created.has_value());
  const std::string parent(created->id.view());
  Json child = CreateAs(parent, {{"policies", {"dev"}}});
  EXPECT_EQ(child["entity_id"], "entity-1");
  EXPECT_EQ(store_.Lookup(child["client_token"].get<std::string>()).value()->entity_id, "entity-1");
  Json orphan = CreateAs(parent, {{"policies", {"dev"}}}, "create-orphan");
  EXPECT_EQ(orphan["entity_id"], "");
}

TEST_F(TokenBackendTest, LookupShapes) {
  Json auth = CreateAs(root_id_, {{"policies", {"dev"}}, {"ttl", "1h"}});
  const std::string t = auth["client_token"];
  auto self = backend_.HandleRequest(Req(Operation::kRead, "lookup-self", {}, t));
  ASSERT_TRUE(self.has_value());
  for (const char* k : {"accessor", "creation_time", "creation_ttl", "display_name", "entity_id",
                        "expire_time", "explicit_max_ttl", "id", "issue_time", "meta", "num_uses",
                        "orphan", "path", "policies", "renewable", "ttl", "type"}) {
    EXPECT_TRUE(self->data.contains(k)) << k;
  }
  EXPECT_EQ(self->data["id"], t);
  EXPECT_EQ(self->data["ttl"], 3600);
  EXPECT_EQ(self->data["creation_ttl"], 3600);
  EXPECT_EQ(self->data["path"], "auth/token/create");
  EXPECT_EQ(self->data["type"], "service");

  auto other = backend_.HandleRequest(Req(Operation::kUpdate, "lookup", {{"token", t}}, root_id_));
  ASSERT_TRUE(other.has_value());
  EXPECT_EQ(other->data["id"], t);
  auto by_acc = backend_.HandleRequest(
      Req(Operation::kUpdate, "lookup-accessor", {{"accessor", auth["accessor"]}}, root_id_));
  ASSERT_TRUE(by_acc.has_value());
  EXPECT_EQ(by_acc->data["id"], "");
  auto bad =
      backend_.HandleRequest(Req(Operation::kUpdate, "lookup", {{"token", "nope"}}, root_id_));
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code(), Code::kPermissionDenied);
  auto bad_acc = backend_.HandleRequest(
      Req(Operation::kUpdate, "lookup-accessor", {{"accessor", "nope"}}, root_id_));
  ASSERT_FALSE(bad_acc.has_value());
  EXPECT_EQ(bad_acc.error().message(), "invalid accessor");
}

TEST_F(TokenBackendTest, RenewRoutes) {
  Json auth = CreateAs(root_id_, {{"ttl", "1h"}});
  const std::string t = auth["client_token"];
  clock_.Advance(600s);
  auto self =
      backend_.HandleRequest(Req(Operation::kUpdate, "renew-self", {{"increment", "2h"}}, t));
  ASSERT_TRUE(self.has_value());
  EXPECT_EQ(self->auth["client_token"], t);
  EXPECT_EQ(self->auth["lease_duration"], 7200);
  auto other = backend_.HandleRequest(
      Req(Operation::kUpdate, "renew", {{"token", t}, {"increment", 60}}, root_id_));
  ASSERT_TRUE(other.has_value());
  EXPECT_EQ(other->auth["lease_duration"], 60);
  auto acc = backend_.HandleRequest(
      Req(Operation::kUpdate, "renew-accessor", {{"accessor", auth["accessor"]}}, root_id_));
  ASSERT_TRUE(acc.has_value());
  EXPECT_EQ(acc->auth["client_token"], "");
}

TEST_F(TokenBackendTest, RevokeRoutesAndAccessorList) {
  Json a = CreateAs(root_id_, Json::object());
  Json b = CreateAs(a["client_token"], Json::object());
  Json c = CreateAs(root_id_, {{"policies", {"dev"}}});  // not root: no sudo
  Json d = CreateAs(root_id_, {{"policies", {"dev"}}});

  auto list = backend_.HandleRequest(Req(Operation::kList, "accessors", {}, root_id_));
  ASSERT_TRUE(list.has_value());
  EXPECT_EQ(list->data["keys"].size(), 5u);
  EXPECT_FALSE(backend_.HandleRequest(Req(Operation::kList, "accessors", {}, c["client_token"]))
                   .has_value());

  auto orphan_denied = backend_.HandleRequest(
      Req(Operation::kUpdate, "revoke-orphan", {{"token", a["client_token"]}}, c["client_token"]));
  EXPECT_FALSE(orphan_denied.has_value());
  auto r = backend_.HandleRequest(
      Req(Operation::kUpdate, "revoke-orphan", {{"token", a["client_token"]}}, root_id_));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->http_status, 204);
  EXPECT_TRUE(store_.Lookup(b["client_token"].get<std::string>()).value());

  r = backend_.HandleRequest(
      Req(Operation::kUpdate, "revoke", {{"token", b["client_token"]}}, root_id_));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->http_status, 204);
  r = backend_.HandleRequest(
      Req(Operation::kUpdate, "revoke-accessor", {{"accessor", c["accessor"]}}, root_id_));
  ASSERT_TRUE(r.has_value());
  r = backend_.HandleRequest(Req(Operation::kUpdate, "revoke-self", {}, d["client_token"]));
  ASSERT_TRUE(r.has_value());
  for (const Json* t : {&a, &b, &c, &d}) {
    EXPECT_EQ(store_.Lookup((*t)["client_token"].get<std::string>()).value(), nullptr);
  }
  auto tidy = backend_.HandleRequest(Req(Operation::kUpdate, "tidy", {}, root_id_));
  ASSERT_TRUE(tidy.has_value());
  EXPECT_EQ(tidy->http_status, 202);
}

TEST_F(TokenBackendTest, RolesCrudAndCreateWithRole) {
  auto put = backend_.HandleRequest(Req(Operation::kUpdate, "roles/ci",
                                        {{"allowed_policies", "dev,ops"},
                                         {"disallowed_policies", {"admin"}},
                                         {"orphan", true},
                                         {"period", "1h"},
                                         {"path_suffix", "v1"}},
                                        root_id_));
  ASSERT_TRUE(put.has_value());
  EXPECT_EQ(put->http_status, 204);
  auto read = backend_.HandleRequest(Req(Operation::kRead, "roles/ci", {}, root_id_));
  ASSERT_TRUE(read.has_value());
  EXPECT_EQ(read->data["allowed_policies"], Json({"dev", "ops"}));
  EXPECT_EQ(read->data["orphan"], true);
  EXPECT_EQ(read->data["period"], 3600);
  EXPECT_EQ(read->data["token_period"], 3600);
  auto list = backend_.HandleRequest(Req(Operation::kList, "roles", {}, root_id_));
  ASSERT_TRUE(list.has_value());
  EXPECT_EQ(list->data["keys"], Json({"ci"}));

  // A non-root caller may create role tokens outside its own policies.
  Json limited = CreateAs(root_id_, {{"policies", {"other"}}});
  Json t = CreateAs(limited["client_token"], {{"policies", {"dev"}}}, "create/ci");
  EXPECT_EQ(t["policies"], Json({"default", "dev"}));
  EXPECT_EQ(t["orphan"], true);
  EXPECT_EQ(t["lease_duration"], 3600);
  auto entry = store_.Lookup(t["client_token"].get<std::string>()).value();
  EXPECT_EQ(entry->path, "auth/token/create/ci/v1");
  Json all = CreateAs(root_id_, Json::object(), "create/ci");
  EXPECT_EQ(all["policies"], Json({"default", "dev", "ops"}));
  EXPECT_FALSE(
      backend_
          .HandleRequest(Req(Operation::kUpdate, "create/ci", {{"policies", {"admin"}}}, root_id_))
          .has_value());
  EXPECT_FALSE(
      backend_.HandleRequest(Req(Operation::kUpdate, "create/nope", {}, root_id_)).has_value());

  auto del = backend_.HandleRequest(Req(Operation::kDelete, "roles/ci", {}, root_id_));
  ASSERT_TRUE(del.has_value());
  auto gone = backend_.HandleRequest(Req(Operation::kRead, "roles/ci", {}, root_id_));
  ASSERT_TRUE(gone.has_value());
  EXPECT_EQ(gone->http_status, 404);
}

// token_no_default_policy and token_num_uses on a role reach its tokens:
// "default" left out whatever the request says, and the role's use limit
// caps the request's.
// A role read reports what was set through Vault's deprecated names apart
// from the token_* values in force, and CIDRs and a use limit only when set.
TEST_F(TokenBackendTest, RoleReadKeepsDeprecatedNamesApart) {
  auto read = [&](const std::string& name) {
    auto r = backend_.HandleRequest(Req(Operation::kRead, "roles/" + name, {}, root_id_));
    EXPECT_TRUE(r.has_value());
    return r.has_value() ? r->data : Json();
  };
  auto put = backend_.HandleRequest(Req(Operation::kUpdate, "roles/current",
                                        {{"token_period", "1h"}, {"token_explicit_max_ttl", "2h"}},
                                        root_id_));
  ASSERT_TRUE(put.has_value());
  EXPECT_EQ(put->http_status, 204);
  Json d = read("current");
  EXPECT_EQ(d["token_period"], 3600);
  EXPECT_EQ(d["period"], 0);
  EXPECT_EQ(d["token_explicit_max_ttl"], 7200);
  EXPECT_EQ(d["explicit_max_ttl"], 0);
  EXPECT_FALSE(d.contains("token_bound_cidrs")) << d.dump();
  EXPECT_FALSE(d.contains("bound_cidrs")) << d.dump();
  EXPECT_FALSE(d.contains("token_num_uses")) << d.dump();

  put = backend_.HandleRequest(Req(Operation::kUpdate, "roles/legacy",
                                   {{"period", "30m"},
                                    {"explicit_max_ttl", "1h"},
                                    {"bound_cidrs", "10.0.0.0/8"},
                                    {"token_num_uses", 3}},
                                   root_id_));
  ASSERT_TRUE(put.has_value());
  d = read("legacy");
  EXPECT_EQ(d["period"], 1800);
  EXPECT_EQ(d["token_period"], 1800);
  EXPECT_EQ(d["explicit_max_ttl"], 3600);
  EXPECT_EQ(d["token_explicit_max_ttl"], 3600);
  EXPECT_EQ(d["bound_cidrs"], Json({"10.0.0.0/8"}));
  EXPECT_EQ(d["token_bound_cidrs"], Json({"10.0.0.0/8"}));
  EXPECT_EQ(d["token_num_uses"], 3);

  // Both names: the token_* value wins, the deprecated one is dropped, and
  // the answer says so.
  put = backend_.HandleRequest(Req(Operation::kUpdate, "roles/legacy",
                                   {{"period", "5m"}, {"token_period", "10m"}}, root_id_));
  ASSERT_TRUE(put.has_value());
  EXPECT_EQ(put->http_status, 200);
  EXPECT_EQ(put->warnings, Json::array({"Both 'token_period' and deprecated 'period' value "
                                        "supplied, ignoring the deprecated value"}));
  d = read("legacy");
  EXPECT_EQ(d["token_period"], 600);
  EXPECT_EQ(d["period"], 0);
  EXPECT_EQ(d["explicit_max_ttl"], 3600) << "an update cleared what it did not name";
}

TEST_F(TokenBackendTest, RoleNoDefaultPolicyAndNumUses) {
  auto put = backend_.HandleRequest(
      Req(Operation::kUpdate, "roles/lean",
          {{"allowed_policies", "dev"}, {"token_no_default_policy", true}, {"token_num_uses", 3}},
          root_id_));
  ASSERT_TRUE(put.has_value()) << put.error().message();
  auto read = backend_.HandleRequest(Req(Operation::kRead, "roles/lean", {}, root_id_));
  ASSERT_TRUE(read.has_value());
  EXPECT_EQ(read->data["token_no_default_policy"], true);
  EXPECT_EQ(read->data["token_num_uses"], 3);

  Json t = CreateAs(root_id_, Json::object(), "create/lean");
  EXPECT_EQ(t["policies"], Json({"dev"}));
  auto entry = store_.Lookup(t["client_token"].get<std::string>()).value();
  ASSERT_NE(entry, nullptr);
  EXPECT_EQ(entry->num_uses, 3);
  Json fewer = CreateAs(root_id_, {{"num_uses", 2}}, "create/lean");
  EXPECT_EQ(store_.Lookup(fewer["client_token"].get<std::string>()).value()->num_uses, 2);
  Json more = CreateAs(root_id_, {{"num_uses", 9}}, "create/lean");
  EXPECT_EQ(store_.Lookup(more["client_token"].get<std::string>()).value()->num_uses, 3);

  // Refused: negative, or a use limit on a batch role; nothing changes.
  for (const Json& bad : {Json{{"token_num_uses", -1}}, Json{{"token_type", "batch"}}}) {
    SCOPED_TRACE(bad.dump());
    EXPECT_FALSE(
        backend_.HandleRequest(Req(Operation::kUpdate, "roles/lean", bad, root_id_)).has_value());
  }
  read = backend_.HandleRequest(Req(Operation::kRead, "roles/lean", {}, root_id_));
  EXPECT_EQ(read->data["token_num_uses"], 3);
  EXPECT_EQ(read->data["token_type"], "default-service");

  // Without the flag the role's tokens get "default" as before.
  ASSERT_TRUE(backend_
                  .HandleRequest(Req(Operation::kUpdate, "roles/lean",
                                     {{"token_no_default_policy", false}}, root_id_))
                  .has_value());
  EXPECT_EQ(CreateAs(root_id_, Json::object(), "create/lean")["policies"],
            Json({"default", "dev"}));
}

// ---- Vault's creation and renewal rules ----------------------------------

class TokenRulesTest : public TokenBackendTest {
 protected:
  Result<logical::Response> Do(const std::string& token, const std::string& path, Json body,
                               bool sudo = false) {
    return backend_.HandleRequest(Req(Operation::kUpdate, path, std::move(body), token, sudo));
  }
  static void Expect400(const Result<logical::Response>& r, const std::string& message) {
    ASSERT_FALSE(r.has_value()) << r->auth.dump();
    EXPECT_EQ(r.error().code(), Code::kInvalidArgument);
    EXPECT_EQ(r.error().message(), message);
  }
  static void Expect404(const Result<logical::Response>& r) {
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code(), Code::kNotFound);
  }
  std::vector<std::string> Warnings(const logical::Response& r) {
    return r.warnings.is_null() ? std::vector<std::string>{}
                                : r.warnings.get<std::vector<std::string>>();
  }
};

// A token with a use limit would escape it through children it creates.
TEST_F(TokenRulesTest, ARestrictedUseTokenCreatesNoTokens) {
  Json limited = CreateAs(root_id_, {{"policies", {"dev"}}, {"num_uses", 3}});
  const std::string t = limited["client_token"];
  for (const char* path : {"create", "create-orphan"}) {
    SCOPED_TRACE(path);
    Expect400(Do(t, path, {{"policies", {"dev"}}}, /*sudo=*/true),
              "restricted use token cannot generate child tokens");
  }
  EXPECT_EQ(store_.Lookup(t).value()->num_uses, 3);
}

// The mount's max TTL bounds every token: an explicit max above it, a
// period above it and a TTL above it are all capped (Vault's CalculateTTL).
TEST_F(TokenRulesTest, TheMaxTtlCapsExplicitMaxesPeriodsAndTtls) {
  const std::int64_t max = 768 * 3600;
  Json wide =
      CreateAs(root_id_, {{"policies", {"dev"}}, {"ttl", "1h"}, {"explicit_max_ttl", "87600h"}});
  auto renewed = Do(wide["client_token"], "renew-self", {{"increment", "87600h"}});
  ASSERT_TRUE(renewed.has_value()) << renewed.error().ToString();
  EXPECT_EQ(renewed->auth["lease_duration"], max);

  // Created with `field` above the max: capped, with Vault's warning.
  auto capped = [&](const std::string& field, const std::string& given, const std::string& what) {
    auto r = Do(root_id_, "create", {{"policies", {"dev"}}, {field, given}});
    EXPECT_TRUE(r.has_value());
    if (!r) return Json();
    EXPECT_EQ(r->auth["lease_duration"], max);
    EXPECT_EQ(Warnings(*r), std::vector<std::string>{what + " of \"" + given +
                                                     "\" exceeded the effective max_ttl of "
                                                     "\"768h\"; " +
                                                     what + " value is capped accordingly"});
    return r->auth;
  };
  Json periodic = capped("period", "8760h", "period");
  clock_.Advance(1h);
  renewed = Do(periodic["client_token"], "renew-self", Json::object());
  ASSERT_TRUE(renewed.has_value());
  EXPECT_EQ(renewed->auth["lease_duration"], max);
  capped("ttl", "1000h", "TTL");
}

// A renewal without an increment grants the TTL granted last, as Vault's
// lease keeps it.
TEST_F(TokenRulesTest, ARenewalWithoutIncrementRepeatsTheLastGrant) {
  Json t = CreateAs(root_id_, {{"policies", {"dev"}}, {"ttl", "1h"}});
  auto first = Do(t["client_token"], "renew-self", {{"increment", "2h"}});
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->auth["lease_duration"], 7200);
  clock_.Advance(10min);
  auto again = Do(t["client_token"], "renew-self", Json::object());
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->auth["lease_duration"], 7200);
}

// renewable=false holds for a periodic token; a token that never expires
// has nothing to renew.
TEST_F(TokenRulesTest, WhatCannotBeRenewed) {
  auto periodic =
      Do(root_id_, "create", {{"policies", {"dev"}}, {"period", "1h"}, {"renewable", false}});
  ASSERT_TRUE(periodic.has_value());
  EXPECT_EQ(periodic->auth["renewable"], false);
  Expect400(Do(periodic->auth["client_token"], "renew-self", Json::object()),
            "lease is not renewable");
  Expect400(Do(root_id_, "renew-self", Json::object()), "invalid lease ID");
}

// A role's token renews by the role as it is now; a deleted role stops it.
TEST_F(TokenRulesTest, RoleTokensRenewByTheirRoleAsItIsNow) {
  ASSERT_TRUE(Do(root_id_, "roles/svc", {{"token_period", "1h"}}).has_value());
  Json t = CreateAs(root_id_, {{"policies", {"dev"}}}, "create/svc");
  EXPECT_EQ(t["lease_duration"], 3600);
  ASSERT_TRUE(Do(root_id_, "roles/svc", {{"token_period", "2h"}}).has_value());
  auto renewed = Do(t["client_token"], "renew-self", Json::object());
  ASSERT_TRUE(renewed.has_value());
  EXPECT_EQ(renewed->auth["lease_duration"], 7200);
  ASSERT_TRUE(
      backend_.HandleRequest(Req(Operation::kDelete, "roles/svc", {}, root_id_)).has_value());
  Expect400(Do(t["client_token"], "renew-self", Json::object()),
            "original token role \"svc\" could not be found, not renewing");

  // The token's own explicit max TTL is kept when the role has none.
  ASSERT_TRUE(Do(root_id_, "roles/plain", {{"allowed_policies", "dev"}}).has_value());
  Json capped =
      CreateAs(root_id_, {{"policies", {"dev"}}, {"explicit_max_ttl", "10s"}}, "create/plain");
  auto grown = Do(capped["client_token"], "renew-self", {{"increment", "1h"}});
  ASSERT_TRUE(grown.has_value());
  EXPECT_LE(grown->auth["lease_duration"].get<std::int64_t>(), 10);
}

// A period asked for next to a role's needs sudo; given by both, the
// lesser wins with a warning. With a role, no_parent is not looked at.
TEST_F(TokenRulesTest, ARoleAndTheRequestTogether) {
  ASSERT_TRUE(Do(root_id_, "roles/svc", {{"token_period", "1h"}, {"token_explicit_max_ttl", "10h"}})
                  .has_value());
  Json limited = CreateAs(root_id_, {{"policies", {"dev"}}});
  Expect400(Do(limited["client_token"], "create/svc", {{"period", "2h"}}),
            "root or sudo privileges required to create periodic token");
  auto both = Do(root_id_, "create/svc",
                 {{"policies", {"dev"}}, {"period", "2h"}, {"explicit_max_ttl", "5h"}});
  ASSERT_TRUE(both.has_value()) << both.error().ToString();
  EXPECT_EQ(both->auth["lease_duration"], 3600);
  EXPECT_EQ(Warnings(*both),
            (std::vector<std::string>{
                "Explicit max TTL specified both during creation call and in role; using the "
                "lesser value of 18000 seconds",
                "Period specified both during creation call and in role; using the lesser value "
                "of 3600 seconds"}));
  EXPECT_EQ(store_.Lookup(both->auth["client_token"].get<std::string>()).value()->explicit_max_ttl,
            5 * 3600);
  Json not_orphan = CreateAs(root_id_, {{"policies", {"dev"}}, {"no_parent", true}}, "create/svc");
  EXPECT_EQ(not_orphan["orphan"], false);
}

// create/ completes only with a role name of Vault's shape, so a policy on
// "auth/token/create/*" never grants a create without a role.
TEST_F(TokenRulesTest, OnlyARoleNameCompletesCreate) {
  Json limited = CreateAs(root_id_, {{"policies", {"dev"}}});
  Expect404(Do(limited["client_token"], "create/", {{"policies", {"dev"}}}));
  Expect404(Do(root_id_, "create/a b", Json::object()));
  Expect404(Do(root_id_, "create/-a", Json::object()));
  Expect404(Do(root_id_, "roles/a b", Json::object()));
  Expect404(Do(root_id_, "roles/a.", Json::object()));
  EXPECT_TRUE(Do(root_id_, "roles/a.b-c_d", Json::object()).has_value());
}

// allowed_policies_glob and disallowed_policies_glob are stored and
// enforced; a glob that matches "default" keeps it out.
TEST_F(TokenRulesTest, RolePolicyGlobs) {
  ASSERT_TRUE(Do(root_id_, "roles/g",
                 {{"allowed_policies_glob", {"dev-*"}}, {"disallowed_policies_glob", {"*-admin"}}})
                  .has_value());
  auto read = backend_.HandleRequest(Req(Operation::kRead, "roles/g", {}, root_id_));
  ASSERT_TRUE(read.has_value());
  EXPECT_EQ(read->data["allowed_policies_glob"], Json({"dev-*"}));
  EXPECT_EQ(read->data["disallowed_policies_glob"], Json({"*-admin"}));
  Json t = CreateAs(root_id_, {{"policies", {"dev-a"}}}, "create/g");
  EXPECT_EQ(t["policies"], Json({"default", "dev-a"}));
  Expect400(Do(root_id_, "create/g", {{"policies", {"dev-admin"}}}),
            "token policy dev-admin is disallowed by this role");
  Expect400(Do(root_id_, "create/g", {{"policies", {"ops"}}}),
            "token policies ([default, ops]) must be subset of the role's allowed policies "
            "([default]) or glob policies ([dev-*])");
  // A sudo parent cannot pass a disallowed glob either.
  Json limited = CreateAs(root_id_, {{"policies", {"ops-admin"}}, {"no_default_policy", true}});
  ASSERT_TRUE(
      Do(root_id_, "roles/d", {{"disallowed_policies_glob", {"*-admin", "def*"}}}).has_value());
  Expect400(Do(limited["client_token"], "create/d", Json::object(), /*sudo=*/true),
            "token policy ops-admin is disallowed by this role");
  Json no_default = CreateAs(root_id_, {{"policies", {"dev"}}}, "create/d");
  EXPECT_EQ(no_default["policies"], Json({"dev"}));
}

// A policy that does not exist is given with Vault's warning.
TEST_F(TokenRulesTest, AMissingPolicyIsWarnedAbout) {
  TokenBackend backend(store_, [](std::string_view name) { return name != "ghost"; });
  auto r = backend.HandleRequest(
      Req(Operation::kUpdate, "create", {{"policies", {"dev", "ghost"}}}, root_id_));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(Warnings(*r), std::vector<std::string>{"Policy \"ghost\" does not exist"});
  EXPECT_EQ(r->auth["policies"], Json({"default", "dev", "ghost"}));
}

// Body fields a creation does not know are named in Vault's warning, sorted,
// after the other warnings; the token is made as if they were not there.
TEST_F(TokenRulesTest, UnknownCreateFieldsAreWarnedAbout) {
  TokenBackend backend(store_, [](std::string_view name) { return name != "ghost"; });
  auto r = backend.HandleRequest(Req(Operation::kUpdate, "create",
                                     {{"policies", {"ghost"}}, {"tll", "1m"}, {"polices", "x"}},
                                     root_id_));
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_EQ(Warnings(*r), (std::vector<std::string>{
                              "Policy \"ghost\" does not exist",
                              "Endpoint ignored these unrecognized parameters: [polices tll]"}));
  auto entry = store_.Lookup(r->auth["client_token"].get<std::string>()).value();
  EXPECT_EQ(entry->policies, (std::vector<std::string>{"default", "ghost"}));

  // Every field of Vault's schema is known; role_name only on create/:role.
  auto known = backend.HandleRequest(Req(Operation::kUpdate, "create",
                                         {{"display_name", "a"},
                                          {"explicit_max_ttl", "2h"},
                                          {"id", "known-fields"},
                                          {"lease", "1h"},
                                          {"meta", {{"k", "v"}}},
                                          {"no_default_policy", false},
                                          {"no_parent", false},
                                          {"num_uses", 0},
                                          {"period", 0},
                                          {"policies", {"dev"}},
                                          {"renewable", true},
                                          {"ttl", "1h"},
                                          {"type", "service"},
                                          {"entity_alias", ""}},
                                         root_id_));
  ASSERT_TRUE(known.has_value()) << known.error().ToString();
  EXPECT_EQ(Warnings(*known), std::vector<std::string>{});
  ASSERT_TRUE(Do(root_id_, "roles/r", Json::object()).has_value());
  auto role =
      backend.HandleRequest(Req(Operation::kUpdate, "create/r", {{"role_name", "r"}}, root_id_));
  ASSERT_TRUE(role.has_value()) << role.error().ToString();
  EXPECT_EQ(Warnings(*role), std::vector<std::string>{});
  auto plain =
      backend.HandleRequest(Req(Operation::kUpdate, "create", {{"role_name", "r"}}, root_id_));
  ASSERT_TRUE(plain.has_value()) << plain.error().ToString();
  EXPECT_EQ(Warnings(*plain), std::vector<std::string>{
                                  "Endpoint ignored these unrecognized parameters: [role_name]"});
}

// A chosen id may not pass for a generated one.
TEST_F(TokenRulesTest, CustomIdsOfVaultsShape) {
  Expect400(Do(root_id_, "create", {{"id", "hvs.abc"}}),
            "custom token ID cannot have the 'hvs.' prefix");
  Expect400(Do(root_id_, "create", {{"id", "s.abc"}}),
            "custom token ID cannot have the 's.' prefix");
  Expect400(Do(root_id_, "create", {{"id", "hvb.abc"}}),
            "custom token ID cannot have a '.' in the value");
  Expect400(Do(root_id_, "create", {{"entity_alias", "bob"}}),
            "'entity_alias' is only allowed in combination with token role");
  ASSERT_TRUE(Do(root_id_, "roles/r", Json::object()).has_value());
  Expect400(Do(root_id_, "create/r", {{"entity_alias", "bob"}}), "invalid 'entity_alias' value");
  Json plain = CreateAs(root_id_, {{"id", "plain-id"}, {"policies", {"dev"}}});
  EXPECT_EQ(plain["client_token"], "plain-id");
}

// A role's allowed_entity_aliases are kept lower-cased and sorted; a create
// for an alias the role allows (by name or glob, compared lower-cased)
// gets the alias's entity, asked for by the same lower-cased name (another
// spelling is not another alias with an entity of its own); one it does
// not allow, or a disabled entity under any spelling, is refused.
TEST_F(TokenRulesTest, ARoleHandsOutTokensForTheEntityAliasesItAllows) {
  std::vector<std::string> asked;
  backend_.SetEntityForAlias([&](std::string_view name) -> Result<std::string> {
    asked.emplace_back(name);
    if (name == "svc-off") return Err(PermissionDenied());
    return "entity-of-" + std::string(name);
  });
  ASSERT_TRUE(Do(root_id_, "roles/broker",
                 {{"allowed_policies", {"dev"}},
                  {"allowed_entity_aliases", {"svc-*", " Build-Bot ", "svc-*"}}})
                  .has_value());
  auto read = backend_.HandleRequest(Req(Operation::kRead, "roles/broker", {}, root_id_));
  ASSERT_TRUE(read.has_value());
  EXPECT_EQ(read->data["allowed_entity_aliases"], Json({"build-bot", "svc-*"}));

  Json parent = CreateAs(root_id_, {{"policies", {"dev"}}});
  Json t = CreateAs(parent["client_token"], {{"entity_alias", "SVC-Payments"}}, "create/broker");
  EXPECT_EQ(t["entity_id"], "entity-of-svc-payments");
  EXPECT_EQ(store_.Lookup(t["client_token"].get<std::string>()).value()->entity_id,
            "entity-of-svc-payments");
  EXPECT_EQ(CreateAs(root_id_, {{"entity_alias", "build-bot"}}, "create/broker")["entity_id"],
            "entity-of-build-bot");
  EXPECT_EQ(asked, (std::vector<std::string>{"svc-payments", "build-bot"}));

  Expect400(Do(root_id_, "create/broker", {{"entity_alias", "other"}}),
            "invalid 'entity_alias' value");
  auto disabled = Do(root_id_, "create/broker", {{"entity_alias", "svc-off"}});
  ASSERT_FALSE(disabled.has_value());
  EXPECT_EQ(disabled.error().code(), Code::kPermissionDenied);
  EXPECT_EQ(disabled.error().message(), "entity from given entity alias is disabled");
  for (const char* spelling : {"SVC-OFF", " svc-off ", "Svc-Off"}) {
    auto again = Do(root_id_, "create/broker", {{"entity_alias", spelling}});
    ASSERT_FALSE(again.has_value()) << spelling;
    EXPECT_EQ(again.error().code(), Code::kPermissionDenied) << spelling;
  }
  EXPECT_EQ(asked.size(), 6u);  // "other" was refused before any look-up

  // The comma-separated form, and clearing the list.
  ASSERT_TRUE(Do(root_id_, "roles/broker", {{"allowed_entity_aliases", "a,B"}}).has_value());
  read = backend_.HandleRequest(Req(Operation::kRead, "roles/broker", {}, root_id_));
  EXPECT_EQ(read->data["allowed_entity_aliases"], Json({"a", "b"}));
  ASSERT_TRUE(Do(root_id_, "roles/broker", {{"allowed_entity_aliases", Json::array()}}));
  read = backend_.HandleRequest(Req(Operation::kRead, "roles/broker", {}, root_id_));
  EXPECT_TRUE(read->data["allowed_entity_aliases"].is_null());
  Expect400(Do(root_id_, "create/broker", {{"entity_alias", "a"}}), "invalid 'entity_alias' value");
}

// Display names as Vault makes them, and root alone on a root token.
TEST_F(TokenRulesTest, DisplayNamesAndRootPolicies) {
  auto display = [&](const std::string& name) {
    Json t = CreateAs(root_id_, {{"policies", {"dev"}}, {"display_name", name}});
    return store_.Lookup(t["client_token"].get<std::string>()).value()->display_name;
  };
  EXPECT_EQ(display("ci."), "token-ci");
  EXPECT_EQ(display("a\u00e9b"), "token-a-b");
  EXPECT_EQ(display("ok-name"), "token-ok-name");
  Json root = CreateAs(root_id_, {{"policies", {"dev", "root"}}});
  EXPECT_EQ(root["policies"], Json({"root"}));
}

// A name the ACL reads as "root" is root here too (" ROOT\v").
TEST_F(TokenRulesTest, APolicyThatCanonicalisesToRootIsRoot) {
  EXPECT_EQ(CanonicalPolicies({"root\v", " Dev\f"}, false),
            (std::vector<std::string>{"dev", "root"}));
  Json sudo_caller = CreateAs(root_id_, {{"policies", {"dev"}}});
  Expect400(Do(sudo_caller["client_token"], "create", {{"policies", {"root\v"}}}, /*sudo=*/true),
            "root tokens may not be created without parent token being root");
}

// Vault's answers where nothing matches, and lookup of the caller's own.
TEST_F(TokenRulesTest, RevokeAndLookupEdges) {
  auto none = Do(root_id_, "revoke-accessor", {{"accessor", "nope"}});
  ASSERT_TRUE(none.has_value());
  EXPECT_EQ(Warnings(*none), std::vector<std::string>{"No token found with this accessor"});
  Expect400(Do(root_id_, "revoke-orphan", {{"token", "hvs.unknown"}}), "token to revoke not found");
  Json t = CreateAs(root_id_, {{"policies", {"dev"}}});
  auto self =
      backend_.HandleRequest(Req(Operation::kUpdate, "lookup", Json::object(), t["client_token"]));
  ASSERT_TRUE(self.has_value());
  EXPECT_EQ(self->data["accessor"], t["accessor"]);
}

}  // namespace
}  // namespace coffer::token
