#include "identity/backend.h"

#include <gtest/gtest.h>

#include "storage/inmem/inmem_backend.h"

namespace coffer::identity {
namespace {

using logical::Operation;

class IdentityBackendTest : public ::testing::Test {
 protected:
  IdentityBackendTest() : store_(storage_, clock_), mfa_(storage_, clock_), backend_(store_, mfa_) {
    store_.SetMountLookup([](std::string_view accessor) -> std::optional<MountRef> {
      if (accessor == "auth_userpass_1") return MountRef{"auth/userpass/", "userpass"};
      return std::nullopt;
    });
  }

  Result<logical::Response> Call(Operation op, std::string rel, Json data = Json::object()) {
    logical::Request r;
    r.operation = op;
    r.path = "identity/" + rel;
    r.mount_point = "identity/";
    r.relative_path = rel;
    r.data = std::move(data);
    return backend_.HandleRequest(r);
  }

  storage::InmemBackend storage_;
  FakeClock clock_;
  IdentityStore store_;
  mfa::MfaStore mfa_;
  IdentityBackend backend_;
};

// identity/group-alias, and what an external group refuses: members set by
// hand, subgroups, a change of type.
TEST_F(IdentityBackendTest, ExternalGroupAndItsAlias) {
  auto group = Call(Operation::kUpdate, "group", Json{{"name", "ext"}, {"type", "external"}});
  ASSERT_TRUE(group) << group.error().ToString();
  std::string gid = group->data["id"];
  auto internal = Call(Operation::kUpdate, "group", Json{{"name", "int"}});
  ASSERT_TRUE(internal);
  std::string iid = internal->data["id"];

  EXPECT_FALSE(Call(Operation::kUpdate, "group/id/" + gid,
                    Json{{"member_entity_ids", Json::array({"e1"})}}));
  EXPECT_FALSE(
      Call(Operation::kUpdate, "group/id/" + gid, Json{{"member_group_ids", Json::array({iid})}}));
  EXPECT_FALSE(Call(Operation::kUpdate, "group/id/" + gid, Json{{"type", "internal"}}));
  EXPECT_FALSE(Call(Operation::kUpdate, "group/id/" + iid, Json{{"type", "external"}}));
  EXPECT_FALSE(Call(Operation::kUpdate, "group", Json{{"name", "odd"}, {"type", "other"}}));
  EXPECT_TRUE(Call(Operation::kUpdate, "group/id/" + gid, Json{{"policies", "p"}}));
  EXPECT_EQ(Call(Operation::kRead, "group/id/" + gid)->data["alias"], Json::object());

  // An internal group takes no alias; an external one takes one.
  EXPECT_FALSE(
      Call(Operation::kUpdate, "group-alias",
           Json{{"name", "team"}, {"mount_accessor", "auth_userpass_1"}, {"canonical_id", iid}}));
  auto alias =
      Call(Operation::kUpdate, "group-alias",
           Json{{"name", "team"}, {"mount_accessor", "auth_userpass_1"}, {"canonical_id", gid}});
  ASSERT_TRUE(alias) << alias.error().ToString();
  std::string aid = alias->data["id"];
  EXPECT_EQ(alias->data["canonical_id"], gid);
  auto read = Call(Operation::kRead, "group-alias/id/" + aid);
  ASSERT_TRUE(read);
  EXPECT_EQ(read->data["mount_path"], "auth/userpass/");
  EXPECT_EQ(read->data["name"], "team");
  EXPECT_EQ(Call(Operation::kRead, "group/id/" + gid)->data["alias"]["id"], aid);
  auto list = Call(Operation::kList, "group-alias/id");
  ASSERT_TRUE(list);
  EXPECT_EQ(list->data["keys"], Json::array({aid}));
  auto renamed = Call(Operation::kUpdate, "group-alias/id/" + aid, Json{{"name", "team-2"}});
  ASSERT_TRUE(renamed) << renamed.error().ToString();
  auto found = Call(Operation::kUpdate, "lookup/group",
                    Json{{"alias_name", "team-2"}, {"alias_mount_accessor", "auth_userpass_1"}});
  ASSERT_TRUE(found);
  EXPECT_EQ(found->data["id"], gid);

  ASSERT_TRUE(Call(Operation::kDelete, "group-alias/id/" + aid));
  EXPECT_EQ(Call(Operation::kRead, "group-alias/id/" + aid)->http_status, 404);
  EXPECT_EQ(Call(Operation::kRead, "group/id/" + gid)->data["alias"], Json::object());
}

// An alias created without a canonical_id gets an entity (a group alias: an
// external group) of its own, as in Vault; a bad mount accessor still makes
// neither.
TEST_F(IdentityBackendTest, AnAliasWithoutAnOwnerGetsANewOne) {
  auto alias = Call(Operation::kUpdate, "entity-alias",
                    Json{{"name", "alice"}, {"mount_accessor", "auth_userpass_1"}});
  ASSERT_TRUE(alias) << alias.error().ToString();
  const std::string eid = alias->data["canonical_id"];
  ASSERT_FALSE(eid.empty());
  auto entity = Call(Operation::kRead, "entity/id/" + eid);
  ASSERT_TRUE(entity);
  EXPECT_TRUE(entity->data["name"].get<std::string>().starts_with("entity_"))
      << entity->data.dump();
  EXPECT_EQ(entity->data["aliases"][0]["name"], "alice");

  auto galias = Call(Operation::kUpdate, "group-alias",
                     Json{{"name", "ops"}, {"mount_accessor", "auth_userpass_1"}});
  ASSERT_TRUE(galias) << galias.error().ToString();
  const std::string gid = galias->data["canonical_id"];
  auto group = Call(Operation::kRead, "group/id/" + gid);
  ASSERT_TRUE(group);
  EXPECT_EQ(group->data["type"], "external");
  EXPECT_TRUE(group->data["name"].get<std::string>().starts_with("group_")) << group->data.dump();
  EXPECT_EQ(group->data["alias"]["name"], "ops");

  const std::size_t entities = store_.EntityCount();
  EXPECT_FALSE(Call(Operation::kUpdate, "entity-alias",
                    Json{{"name", "bob"}, {"mount_accessor", "auth_nowhere"}}));
  EXPECT_FALSE(Call(Operation::kUpdate, "group-alias",
                    Json{{"name", "dev"}, {"mount_accessor", "auth_nowhere"}}));
  EXPECT_EQ(store_.EntityCount(), entities);
  EXPECT_EQ(store_.Groups().size(), 1u);
}

TEST_F(IdentityBackendTest, EntityGroupAliasLookupRoundTrip) {
  auto created = Call(Operation::kUpdate, "entity",
                      Json{{"name", "alice"}, {"policies", "a,b"}, {"metadata", {{"team", "x"}}}});
  ASSERT_TRUE(created) << created.error().ToString();
  std::string id = created->data["id"];
  auto read = Call(Operation::kRead, "entity/name/alice");
  ASSERT_TRUE(read);
  EXPECT_EQ(read->data["id"], id);
  EXPECT_EQ(read->data["policies"], Json::array({"a", "b"}));
  EXPECT_EQ(read->data["metadata"]["team"], "x");

  auto alias =
      Call(Operation::kUpdate, "entity-alias",
           Json{{"name", "alice"}, {"canonical_id", id}, {"mount_accessor", "auth_userpass_1"}});
  ASSERT_TRUE(alias) << alias.error().ToString();
  auto dup =
      Call(Operation::kUpdate, "entity-alias",
           Json{{"name", "alice"}, {"canonical_id", id}, {"mount_accessor", "auth_userpass_1"}});
  ASSERT_FALSE(dup);
  // The listing's key_info has every field Vault's has (vaultrs needs them).
  auto aliases = Call(Operation::kList, "entity-alias/id/");
  ASSERT_TRUE(aliases) << aliases.error().ToString();
  const Json info = aliases->data["key_info"][alias->data["id"].get<std::string>()];
  for (const char* field : {"canonical_id", "custom_metadata", "local", "metadata",
                            "mount_accessor", "mount_path", "mount_type", "name"}) {
    EXPECT_TRUE(info.contains(field)) << field << ": " << info.dump();
  }
  EXPECT_EQ(info["local"], false);

  auto group = Call(Operation::kUpdate, "group",
                    Json{{"name", "devs"},
                         // Values decoded weakly, as Vault's (Bank-Vaults'
                         // example config has privileged: true).
                         {"metadata", {{"privileged", true}, {"level", 3}}},
                         {"policies", Json::array({"dev"})},
                         {"member_entity_ids", Json::array({id})}});
  ASSERT_TRUE(group) << group.error().ToString();
  std::string gid = group->data["id"];
  auto g = Call(Operation::kRead, "group/id/" + gid);
  ASSERT_TRUE(g);
  EXPECT_EQ(g->data["metadata"], (Json{{"level", "3"}, {"privileged", "1"}}));
  EXPECT_EQ(g->data["member_entity_ids"], Json::array({id}));
  read = Call(Operation::kRead, "entity/id/" + id);
  EXPECT_EQ(read->data["group_ids"], Json::array({gid}));
  EXPECT_EQ(read->data["aliases"].size(), 1u);

  auto list = Call(Operation::kList, "entity/id/");
  ASSERT_TRUE(list);
  EXPECT_EQ(list->data["keys"], Json::array({id}));
  EXPECT_EQ(list->data["key_info"][id]["name"], "alice");
  auto names = Call(Operation::kList, "group/name/");
  EXPECT_EQ(names->data["keys"], Json::array({"devs"}));

  auto by_alias = Call(Operation::kUpdate, "lookup/entity",
                       Json{{"alias_name", "alice"}, {"alias_mount_accessor", "auth_userpass_1"}});
  ASSERT_TRUE(by_alias);
  EXPECT_EQ(by_alias->data["id"], id);
  auto none = Call(Operation::kUpdate, "lookup/entity", Json{{"name", "nobody"}});
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->data.is_null());
  auto lg = Call(Operation::kUpdate, "lookup/group", Json{{"name", "devs"}});
  EXPECT_EQ(lg->data["id"], gid);

