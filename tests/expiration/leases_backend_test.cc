#include "expiration/leases_backend.h"

#include <gtest/gtest.h>

#include "storage/inmem/inmem_backend.h"

namespace coffer::expiration {
namespace {

using logical::Json;
using logical::Operation;
using logical::Request;
using namespace std::chrono_literals;

class NullRevoker : public Revoker {
 public:
  Status Revoke(const Lease&) override { return Status::Ok(); }
};

class LeasesBackendTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(m_.Load().ok());
    ASSERT_TRUE(m_.WaitForLoad().ok());
    LeaseRequest r;
    r.path = "db/creds/ro";
    r.ttl = 600s;
    lease_ = m_.Register(r).value();
  }
  Result<logical::Response> Call(Operation op, std::string path, Json data = Json::object()) {
    Request r;
    r.operation = op;
    r.relative_path = std::move(path);
    r.data = std::move(data);
    return backend_.HandleRequest(r);
  }
  storage::InmemBackend view_;
  FakeClock clock_;
  NullRevoker revoker_;
  Options opts_ = [] {
    Options o;
    o.start_expiry_thread = false;
    return o;
  }();
  ExpirationManager m_{view_, clock_, revoker_, opts_};
  LeasesBackend backend_{m_};
  Lease lease_;
};

TEST_F(LeasesBackendTest, LookupShape) {
  clock_.Advance(10s);
  auto r = Call(Operation::kUpdate, "leases/lookup", {{"lease_id", lease_.id}});
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->data["id"], lease_.id);
  EXPECT_EQ(r->data["ttl"], 590);
  EXPECT_EQ(r->data["renewable"], true);
  EXPECT_TRUE(r->data["last_renewal"].is_null());
  EXPECT_TRUE(r->data["issue_time"].is_string());
  EXPECT_TRUE(r->data["expire_time"].is_string());
  auto bad = Call(Operation::kUpdate, "leases/lookup", {{"lease_id", "nope/1"}});
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().message(), "invalid lease");
  EXPECT_FALSE(Call(Operation::kUpdate, "leases/lookup").has_value());
}

TEST_F(LeasesBackendTest, ListRenewRevoke) {
  auto list = Call(Operation::kList, "leases/lookup/db/creds/ro/");
  ASSERT_TRUE(list.has_value());
  ASSERT_EQ(list->data["keys"].size(), 1u);
  auto empty = Call(Operation::kList, "leases/lookup/nothing/");
  ASSERT_TRUE(empty.has_value());
  EXPECT_EQ(empty->http_status, 404);

  auto renew =
      Call(Operation::kUpdate, "leases/renew", {{"lease_id", lease_.id}, {"increment", "1h"}});
  ASSERT_TRUE(renew.has_value());
  EXPECT_EQ(renew->lease_id, lease_.id);
  EXPECT_EQ(renew->lease_duration, 3600);
  EXPECT_TRUE(renew->renewable);
  auto legacy = Call(Operation::kUpdate, "renew/" + lease_.id);
  ASSERT_TRUE(legacy.has_value());

  auto revoke = Call(Operation::kUpdate, "leases/revoke", {{"lease_id", lease_.id}});
  ASSERT_TRUE(revoke.has_value());
  EXPECT_EQ(revoke->http_status, 204);
  EXPECT_FALSE(m_.Lookup(lease_.id).has_value());
}

TEST_F(LeasesBackendTest, RevokePrefixAndForceAndAliases) {
  auto r1 = Call(Operation::kUpdate, "leases/revoke-prefix/db/creds");
  ASSERT_TRUE(r1.has_value());
  EXPECT_EQ(r1->http_status, 204);
  EXPECT_FALSE(m_.Lookup(lease_.id).has_value());
  LeaseRequest r;
  r.path = "aws/creds/x";
  auto l = m_.Register(r).value();
  ASSERT_TRUE(Call(Operation::kUpdate, "revoke-force/aws").has_value());
  EXPECT_FALSE(m_.Lookup(l.id).has_value());
  EXPECT_TRUE(LeasesBackend::Handles("revoke-prefix/x"));
  EXPECT_TRUE(LeasesBackend::Handles("leases/lookup"));
  EXPECT_FALSE(LeasesBackend::Handles("mounts"));
  EXPECT_FALSE(Call(Operation::kRead, "leases/renew").has_value());
  EXPECT_EQ(Call(Operation::kRead, "leases/renew").error().code(), Code::kMethodNotAllowed);
  // Paths that are none answer 404 whatever the method.
  for (Operation op : {Operation::kRead, Operation::kUpdate}) {
    for (const char* path : {"leases/count", "leases/tidy", "leases/nothing/x"}) {
      auto r = Call(op, path);
      ASSERT_FALSE(r.has_value()) << path;
      EXPECT_EQ(r.error().code(), Code::kNotFound) << path;
    }
  }
}

// sys/leases/tidy revokes the leases whose token is gone (a secret lease's
// creating token, a token lease's own token) and keeps the others: a live
// token's, and one without a token.
TEST_F(LeasesBackendTest, TidyRevokesLeasesWhoseTokenIsGone) {
  LeasesBackend tidy{m_, [](std::string_view hmac) { return hmac == "alive"; }};
  auto secret_of = [&](std::string token) {
    LeaseRequest r;
    r.path = "db/creds/rw";
    r.ttl = 600s;
    r.token_hmac = std::move(token);
    return m_.Register(r).value();
  };
  const Lease alive = secret_of("alive");
  const Lease orphaned = secret_of("gone");
  ASSERT_TRUE(m_.RegisterToken("gone-token", "auth/token/create", 600s, true).ok());
  const std::string token_lease =
      ExpirationManager::TokenLeaseId("auth/token/create", "gone-token");
  ASSERT_TRUE(m_.Lookup(token_lease).has_value());

  Request read;
  read.operation = Operation::kRead;
  read.relative_path = "leases/tidy";
  ASSERT_FALSE(tidy.HandleRequest(read).has_value());
  EXPECT_TRUE(m_.Lookup(orphaned.id).has_value()) << "a read tidied";

  Request req;
  req.operation = Operation::kUpdate;
  req.relative_path = "leases/tidy";
  auto r = tidy.HandleRequest(req);
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_EQ(r->http_status, 202);
  EXPECT_EQ(r->warnings.size(), 1u);
  EXPECT_TRUE(m_.Lookup(alive.id).has_value());
  EXPECT_TRUE(m_.Lookup(lease_.id).has_value());  // no token
  EXPECT_FALSE(m_.Lookup(orphaned.id).has_value());
  EXPECT_FALSE(m_.Lookup(token_lease).has_value());
  EXPECT_EQ(m_.IndexSize(), 2u);
}

}  // namespace
}  // namespace coffer::expiration
