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

// identity/entity/merge: the aliases, group memberships and merged ids of
// the merged entities go to the target, they are gone, and a clash of two
// aliases on one mount is refused unless one of them is named to keep.
TEST_F(IdentityBackendTest, MergingEntitiesMovesAliasesAndGroups) {
  store_.SetMountLookup([](std::string_view accessor) -> std::optional<MountRef> {
    if (accessor == "auth_userpass_1") return MountRef{"auth/userpass/", "userpass"};
    if (accessor == "auth_approle_2") return MountRef{"auth/approle/", "approle"};
    return std::nullopt;
  });
  auto entity = [&](const std::string& name) {
    auto r = Call(Operation::kUpdate, "entity", Json{{"name", name}, {"policies", name}});
    EXPECT_TRUE(r) << r.error().ToString();
    return r ? r->data["id"].get<std::string>() : "";
  };
  auto alias = [&](const std::string& name, const std::string& mount, const std::string& owner) {
    auto r = Call(Operation::kUpdate, "entity-alias",
                  Json{{"name", name}, {"mount_accessor", mount}, {"canonical_id", owner}});
    EXPECT_TRUE(r) << r.error().ToString();
    return r ? r->data["id"].get<std::string>() : "";
  };
  const std::string to = entity("keeper"), from = entity("merged"), other = entity("other");
  const std::string to_up = alias("k", "auth_userpass_1", to);
  const std::string from_ar = alias("m", "auth_approle_2", from);
  auto group = Call(Operation::kUpdate, "group",
                    Json{{"name", "team"}, {"member_entity_ids", Json::array({from, other})}});
  ASSERT_TRUE(group) << group.error().ToString();
  const std::string gid = group->data["id"];

  // Refused, and nothing changes: unknown ids, the target among the sources,
  // nothing to merge.
  const std::string before = Call(Operation::kRead, "entity/id/" + from)->data.dump();
  for (const auto& [body, want] : std::vector<std::pair<Json, std::string>>{
           {Json{{"to_entity_id", "nope"}, {"from_entity_ids", Json::array({from})}},
            "entity id to merge to is invalid"},
           {Json{{"to_entity_id", to}, {"from_entity_ids", Json::array({"nope"})}},
            "entity id to merge from is invalid"},
           {Json{{"to_entity_id", to}, {"from_entity_ids", Json::array({from, to})}},
            "to_entity_id should not be present in from_entity_ids"},
           {Json{{"to_entity_id", to}}, "missing entity ids to merge from"},
           {Json{{"from_entity_ids", Json::array({from})}}, "missing entity id to merge to"}}) {
    auto r = Call(Operation::kUpdate, "entity/merge", body);
    ASSERT_FALSE(r) << body.dump();
    EXPECT_EQ(r.error().code(), Code::kInvalidArgument);
    EXPECT_EQ(r.error().message(), want);
  }
  EXPECT_EQ(Call(Operation::kRead, "entity/id/" + from)->data.dump(), before);

  auto merged = Call(Operation::kUpdate, "entity/merge",
                     Json{{"to_entity_id", to}, {"from_entity_ids", Json::array({from})}});
  ASSERT_TRUE(merged) << merged.error().ToString();
  EXPECT_EQ(merged->http_status, 204);
  EXPECT_EQ(Call(Operation::kRead, "entity/id/" + from)->http_status, 404);
  auto kept = Call(Operation::kRead, "entity/id/" + to);
  ASSERT_TRUE(kept);
  EXPECT_EQ(kept->data["merged_entity_ids"], Json::array({from}));
  EXPECT_EQ(kept->data["policies"], Json::array({"keeper"}));  // the target's own, as in Vault
  EXPECT_EQ(kept->data["aliases"].size(), 2u);
  auto moved = Call(Operation::kRead, "entity-alias/id/" + from_ar);
  ASSERT_TRUE(moved);
  EXPECT_EQ(moved->data["canonical_id"], to);
  EXPECT_EQ(moved->data["merged_from_canonical_ids"], Json::array({from}));
  EXPECT_EQ(Call(Operation::kRead, "group/id/" + gid)->data["member_entity_ids"],
            Json::array({other, to}));
  auto found = Call(Operation::kUpdate, "lookup/entity",
                    Json{{"alias_name", "m"}, {"alias_mount_accessor", "auth_approle_2"}});
  ASSERT_TRUE(found);
  EXPECT_EQ(found->data["id"], to);

  // A clash: both have a userpass alias. Refused; then resolved by keeping
  // the merged entity's alias (the target's is deleted).
  const std::string other_up = alias("o", "auth_userpass_1", other);
  auto clash = Call(Operation::kUpdate, "entity/merge",
                    Json{{"to_entity_id", to}, {"from_entity_ids", Json::array({other})}});
  ASSERT_FALSE(clash);
  EXPECT_NE(clash.error().message().find("have aliases with the same mount accessor"),
            std::string::npos)
      << clash.error().message();
  EXPECT_TRUE(Call(Operation::kRead, "entity/id/" + other)->http_status != 404);
  auto resolved = Call(Operation::kUpdate, "entity/merge",
                       Json{{"to_entity_id", to},
                            {"from_entity_ids", Json::array({other})},
                            {"conflicting_alias_ids_to_keep", Json::array({other_up})}});
  ASSERT_TRUE(resolved) << resolved.error().ToString();
  EXPECT_EQ(Call(Operation::kRead, "entity-alias/id/" + to_up)->http_status, 404);
  EXPECT_EQ(Call(Operation::kRead, "entity-alias/id/" + other_up)->data["canonical_id"], to);
  kept = Call(Operation::kRead, "entity/id/" + to);
  EXPECT_EQ(kept->data["merged_entity_ids"], Json::array({from, other}));
  EXPECT_EQ(Call(Operation::kRead, "group/id/" + gid)->data["member_entity_ids"],
            Json::array({to}));

  // The merge survives a reload of the store.
  IdentityStore reloaded(storage_, clock_);
  ASSERT_TRUE(reloaded.Load().ok());
  ASSERT_TRUE(reloaded.EntityById(to).has_value());
  EXPECT_EQ(reloaded.EntityById(to)->merged_entity_ids, (std::vector<std::string>{from, other}));
  EXPECT_FALSE(reloaded.EntityById(other).has_value());
  EXPECT_EQ(reloaded.AliasById(other_up)->canonical_id, to);
}

