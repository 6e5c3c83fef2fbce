#include "token/batch_token.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>

#include "expiration/expiration_manager.h"
#include "storage/forwarding_backend.h"
#include "storage/inmem/inmem_backend.h"
#include "token/token_backend.h"
#include "token/token_store.h"
#include "token/token_type.h"

namespace coffer::token {
namespace {

using logical::Json;
using logical::Operation;
using logical::Request;
using namespace std::chrono_literals;

// An in-memory backend that counts every call, to prove batch tokens touch
// no storage.
class CountingBackend final : public storage::test_util::ForwardingBackend {
 public:
  Result<std::optional<storage::Entry>> Get(std::string_view key) override {
    ++reads;
    return ForwardingBackend::Get(key);
  }
  Status Put(std::string_view key, std::string_view value) override {
    ++writes;
    return ForwardingBackend::Put(key, value);
  }
  Status Delete(std::string_view key) override {
    ++writes;
    return ForwardingBackend::Delete(key);
  }
  Result<std::vector<std::string>> List(std::string_view prefix) override {
    ++reads;
    return ForwardingBackend::List(prefix);
  }
  Status Transact(std::span<const storage::Compare> compares,
                  std::span<const storage::Op> ops) override {
    ++writes;
    return ForwardingBackend::Transact(compares, ops);
  }
  std::string_view Type() const override { return "counting"; }

  std::size_t Calls() const { return reads + writes; }

