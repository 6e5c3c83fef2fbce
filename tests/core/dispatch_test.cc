// Which thread answers a request: Core::Handle gives some answers on the
// calling (I/O) thread and hands the rest to the worker pool.

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <future>
#include <string>
#include <thread>

#include "core_fixture.h"

namespace coffer::core {
namespace {

class DispatchTest : public CoreFixture {
 protected:
  // Runs one request through Handle(); true when its answer was given on
  // this thread (before Handle returned), false when a worker gave it.
  bool AnsweredInline(logical::Operation op, const std::string& path,
                      logical::Json body = logical::Json::object(), int* status = nullptr) {
    logical::Request r;
    r.id = "req";
    r.operation = op;
    r.path = path;
    r.data = std::move(body);
    r.client_token = root_;
    r.remote_address = "127.0.0.1";
    std::promise<std::pair<std::thread::id, int>> answered;
    auto answer = answered.get_future();
    core_->Handle(std::move(r), [&answered](logical::Response response) {
      answered.set_value({std::this_thread::get_id(), response.http_status});
    });
    auto [thread, code] = answer.get();
    if (status != nullptr) *status = code;
    return thread == std::this_thread::get_id();
  }
};

TEST_F(DispatchTest, InMemoryTokenKvAndAppRoleRequestsRunOnTheCallingThread) {
  int status = 0;
  EXPECT_TRUE(AnsweredInline(logical::Operation::kUpdate, "auth/token/create",
                             {{"policies", {"default"}}, {"ttl", "1h"}}, &status));
  EXPECT_EQ(status, 200);
  // Revoking (a whole subtree) and tidying go to the pool.
  auto child = Call(logical::Operation::kUpdate, "auth/token/create", {{"policies", {"default"}}});
  ASSERT_EQ(child.http_status, 200);
  EXPECT_FALSE(AnsweredInline(logical::Operation::kUpdate, "auth/token/revoke",
                              {{"token", child.auth["client_token"]}}, &status));
  EXPECT_EQ(status, 204);
  EXPECT_FALSE(AnsweredInline(logical::Operation::kUpdate, "auth/token/tidy", {}, &status));
  ASSERT_EQ(Call(logical::Operation::kUpdate, "sys/mounts/kv",
                 {{"type", "kv"}, {"options", {{"version", "2"}}}})
                .http_status,
            204);
  EXPECT_TRUE(AnsweredInline(logical::Operation::kUpdate, "kv/data/app",
                             {{"data", {{"user", "x"}}}}, &status));
  EXPECT_EQ(status, 200);
  ASSERT_EQ(
      Call(logical::Operation::kUpdate, "sys/auth/approle", {{"type", "approle"}}).http_status,
      204);
  EXPECT_TRUE(AnsweredInline(logical::Operation::kUpdate, "auth/approle/role/ci",
                             {{"token_policies", {"default"}}}, &status));
  EXPECT_EQ(status, 204);
  // Mount management is not among them: it goes to the pool.
  EXPECT_FALSE(
      AnsweredInline(logical::Operation::kUpdate, "sys/mounts/other", {{"type", "kv"}}, &status));
  EXPECT_EQ(status, 204);
}

TEST_F(DispatchTest, WithAnAuditDeviceTokenCreatesGoToThePool) {
  const std::string dir =
      (std::filesystem::temp_directory_path() / ("coffer-dispatch-" + std::to_string(getpid())))
          .string();
  std::filesystem::create_directories(dir);
  ASSERT_EQ(Call(logical::Operation::kUpdate, "sys/audit/file",
                 {{"type", "file"}, {"options", {{"file_path", dir + "/audit.log"}}}})
                .http_status,
            204);
  int status = 0;
  EXPECT_FALSE(AnsweredInline(logical::Operation::kUpdate, "auth/token/create",
                              {{"policies", {"default"}}}, &status));
  EXPECT_EQ(status, 200);
  ASSERT_EQ(Call(logical::Operation::kDelete, "sys/audit/file").http_status, 204);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace coffer::core