// A merged entity's TOTP secret goes to the target, in the same write, as
// in Vault; when the target has one for the method too, the merge is
// refused unless `force`, and then the merged entity's replaces it.
TEST_F(IdentityBackendTest, AMergeMovesTotpSecrets) {
  auto entity = [&](const std::string& name) {
    auto r = Call(Operation::kUpdate, "entity", Json{{"name", name}});
    EXPECT_TRUE(r);
    return r ? r->data["id"].get<std::string>() : "";
  };
  const std::string to = entity("a"), from = entity("b"), third = entity("c");
  mfa::TotpMethod m;
  m.issuer = "Coffer";
  auto method = mfa_.PutMethod(m);
  ASSERT_TRUE(method) << method.error().ToString();
  auto enrolled = mfa_.Generate(method->id, from, "b");
  ASSERT_TRUE(enrolled && *enrolled);
  auto secret_of = [&](const std::string& id) -> std::string {
    auto v = storage_.Get("mfa/secret/" + method->id + "/" + id);
    return v && *v ? (*v)->value : "";
  };
  const std::string from_secret = secret_of(from);
  ASSERT_FALSE(from_secret.empty());

  ASSERT_TRUE(Call(Operation::kUpdate, "entity/merge",
                   Json{{"to_entity_id", to}, {"from_entity_ids", Json::array({from})}}));
  EXPECT_EQ(secret_of(to), from_secret);
  EXPECT_EQ(secret_of(from), "");
  auto has = mfa_.HasSecret(method->id, to);
  ASSERT_TRUE(has);
  EXPECT_TRUE(*has);

  // The target has one now: another entity's clashes.
  auto third_enrolled = mfa_.Generate(method->id, third, "c");
  ASSERT_TRUE(third_enrolled && *third_enrolled);
  const std::string third_secret = secret_of(third);
  const Json body{{"to_entity_id", to}, {"from_entity_ids", Json::array({third})}};
  auto refused = Call(Operation::kUpdate, "entity/merge", body);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().message(),
            "conflicting MFA config ID \"" + method->id + "\" in entity ID \"" + third + "\"");
  EXPECT_EQ(Call(Operation::kRead, "entity/id/" + third)->http_status, 200);
  EXPECT_EQ(secret_of(to), from_secret);
  Json forced = body;
  forced["force"] = true;
  ASSERT_TRUE(Call(Operation::kUpdate, "entity/merge", forced));
  EXPECT_EQ(secret_of(to), third_secret);
  EXPECT_EQ(secret_of(third), "");
}

// What Terraform's provider sends and reads: an empty name is no name (one
// is generated), and a create that finds its name taken updates that entity
// or group and answers 204, as Vault does, so the provider can say that it
// already exists instead of adopting it.
TEST_F(IdentityBackendTest, EmptyNamesAndTakenNamesAnswerAsVault) {
  auto made = Call(Operation::kUpdate, "entity", Json{{"name", ""}, {"policies", "p"}});
  ASSERT_TRUE(made) << made.error().ToString();
  EXPECT_EQ(made->http_status, 200);
  EXPECT_TRUE(made->data["name"].get<std::string>().starts_with("entity_")) << made->data.dump();

  ASSERT_TRUE(Call(Operation::kUpdate, "entity", Json{{"name", "e1"}}));
  auto again = Call(Operation::kUpdate, "entity", Json{{"name", "e1"}, {"policies", "q"}});
  ASSERT_TRUE(again) << again.error().ToString();
  EXPECT_EQ(again->http_status, 204);

  auto group = Call(Operation::kUpdate, "group", Json{{"name", "g1"}, {"type", ""}});
  ASSERT_TRUE(group) << group.error().ToString();
  EXPECT_EQ(group->http_status, 200);
  const std::string gid = group->data["id"];
  EXPECT_EQ(Call(Operation::kRead, "group/id/" + gid)->data["type"], "internal");
  auto taken = Call(Operation::kUpdate, "group", Json{{"name", "g1"}, {"policies", "p"}});
  ASSERT_TRUE(taken) << taken.error().ToString();
  EXPECT_EQ(taken->http_status, 204);
  auto by_id = Call(Operation::kUpdate, "group/id/" + gid, Json{{"name", ""}, {"policies", "q"}});
  ASSERT_TRUE(by_id) << by_id.error().ToString();
  EXPECT_EQ(by_id->http_status, 204);
  EXPECT_EQ(Call(Operation::kRead, "group/id/" + gid)->data["name"], "g1");
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
