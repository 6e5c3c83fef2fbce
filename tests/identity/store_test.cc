#include "identity/store.h"

#include <gtest/gtest.h>

#include "storage/inmem/inmem_backend.h"

namespace coffer::identity {
namespace {

class IdentityStoreTest : public ::testing::Test {
 protected:
  IdentityStoreTest() : store_(storage_, clock_) {
    store_.SetMountLookup([](std::string_view accessor) -> std::optional<MountRef> {
      if (accessor == "auth_userpass_1") return MountRef{"auth/userpass/", "userpass"};
      if (accessor == "auth_jwt_1") return MountRef{"auth/jwt/", "jwt"};
      return std::nullopt;
    });
  }

  std::string NewEntity(const std::string& name, std::vector<std::string> policies = {}) {
    auto r = store_.UpsertEntity("", name, false, [&](Entity& e) {
      e.policies = policies;
      return Status::Ok();
    });
    EXPECT_TRUE(r.has_value()) << r.error().ToString();
    return r->first.id;
  }

  std::string NewGroup(const std::string& name, std::vector<std::string> policies,
                       std::vector<std::string> entities, std::vector<std::string> groups = {}) {
    auto r = store_.UpsertGroup("", name, [&](Group& g) {
      g.policies = policies;
      g.member_entity_ids = entities;
      g.member_group_ids = groups;
      return Status::Ok();
    });
    EXPECT_TRUE(r.has_value()) << r.error().ToString();
    return r ? r->first.id : "";
  }

  storage::InmemBackend storage_;
  FakeClock clock_;
  IdentityStore store_;
};

TEST_F(IdentityStoreTest, EntityCreateUpdateByNameAndId) {
  std::string id = NewEntity("alice", {"p1"});
  auto e = store_.EntityByName("alice");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->id, id);
  auto updated = store_.UpsertEntity(id, "", false, [](Entity& x) {
    x.policies = {"p2"};
    return Status::Ok();
  });
  ASSERT_TRUE(updated);
  EXPECT_FALSE(updated->second);
  EXPECT_EQ(store_.EntityById(id)->policies, std::vector<std::string>{"p2"});
  auto unknown = store_.UpsertEntity("nope", "", false, [](Entity&) { return Status::Ok(); });
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code(), Code::kNotFound);
}

// As in Vault, entity and group names match without regard to case: "Bob"
// and "BOB" are one name. The name keeps the spelling it was created with.
TEST_F(IdentityStoreTest, NamesMatchWithoutRegardToCase) {
  std::string bob = NewEntity("Bob");
  auto found = store_.EntityByName("bOB");
  ASSERT_TRUE(found);
  EXPECT_EQ(found->id, bob);
  auto by_name = store_.UpsertEntity("", "BOB", false, [](Entity& e) {
    e.policies = {"p1"};
    return Status::Ok();
  });
  ASSERT_TRUE(by_name);
  EXPECT_FALSE(by_name->second);  // updated, not created
  EXPECT_EQ(by_name->first.id, bob);
  EXPECT_EQ(by_name->first.name, "Bob");
  std::string other = NewEntity("carol");
  auto clash = store_.UpsertEntity(other, "", false, [](Entity& e) {
    e.name = "bob";
    return Status::Ok();
  });
  ASSERT_FALSE(clash);
  EXPECT_EQ(clash.error().code(), Code::kInvalidArgument);
  // Its own name in another case is no clash.
  auto recased = store_.UpsertEntity(bob, "", false, [](Entity& e) {
    e.name = "BOB";
    return Status::Ok();
  });
  ASSERT_TRUE(recased) << recased.error().ToString();
  EXPECT_EQ(store_.EntityByName("bob")->name, "BOB");

  std::string admins = NewGroup("Admins", {}, {});
  ASSERT_TRUE(store_.GroupByName("ADMINS"));
  EXPECT_EQ(store_.GroupByName("ADMINS")->id, admins);
  auto group = store_.UpsertGroup("", "admins", [](Group& g) {
    g.policies = {"p2"};
    return Status::Ok();
  });
  ASSERT_TRUE(group);
  EXPECT_FALSE(group->second);
  EXPECT_EQ(group->first.id, admins);
  std::string ops = NewGroup("ops", {}, {});
  auto group_clash = store_.UpsertGroup(ops, "", [](Group& g) {
    g.name = "ADMINS";
    return Status::Ok();
  });
  ASSERT_FALSE(group_clash);
  EXPECT_EQ(group_clash.error().code(), Code::kInvalidArgument);
}