  std::atomic<std::size_t> reads{0}, writes{0};
};

class NullRevoker : public expiration::Revoker {
 public:
  Status Revoke(const expiration::Lease& lease) override {
    if (lease.kind == expiration::Lease::Kind::kToken) return store->RevokeTree(lease.token_hmac);
    return Status::Ok();
  }
  TokenStore* store = nullptr;
};

class BatchTokenTest : public ::testing::Test {
 protected:
  void SetUp() override { Open(); }
  void Open() {
    expiration::Options eo;
    eo.start_expiry_thread = false;
    store_ = std::make_unique<TokenStore>(view_, clock_);
    revoker_.store = store_.get();
    exp_ = std::make_unique<expiration::ExpirationManager>(exp_view_, clock_, revoker_, eo);
    store_->AttachExpiration(exp_.get());
    ASSERT_TRUE(store_->Load().ok());
    ASSERT_TRUE(exp_->Load().ok());
    ASSERT_TRUE(exp_->WaitForLoad().ok());
    auto root = store_->CreateRoot();
    ASSERT_TRUE(root.has_value());
    root_id_ = std::string(root->view());
  }
  CreatedToken Service(std::string parent = "", std::chrono::seconds ttl = 1h) {
    TokenRequest r;
    r.policies = {"dev"};
    r.parent_hmac = std::move(parent);
    r.ttl = ttl;
    auto c = store_->CreateToken(r);
    EXPECT_TRUE(c.has_value()) << c.error().ToString();
    return std::move(*c);
  }
  Result<CreatedToken> Batch(std::string parent, std::chrono::seconds ttl = 1h) {
    TokenRequest r;
    r.batch = true;
    r.policies = {"dev", "ops"};
    r.parent_hmac = std::move(parent);
    r.ttl = ttl;
    r.meta = {{"team", "a"}};
    r.display_name = "token-ci";
    r.role = "ci";
    r.entity_id = "ent-1";
    r.path = "auth/token/create/ci";
    return store_->CreateToken(r);
  }
  std::shared_ptr<const TokenEntry> Find(std::string_view id) {
    auto e = store_->Lookup(id);
    EXPECT_TRUE(e.has_value()) << e.error().ToString();
    return e ? *e : nullptr;
  }
  Request Req(Operation op, std::string path, Json data, const std::string& token_id,
              bool sudo = false) {
    Request r;
    r.operation = op;
    r.relative_path = std::move(path);
    r.path = "auth/token/" + r.relative_path;
    r.data = std::move(data);
    r.client_token = token_id;
    auto entry = store_->Lookup(token_id).value();
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

  CountingBackend view_, exp_view_;
  FakeClock clock_;
  NullRevoker revoker_;
  std::unique_ptr<TokenStore> store_;
  std::unique_ptr<expiration::ExpirationManager> exp_;
  std::string root_id_;
};

TEST_F(BatchTokenTest, CreateAndLookupRoundTripWithoutTouchingStorage) {
  auto parent = Service();
  const std::size_t before = view_.Calls() + exp_view_.Calls();
  auto batch = Batch(parent.entry->id_hmac);
  ASSERT_TRUE(batch.has_value()) << batch.error().ToString();
  EXPECT_TRUE(batch->id.view().starts_with("hvb."));
  EXPECT_EQ(batch->id.view().find_first_not_of(
                "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", 4),
            std::string::npos);
  // Creating wrote and read nothing: no entry, no accessor, no child index,
  // no lease.
  EXPECT_EQ(view_.Calls() + exp_view_.Calls(), before);

  auto e = Find(batch->id.view());
  ASSERT_NE(e, nullptr);
  EXPECT_TRUE(e->batch);
  EXPECT_EQ(e->policies, (std::vector<std::string>{"default", "dev", "ops"}));
  EXPECT_EQ(e->parent_hmac, parent.entry->id_hmac);
  EXPECT_EQ(e->accessor, "");
  EXPECT_FALSE(e->renewable);
  EXPECT_EQ(e->num_uses, 0);
  EXPECT_EQ(e->ttl, 3600);
  EXPECT_EQ(e->expire_time, e->creation_time + 3600);
  EXPECT_EQ(e->meta, (std::map<std::string, std::string>{{"team", "a"}}));
  EXPECT_EQ(e->display_name, "token-ci");
  EXPECT_EQ(e->role, "ci");
  EXPECT_EQ(e->entity_id, "ent-1");
  EXPECT_EQ(e->path, "auth/token/create/ci");
  EXPECT_EQ(e->id_hmac, *store_->HmacOf(batch->id.view()));
  // The parent check is served from the cache: still no storage call.
  EXPECT_EQ(view_.Calls() + exp_view_.Calls(), before);
  // And the pipeline's HMAC-only lookup finds it too.
  auto by_hmac = store_->LookupByHmac(e->id_hmac);
  ASSERT_TRUE(by_hmac.has_value());
  ASSERT_NE(*by_hmac, nullptr);
  EXPECT_TRUE((*by_hmac)->batch);
}

TEST_F(BatchTokenTest, AnyTamperingMakesItUnknown) {
  auto batch = Batch("");
  ASSERT_TRUE(batch.has_value());
  const std::string id(batch->id.view());
  // Every character of the body, changed to another valid base64url one.
  for (std::size_t i = 4; i < id.size(); ++i) {
    std::string t = id;
    t[i] = t[i] == 'A' ? 'B' : 'A';
    auto e = store_->Lookup(t);
    ASSERT_TRUE(e.has_value()) << i << ": " << e.error().ToString();
    EXPECT_EQ(*e, nullptr) << i;
  }
  for (std::string bad : {id.substr(0, id.size() - 1), id.substr(0, 20), std::string("hvb."),
                          std::string("hvb.!!!!"), id + "A", "hvb." + std::string(200, 'A')}) {
    auto e = store_->Lookup(bad);
    ASSERT_TRUE(e.has_value()) << bad.size();
    EXPECT_EQ(*e, nullptr);
  }
  // The original is still fine.
  EXPECT_NE(Find(id), nullptr);
}

TEST_F(BatchTokenTest, ExpiresAtItsTtl) {
  auto batch = Batch("", 10min);
  ASSERT_TRUE(batch.has_value());
  EXPECT_NE(Find(batch->id.view()), nullptr);
  clock_.Advance(9min);
  EXPECT_NE(Find(batch->id.view()), nullptr);
  clock_.Advance(61s);
  EXPECT_EQ(Find(batch->id.view()), nullptr);
  EXPECT_EQ(*store_->LookupByHmac(batch->entry->id_hmac), nullptr);
}

TEST_F(BatchTokenTest, TtlIsClampedByTheStoreMaximum) {
  auto batch = Batch("", 10000h);
  ASSERT_TRUE(batch.has_value());
  EXPECT_EQ(batch->entry->ttl, 768 * 3600);
}

TEST_F(BatchTokenTest, InvalidOnceItsParentIsRevokedOrExpired) {
  auto parent = Service();
  auto batch = Batch(parent.entry->id_hmac);
  ASSERT_TRUE(batch.has_value());
  ASSERT_NE(Find(batch->id.view()), nullptr);
  ASSERT_TRUE(store_->RevokeTree(parent.entry->id_hmac).ok());
  EXPECT_EQ(Find(batch->id.view()), nullptr);
  EXPECT_EQ(*store_->LookupByHmac(batch->entry->id_hmac), nullptr);

  auto short_parent = Service("", 1min);
  auto child = Batch(short_parent.entry->id_hmac, 1h);
  ASSERT_TRUE(child.has_value());
  EXPECT_NE(Find(child->id.view()), nullptr);
  clock_.Advance(2min);
  EXPECT_EQ(Find(child->id.view()), nullptr);
}

TEST_F(BatchTokenTest, OrphanSurvivesTheRevocationOfItsCreator) {
  auto creator = Service();
  auto orphan = Batch("");
  ASSERT_TRUE(orphan.has_value());
  ASSERT_TRUE(store_->RevokeTree(creator.entry->id_hmac).ok());
  auto e = Find(orphan->id.view());
  ASSERT_NE(e, nullptr);
  EXPECT_TRUE(e->parent_hmac.empty());
}

TEST_F(BatchTokenTest, SurvivesAReloadAndNotAnotherStore) {
  auto batch = Batch("");
  ASSERT_TRUE(batch.has_value());
  store_->Unload();
  EXPECT_FALSE(store_->Lookup(batch->id.view()).has_value());  // sealed
  ASSERT_TRUE(store_->Load().ok());
  EXPECT_NE(Find(batch->id.view()), nullptr);
  // Another store (another key) does not accept it.
  storage::InmemBackend other_view;
  TokenStore other(other_view, clock_);
  ASSERT_TRUE(other.Load().ok());
  auto e = other.Lookup(batch->id.view());
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(*e, nullptr);
}

TEST_F(BatchTokenTest, WhatBatchTokensCannotBe) {
  TokenRequest root;
  root.batch = true;
  root.policies = {"root"};
  EXPECT_EQ(store_->CreateToken(root).error().message(), "batch tokens cannot be root tokens");
  TokenRequest uses;
  uses.batch = true;
  uses.num_uses = 3;
  EXPECT_EQ(store_->CreateToken(uses).error().code(), Code::kInvalidArgument);
  TokenRequest periodic;
  periodic.batch = true;
  periodic.period = 1h;
  EXPECT_EQ(store_->CreateToken(periodic).error().code(), Code::kInvalidArgument);
  TokenRequest named;
  named.batch = true;
  named.requested_id = "hvb.mine";
  EXPECT_EQ(store_->CreateToken(named).error().code(), Code::kInvalidArgument);
  // Renewal is refused by the store.
  auto batch = Batch("");
  ASSERT_TRUE(batch.has_value());
  ASSERT_NE(Find(batch->id.view()), nullptr);
  auto renewed = store_->Renew(batch->entry->id_hmac, 1h);
  ASSERT_FALSE(renewed.has_value());
  EXPECT_EQ(renewed.error().message(), "batch tokens cannot be renewed");
}

TEST_F(BatchTokenTest, LeasesBelongToTheParentAndEndWithTheToken) {
  auto parent = Service();
  auto batch = Batch(parent.entry->id_hmac, 10min);
  auto orphan = Batch("", 20min);
  ASSERT_TRUE(batch.has_value() && orphan.has_value());
  ASSERT_NE(Find(batch->id.view()), nullptr);
  ASSERT_NE(Find(orphan->id.view()), nullptr);
  auto owner_of = [&](const auto& t, bool batch) {
    auto owner = store_->LeaseOwnerOf(t.entry->id_hmac, t.id.view(), batch);
    EXPECT_TRUE(owner.has_value());
    return owner.value_or(LeaseOwner{});
  };
  LeaseOwner owner = owner_of(*batch, true);
  EXPECT_EQ(owner.token_hmac, parent.entry->id_hmac);
  EXPECT_EQ(owner.expire_time, batch->entry->expire_time);
  owner = owner_of(*orphan, true);
  EXPECT_EQ(owner.token_hmac, "");
  EXPECT_EQ(owner.expire_time, orphan->entry->expire_time);
  owner = owner_of(parent, false);
  EXPECT_EQ(owner.token_hmac, parent.entry->id_hmac);
  EXPECT_EQ(owner.expire_time, 0);
  // A batch token the lookup cache never held (or let go): the owner is
  // still its parent, read from the token itself.
  auto unseen = Batch(parent.entry->id_hmac, 10min);
  ASSERT_TRUE(unseen.has_value());
  owner = owner_of(*unseen, true);
  EXPECT_EQ(owner.token_hmac, parent.entry->id_hmac);
  EXPECT_EQ(owner.expire_time, unseen->entry->expire_time);
  // Once its parent is revoked it owns nothing.
  ASSERT_TRUE(store_->RevokeTree(parent.entry->id_hmac).ok());
  auto gone = store_->LeaseOwnerOf(unseen->entry->id_hmac, unseen->id.view(), true);
  ASSERT_FALSE(gone.has_value());
  EXPECT_EQ(gone.error().code(), Code::kPermissionDenied);
}

// ---- through the token backend ---------------------------------------------

TEST_F(BatchTokenTest, BackendCreateLookupAndRefusals) {
  TokenBackend backend(*store_);
  auto created = backend.HandleRequest(
      Req(Operation::kUpdate, "create", {{"type", "batch"}, {"policies", {"dev"}}, {"ttl", "1h"}},
          root_id_));
  ASSERT_TRUE(created.has_value()) << created.error().ToString();
  const Json& auth = created->auth;
  const std::string b = auth["client_token"];
  EXPECT_TRUE(b.starts_with("hvb."));
  EXPECT_EQ(auth["token_type"], "batch");
  EXPECT_EQ(auth["accessor"], "");
  EXPECT_EQ(auth["renewable"], false);
  EXPECT_EQ(auth["orphan"], false);
  EXPECT_EQ(auth["lease_duration"], 3600);

  auto self = backend.HandleRequest(Req(Operation::kRead, "lookup-self", {}, b));
  ASSERT_TRUE(self.has_value()) << self.error().ToString();
  EXPECT_EQ(self->data["type"], "batch");
  EXPECT_EQ(self->data["id"], b);
  EXPECT_EQ(self->data["accessor"], "");
  EXPECT_EQ(self->data["renewable"], false);
  EXPECT_EQ(self->data["orphan"], false);
  EXPECT_EQ(self->data["ttl"], 3600);
  auto other = backend.HandleRequest(Req(Operation::kUpdate, "lookup", {{"token", b}}, root_id_));
  ASSERT_TRUE(other.has_value());
  EXPECT_EQ(other->data["type"], "batch");

  auto expect_400 = [&](Result<logical::Response> r, const std::string& message) {
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code(), Code::kInvalidArgument);
    EXPECT_EQ(r.error().message(), message);
  };
  expect_400(backend.HandleRequest(Req(Operation::kUpdate, "create", Json::object(), b)),
             "batch tokens cannot create more tokens");
  expect_400(backend.HandleRequest(Req(Operation::kUpdate, "create-orphan", Json::object(), b)),
             "batch tokens cannot create more tokens");
  expect_400(backend.HandleRequest(Req(Operation::kUpdate, "renew-self", Json::object(), b)),
             "batch tokens cannot be renewed");
  expect_400(backend.HandleRequest(Req(Operation::kUpdate, "renew", {{"token", b}}, root_id_)),
             "batch tokens cannot be renewed");
  expect_400(backend.HandleRequest(Req(Operation::kUpdate, "revoke-self", Json::object(), b)),
             "batch tokens cannot be revoked");
  expect_400(backend.HandleRequest(Req(Operation::kUpdate, "revoke", {{"token", b}}, root_id_)),
             "batch tokens cannot be revoked");
  expect_400(backend.HandleRequest(
                 Req(Operation::kUpdate, "revoke-orphan", {{"token", b}}, root_id_, true)),
             "batch tokens cannot be revoked");
  // Still valid after all that.
  EXPECT_NE(Find(b), nullptr);

