#include "expiration/leases_backend.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "storage/inmem/inmem_backend.h"

namespace coffer::expiration {
namespace {

using logical::Json;
using logical::Operation;
using logical::Request;
using namespace std::chrono_literals;

class NullRevoker : public Revoker {
 public:
  Status Revoke(const Lease&) override {
    if (failing) return Unavailable("engine unreachable");
    return Status::Ok();
  }
  logical::SecretTtls CurrentTtls(const Lease&) override { return {current_default, current_max}; }
  Status Renew(const Lease& renewed) override {
    if (refuse_renewal) return InvalidArgument("the engine says no");
    renewed_expiry = renewed.expire_time;
    return Status::Ok();
  }
  bool failing = false;
  std::int64_t current_max = 0;
  std::int64_t current_default = 0;
  bool refuse_renewal = false;
  std::int64_t renewed_expiry = 0;
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
  LeasesBackend backend_{m_, {}, [](std::string_view id) {
                           return id.starts_with("db/") ? std::string("database_1a2b") : "";
                         }};
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

// sync=false (Vault's lazy revocation): 202 at once, the lease expires now
// and the expiry thread revokes it; an engine that refuses does not fail
// the call. A value that is no boolean is refused and changes nothing.
TEST_F(LeasesBackendTest, RevokeWithoutSyncQueuesTheRevocation) {
  auto bad = Call(Operation::kUpdate, "leases/revoke", {{"lease_id", lease_.id}, {"sync", "no"}});
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code(), Code::kInvalidArgument);
  EXPECT_EQ(m_.Lookup(lease_.id)->expire_time, lease_.expire_time);

  revoker_.failing = true;
  auto queued =
      Call(Operation::kUpdate, "leases/revoke", {{"lease_id", lease_.id}, {"sync", false}});
  ASSERT_TRUE(queued.has_value()) << queued.error().ToString();
  EXPECT_EQ(queued->http_status, 202);
  EXPECT_EQ(m_.Lookup(lease_.id)->expire_time, lease_.issue_time);
  auto looked = Call(Operation::kUpdate, "leases/lookup", {{"lease_id", lease_.id}});
  ASSERT_TRUE(looked.has_value());
  EXPECT_EQ(looked->data["ttl"], 0);
  EXPECT_EQ(looked->data["renewable"], false);  // expired: as Vault reports it
  EXPECT_EQ(m_.ProcessExpired(), 0u);           // refused: retried later
  revoker_.failing = false;
  clock_.Advance(opts_.initial_backoff);
  EXPECT_EQ(m_.ProcessExpired(), 1u);
  EXPECT_FALSE(m_.Lookup(lease_.id).has_value());
  // Unknown: 202 too, as Vault answers.
  auto unknown = Call(Operation::kUpdate, "leases/revoke", {{"lease_id", "db/x"}, {"sync", "f"}});
  ASSERT_TRUE(unknown.has_value());
  EXPECT_EQ(unknown->http_status, 202);

  LeaseRequest r;
  r.path = "db/creds/rw";
  r.ttl = 600s;
  auto a = m_.Register(r), b = m_.Register(r);
  ASSERT_TRUE(a && b);
  auto prefix = Call(Operation::kUpdate, "leases/revoke-prefix/db/creds/rw", {{"sync", false}});
  ASSERT_TRUE(prefix.has_value());
  EXPECT_EQ(prefix->http_status, 202);
  EXPECT_TRUE(m_.Lookup(a->id).has_value());  // not yet
  EXPECT_EQ(m_.ProcessExpired(), 2u);
  EXPECT_FALSE(m_.Lookup(a->id).has_value());
  EXPECT_FALSE(m_.Lookup(b->id).has_value());
}

// A renewal is bounded by the max its mount allows now (a max tuned down
// since the issue included), warns when it caps, refuses past the max, and
// asks the engine before anything is written.
TEST_F(LeasesBackendTest, RenewalFollowsTheMaxNowAndTheEngine) {
  revoker_.current_max = 1800;
  clock_.Advance(300s);
  auto capped =
      Call(Operation::kUpdate, "leases/renew", {{"lease_id", lease_.id}, {"increment", "1h"}});
  ASSERT_TRUE(capped.has_value()) << capped.error().ToString();
  EXPECT_EQ(capped->lease_duration, 1500);
  EXPECT_EQ(capped->warnings, Json::array({"TTL of \"1h\" exceeded the effective max_ttl of "
                                           "\"25m\"; TTL value is capped accordingly"}));
  EXPECT_EQ(revoker_.renewed_expiry, m_.Lookup(lease_.id)->expire_time);

  const std::int64_t before = m_.Lookup(lease_.id)->expire_time;
  revoker_.refuse_renewal = true;
  auto refused =
      Call(Operation::kUpdate, "leases/renew", {{"lease_id", lease_.id}, {"increment", "5m"}});
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().message(), "the engine says no");
  EXPECT_EQ(m_.Lookup(lease_.id)->expire_time, before);