TEST_F(IdentityStoreTest, NamesAreUniqueAndRootIsRefused) {
  NewEntity("alice");
  std::string bob = NewEntity("bob");
  auto clash = store_.UpsertEntity(bob, "", false, [](Entity& e) {
    e.name = "alice";
    return Status::Ok();
  });
  ASSERT_FALSE(clash);
  EXPECT_EQ(clash.error().code(), Code::kInvalidArgument);
  // Root in any spelling the ACL would read as root.
  for (const char* spelling : {"root", "ROOT", "Root", " root\n", "\troot"}) {
    SCOPED_TRACE(spelling);
    auto root = store_.UpsertEntity("", "carol", false, [&](Entity& e) {
      e.policies = {"dev", spelling};
      return Status::Ok();
    });
    ASSERT_FALSE(root);
    EXPECT_FALSE(store_.EntityByName("carol"));
    auto group = store_.UpsertGroup("", "admins", [&](Group& g) {
      g.policies = {spelling};
      return Status::Ok();
    });
    EXPECT_FALSE(group.has_value());
    EXPECT_FALSE(store_.GroupByName("admins"));
  }
}

TEST_F(IdentityStoreTest, AliasOnePerMountAndName) {
  std::string alice = NewEntity("alice");
  std::string bob = NewEntity("bob");
  Alias a;
  a.name = "alice";
  a.canonical_id = alice;
  a.mount_accessor = "auth_userpass_1";
  auto stored = store_.PutAlias(a);
  ASSERT_TRUE(stored) << stored.error().ToString();
  EXPECT_EQ(stored->mount_type, "userpass");
  a.canonical_id = bob;
  auto dup = store_.PutAlias(a);
  ASSERT_FALSE(dup);
  EXPECT_EQ(dup.error().code(), Code::kInvalidArgument);
  a.mount_accessor = "auth_unknown";
  EXPECT_FALSE(store_.PutAlias(a));
  // And one per entity and mount, as in Vault: alice has one on userpass.
  Alias second;
  second.name = "alice-2";
  second.canonical_id = alice;
  second.mount_accessor = "auth_userpass_1";
  auto twice = store_.PutAlias(second);
  ASSERT_FALSE(twice);
  EXPECT_EQ(twice.error().message(),
            "Alias already exists for requested entity and mount accessor");
  // Updating the one it has is fine.
  Alias renamed = *stored;
  renamed.name = "alice-renamed";
  EXPECT_TRUE(store_.PutAlias(renamed));
}

TEST_F(IdentityStoreTest, LoginCreatesEntityOnceAndReusesIt) {
  MountRef mount{"auth/userpass/", "userpass"};
  auto first = store_.EntityForLogin("auth_userpass_1", mount, "alice");
  ASSERT_TRUE(first);
  auto second = store_.EntityForLogin("auth_userpass_1", mount, "alice");
  ASSERT_TRUE(second);
  EXPECT_EQ(*first, *second);
  auto other = store_.EntityForLogin("auth_userpass_1", mount, "bob");
  ASSERT_TRUE(other);
  EXPECT_NE(*first, *other);
  ASSERT_TRUE(store_.FindAlias("auth_userpass_1", "alice"));
  // A disabled entity cannot log in.
  ASSERT_TRUE(store_.UpsertEntity(*first, "", false, [](Entity& e) {
    e.disabled = true;
    return Status::Ok();
  }));
  auto refused = store_.EntityForLogin("auth_userpass_1", mount, "alice");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code(), Code::kPermissionDenied);
}

