#include "policy/policy_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <thread>

#include "common/clock.h"
#include "common/encoding.h"
#include "policy/policy_backend.h"
#include "storage/inmem/inmem_backend.h"

namespace coffer::policy {
namespace {

using logical::Json;
using logical::Operation;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr const char* kDev = R"(path "secret/*" { capabilities = ["read", "list"] })";

class PolicyStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(store_.Load().ok()); }

  storage::InmemBackend storage_;
  PolicyStore store_{storage_};
};

TEST_F(PolicyStoreTest, SetGetListDelete) {
  ASSERT_TRUE(store_.Set(" Dev ", kDev).ok());
  auto got = store_.Get("DEV");
  ASSERT_TRUE(got.has_value());
  ASSERT_NE(*got, nullptr);
  EXPECT_EQ((*got)->name, "dev");
  EXPECT_EQ((*got)->raw, kDev);
  // Stored under the canonical name, the text as uploaded.
  auto raw = storage_.Get("dev");
  ASSERT_TRUE(raw.has_value() && raw->has_value());
  EXPECT_EQ(Json::parse((*raw)->value)["policy"], kDev);

  auto list = store_.List();
  ASSERT_TRUE(list.has_value());
  EXPECT_THAT(*list, ElementsAre("default", "dev", "root"));

  ASSERT_TRUE(store_.Delete("dev").ok());
  EXPECT_EQ(*store_.Get("dev"), nullptr);
  EXPECT_TRUE(store_.Delete("dev").ok());  // idempotent
  EXPECT_THAT(*store_.List(), ElementsAre("default", "root"));
}

TEST_F(PolicyStoreTest, BadTextStoresNothing) {
  Status s = store_.Set("broken", "path \"a\" {\n capabilities = [\"fly\"]\n}");
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("line 2"));
  EXPECT_THAT(s.message(), HasSubstr("unknown capability \"fly\""));
  EXPECT_FALSE(storage_.Get("broken")->has_value());
}

TEST_F(PolicyStoreTest, DefaultExistsAndCannotBeDeleted) {
  auto def = store_.Get("default");
  ASSERT_TRUE(def.has_value() && *def != nullptr);
  EXPECT_EQ((*def)->raw, kDefaultPolicyText);
  Status s = store_.Delete("default");
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_EQ(s.message(), "cannot delete default policy");

  // It can be changed, and Load does not overwrite the change.
  ASSERT_TRUE(store_.Set("default", kDev).ok());
  ASSERT_TRUE(store_.Load().ok());
  EXPECT_EQ((*store_.Get("default"))->raw, kDev);
}

TEST_F(PolicyStoreTest, DefaultPolicyRules) {
  auto acl = store_.AclFor({"default"});
  ASSERT_TRUE(acl.has_value());
  const Acl& a = **acl;
  EXPECT_TRUE(a.Check("auth/token/lookup-self", Operation::kRead, {}).allowed);
  EXPECT_TRUE(a.Check("auth/token/renew-self", Operation::kUpdate, {}).allowed);
  EXPECT_TRUE(a.Check("cubbyhole/x", Operation::kCreate, {}).allowed);
  EXPECT_TRUE(a.Check("cubbyhole/", Operation::kList, {}).allowed);
  EXPECT_TRUE(a.Check("sys/wrapping/unwrap", Operation::kUpdate, {}).allowed);
  EXPECT_TRUE(a.Check("sys/tools/hash/sha2-256", Operation::kUpdate, {}).allowed);
  EXPECT_TRUE(a.Check("identity/oidc/provider/p1/authorize", Operation::kRead, {}).allowed);
  EXPECT_FALSE(a.Check("secret/x", Operation::kRead, {}).allowed);
  EXPECT_FALSE(a.Check("sys/policy/x", Operation::kUpdate, {}).allowed);
}

TEST_F(PolicyStoreTest, RootIsBuiltInAndImmutable) {
  auto root = store_.Get("root");
  ASSERT_TRUE(root.has_value() && *root != nullptr);
  EXPECT_EQ((*root)->name, "root");
  EXPECT_EQ(store_.Set("root", kDev).code(), Code::kInvalidArgument);
  EXPECT_EQ(store_.Set(" ROOT", kDev).code(), Code::kInvalidArgument);
  EXPECT_EQ(store_.Delete("root").code(), Code::kInvalidArgument);
  EXPECT_FALSE(storage_.Get("root")->has_value());  // never stored
  auto acl = store_.AclFor({"root"});
  ASSERT_TRUE(acl.has_value());
  EXPECT_TRUE((*acl)->IsRoot());
}

// Vault's response-wrapping policy is built in: it reads as Vault's text,
// cannot be written or deleted (however the name is spelled), and is not
// listed, since no token may be given it. A copy left in storage by an
// older version changes none of that.
TEST_F(PolicyStoreTest, ResponseWrappingIsBuiltInImmutableAndUnlisted) {
  ASSERT_TRUE(storage_.Put("response-wrapping", kDev).ok());
  for (const char* name : {"response-wrapping", " Response-Wrapping "}) {
    Status set = store_.Set(name, kDev);
    EXPECT_EQ(set.code(), Code::kInvalidArgument);
    EXPECT_EQ(set.message(), "cannot update \"response-wrapping\" policy");
    Status del = store_.Delete(name);
    EXPECT_EQ(del.code(), Code::kInvalidArgument);
    EXPECT_EQ(del.message(), "cannot delete \"response-wrapping\" policy");
  }
  EXPECT_THAT(*store_.List(), ElementsAre("default", "root"));
  auto policy = store_.Get("response-wrapping");
  ASSERT_TRUE(policy.has_value() && *policy != nullptr);
  EXPECT_EQ((*policy)->raw, kResponseWrappingPolicyText);
  auto acl = store_.AclFor({"response-wrapping"});
  ASSERT_TRUE(acl.has_value());
  EXPECT_TRUE((*acl)->Check("cubbyhole/response", Operation::kRead, {}).allowed);
  EXPECT_TRUE((*acl)->Check("sys/wrapping/unwrap", Operation::kUpdate, {}).allowed);
  EXPECT_FALSE((*acl)->Check("secret/x", Operation::kRead, {}).allowed);
}

TEST_F(PolicyStoreTest, LoadStoresOnlyDefault) {
  auto keys = storage_.List("");
  ASSERT_TRUE(keys.has_value());
  EXPECT_THAT(*keys, ElementsAre("default"));
}

TEST_F(PolicyStoreTest, AclCacheHitAndInvalidation) {
  ASSERT_TRUE(store_.Set("dev", kDev).ok());
  auto a1 = store_.AclFor({"dev", "default"});
  auto a2 = store_.AclFor({"DEFAULT", " dev", "dev"});  // same canonical set
  ASSERT_TRUE(a1.has_value() && a2.has_value());
  EXPECT_EQ(a1->get(), a2->get());
  EXPECT_TRUE((*a1)->Check("secret/x", Operation::kRead, {}).allowed);

  ASSERT_TRUE(store_.Set("dev", R"(path "secret/*" { capabilities = ["deny"] })").ok());
  auto a3 = store_.AclFor({"dev", "default"});
  ASSERT_TRUE(a3.has_value());
  EXPECT_NE(a1->get(), a3->get());
  EXPECT_FALSE((*a3)->Check("secret/x", Operation::kRead, {}).allowed);
  // The old ACL is an immutable snapshot: still valid for whoever holds it.
  EXPECT_TRUE((*a1)->Check("secret/x", Operation::kRead, {}).allowed);

  ASSERT_TRUE(store_.Delete("dev").ok());
  auto a4 = store_.AclFor({"dev", "default"});
  ASSERT_TRUE(a4.has_value());
  EXPECT_FALSE((*a4)->Check("secret/x", Operation::kRead, {}).allowed);
  EXPECT_NE(a3->get(), a4->get());
}

TEST_F(PolicyStoreTest, TemplatedSetsCompilePerCallerAndIdentityGeneration) {
  ASSERT_TRUE(store_
                  .Set("own", R"(path "secret/data/{{identity.entity.name}}/*" {
  capabilities = ["read"]
}
path "secret/data/shared" { capabilities = ["read"] })")
                  .ok());
  std::string name = "alice";
  int resolved = 0;
  AclIdentity alice;
  alice.entity_id = "e-a";
  alice.generation = 7;
  alice.resolve = [&]() -> std::optional<TemplateIdentity> {
    ++resolved;
    TemplateIdentity t;
    t.entity_id = "e-a";
    t.entity_name = name;
    return t;
  };
  auto a1 = store_.AclFor({"own", "default"}, &alice);
  auto a2 = store_.AclFor({"default", "own"}, &alice);
  ASSERT_TRUE(a1.has_value() && a2.has_value());
  EXPECT_EQ(a1->get(), a2->get());  // cached for this entity and generation
  EXPECT_EQ(resolved, 1);
  EXPECT_TRUE((*a1)->Check("secret/data/alice/x", Operation::kRead, {}).allowed);
  EXPECT_FALSE((*a1)->Check("secret/data/bob/x", Operation::kRead, {}).allowed);
  // The default policy's templated stanza: an entity may read itself.
  EXPECT_TRUE((*a1)->Check("identity/entity/id/e-a", Operation::kRead, {}).allowed);
  EXPECT_TRUE((*a1)->Check("identity/entity/name/alice", Operation::kRead, {}).allowed);
  EXPECT_FALSE((*a1)->Check("identity/entity/id/e-b", Operation::kRead, {}).allowed);

  // Without an entity: one shared ACL, with only the plain stanzas.
  auto n1 = store_.AclFor({"own", "default"});
  auto n2 = store_.AclFor({"own", "default"});
  ASSERT_TRUE(n1.has_value() && n2.has_value());
  EXPECT_EQ(n1->get(), n2->get());
  EXPECT_NE(n1->get(), a1->get());
  EXPECT_TRUE((*n1)->Check("secret/data/shared", Operation::kRead, {}).allowed);
  EXPECT_FALSE((*n1)->Check("secret/data/alice/x", Operation::kRead, {}).allowed);
  EXPECT_EQ(resolved, 1);
  // The entity's own entry is still there after the shared one was added.
  EXPECT_EQ(store_.AclFor({"own", "default"}, &alice)->get(), a1->get());

  // The entity is renamed: the identity generation moves, and the next
  // request sees the new name.
  name = "alicia";
  alice.generation = 8;
  auto a3 = store_.AclFor({"own", "default"}, &alice);
  ASSERT_TRUE(a3.has_value());
  EXPECT_EQ(resolved, 2);
  EXPECT_TRUE((*a3)->Check("secret/data/alicia/x", Operation::kRead, {}).allowed);
  EXPECT_FALSE((*a3)->Check("secret/data/alice/x", Operation::kRead, {}).allowed);

  // Another entity gets its own ACL.
  AclIdentity bob = alice;
  bob.entity_id = "e-b";
  bob.resolve = [] {
    TemplateIdentity t;
    t.entity_id = "e-b";
    t.entity_name = "bob";
    return std::optional<TemplateIdentity>(t);
  };
  auto b1 = store_.AclFor({"own", "default"}, &bob);
  ASSERT_TRUE(b1.has_value());
  EXPECT_TRUE((*b1)->Check("secret/data/bob/x", Operation::kRead, {}).allowed);
  EXPECT_FALSE((*b1)->Check("secret/data/alicia/x", Operation::kRead, {}).allowed);

  // A plain set never asks who is calling.
  ASSERT_TRUE(store_.Set("dev", kDev).ok());
  auto d1 = store_.AclFor({"dev"}, &alice);
  auto d2 = store_.AclFor({"dev"});
  ASSERT_TRUE(d1.has_value() && d2.has_value());
  EXPECT_EQ(d1->get(), d2->get());
  EXPECT_EQ(resolved, 2);
}

TEST_F(PolicyStoreTest, MissingPoliciesContributeNothing) {
  auto acl = store_.AclFor({"nope"});
  ASSERT_TRUE(acl.has_value());
  EXPECT_FALSE((*acl)->Check("secret/x", Operation::kRead, {}).allowed);
}

TEST(PolicyStoreCacheTest, BoundedCache) {
  storage::InmemBackend storage;
  PolicyStore store(storage, 2);
  ASSERT_TRUE(store.Load().ok());
  ASSERT_TRUE(store.Set("a", kDev).ok());
  auto first = *store.AclFor({"a"});
  (void)*store.AclFor({"default"});
  (void)*store.AclFor({"a", "default"});  // evicts one entry
  auto again = *store.AclFor({"a"});
  auto once_more = *store.AclFor({"a"});
  EXPECT_EQ(again.get(), once_more.get());
  EXPECT_TRUE(again->Check("secret/x", Operation::kRead, {}).allowed);
  (void)first;
}

TEST(PolicyStoreCacheTest, PerCallerAclsAreBoundedInAll) {
  storage::InmemBackend storage;
  PolicyStore store(storage, 2);
  ASSERT_TRUE(store.Load().ok());
  ASSERT_TRUE(
      store.Set("own", R"(path "k/{{identity.entity.name}}" { capabilities = ["read"] })").ok());
  int resolved = 0;
  auto ask = [&](const std::string& name) {
    AclIdentity who;
    who.entity_id = name;
    who.generation = 1;
    who.resolve = [&]() -> std::optional<TemplateIdentity> {
      ++resolved;
      TemplateIdentity t;
      t.entity_id = name;
      t.entity_name = name;
      return t;
    };
    auto acl = store.AclFor({"own"}, &who);
    EXPECT_TRUE(acl.has_value());
    EXPECT_TRUE((*acl)->Check("k/" + name, Operation::kRead, {}).allowed) << name;
    return acl->get();
  };
  const Acl* a = ask("a");
  EXPECT_EQ(ask("a"), a);  // cached
  ask("b");
  EXPECT_EQ(resolved, 2);
  ask("c");  // a third caller: one of the first two is dropped
  EXPECT_EQ(resolved, 3);
  ask("a");
  ask("b");
  EXPECT_GE(resolved, 4);
  // Each caller still gets its own, correct ACL (checked inside ask).
}

TEST_F(PolicyStoreTest, ConcurrentReadersAndWriter) {
  ASSERT_TRUE(store_.Set("dev", kDev).ok());
  std::atomic<bool> stop{false};
  std::atomic<int> failures{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 3; ++t) {
    readers.emplace_back([&] {
      while (!stop.load()) {
        auto acl = store_.AclFor({"dev", "default"});
        if (!acl.has_value() || !*acl) failures.fetch_add(1);
      }
    });
  }
  for (int i = 0; i < 50; ++i) {
    ASSERT_TRUE(store_.Set("dev", i % 2 ? kDev : R"(path "x" { capabilities = ["read"] })").ok());
  }
  ASSERT_TRUE(store_.Set("dev", kDev).ok());
  stop = true;
  for (auto& t : readers) t.join();
  EXPECT_EQ(failures.load(), 0);
  // After the last write, the cached ACL reflects it.
  EXPECT_TRUE(
      (*store_.AclFor({"dev", "default"}))->Check("secret/x", Operation::kRead, {}).allowed);
}

// ---- Lifecycle: versions, check-and-set, expiration (OpenBao's) ----

class PolicyLifecycleTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(store_.Load().ok()); }

  Status Write(std::string_view name, PolicyStore::WriteOptions options = {}) {
    return store_.Set(name, kDev, options);
  }
  std::int64_t VersionOf(std::string_view name) {
    auto p = store_.Get(name);
    EXPECT_TRUE(p.has_value() && *p != nullptr) << name;
    return p.has_value() && *p ? (*p)->version : -100;
  }
  static PolicyStore::WriteOptions Cas(std::int64_t v, bool required = false) {
    PolicyStore::WriteOptions o;
    o.cas = v;
    o.cas_required = required;
    return o;
  }

  FakeClock clock_;
  storage::InmemBackend storage_;
  PolicyStore store_{storage_, 1024, clock_};
};

TEST_F(PolicyLifecycleTest, EachWriteBumpsTheVersionAndModified) {
  EXPECT_EQ(VersionOf("default"), 1);  // written by Load
  ASSERT_TRUE(Write("dev").ok());
  auto p1 = *store_.Get("dev");
  EXPECT_EQ(p1->version, 1);
  ASSERT_TRUE(p1->modified.has_value());
  EXPECT_EQ(*p1->modified, clock_.Wall());
  EXPECT_FALSE(p1->expiration.has_value());
  clock_.Advance(std::chrono::seconds(5));
  ASSERT_TRUE(Write("dev").ok());
  auto p2 = *store_.Get("dev");
  EXPECT_EQ(p2->version, 2);
  EXPECT_EQ(*p2->modified, clock_.Wall());
  // Deleting and writing again starts over.
  ASSERT_TRUE(store_.Delete("dev").ok());
  ASSERT_TRUE(Write("dev").ok());
  EXPECT_EQ(VersionOf("dev"), 1);
}

TEST_F(PolicyLifecycleTest, CheckAndSet) {
  // -1: only if absent; 0 also matches an absent policy.
  ASSERT_TRUE(Write("a", Cas(-1)).ok());
  ASSERT_TRUE(Write("b", Cas(0)).ok());
  Status again = Write("a", Cas(-1));
  EXPECT_EQ(again.code(), Code::kInvalidArgument);
  EXPECT_EQ(again.message(), "check-and-set parameter set to -1 on existing entry");
  Status stale = Write("a", Cas(0));
  EXPECT_EQ(stale.message(), "check-and-set parameter did not match the current version");
  EXPECT_EQ(VersionOf("a"), 1);  // neither failed write changed anything
  ASSERT_TRUE(Write("a", Cas(1)).ok());
  EXPECT_EQ(VersionOf("a"), 2);

  // cas_required on the write itself needs a cas, and stays for the next.
  Status missing = store_.Set("a", kDev, PolicyStore::WriteOptions{std::nullopt, true});
  EXPECT_EQ(missing.message(), "check-and-set parameter required for this call");
  ASSERT_TRUE(Write("a", Cas(2, /*required=*/true)).ok());
  EXPECT_TRUE((*store_.Get("a"))->cas_required);
  EXPECT_EQ(Write("a").message(), "check-and-set parameter required for this call");
  // A write without cas_required (with its cas) turns it off again.
  ASSERT_TRUE(Write("a", Cas(3)).ok());
  EXPECT_FALSE((*store_.Get("a"))->cas_required);
  ASSERT_TRUE(Write("a").ok());
  EXPECT_EQ(VersionOf("a"), 5);
}