  revoker_.refuse_renewal = false;
  revoker_.current_max = 200;  // tuned down below the lease's age
  auto past = Call(Operation::kUpdate, "leases/renew", {{"lease_id", lease_.id}});
  ASSERT_FALSE(past.has_value());
  EXPECT_EQ(past.error().message(), "past the max TTL, cannot renew");
  EXPECT_EQ(m_.Lookup(lease_.id)->expire_time, before);

  // An unknown lease: Vault's exact words.
  auto unknown = Call(Operation::kUpdate, "leases/renew", {{"lease_id", "db/creds/gone"}});
  ASSERT_FALSE(unknown.has_value());
  EXPECT_EQ(unknown.error().code(), Code::kInvalidArgument);
  EXPECT_EQ(unknown.error().message(), "lease not found");
}

// Without an increment (or with 0) a renewal gives what the engine or its
// mount gives now, as Vault does, not the last increment; the lease's last
// TTL only when neither says.
TEST_F(LeasesBackendTest, ARenewalWithoutAnIncrementGoesBackToTheDefault) {
  auto shortened =
      Call(Operation::kUpdate, "leases/renew", {{"lease_id", lease_.id}, {"increment", "2m"}});
  ASSERT_TRUE(shortened.has_value()) << shortened.error().ToString();
  EXPECT_EQ(shortened->lease_duration, 120);

  revoker_.current_default = 3600;
  for (const Json& body :
       {Json{{"lease_id", lease_.id}}, Json{{"lease_id", lease_.id}, {"increment", nullptr}},
        Json{{"lease_id", lease_.id}, {"increment", 0}}}) {
    auto renewed = Call(Operation::kUpdate, "leases/renew", body);
    ASSERT_TRUE(renewed.has_value()) << body.dump() << ": " << renewed.error().ToString();
    EXPECT_EQ(renewed->lease_duration, 3600) << body.dump();
  }
  EXPECT_EQ(m_.Lookup(lease_.id)->ttl, 3600);

  revoker_.current_default = 0;  // nothing known: the last TTL
  ASSERT_TRUE(
      Call(Operation::kUpdate, "leases/renew", {{"lease_id", lease_.id}, {"increment", "5m"}}));
  auto kept = Call(Operation::kUpdate, "leases/renew", {{"lease_id", lease_.id}});
  ASSERT_TRUE(kept.has_value()) << kept.error().ToString();
  EXPECT_EQ(kept->lease_duration, 300);
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
    for (const char* path : {"leases/counts", "leases/tidy", "leases/nothing/x"}) {
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
  ASSERT_EQ(r->warnings.size(), 1u);
  EXPECT_EQ(r->warnings[0],
            "Tidy operation successfully started. Any information from the operation will be "
            "printed to Coffer's server logs.");
  // The tidy runs on a thread of its own. A revoked lease leaves storage
  // before it leaves the expiry index, so wait for both.
  for (int i = 0; i < 2000 && (m_.Lookup(token_lease).has_value() ||
                               m_.Lookup(orphaned.id).has_value() || m_.IndexSize() != 2);
       ++i) {
    std::this_thread::sleep_for(5ms);
  }
  EXPECT_TRUE(m_.Lookup(alive.id).has_value());
  EXPECT_TRUE(m_.Lookup(lease_.id).has_value());  // no token
  EXPECT_FALSE(m_.Lookup(orphaned.id).has_value());
  EXPECT_FALSE(m_.Lookup(token_lease).has_value());
  EXPECT_EQ(m_.IndexSize(), 2u);
}

// While a tidy runs, another request starts nothing and says so; stopping
// the manager (sealing) ends a running tidy before it has walked every lease.
TEST_F(LeasesBackendTest, TidyRunsOnceAtATimeAndStopsWithTheManager) {
  for (int i = 0; i < 200; ++i) {
    LeaseRequest r;
    r.path = "db/creds/many";
    r.ttl = 600s;
    r.token_hmac = "t" + std::to_string(i);
    ASSERT_TRUE(m_.Register(r).has_value());
  }
  std::atomic<int> checked{0};
  std::atomic<bool> release{false};
  LeasesBackend tidy{m_, [&](std::string_view) {
                       ++checked;
                       while (!release.load()) std::this_thread::sleep_for(1ms);
                       std::this_thread::sleep_for(1ms);
                       return true;
                     }};
  Request req;
  req.operation = Operation::kUpdate;
  req.relative_path = "leases/tidy";
  auto first = tidy.HandleRequest(req);
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->http_status, 202);
  for (int i = 0; i < 2000 && checked.load() == 0; ++i) std::this_thread::sleep_for(1ms);
  ASSERT_GT(checked.load(), 0);
  auto second = tidy.HandleRequest(req);
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(second->http_status, 200);
  EXPECT_EQ(second->warnings, Json::array({"Tidy operation already in progress."}));
  EXPECT_EQ(checked.load(), 1) << "a second tidy ran";
  release = true;
  m_.Stop();  // returns once the tidy has ended
  const int at_stop = checked.load();
  EXPECT_LT(at_stop, 200) << "the tidy walked every lease although stopped";
  std::this_thread::sleep_for(20ms);
  EXPECT_EQ(checked.load(), at_stop) << "the tidy went on after Stop returned";
}

}  // namespace
}  // namespace coffer::expiration