TEST_F(IdentityStoreTest, PoliciesFromEntityGroupsAndSubgroups) {
  std::string alice = NewEntity("alice", {"own"});
  std::string inner = NewGroup("inner", {"inner-p"}, {alice});
  std::string outer = NewGroup("outer", {"outer-p"}, {}, {inner});
  NewGroup("unrelated", {"other-p"}, {});
  EXPECT_EQ(store_.IdentityPolicies(alice),
            (std::vector<std::string>{"inner-p", "outer-p", "own"}));
  EXPECT_EQ(store_.AllGroupIds(alice), (std::set<std::string>{inner, outer}));
  EXPECT_EQ(store_.DirectGroupIds(alice), (std::set<std::string>{inner}));

  // Removing the entity from the inner group drops both groups' policies.
  auto gen = store_.generation();
  ASSERT_TRUE(store_.UpsertGroup(inner, "", [](Group& g) {
    g.member_entity_ids.clear();
    return Status::Ok();
  }));
  EXPECT_GT(store_.generation(), gen);
  EXPECT_EQ(store_.IdentityPolicies(alice), std::vector<std::string>{"own"});
}

TEST_F(IdentityStoreTest, SubgroupCyclesAreRefused) {
  std::string a = NewGroup("a", {}, {});
  std::string b = NewGroup("b", {}, {}, {a});
  std::string c = NewGroup("c", {}, {}, {b});
  auto cycle = store_.UpsertGroup(a, "", [&](Group& g) {
    g.member_group_ids = {c};
    return Status::Ok();
  });
  ASSERT_FALSE(cycle);
  EXPECT_EQ(cycle.error().code(), Code::kInvalidArgument);
  auto self = store_.UpsertGroup(a, "", [&](Group& g) {
    g.member_group_ids = {a};
    return Status::Ok();
  });
  EXPECT_FALSE(self);
  auto missing = store_.UpsertGroup(a, "", [&](Group& g) {
    g.member_entity_ids = {"no-such-entity"};
    return Status::Ok();
  });
  EXPECT_FALSE(missing);
}

TEST_F(IdentityStoreTest, DeletesCascadeAndEverythingSurvivesReload) {
  std::string alice = NewEntity("alice", {"own"});
  std::string bob = NewEntity("bob");
  std::string inner = NewGroup("inner", {"inner-p"}, {alice, bob});
  std::string outer = NewGroup("outer", {"outer-p"}, {}, {inner});
  ASSERT_TRUE(store_.EntityForLogin("auth_userpass_1", {"auth/userpass/", "userpass"}, "x"));

  IdentityStore reloaded(storage_, clock_);
  ASSERT_TRUE(reloaded.Load().ok());
  EXPECT_EQ(reloaded.IdentityPolicies(alice),
            (std::vector<std::string>{"inner-p", "outer-p", "own"}));
  EXPECT_TRUE(reloaded.FindAlias("auth_userpass_1", "x"));

  ASSERT_TRUE(store_.DeleteEntity(alice).ok());
  EXPECT_EQ(store_.GroupById(inner)->member_entity_ids, std::vector<std::string>{bob});
  ASSERT_TRUE(store_.DeleteGroup(inner).ok());
  EXPECT_TRUE(store_.GroupById(outer)->member_group_ids.empty());
  ASSERT_TRUE(reloaded.Load().ok());
  EXPECT_FALSE(reloaded.EntityById(alice));
  EXPECT_TRUE(reloaded.GroupById(outer)->member_group_ids.empty());
  EXPECT_TRUE(reloaded.IdentityPolicies(bob).empty());
}