TEST_F(PolicyLifecycleTest, BareTextOfAnOlderStoreReadsAsVersionZero) {
  ASSERT_TRUE(storage_.Put("old", kDev).ok());
  ASSERT_TRUE(
      storage_.Put("oldjson", R"({"path": {"secret/*": {"capabilities": ["read"]}}})").ok());
  auto old = *store_.Get("old");
  ASSERT_NE(old, nullptr);
  EXPECT_EQ(old->version, 0);
  EXPECT_EQ(old->raw, kDev);
  EXPECT_FALSE(old->modified.has_value());
  auto json = *store_.Get("oldjson");
  ASSERT_NE(json, nullptr);
  EXPECT_EQ(json->version, 0);
  EXPECT_TRUE((*store_.AclFor({"oldjson"}))->Check("secret/x", Operation::kRead, {}).allowed);
  EXPECT_EQ(Write("old", Cas(1)).message(),
            "check-and-set parameter did not match the current version");
  ASSERT_TRUE(Write("old", Cas(0)).ok());
  EXPECT_EQ(VersionOf("old"), 1);
}

TEST_F(PolicyLifecycleTest, AnExpiredPolicyIsGoneEverywhere) {
  PolicyStore::WriteOptions o;
  o.expiration = clock_.Wall() + std::chrono::seconds(10);
  ASSERT_TRUE(Write("temp", o).ok());
  ASSERT_TRUE(Write("dev").ok());
  EXPECT_EQ(*(*store_.Get("temp"))->expiration, *o.expiration);
  EXPECT_THAT(*store_.List(), ElementsAre("default", "dev", "root", "temp"));
  auto before = *store_.AclFor({"temp"});
  EXPECT_TRUE(before->Check("secret/x", Operation::kRead, {}).allowed);
  EXPECT_EQ(store_.AclFor({"temp"})->get(), before.get());  // cached until then

  clock_.Advance(std::chrono::seconds(10));
  EXPECT_EQ(*store_.Get("temp"), nullptr);
  EXPECT_THAT(*store_.List(), ElementsAre("default", "dev", "root"));
  // The ACL compiled with it is compiled again, without it.
  EXPECT_FALSE((*store_.AclFor({"temp"}))->Check("secret/x", Operation::kRead, {}).allowed);
  // A write finds no policy there: -1 holds, and the version starts over.
  ASSERT_TRUE(storage_.Get("temp")->has_value());
  ASSERT_TRUE(Write("temp", Cas(-1)).ok());
  EXPECT_EQ(VersionOf("temp"), 1);

  // Load (at unseal) deletes expired records from storage.
  o.expiration = clock_.Wall() + std::chrono::seconds(1);
  ASSERT_TRUE(Write("temp", o).ok());
  clock_.Advance(std::chrono::seconds(2));
  ASSERT_TRUE(store_.Load().ok());
  EXPECT_FALSE(storage_.Get("temp")->has_value());
  EXPECT_TRUE(storage_.Get("dev")->has_value());
}

TEST_F(PolicyLifecycleTest, AnExpiringPathMakesTheCachedAclStale) {
  const std::string at = FormatRfc3339(clock_.Wall() + std::chrono::seconds(30));
  ASSERT_TRUE(store_
                  .Set("glass", R"(path "secret/data/glass" {
  capabilities = ["read"]
  expiration = ")" + at + R"("
}
path "secret/data/always" { capabilities = ["read"] })")
                  .ok());
  auto before = *store_.AclFor({"glass"});
  EXPECT_TRUE(before->Check("secret/data/glass", Operation::kRead, {}).allowed);
  clock_.Advance(std::chrono::seconds(29));
  EXPECT_EQ(store_.AclFor({"glass"})->get(), before.get());
  clock_.Advance(std::chrono::seconds(1));
  auto after = *store_.AclFor({"glass"});
  EXPECT_NE(after.get(), before.get());
  EXPECT_FALSE(after->Check("secret/data/glass", Operation::kRead, {}).allowed);
  EXPECT_TRUE(after->Check("secret/data/always", Operation::kRead, {}).allowed);
  // Nothing left to expire: cached from now on.
  clock_.Advance(std::chrono::hours(1));
  EXPECT_EQ(store_.AclFor({"glass"})->get(), after.get());
}

TEST_F(PolicyLifecycleTest, ExpirationMustBeInTheFutureAndNotOnDefault) {
  PolicyStore::WriteOptions o;
  o.expiration = clock_.Wall();
  Status past = Write("temp", o);
  EXPECT_EQ(past.code(), Code::kInvalidArgument);
  EXPECT_EQ(past.message(), "refusing to update policy as expiration time has already elapsed");
  EXPECT_FALSE(storage_.Get("temp")->has_value());
  o.expiration = clock_.Wall() + std::chrono::hours(1);
  Status on_default = Write("default", o);
  EXPECT_EQ(on_default.message(), "cannot set an expiration on default policy");
  EXPECT_EQ(VersionOf("default"), 1);
}

TEST_F(PolicyLifecycleTest, TemplateValueFlagsWidenOnlyWhenAsked) {
  const char* text = R"(path "secret/data/{{identity.entity.metadata.team}}/*" {
  capabilities = ["read"]
})";
  AclIdentity who;
  who.entity_id = "e-1";
  who.generation = 1;
  std::string team = "a/b";
  who.resolve = [&] {
    TemplateIdentity t;
    t.entity_id = "e-1";
    t.entity_metadata["team"] = team;
    return std::optional<TemplateIdentity>(t);
  };
  ASSERT_TRUE(store_.Set("team", text).ok());
  EXPECT_FALSE(
      (*store_.AclFor({"team"}, &who))->Check("secret/data/a/b/x", Operation::kRead, {}).allowed);
  PolicyStore::WriteOptions slashes;
  slashes.template_values.slashes = true;
  ASSERT_TRUE(store_.Set("team", text, slashes).ok());
  EXPECT_TRUE((*store_.Get("team"))->template_values.slashes);
  EXPECT_TRUE(
      (*store_.AclFor({"team"}, &who))->Check("secret/data/a/b/x", Operation::kRead, {}).allowed);
  // Nor does a value with slashes bring a '+' segment: "a/+" would reach
  // every team under a/.
  team = "a/+";
  who.generation = 2;
  EXPECT_FALSE(
      (*store_.AclFor({"team"}, &who))->Check("secret/data/a/c/x", Operation::kRead, {}).allowed);
  EXPECT_FALSE(
      (*store_.AclFor({"team"}, &who))->Check("secret/data/a/+/x", Operation::kRead, {}).allowed);
  // A '*' still needs the wildcard flag.
  team = "*";
  who.generation = 3;
  EXPECT_FALSE(
      (*store_.AclFor({"team"}, &who))->Check("secret/data/z/x", Operation::kRead, {}).allowed);
  PolicyStore::WriteOptions wildcards;
  wildcards.template_values.wildcards = true;
  ASSERT_TRUE(store_
                  .Set("team", R"(path "secret/data/{{identity.entity.metadata.team}}" {
  capabilities = ["read"]
})",
                       wildcards)
                  .ok());
  EXPECT_TRUE(
      (*store_.AclFor({"team"}, &who))->Check("secret/data/z/x", Operation::kRead, {}).allowed);
}

// ---- PolicyBackend ----

class PolicyBackendTest : public PolicyStoreTest {
 protected:
  Result<logical::Response> Do(Operation op, std::string relative, Json body = Json::object()) {
    logical::Request req;
    req.operation = op;
    req.path = "sys/" + relative;
    req.mount_point = "sys/";
    req.relative_path = std::move(relative);
    req.data = std::move(body);
    return backend_.HandleRequest(req);
  }

  PolicyBackend backend_{store_};
};

TEST_F(PolicyBackendTest, LegacyEndpoints) {
  auto w = Do(Operation::kUpdate, "policy/Dev", {{"policy", kDev}});
  ASSERT_TRUE(w.has_value()) << w.error().ToString();
  EXPECT_EQ(w->http_status, 204);

  auto r = Do(Operation::kRead, "policy/dev");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->http_status, 200);
  EXPECT_EQ(r->data["name"], "dev");
  EXPECT_EQ(r->data["rules"], kDev);
  EXPECT_EQ(r->data["version"], 1);
  EXPECT_FALSE(r->data.contains("policy"));

  auto l = Do(Operation::kRead, "policy");
  ASSERT_TRUE(l.has_value());
  Json names = Json::array({"default", "dev", "root"});
  EXPECT_EQ(l->data, (Json{{"keys", names}, {"policies", names}}));

  // "rules" is accepted on the legacy endpoint.
  auto w2 = Do(Operation::kCreate, "policy/other", {{"rules", kDev}});
  ASSERT_TRUE(w2.has_value()) << w2.error().ToString();
  // Also beside an empty "policy" (what a client that fills both sends).
  auto w3 = Do(Operation::kCreate, "policy/third", {{"policy", ""}, {"rules", kDev}});
  ASSERT_TRUE(w3.has_value()) << w3.error().ToString();
  EXPECT_EQ(Do(Operation::kRead, "policy/third")->data["rules"], kDev);

  auto d = Do(Operation::kDelete, "policy/dev");
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->http_status, 204);
  auto missing = Do(Operation::kRead, "policy/dev");
  ASSERT_TRUE(missing.has_value());
  EXPECT_EQ(missing->http_status, 404);
}

TEST_F(PolicyBackendTest, AclEndpoints) {
  std::string b64 = "cGF0aCAic2VjcmV0LyoiIHsgY2FwYWJpbGl0aWVzID0gWyJyZWFkIl0gfQ==";
  // base64 of: path "secret/*" { capabilities = ["read"] }
  auto w = Do(Operation::kUpdate, "policies/acl/enc", {{"policy", b64}});
  ASSERT_TRUE(w.has_value()) << w.error().ToString();
  EXPECT_EQ(w->http_status, 204);
  auto r = Do(Operation::kRead, "policies/acl/enc");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->data["name"], "enc");
  EXPECT_EQ(r->data["policy"], R"(path "secret/*" { capabilities = ["read"] })");

  auto l = Do(Operation::kList, "policies/acl/");
  ASSERT_TRUE(l.has_value());
  EXPECT_EQ(l->data, (Json{{"keys", {"default", "enc", "root"}}}));

  auto root = Do(Operation::kRead, "policies/acl/root");
  ASSERT_TRUE(root.has_value());
  EXPECT_EQ(root->data, (Json{{"name", "root"},
                              {"policy", ""},
                              {"version", 0},
                              {"cas_required", false},
                              {"allow_wildcards_in_identity_templates", false},
                              {"allow_slashes_in_identity_templates", false}}));

  EXPECT_TRUE(Do(Operation::kDelete, "policies/acl/enc").has_value());
  EXPECT_EQ(Do(Operation::kRead, "policies/acl/enc")->http_status, 404);
}

// base64(1) wraps its output at 76 columns; like Go's decoder, the line
// breaks are ignored.
TEST_F(PolicyBackendTest, WrappedBase64PolicyText) {
  const std::string text =
      R"(path "secret/data/team/*" { capabilities = ["create", "read", "update", "list"] })";
  const std::string b64 = Base64Encode(text);
  ASSERT_GT(b64.size(), 76u);
  for (const std::string eol : {"\n", "\r\n"}) {
    std::string wrapped;
    for (std::size_t i = 0; i < b64.size(); i += 76) wrapped += b64.substr(i, 76) + eol;
    auto w = Do(Operation::kUpdate, "policies/acl/wrapped", {{"policy", wrapped}});
    ASSERT_TRUE(w.has_value()) << w.error().ToString();
    EXPECT_EQ(Do(Operation::kRead, "policies/acl/wrapped")->data["policy"], text);
  }
}

TEST_F(PolicyBackendTest, Errors) {
  auto bad = Do(Operation::kUpdate, "policies/acl/bad",
                {{"policy", "path \"a\" {\n  capabilities = [\"read\"]\n  nope = 1\n}"}});
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code(), Code::kInvalidArgument);
  EXPECT_THAT(bad.error().message(), HasSubstr("line 3"));
  EXPECT_THAT(bad.error().message(), HasSubstr("unknown key \"nope\""));
  EXPECT_EQ(Do(Operation::kRead, "policies/acl/bad")->http_status, 404);

  auto empty = Do(Operation::kUpdate, "policies/acl/x", Json::object());
  ASSERT_FALSE(empty.has_value());
  EXPECT_THAT(empty.error().message(), HasSubstr("'policy' parameter not supplied or empty"));

  auto root = Do(Operation::kUpdate, "policy/root", {{"policy", kDev}});
  ASSERT_FALSE(root.has_value());
  EXPECT_EQ(root.error().code(), Code::kInvalidArgument);

  auto del_default = Do(Operation::kDelete, "policies/acl/default");
  ASSERT_FALSE(del_default.has_value());
  EXPECT_EQ(del_default.error().message(), "cannot delete default policy");

  auto wrong_op = Do(Operation::kScan, "policies/acl/x");
  ASSERT_FALSE(wrong_op.has_value());
  EXPECT_EQ(wrong_op.error().code(), Code::kMethodNotAllowed);

  auto unknown = Do(Operation::kRead, "policies/rgp/x");
  ASSERT_FALSE(unknown.has_value());
  EXPECT_EQ(unknown.error().code(), Code::kNotFound);
}

TEST_F(PolicyBackendTest, LifecycleFields) {
  ASSERT_TRUE(Do(Operation::kUpdate, "policies/acl/dev",
                 {{"policy", kDev}, {"cas", "-1"}, {"cas_required", "true"}, {"ttl", "1h"}})
                  .has_value());
  auto r = Do(Operation::kRead, "policies/acl/dev");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->data["version"], 1);
  EXPECT_EQ(r->data["cas_required"], true);
  ASSERT_TRUE(r->data["expiration"].is_string());
  ASSERT_TRUE(r->data["modified"].is_string());
  auto expiration = ParseRfc3339(r->data["expiration"].get<std::string>());
  auto modified = ParseRfc3339(r->data["modified"].get<std::string>());
  ASSERT_TRUE(expiration && modified);
  // The TTL counts from the request (a moment before the write's `modified`).
  EXPECT_GT(*expiration - *modified, std::chrono::minutes(59));
  EXPECT_LE(*expiration - *modified, std::chrono::hours(1));

  auto no_cas = Do(Operation::kUpdate, "policies/acl/dev", {{"policy", kDev}});
  ASSERT_FALSE(no_cas.has_value());
  EXPECT_EQ(no_cas.error().message(), "check-and-set parameter required for this call");
  auto both =
      Do(Operation::kUpdate, "policies/acl/dev",
         {{"policy", kDev}, {"cas", 1}, {"ttl", "1h"}, {"expiration", "2100-01-01T00:00:00Z"}});
  ASSERT_FALSE(both.has_value());
  EXPECT_EQ(both.error().message(), "cannot supply both 'expiration' and 'ttl' for policies");
  // Times past what the clock holds are refused, not wrapped around.
  for (Json bad : {Json{{"cas", "one"}}, Json{{"cas", 1.5}}, Json{{"expiration", "tomorrow"}},
                   Json{{"ttl", "soon"}}, Json{{"cas_required", "maybe"}},
                   Json{{"expiration", 9999999999}}, Json{{"expiration", "-9999999999"}},
                   Json{{"ttl", "5124096h"}}, Json{{"ttl", "2562047h"}}}) {
    bad["policy"] = kDev;
    if (!bad.contains("cas")) bad["cas"] = 1;
    auto w = Do(Operation::kUpdate, "policies/acl/dev", bad);
    ASSERT_FALSE(w.has_value()) << bad.dump();
    EXPECT_EQ(w.error().code(), Code::kInvalidArgument) << bad.dump();
  }
  EXPECT_EQ(Do(Operation::kRead, "policies/acl/dev")->data["version"], 1);  // unchanged

  // An absolute expiration, as RFC 3339 or seconds since the epoch.
  ASSERT_TRUE(Do(Operation::kUpdate, "policies/acl/dev",
                 {{"policy", kDev}, {"cas", 1}, {"expiration", "2100-01-01T00:00:00Z"}})
                  .has_value());
  EXPECT_EQ(Do(Operation::kRead, "policies/acl/dev")->data["expiration"],
            "2100-01-01T00:00:00.000000000Z");
  ASSERT_TRUE(Do(Operation::kUpdate, "policies/acl/dev",
                 {{"policy", kDev}, {"cas", 2}, {"expiration", 4102444800}})
                  .has_value());
  EXPECT_EQ(Do(Operation::kRead, "policies/acl/dev")->data["expiration"],
            "2100-01-01T00:00:00.000000000Z");
  auto past = Do(Operation::kUpdate, "policies/acl/dev",
                 {{"policy", kDev}, {"cas", 3}, {"expiration", "2001-01-01T00:00:00Z"}});
  ASSERT_FALSE(past.has_value());
  EXPECT_EQ(past.error().message(),
            "refusing to update policy as expiration time has already elapsed");
}

TEST_F(PolicyBackendTest, PatchKeepsWhatItIsNotGiven) {
  auto missing = Do(Operation::kPatch, "policies/acl/dev", {{"cas_required", true}});
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code(), Code::kNotFound);
  EXPECT_EQ(missing.error().message(), "policy not found");
  EXPECT_EQ(Do(Operation::kRead, "policies/acl/dev")->http_status, 404);

  ASSERT_TRUE(Do(Operation::kUpdate, "policies/acl/dev",
                 {{"policy", kDev}, {"allow_slashes_in_identity_templates", true}})
                  .has_value());
  // Only cas_required changes; the text and the flag stay.
  ASSERT_TRUE(Do(Operation::kPatch, "policies/acl/dev", {{"cas_required", true}}).has_value());
  auto r = Do(Operation::kRead, "policies/acl/dev")->data;
  EXPECT_EQ(r["policy"], kDev);
  EXPECT_EQ(r["version"], 2);
  EXPECT_EQ(r["cas_required"], true);
  EXPECT_EQ(r["allow_slashes_in_identity_templates"], true);
  // A PATCH checks against the version it read, or the cas it is given.
  auto stale = Do(Operation::kPatch, "policies/acl/dev", {{"cas", 1}, {"policy", kDev}});
  ASSERT_FALSE(stale.has_value());
  EXPECT_EQ(stale.error().message(), "check-and-set parameter did not match the current version");
  const std::string other = R"(path "other/*" { capabilities = ["read"] })";
  ASSERT_TRUE(Do(Operation::kPatch, "policies/acl/dev", {{"policy", other}}).has_value());
  r = Do(Operation::kRead, "policies/acl/dev")->data;
  EXPECT_EQ(r["policy"], other);
  EXPECT_EQ(r["version"], 3);
  EXPECT_EQ(r["cas_required"], true);
  // Bad text in a PATCH changes nothing.
  auto bad = Do(Operation::kPatch, "policies/acl/dev", {{"policy", "path {"}});
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code(), Code::kInvalidArgument);
  EXPECT_EQ(Do(Operation::kRead, "policies/acl/dev")->data["version"], 3);
}

TEST_F(PolicyBackendTest, PatchWithACasOfAnotherVersionKeepsTheNewerText) {
  ASSERT_TRUE(Do(Operation::kUpdate, "policies/acl/dev", {{"policy", kDev}}).has_value());
  ASSERT_EQ(Do(Operation::kRead, "policies/acl/dev")->data["version"], 1);  // cached here
  // Another server on the same storage writes version 2.
  PolicyStore other{storage_};
  ASSERT_TRUE(other.Load().ok());
  const std::string newer = R"(path "newer/*" { capabilities = ["read"] })";
  PolicyStore::WriteOptions cas1;
  cas1.cas = 1;
  ASSERT_TRUE(other.Set("dev", newer, cas1).ok());
  // A PATCH naming version 2 while this server still holds version 1 must not
  // write version 1's text over version 2's.
  auto patch = Do(Operation::kPatch, "policies/acl/dev", {{"cas", 2}, {"ttl", "1h"}});
  ASSERT_FALSE(patch.has_value());
  EXPECT_EQ(patch.error().message(), "check-and-set parameter did not match the current version");
  auto stored = other.Get("dev");
  ASSERT_TRUE(stored.has_value() && *stored != nullptr);
  EXPECT_EQ((*stored)->raw, newer);
  EXPECT_EQ((*stored)->version, 2);
  EXPECT_FALSE((*stored)->expiration.has_value());
}

TEST_F(PolicyBackendTest, NamesWithSlashesAreStoredListedAndEnforced) {
  // Salt's default policy names.
  ASSERT_TRUE(Do(Operation::kUpdate, "policy/saltstack/minions", {{"policy", kDev}}).has_value());
  ASSERT_TRUE(
      Do(Operation::kUpdate, "policies/acl/saltstack/minion-1", {{"policy", kDev}}).has_value());
  auto read = Do(Operation::kRead, "policies/acl/saltstack/minions");
  ASSERT_TRUE(read.has_value());
  EXPECT_EQ(read->data["name"], "saltstack/minions");
  EXPECT_EQ(read->data["policy"], kDev);
  EXPECT_EQ(Do(Operation::kList, "policies/acl")->data["keys"],
            (Json{"default", "root", "saltstack/minion-1", "saltstack/minions"}));
  EXPECT_EQ(Do(Operation::kList, "policies/acl/saltstack/")->data["keys"],
            (Json{"saltstack/minion-1", "saltstack/minions"}));
  ASSERT_TRUE(store_.AclFor({"saltstack/minions"}, nullptr).has_value());
  EXPECT_TRUE((*store_.AclFor({"saltstack/minions"}, nullptr))
                  ->Check("secret/data/dev/x", Operation::kRead, {})
                  .allowed);
  // "saltstack/minions/" is not "saltstack/minions"; empty and dot segments
  // are refused.
  EXPECT_EQ(
      Do(Operation::kUpdate, "policies/acl/saltstack/minions/", {{"policy", kDev}}).error().code(),
      Code::kInvalidArgument);
  EXPECT_EQ(Do(Operation::kDelete, "policies/acl/saltstack/minions/").error().code(),
            Code::kInvalidArgument);
  EXPECT_FALSE(Do(Operation::kUpdate, "policies/acl/a//b", {{"policy", kDev}}).has_value());
  ASSERT_TRUE(Do(Operation::kDelete, "policy/saltstack/minions").has_value());
  EXPECT_EQ(Do(Operation::kRead, "policies/acl/saltstack/minions")->http_status, 404);
  // A store loaded again finds the nested names.
  ASSERT_TRUE(store_.Load().ok());
  EXPECT_EQ(*store_.List("saltstack/"), (std::vector<std::string>{"saltstack/minion-1"}));
}

TEST_F(PolicyBackendTest, PrefixAndDetailedLists) {
  for (const char* n : {"dev-a", "dev-b", "ops"}) {
    ASSERT_TRUE(
        Do(Operation::kUpdate, std::string("policies/acl/") + n, {{"policy", kDev}}).has_value());
  }
  EXPECT_EQ(Do(Operation::kList, "policies/acl/dev")->data, (Json{{"keys", {"dev-a", "dev-b"}}}));
  // The CLI's trailing '/' (names have none) and case do not matter.
  EXPECT_EQ(Do(Operation::kList, "policies/acl/DEV/")->data, (Json{{"keys", {"dev-a", "dev-b"}}}));
  EXPECT_EQ(Do(Operation::kList, "policy/ro")->data,
            (Json{{"keys", {"root"}}, {"policies", {"root"}}}));
  EXPECT_EQ(Do(Operation::kList, "policies/acl/zzz")->data, (Json{{"keys", Json::array()}}));

  auto detailed = Do(Operation::kList, "policies/detailed/acl");
  ASSERT_TRUE(detailed.has_value());
  EXPECT_EQ(detailed->data["keys"], (Json{"default", "dev-a", "dev-b", "ops", "root"}));
  EXPECT_EQ(detailed->data["key_info"]["ops"]["policy"], kDev);
  EXPECT_EQ(detailed->data["key_info"]["ops"]["version"], 1);
  EXPECT_EQ(detailed->data["key_info"]["root"]["policy"], "");
  auto some = Do(Operation::kList, "policies/detailed/acl/dev-");
  ASSERT_TRUE(some.has_value());
  EXPECT_EQ(some->data["keys"], (Json{"dev-a", "dev-b"}));
  EXPECT_EQ(some->data["key_info"].size(), 2u);
  EXPECT_EQ(Do(Operation::kRead, "policies/detailed/acl/dev-a").error().code(),
            Code::kMethodNotAllowed);
}

}  // namespace
}  // namespace coffer::policy