  expect_400(backend.HandleRequest(
                 Req(Operation::kUpdate, "create", {{"type", "batch"}, {"num_uses", 2}}, root_id_)),
             "batch tokens cannot have \"num_uses\" set");
  expect_400(backend.HandleRequest(Req(Operation::kUpdate, "create",
                                       {{"type", "batch"}, {"period", "1h"}}, root_id_)),
             "batch tokens cannot have \"period\" set");
  expect_400(backend.HandleRequest(Req(Operation::kUpdate, "create",
                                       {{"type", "batch"}, {"explicit_max_ttl", "1h"}}, root_id_)),
             "batch tokens cannot have \"explicit_max_ttl\" set");
  expect_400(backend.HandleRequest(Req(Operation::kUpdate, "create",
                                       {{"type", "batch"}, {"policies", {"root"}}}, root_id_)),
             "batch tokens cannot be root tokens");
  expect_400(
      backend.HandleRequest(Req(Operation::kUpdate, "create", {{"type", "weird"}}, root_id_)),
      "invalid 'token_type' value");

  auto orphan = backend.HandleRequest(Req(Operation::kUpdate, "create-orphan",
                                          {{"type", "batch"}, {"policies", {"dev"}}}, root_id_));
  ASSERT_TRUE(orphan.has_value());
  EXPECT_EQ(orphan->auth["orphan"], true);
}

TEST_F(BatchTokenTest, RolesChooseTheType) {
  TokenBackend backend(*store_);
  auto put = [&](const std::string& name, const std::string& type, Json body = Json::object()) {
    body["token_type"] = type;
    return backend.HandleRequest(Req(Operation::kUpdate, "roles/" + name, body, root_id_));
  };
  auto expect_400 = [&](Result<logical::Response> r, const std::string& message) {
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code(), Code::kInvalidArgument);
    EXPECT_EQ(r.error().message(), message);
  };
  // A batch role must hand out what a batch token can be, as in Vault.
  expect_400(put("b", "batch"),
             "'token_type' cannot be 'batch' when role is set to generate non-orphan tokens");
  expect_400(put("b", "batch", {{"orphan", true}}),
             "'token_type' cannot be 'batch' when role is set to generate renewable tokens");
  expect_400(put("b", "batch", {{"orphan", true}, {"renewable", false}, {"period", "1h"}}),
             "'token_type' cannot be 'batch' when role is set to generate periodic tokens");
  expect_400(
      put("b", "batch", {{"orphan", true}, {"renewable", false}, {"explicit_max_ttl", "1h"}}),
      "'token_type' cannot be 'batch' when role is set to generate tokens with an explicit max "
      "TTL");
  ASSERT_TRUE(put("b", "batch", {{"orphan", true}, {"renewable", false}}).has_value());
  ASSERT_TRUE(put("db", "default-batch").has_value());
  ASSERT_TRUE(put("s", "service").has_value());
  ASSERT_TRUE(put("ds", "default-service").has_value());
  // Vault's role write knows no "default" type.
  EXPECT_FALSE(put("d", "default").has_value());
  EXPECT_FALSE(put("bad", "sideways").has_value());
  auto type_of = [&](const std::string& role, Json body) -> std::string {
    // Without policies a root parent's "root" would be inherited, which a
    // batch token cannot have.
    body["policies"] = Json::array({"dev"});
    auto r = backend.HandleRequest(Req(Operation::kUpdate, "create/" + role, body, root_id_));
    if (!r) return "error";
    return r->auth["token_type"];
  };
  auto root_batch = backend.HandleRequest(Req(Operation::kUpdate, "create/b", {}, root_id_));
  ASSERT_FALSE(root_batch.has_value());
  EXPECT_EQ(root_batch.error().message(), "batch tokens cannot be root tokens");
  EXPECT_EQ(type_of("b", Json::object()), "batch");
  EXPECT_EQ(type_of("b", {{"type", "service"}}), "batch");
  EXPECT_EQ(type_of("db", Json::object()), "batch");
  EXPECT_EQ(type_of("db", {{"type", "service"}}), "service");
  EXPECT_EQ(type_of("s", {{"type", "batch"}}), "service");
  EXPECT_EQ(type_of("ds", Json::object()), "service");
  EXPECT_EQ(type_of("ds", {{"type", "batch"}}), "batch");
  auto read = backend.HandleRequest(Req(Operation::kRead, "roles/ds", {}, root_id_));
  ASSERT_TRUE(read.has_value());
  EXPECT_EQ(read->data["token_type"], "default-service");

