// Rate limit quotas: the sys/quotas API, token buckets per client, the most
// specific quota winning, block_interval, exempt paths, role quotas on an
// AppRole mount, and that quotas survive a seal/unseal.
#include "core/quotas.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <future>
#include <thread>

#include "auth/jwt_test_util.h"
#include "core/core_fixture.h"
#include "metrics/telemetry.h"

namespace coffer::core {
namespace {

using logical::Json;
using logical::Operation;
using namespace std::chrono_literals;

class QuotasTest : public CoreFixture {
 protected:
  void SetUp() override {
    CoreFixture::SetUp();
    ASSERT_EQ(Call(Operation::kUpdate, "sys/mounts/secret", {{"type", "kv"}}).http_status, 204);
    ASSERT_EQ(Call(Operation::kUpdate, "secret/a", {{"v", "1"}}).http_status, 204);
    ASSERT_EQ(Call(Operation::kUpdate, "secret/b/c", {{"v", "1"}}).http_status, 204);
  }

  // What the HTTP server does: preflight, then the request.
  int Serve(const std::string& path, const std::string& client = "127.0.0.1",
            Operation op = Operation::kRead, Json body = Json::object(),
            const std::string& token = "ROOT") {
    if (core_->WantsPreflight()) {
      std::map<std::string, std::string> headers;
      if (auto refusal = core_->Preflight(path, client, &headers)) {
        logical::Request head;
        head.id = "refused-" + std::to_string(++refused_);
        head.operation = op;
        head.path = path;
        head.remote_address = client;
        core_->PreflightRefused(std::move(head), *refusal);
        return refusal->http_status;
      }
    }
    return Call(op, path, std::move(body), token, client).http_status;
  }

  // A file audit device in a fresh directory; returns the log's path.
  std::string EnableFileAudit() {
    dir_ = (std::filesystem::temp_directory_path() /
            ("coffer-quotas-audit-" + std::to_string(getpid())))
               .string();
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    const std::string log = dir_ + "/audit.log";
    EXPECT_EQ(Call(Operation::kUpdate, "sys/audit/file",
                   {{"type", "file"}, {"options", {{"file_path", log}}}})
                  .http_status,
              204);
    return log;
  }

  // The audit entries whose error mentions a rate limit, once `want` of
  // them are there (the preflight's are written by a pool thread) or after
  // `wait`.
  // Waits up to `wait` for `want` entries: long by default, since the
  // device may sync each of a thousand entries on a loaded machine; a
  // passing test returns as soon as they are there.
  std::vector<Json> RateLimitedEntries(const std::string& log, std::size_t want,
                                       std::chrono::milliseconds wait = 30s) {
    std::vector<Json> found;
    const auto deadline = std::chrono::steady_clock::now() + wait;
    for (;;) {
      found.clear();
      std::ifstream in(log);
      for (std::string line; std::getline(in, line);) {
        // The last line may be one the device is still writing: read it at
        // the next turn.
        Json entry = Json::parse(line, nullptr, false);
        if (!entry.is_object()) continue;
        if (entry.value("error", "").find("rate limit quota exceeded") != std::string::npos) {
          found.push_back(std::move(entry));
        }
      }
      if (found.size() >= want || std::chrono::steady_clock::now() >= deadline) break;
      std::this_thread::sleep_for(10ms);
    }
    return found;
  }

  // A rate limit quota `name`, then enable_rate_limit_audit_logging.
  void QuotaWithAuditLogging(const std::string& name, Json quota) {
    ASSERT_EQ(
        Call(Operation::kUpdate, "sys/quotas/rate-limit/" + name, std::move(quota)).http_status,
        204);
    ASSERT_EQ(
        Call(Operation::kUpdate, "sys/quotas/config", {{"enable_rate_limit_audit_logging", true}})
            .http_status,
        204);
  }

  void TearDown() override {
    if (!dir_.empty()) {
      EXPECT_EQ(Call(Operation::kDelete, "sys/audit/file").http_status, 204);
      std::filesystem::remove_all(dir_);
    }
    CoreFixture::TearDown();
  }