  ASSERT_TRUE(Call(Operation::kDelete, "entity/id/" + id));
  g = Call(Operation::kRead, "group/id/" + gid);
  EXPECT_TRUE(g->data["member_entity_ids"].empty());
}

TEST_F(IdentityBackendTest, MfaMethodEnrolmentAndEnforcement) {
  auto created = Call(Operation::kUpdate, "mfa/method/totp",
                      Json{{"issuer", "Coffer"}, {"period", "30s"}, {"algorithm", "SHA256"}});
  ASSERT_TRUE(created) << created.error().ToString();
  std::string mid = created->data["method_id"];
  auto read = Call(Operation::kRead, "mfa/method/totp/" + mid);
  ASSERT_TRUE(read);
  EXPECT_EQ(read->data["algorithm"], "SHA256");
  EXPECT_EQ(read->data["period"], 30);
  EXPECT_EQ(read->data["digits"], 6);

  auto entity = Call(Operation::kUpdate, "entity", Json{{"name", "alice"}});
  std::string eid = entity->data["id"];
  auto gen = Call(Operation::kUpdate, "mfa/method/totp/admin-generate",
                  Json{{"method_id", mid}, {"entity_id", eid}});
  ASSERT_TRUE(gen) << gen.error().ToString();
  EXPECT_TRUE(gen->data["url"].get<std::string>().starts_with("otpauth://totp/Coffer:alice?"));
  EXPECT_FALSE(gen->data["barcode"].get<std::string>().empty());
  auto again = Call(Operation::kUpdate, "mfa/method/totp/admin-generate",
                    Json{{"method_id", mid}, {"entity_id", eid}});
  ASSERT_TRUE(again);
  EXPECT_TRUE(again->data.is_null());
  EXPECT_FALSE(again->warnings.is_null());
  // The entity read never shows the secret.
  auto e = Call(Operation::kRead, "entity/id/" + eid);
  EXPECT_EQ(e->data["mfa_secrets"], Json::object());
  // generate (self) needs a caller entity.
  EXPECT_FALSE(Call(Operation::kUpdate, "mfa/method/totp/generate", Json{{"method_id", mid}}));

  auto enf = Call(Operation::kUpdate, "mfa/login-enforcement/people",
                  Json{{"mfa_method_ids", Json::array({mid})},
                       {"auth_method_accessors", Json::array({"auth_userpass_1"})}});
  ASSERT_TRUE(enf) << enf.error().ToString();
  auto bad = Call(Operation::kUpdate, "mfa/login-enforcement/bad",
                  Json{{"mfa_method_ids", Json::array({mid})},
                       {"auth_method_accessors", Json::array({"auth_nope"})}});
  EXPECT_FALSE(bad);
  auto r = Call(Operation::kRead, "mfa/login-enforcement/people");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->data["mfa_method_ids"], Json::array({mid}));
  auto l = Call(Operation::kList, "mfa/login-enforcement/");
  EXPECT_EQ(l->data["keys"], Json::array({"people"}));
  ASSERT_TRUE(Call(Operation::kUpdate, "mfa/method/totp/admin-destroy",
                   Json{{"method_id", mid}, {"entity_id", eid}}));
  auto regen = Call(Operation::kUpdate, "mfa/method/totp/admin-generate",
                    Json{{"method_id", mid}, {"entity_id", eid}});
  EXPECT_FALSE(regen->data.is_null());
}

}  // namespace
}  // namespace coffer::identity
