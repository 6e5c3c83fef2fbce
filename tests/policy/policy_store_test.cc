#include "policy/policy_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <thread>

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
  // Stored raw, under the canonical name.
  auto raw = storage_.Get("dev");
  ASSERT_TRUE(raw.has_value() && raw->has_value());
  EXPECT_EQ((*raw)->value, kDev);

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
  EXPECT_EQ(r->data, (Json{{"name", "dev"}, {"rules", kDev}}));

  auto l = Do(Operation::kRead, "policy");
  ASSERT_TRUE(l.has_value());
  Json names = Json::array({"default", "dev", "root"});
  EXPECT_EQ(l->data, (Json{{"keys", names}, {"policies", names}}));

  // "rules" is accepted on the legacy endpoint.
  auto w2 = Do(Operation::kCreate, "policy/other", {{"rules", kDev}});
  ASSERT_TRUE(w2.has_value()) << w2.error().ToString();

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
  EXPECT_EQ(r->data,
            (Json{{"name", "enc"}, {"policy", R"(path "secret/*" { capabilities = ["read"] })"}}));

  auto l = Do(Operation::kList, "policies/acl/");
  ASSERT_TRUE(l.has_value());
  EXPECT_EQ(l->data, (Json{{"keys", {"default", "enc", "root"}}}));

  auto root = Do(Operation::kRead, "policies/acl/root");
  ASSERT_TRUE(root.has_value());
  EXPECT_EQ(root->data, (Json{{"name", "root"}, {"policy", ""}}));

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

  auto wrong_op = Do(Operation::kPatch, "policies/acl/x", {{"policy", kDev}});
  ASSERT_FALSE(wrong_op.has_value());
  EXPECT_EQ(wrong_op.error().code(), Code::kMethodNotAllowed);

  auto unknown = Do(Operation::kRead, "policies/rgp/x");
  ASSERT_FALSE(unknown.has_value());
  EXPECT_EQ(unknown.error().code(), Code::kNotFound);
}

}  // namespace
}  // namespace coffer::policy