  // A role's limits hold when a batch token is asked of it: a use limit
  // refuses one, an explicit max TTL or a period caps its TTL.
  ASSERT_TRUE(put("lim", "default-service", {{"token_num_uses", 2}}).has_value());
  auto uses = backend.HandleRequest(
      Req(Operation::kUpdate, "create/lim", {{"type", "batch"}, {"policies", {"dev"}}}, root_id_));
  ASSERT_FALSE(uses.has_value());
  EXPECT_EQ(uses.error().message(),
            "the role limits the number of uses (token_num_uses), which a batch token cannot have");
  ASSERT_TRUE(put("cap", "default-service", {{"token_explicit_max_ttl", "60s"}, {"period", "10m"}})
                  .has_value());
  for (Json body : {Json{{"type", "batch"}}, Json{{"type", "batch"}, {"ttl", "24h"}}}) {
    body["policies"] = Json::array({"dev"});
    auto capped = backend.HandleRequest(Req(Operation::kUpdate, "create/cap", body, root_id_));
    ASSERT_TRUE(capped.has_value()) << capped.error().ToString();
    EXPECT_EQ(capped->auth["token_type"], "batch");
    EXPECT_LE(capped->auth["lease_duration"].get<std::int64_t>(), 60) << body.dump();
  }
}

TEST(TokenTypeTest, LoginTypeFollowsVaultsMountRules) {
  EXPECT_FALSE(ResolveLoginType("default", ""));
  EXPECT_TRUE(ResolveLoginType("batch", ""));
  EXPECT_TRUE(ResolveLoginType("default-batch", "default-service"));
  EXPECT_FALSE(ResolveLoginType("service", "default-batch"));
  EXPECT_TRUE(ResolveLoginType("default", "default-batch"));
  EXPECT_TRUE(ResolveLoginType("service", "batch"));
  EXPECT_FALSE(ResolveLoginType("batch", "service"));
}

}  // namespace
}  // namespace coffer::token