namespace coffer::expiration {
namespace {

// Runs expiry passes until every lease due has failed `n` more times (the
// backoff doubles from 1 s, so 40 s covers each of the first six waits).
void FailTimes(FakeClock& clock, ExpirationManager& m, int n) {
  for (int i = 0; i < n; ++i) {
    clock.Advance(40s);
    m.ProcessExpired();
  }
}

// sys/leases/count and sys/leases report the leases whose revocation failed
// six times in a row, by mount, until a revocation succeeds.
TEST_F(LeasesBackendTest, IrrevocableLeasesCountedAndListed) {
  LeaseRequest r;
  r.path = "other/creds/x";
  r.ttl = 600s;
  Lease other = m_.Register(r).value();
  const Json type = {{"type", "irrevocable"}};

  auto none = Call(Operation::kRead, "leases/count", {{"type", "IRREVOCABLE"}});
  ASSERT_TRUE(none.has_value());
  EXPECT_EQ(none->data, (Json{{"lease_count", 0}, {"counts", Json::object()}}));

  revoker_.failing = true;
  clock_.Advance(561s);  // both leases due at the next pass
  FailTimes(clock_, m_, 5);
  EXPECT_EQ(Call(Operation::kRead, "leases/count", type)->data["lease_count"], 0);
  FailTimes(clock_, m_, 1);
  auto count = Call(Operation::kRead, "leases/count", type);
  ASSERT_TRUE(count.has_value());
  EXPECT_EQ(count->data["lease_count"], 2);
  EXPECT_EQ(count->data["counts"], (Json{{"database_1a2b", 1}, {"mount-accessor-not-found", 1}}));

  auto list = Call(Operation::kRead, "leases", type);
  ASSERT_TRUE(list.has_value());
  ASSERT_EQ(list->data["lease_count"], 2);
  const Json& first = list->data["leases"][0];  // sorted by id: db/ first
  EXPECT_EQ(first["lease_id"], lease_.id);
  EXPECT_EQ(first["mount_id"], "database_1a2b");
  EXPECT_NE(first["error"].get<std::string>().find("engine unreachable"), std::string::npos);
  EXPECT_EQ(list->data["leases"][1]["lease_id"], other.id);
  EXPECT_TRUE(list->warnings.is_null());

  auto one = Call(Operation::kRead, "leases", {{"type", "irrevocable"}, {"limit", "1"}});
  ASSERT_TRUE(one.has_value());
  EXPECT_EQ(one->data["lease_count"], 1);
  EXPECT_EQ(one->warnings.size(), 1u);
  auto all = Call(Operation::kRead, "leases", {{"type", "irrevocable"}, {"limit", "none"}});
  EXPECT_EQ(all->data["lease_count"], 2);

  // Once the engine answers, the next attempt revokes them and they leave.
  revoker_.failing = false;
  FailTimes(clock_, m_, 1);
  EXPECT_EQ(Call(Operation::kRead, "leases/count", type)->data["lease_count"], 0);
  EXPECT_EQ(Call(Operation::kRead, "leases", type)->data["leases"], Json::array());
}

TEST_F(LeasesBackendTest, IrrevocableReportsRefuseBadInput) {
  for (const char* path : {"leases/count", "leases"}) {
    for (const Json& data : {Json::object(), Json{{"type", "expired"}}}) {
      auto r = Call(Operation::kRead, path, data);
      ASSERT_FALSE(r.has_value()) << path;
      EXPECT_EQ(r.error().code(), Code::kInvalidArgument) << path;
      EXPECT_NE(r.error().message().find("irrevocable"), std::string::npos);
    }
    auto put = Call(Operation::kUpdate, path, {{"type", "irrevocable"}});
    ASSERT_FALSE(put.has_value());
    EXPECT_EQ(put.error().code(), Code::kMethodNotAllowed) << path;
  }
  for (const char* limit : {"0", "-3", "ten", "5x"}) {
    auto r = Call(Operation::kRead, "leases", {{"type", "irrevocable"}, {"limit", limit}});
    ASSERT_FALSE(r.has_value()) << limit;
    EXPECT_EQ(r.error().code(), Code::kInvalidArgument) << limit;
  }
  EXPECT_TRUE(LeasesBackend::Handles("leases"));
  EXPECT_TRUE(LeasesBackend::Handles("leases/count"));
}

}  // namespace
}  // namespace coffer::expiration