// External groups: members come from logins through their group alias,
// never from the API; the alias is one per group and per (mount, name).
TEST_F(IdentityStoreTest, ExternalGroupsFollowTheLoginsGroups) {
  auto external = [&](const std::string& name, std::vector<std::string> policies) {
    auto r = store_.UpsertGroup("", name, [&](Group& g) {
      g.type = "external";
      g.policies = policies;
      return Status::Ok();
    });
    EXPECT_TRUE(r.has_value()) << r.error().ToString();
    return r ? r->first.id : "";
  };
  auto alias = [&](const std::string& group, const std::string& accessor, const std::string& name) {
    Alias a;
    a.canonical_id = group;
    a.mount_accessor = accessor;
    a.name = name;
    return store_.PutGroupAlias(a);
  };
  std::string devs = external("devs", {"dev-p"});
  std::string ops = external("ops", {"ops-p"});
  std::string other = external("other-mount", {"other-p"});
  std::string internal = NewGroup("internal", {"int-p"}, {}, {devs});  // devs is a subgroup
  ASSERT_TRUE(alias(devs, "auth_jwt_1", "engineering"));
  ASSERT_TRUE(alias(ops, "auth_jwt_1", "sre"));
  ASSERT_TRUE(alias(other, "auth_userpass_1", "engineering"));

  // Refused: a second alias for a group, a taken (mount, name), an internal
  // group, an unknown mount.
  EXPECT_FALSE(alias(devs, "auth_jwt_1", "eng2"));
  EXPECT_FALSE(alias(ops, "auth_jwt_1", "engineering"));
  EXPECT_FALSE(alias(internal, "auth_jwt_1", "x"));
  EXPECT_FALSE(alias(external("spare", {}), "auth_nope", "x"));

  auto alice = store_.EntityForLogin("auth_jwt_1", {"auth/jwt/", "jwt"}, "alice");
  ASSERT_TRUE(alice);
  ASSERT_TRUE(store_.SyncExternalGroups(*alice, "auth_jwt_1", {"engineering", "unknown"}).ok());
  EXPECT_EQ(store_.DirectGroupIds(*alice), (std::set<std::string>{devs}));
  EXPECT_EQ(store_.IdentityPolicies(*alice), (std::vector<std::string>{"dev-p", "int-p"}));

  // The next login's groups replace them; other mounts' groups are left.
  ASSERT_TRUE(store_
                  .UpsertGroup(other, "",
                               [&](Group& g) {
                                 g.member_entity_ids = {*alice};
                                 return Status::Ok();
                               })
                  .has_value());
  ASSERT_TRUE(store_.SyncExternalGroups(*alice, "auth_jwt_1", {"sre"}).ok());
  EXPECT_EQ(store_.DirectGroupIds(*alice), (std::set<std::string>{ops, other}));
  ASSERT_TRUE(store_.SyncExternalGroups(*alice, "auth_jwt_1", {}).ok());
  EXPECT_EQ(store_.DirectGroupIds(*alice), (std::set<std::string>{other}));

  // An external group takes no subgroups; it survives a reload with its
  // alias, and deleting it deletes the alias.
  EXPECT_FALSE(store_.UpsertGroup(ops, "", [&](Group& g) {
    g.member_group_ids = {internal};
    return Status::Ok();
  }));
  ASSERT_TRUE(store_.SyncExternalGroups(*alice, "auth_jwt_1", {"sre"}).ok());
  IdentityStore reloaded(storage_, clock_);
  ASSERT_TRUE(reloaded.Load().ok());
  EXPECT_EQ(reloaded.GroupAliasOf(ops)->name, "sre");
  EXPECT_EQ(reloaded.FindGroupAlias("auth_jwt_1", "engineering")->canonical_id, devs);
  EXPECT_EQ(reloaded.IdentityPolicies(*alice), (std::vector<std::string>{"ops-p", "other-p"}));
  std::string ops_alias = store_.GroupAliasOf(ops)->id;
  ASSERT_TRUE(store_.DeleteGroup(ops).ok());
  EXPECT_FALSE(store_.GroupAliasById(ops_alias));
  ASSERT_TRUE(reloaded.Load().ok());
  EXPECT_FALSE(reloaded.GroupAliasById(ops_alias));
}

}  // namespace
}  // namespace coffer::identity