  int refused_ = 0;
  std::string dir_;
};

TEST_F(QuotasTest, ApiCreatesReadsListsAndDeletes) {
  EXPECT_FALSE(core_->WantsPreflight());
  auto put = Call(Operation::kUpdate, "sys/quotas/rate-limit/global",
                  {{"rate", 10.5}, {"interval", "2s"}, {"block_interval", "1m"}});
  ASSERT_EQ(put.http_status, 204) << (put.raw ? put.raw->dump() : "");
  EXPECT_TRUE(core_->WantsPreflight());
  auto read = Call(Operation::kRead, "sys/quotas/rate-limit/global");
  ASSERT_EQ(read.http_status, 200);
  EXPECT_EQ(read.data["name"], "global");
  EXPECT_EQ(read.data["path"], "");
  EXPECT_EQ(read.data["type"], "rate-limit");
  EXPECT_DOUBLE_EQ(read.data["rate"].get<double>(), 10.5);
  EXPECT_EQ(read.data["interval"], 2);
  EXPECT_EQ(read.data["block_interval"], 60);
  auto list = Call(Operation::kList, "sys/quotas/rate-limit");
  EXPECT_EQ(list.data["keys"], Json::array({"global"}));
  // A mount path is stored with its slash.
  ASSERT_EQ(Call(Operation::kUpdate, "sys/quotas/rate-limit/kv", {{"rate", 1}, {"path", "secret"}})
                .http_status,
            204);
  EXPECT_EQ(Call(Operation::kRead, "sys/quotas/rate-limit/kv").data["path"], "secret/");
  EXPECT_EQ(Call(Operation::kDelete, "sys/quotas/rate-limit/global").http_status, 204);
  EXPECT_EQ(Call(Operation::kDelete, "sys/quotas/rate-limit/kv").http_status, 204);
  EXPECT_EQ(Call(Operation::kRead, "sys/quotas/rate-limit/global").http_status, 404);
  EXPECT_FALSE(core_->WantsPreflight());
}

TEST_F(QuotasTest, BadInputIsRefusedAndChangesNothing) {
  EXPECT_EQ(Call(Operation::kUpdate, "sys/quotas/rate-limit/q", {{"rate", 0}}).http_status, 400);
  EXPECT_EQ(Call(Operation::kUpdate, "sys/quotas/rate-limit/q", {{"rate", -1}}).http_status, 400);
  EXPECT_EQ(Call(Operation::kUpdate, "sys/quotas/rate-limit/q", {{"rate", "ten"}}).http_status,
            400);
  EXPECT_EQ(Call(Operation::kUpdate, "sys/quotas/rate-limit/q", {{"rate", 1}, {"path", "nomount/"}})
                .http_status,
            400);
  EXPECT_EQ(Call(Operation::kUpdate, "sys/quotas/rate-limit/q",
                 {{"rate", 1}, {"path", "secret/"}, {"role", "r"}})
                .http_status,
            400);
  EXPECT_EQ(Call(Operation::kUpdate, "sys/quotas/rate-limit/q", {{"rate", 1}, {"interval", "soon"}})
                .http_status,
            400);
  EXPECT_EQ(Call(Operation::kRead, "sys/quotas/rate-limit/q").http_status, 404);
  EXPECT_FALSE(core_->WantsPreflight());
}

TEST_F(QuotasTest, BucketRefillsPerClient) {
  ASSERT_EQ(Call(Operation::kUpdate, "sys/quotas/rate-limit/g", {{"rate", 3}}).http_status, 204);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(Serve("secret/a"), 200) << i;
  EXPECT_EQ(Serve("secret/a"), 429);
  // Another client has its own bucket.
  EXPECT_EQ(Serve("secret/a", "10.0.0.2"), 200);
  // A third of a second refills one request.
  clock_.Advance(340ms);
  EXPECT_EQ(Serve("secret/a"), 200);
  EXPECT_EQ(Serve("secret/a"), 429);
  // Health is exempt.
  EXPECT_EQ(Serve("sys/health"), 200);
  clock_.Advance(1s);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(Serve("secret/a"), 200) << i;
}

TEST_F(QuotasTest, RefusalNamesThePathAndSaysWhenToRetry) {
  ASSERT_EQ(Call(Operation::kUpdate, "sys/quotas/rate-limit/g", {{"rate", 1}}).http_status, 204);
  std::map<std::string, std::string> headers;
  EXPECT_FALSE(core_->Preflight("secret/a", "127.0.0.1", &headers));
  auto refusal = core_->Preflight("secret/a", "127.0.0.1", &headers);
  ASSERT_TRUE(refusal);
  EXPECT_EQ(refusal->http_status, 429);
  ASSERT_TRUE(refusal->raw);
  EXPECT_EQ((*refusal->raw)["errors"][0], "request path \"secret/a\": rate limit quota exceeded");
  EXPECT_EQ(refusal->headers.at("Retry-After"), "1");
  EXPECT_FALSE(refusal->headers.contains("X-Ratelimit-Limit"));

  ASSERT_EQ(
      Call(Operation::kUpdate, "sys/quotas/config", {{"enable_rate_limit_response_headers", true}})
          .http_status,
      204);
  clock_.Advance(2s);
  headers.clear();
  EXPECT_FALSE(core_->Preflight("secret/a", "127.0.0.1", &headers));
  EXPECT_EQ(headers.at("X-Ratelimit-Limit"), "1");
  EXPECT_EQ(headers.at("X-Ratelimit-Remaining"), "0");
  auto config = Call(Operation::kRead, "sys/quotas/config");
  EXPECT_EQ(config.data["enable_rate_limit_response_headers"], true);
  EXPECT_TRUE(config.data["rate_limit_exempt_paths"].size() >= 3);
}

TEST_F(QuotasTest, MostSpecificQuotaWins) {
  ASSERT_EQ(Call(Operation::kUpdate, "sys/quotas/rate-limit/global", {{"rate", 1}}).http_status,
            204);
  ASSERT_EQ(
      Call(Operation::kUpdate, "sys/quotas/rate-limit/mount", {{"rate", 5}, {"path", "secret/"}})
          .http_status,
      204);
  ASSERT_EQ(
      Call(Operation::kUpdate, "sys/quotas/rate-limit/sub", {{"rate", 2}, {"path", "secret/b/*"}})
          .http_status,
      204);
  // secret/b/c: the glob quota (2).
  EXPECT_EQ(Serve("secret/b/c"), 200);
  EXPECT_EQ(Serve("secret/b/c"), 200);
  EXPECT_EQ(Serve("secret/b/c"), 429);
  // secret/a: the mount quota (5), not the global one (1).
  for (int i = 0; i < 5; ++i) EXPECT_EQ(Serve("secret/a"), 200) << i;
  EXPECT_EQ(Serve("secret/a"), 429);
  // Elsewhere: the global quota.
  EXPECT_EQ(Serve("sys/mounts"), 200);
  EXPECT_EQ(Serve("sys/mounts"), 429);
}

TEST_F(QuotasTest, BlockIntervalKeepsAClientOut) {
  ASSERT_EQ(
      Call(Operation::kUpdate, "sys/quotas/rate-limit/g", {{"rate", 2}, {"block_interval", "10s"}})
          .http_status,
      204);
  EXPECT_EQ(Serve("secret/a"), 200);
  EXPECT_EQ(Serve("secret/a"), 200);
  EXPECT_EQ(Serve("secret/a"), 429);
  clock_.Advance(5s);  // refilled, but still blocked
  EXPECT_EQ(Serve("secret/a"), 429);
  clock_.Advance(6s);
  EXPECT_EQ(Serve("secret/a"), 200);
}

TEST_F(QuotasTest, RoleQuotaLimitsLoginsOfThatRoleOnly) {
  ASSERT_EQ(Call(Operation::kUpdate, "sys/auth/approle", {{"type", "approle"}}).http_status, 204);
  for (std::string role : {"ci", "web"}) {
    ASSERT_EQ(Call(Operation::kUpdate, "auth/approle/role/" + role,
                   {{"bind_secret_id", false}, {"secret_id_bound_cidrs", "127.0.0.0/8"}})
                  .http_status,
              204);
  }
  std::string ci = Call(Operation::kRead, "auth/approle/role/ci/role-id").data["role_id"];
  std::string web = Call(Operation::kRead, "auth/approle/role/web/role-id").data["role_id"];
  ASSERT_EQ(Call(Operation::kUpdate, "sys/quotas/rate-limit/ci",
                 {{"rate", 1}, {"path", "auth/approle"}, {"role", "ci"}})
                .http_status,
            204);
  auto login = [&](const std::string& role_id) {
    return Serve("auth/approle/login", "127.0.0.1", Operation::kUpdate, {{"role_id", role_id}}, "");
  };
  EXPECT_EQ(login(ci), 200);
  EXPECT_EQ(login(ci), 429);
  EXPECT_EQ(login(web), 200);
  EXPECT_EQ(login(web), 200);
}

// A role quota reads the role as the login does: an AppRole role_id sent
// as a JSON number, and a JWT login that names no role (its mount's
// default_role logs it in) are held to that role's quota.
TEST_F(QuotasTest, RoleQuotasReadTheRoleAsTheLoginDoes) {
  ASSERT_EQ(Call(Operation::kUpdate, "sys/auth/approle", {{"type", "approle"}}).http_status, 204);
  ASSERT_EQ(Call(Operation::kUpdate, "auth/approle/role/num",
                 {{"bind_secret_id", false}, {"secret_id_bound_cidrs", "127.0.0.0/8"}})
                .http_status,
            204);
  ASSERT_EQ(Call(Operation::kUpdate, "auth/approle/role/num/role-id", {{"role_id", "424242"}})
                .http_status,
            204);
  ASSERT_EQ(Call(Operation::kUpdate, "sys/quotas/rate-limit/num",
                 {{"rate", 1}, {"path", "auth/approle"}, {"role", "num"}})
                .http_status,
            204);
  auto approle = [&] {
    return Serve("auth/approle/login", "127.0.0.1", Operation::kUpdate, {{"role_id", 424242}}, "");
  };
  EXPECT_EQ(approle(), 200);
  EXPECT_EQ(approle(), 429);

  ASSERT_EQ(Call(Operation::kUpdate, "sys/auth/jwt", {{"type", "jwt"}}).http_status, 204);
  const auth::jwt::testing::Pkey key = auth::jwt::testing::MakeEc();
  ASSERT_EQ(Call(Operation::kUpdate, "auth/jwt/config",
                 {{"jwt_validation_pubkeys", {auth::jwt::testing::PublicPem(key)}},
                  {"default_role", "r"}})
                .http_status,
            204);
  ASSERT_EQ(Call(Operation::kUpdate, "auth/jwt/role/r",
                 {{"role_type", "jwt"}, {"user_claim", "sub"}, {"bound_audiences", {"a"}}})
                .http_status,
            204);
  ASSERT_EQ(Call(Operation::kUpdate, "sys/quotas/rate-limit/r",
                 {{"rate", 1}, {"path", "auth/jwt"}, {"role", "r"}})
                .http_status,
            204);
  auto jwt = [&] {
    return Serve("auth/jwt/login", "127.0.0.1", Operation::kUpdate, {{"jwt", "a.b.c"}}, "");
  };
  EXPECT_EQ(jwt(), 400);  // a bad token, counted by the quota
  EXPECT_EQ(jwt(), 429);
}

// enable_rate_limit_audit_logging: a refused request gets a request entry
// (no response entry) with the refusal as its error, as in Vault; off (the
// default), nothing.
TEST_F(QuotasTest, AuditLoggingWritesRefusedRequests) {
  const std::string log = EnableFileAudit();
  ASSERT_EQ(Call(Operation::kUpdate, "sys/quotas/rate-limit/g", {{"rate", 1}, {"path", "secret/"}})
                .http_status,
            204);
  EXPECT_EQ(Serve("secret/a"), 200);
  EXPECT_EQ(Serve("secret/a"), 429);  // refused-1, not logged
  ASSERT_EQ(
      Call(Operation::kUpdate, "sys/quotas/config", {{"enable_rate_limit_audit_logging", true}})
          .http_status,
      204);
  EXPECT_EQ(Call(Operation::kRead, "sys/quotas/config").data["enable_rate_limit_audit_logging"],
            true);
  EXPECT_EQ(Serve("secret/a", "127.0.0.9", Operation::kDelete), 204);
  EXPECT_EQ(Serve("secret/a", "127.0.0.9", Operation::kDelete), 429);  // refused-2
  std::vector<Json> entries = RateLimitedEntries(log, 1);
  ASSERT_EQ(entries.size(), 1u);
  const Json& e = entries[0];
  EXPECT_EQ(e["type"], "request");
  EXPECT_EQ(e["error"], "request path \"secret/a\": rate limit quota exceeded");
  EXPECT_EQ(e["request"]["id"], "refused-2");
  EXPECT_EQ(e["request"]["path"], "secret/a");
  EXPECT_EQ(e["request"]["operation"], "delete");
  EXPECT_EQ(e["request"]["remote_address"], "127.0.0.9");
  EXPECT_EQ(e["request"]["mount_type"], "kv");
}

// The refused requests' entries wait for the pool; past
// Core::kMaxQueuedRefusalAudits waiting, the next ones are dropped and
// counted, the requests still refused. The fixture's pool has one worker,
// held here by a write's answer until every refusal is in.
TEST_F(QuotasTest, AuditLoggingDropsEntriesPastTheQueueCap) {
  const std::string log = EnableFileAudit();
  QuotaWithAuditLogging("g", {{"rate", 1}, {"interval", "1h"}, {"path", "secret/"}});
  EXPECT_EQ(Serve("secret/a"), 200);

  std::promise<void> entered;
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::promise<int> held_status;
  logical::Request held;
  held.id = "held";
  held.operation = Operation::kUpdate;
  held.path = "secret/held";
  held.client_token = root_;
  held.data = Json{{"v", "1"}};
  core_->Handle(std::move(held), [&](logical::Response r) {
    entered.set_value();
    released.wait();
    held_status.set_value(r.http_status);
  });
  ASSERT_EQ(entered.get_future().wait_for(10s), std::future_status::ready);

  metrics::Telemetry& telemetry = metrics::Telemetry::Global();
  const std::uint64_t dropped_before = telemetry.RateLimitedAuditsDropped();
  constexpr int kOver = 5;
  for (int i = 0; i < Core::kMaxQueuedRefusalAudits + kOver; ++i) {
    ASSERT_EQ(Serve("secret/a"), 429);
  }
  EXPECT_EQ(telemetry.RateLimitedAuditsDropped() - dropped_before, std::uint64_t{kOver});
  // Nothing was written while the worker was held.
  EXPECT_TRUE(RateLimitedEntries(log, 1, 0ms).empty());

  release.set_value();
  EXPECT_EQ(held_status.get_future().get(), 204);
  ASSERT_EQ(RateLimitedEntries(log, Core::kMaxQueuedRefusalAudits).size(),
            std::size_t{Core::kMaxQueuedRefusalAudits});
  // ... and no more come.
  EXPECT_EQ(RateLimitedEntries(log, Core::kMaxQueuedRefusalAudits + 1, 300ms).size(),
            std::size_t{Core::kMaxQueuedRefusalAudits});
  // The queue empties: the next refusal is logged again.
  ASSERT_EQ(Serve("secret/a"), 429);
  EXPECT_EQ(RateLimitedEntries(log, Core::kMaxQueuedRefusalAudits + 1).size(),
            std::size_t{Core::kMaxQueuedRefusalAudits} + 1);
}

// A login refused by a role quota is logged where the body is known: its
// secrets hashed like any request's.
TEST_F(QuotasTest, AuditLoggingWritesRefusedLoginsWithTheirDataHashed) {
  const std::string log = EnableFileAudit();
  ASSERT_EQ(Call(Operation::kUpdate, "sys/auth/approle", {{"type", "approle"}}).http_status, 204);
  ASSERT_EQ(Call(Operation::kUpdate, "auth/approle/role/ci", {{"token_ttl", "1h"}}).http_status,
            204);
  std::string role_id = Call(Operation::kRead, "auth/approle/role/ci/role-id").data["role_id"];
  std::string secret_id =
      Call(Operation::kUpdate, "auth/approle/role/ci/secret-id").data["secret_id"];
  ASSERT_FALSE(secret_id.empty());
  QuotaWithAuditLogging("ci", {{"rate", 1}, {"path", "auth/approle"}, {"role", "ci"}});
  const Json body = {{"role_id", role_id}, {"secret_id", secret_id}};
  EXPECT_EQ(Serve("auth/approle/login", "127.0.0.1", Operation::kUpdate, body, ""), 200);
  EXPECT_EQ(Serve("auth/approle/login", "127.0.0.1", Operation::kUpdate, body, ""), 429);
  std::vector<Json> entries = RateLimitedEntries(log, 1);
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0]["request"]["path"], "auth/approle/login");
  const std::string hashed = entries[0]["request"]["data"]["secret_id"];
  EXPECT_TRUE(hashed.starts_with("hmac-sha256:")) << hashed;
  std::ifstream in(log);
  const std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(all.find(secret_id), std::string::npos);
}

TEST_F(QuotasTest, QuotasSurviveSealAndUnseal) {
  ASSERT_EQ(Call(Operation::kUpdate, "sys/quotas/rate-limit/g", {{"rate", 1}}).http_status, 204);
  ASSERT_TRUE(core_->Seal().ok());
  EXPECT_FALSE(core_->WantsPreflight());
  ASSERT_TRUE(core_->Unseal(key_).has_value());
  EXPECT_TRUE(core_->WantsPreflight());
  EXPECT_EQ(Serve("secret/a"), 200);
  EXPECT_EQ(Serve("secret/a"), 429);
}

}  // namespace
}  // namespace coffer::core
