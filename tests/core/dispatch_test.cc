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

  // Enables a file audit device writing into a new directory, returned.
  std::string EnableFileAudit(const std::string& prefix) {
    const std::string dir =
        (std::filesystem::temp_directory_path() / (prefix + std::to_string(getpid()))).string();
    std::filesystem::create_directories(dir);
    EXPECT_EQ(Call(logical::Operation::kUpdate, "sys/audit/file",
                   {{"type", "file"}, {"options", {{"file_path", dir + "/audit.log"}}}})
                  .http_status,
              204);
    return dir;
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

// Transit answers a single item with a key in memory on the calling
// thread; a batch or an RSA key's operation goes to the pool, whose work
// would otherwise hold a network thread for as long as it takes.
TEST_F(DispatchTest, TransitBatchesAndRsaKeysGoToThePool) {
  ASSERT_EQ(
      Call(logical::Operation::kUpdate, "sys/mounts/transit", {{"type", "transit"}}).http_status,
      204);
  ASSERT_EQ(Call(logical::Operation::kUpdate, "transit/keys/aes", {}).http_status, 200);
  ASSERT_EQ(
      Call(logical::Operation::kUpdate, "transit/keys/rsa", {{"type", "rsa-2048"}}).http_status,
      200);
  const logical::Json item{{"plaintext", "aGk="}};
  ASSERT_EQ(Call(logical::Operation::kUpdate, "transit/encrypt/aes", item).http_status, 200);
  ASSERT_EQ(Call(logical::Operation::kUpdate, "transit/sign/rsa", {{"input", "aGk="}}).http_status,
            200);
  int status = 0;
  EXPECT_TRUE(AnsweredInline(logical::Operation::kUpdate, "transit/encrypt/aes", item, &status));
  EXPECT_EQ(status, 200);
  EXPECT_FALSE(AnsweredInline(logical::Operation::kUpdate, "transit/encrypt/aes",
                              {{"batch_input", {item, item}}}, &status));
  EXPECT_EQ(status, 200);
  EXPECT_FALSE(AnsweredInline(logical::Operation::kUpdate, "transit/sign/rsa", {{"input", "aGk="}},
                              &status));
  EXPECT_EQ(status, 200);
}

TEST_F(DispatchTest, WithAnAuditDeviceTokenCreatesGoToThePool) {
  const std::string dir = EnableFileAudit("coffer-dispatch-");
  int status = 0;
  EXPECT_FALSE(AnsweredInline(logical::Operation::kUpdate, "auth/token/create",
                              {{"policies", {"default"}}}, &status));
  EXPECT_EQ(status, 200);
  ASSERT_EQ(Call(logical::Operation::kDelete, "sys/audit/file").http_status, 204);
  std::filesystem::remove_all(dir);
}

// A token's auth block comes as text only to the HTTP layer
// (Request::answer_on_wire), and then not when wrapped or audited; callers
// in the process always get the tree.
TEST_F(DispatchTest, AuthBlockComesAsTextOnlyOnTheWire) {
  auto create = [&](bool on_wire, const std::string& wrap_ttl) {
    logical::Request r;
    r.id = "req";
    r.operation = logical::Operation::kUpdate;
    r.path = "auth/token/create";
    r.data = {{"policies", {"default"}}, {"ttl", "1h"}};
    r.client_token = root_;
    r.remote_address = "127.0.0.1";
    r.answer_on_wire = on_wire;
    r.wrap_ttl = wrap_ttl;
    return core_->HandleRequest(r);
  };
  auto in_process = create(false, "");
  ASSERT_EQ(in_process.http_status, 200);
  EXPECT_TRUE(in_process.auth.is_object());
  EXPECT_TRUE(in_process.auth_text.empty());

  auto on_wire = create(true, "");
  ASSERT_EQ(on_wire.http_status, 200);
  EXPECT_TRUE(on_wire.auth.is_null());
  logical::Json auth = logical::Json::parse(on_wire.auth_text);
  const std::string token = auth["client_token"];
  auto self = Call(logical::Operation::kRead, "auth/token/lookup-self", {}, token);
  ASSERT_EQ(self.http_status, 200);
  EXPECT_EQ(self.data["accessor"], auth["accessor"]);

  // Wrapped: the wrapper gets the tree, and unwrapping gives the block.
  auto wrapped = create(true, "5m");
  ASSERT_EQ(wrapped.http_status, 200);
  EXPECT_TRUE(wrapped.auth.is_null());
  EXPECT_TRUE(wrapped.auth_text.empty());
  ASSERT_TRUE(wrapped.wrap_info.is_object());
  auto unwrapped = Call(logical::Operation::kUpdate, "sys/wrapping/unwrap", {},
                        wrapped.wrap_info["token"].get<std::string>());
  ASSERT_EQ(unwrapped.http_status, 200);
  const std::string inner = unwrapped.auth["client_token"];
  EXPECT_EQ(Call(logical::Operation::kRead, "auth/token/lookup-self", {}, inner).http_status, 200);

  // Audited: the tree.
  const std::string dir = EnableFileAudit("coffer-authtext-");
  auto audited = create(true, "");
  ASSERT_EQ(audited.http_status, 200);
  EXPECT_TRUE(audited.auth.is_object());
  EXPECT_TRUE(audited.auth_text.empty());
  ASSERT_EQ(Call(logical::Operation::kDelete, "sys/audit/file").http_status, 204);
  std::filesystem::remove_all(dir);
}

// As Vault's envelope: the built-in mounts answer with their own type.
TEST_F(DispatchTest, TheEnvelopeNamesTheBuiltInMountThatAnswered) {
  using logical::Operation;
  EXPECT_EQ(Call(Operation::kRead, "sys/mounts").mount_type, "system");
  EXPECT_EQ(Call(Operation::kRead, "auth/token/lookup-self").mount_type, "token");
  ASSERT_EQ(Call(Operation::kUpdate, "cubbyhole/x", {{"v", "1"}}).http_status, 204);
  EXPECT_EQ(Call(Operation::kRead, "cubbyhole/x").mount_type, "cubbyhole");
  EXPECT_EQ(Call(Operation::kUpdate, "identity/entity", {{"name", "e"}}).mount_type, "identity");
  ASSERT_EQ(Call(Operation::kUpdate, "sys/mounts/kv1", {{"type", "kv"}}).http_status, 204);
  ASSERT_EQ(Call(Operation::kUpdate, "kv1/a", {{"v", "1"}}).http_status, 204);
  EXPECT_EQ(Call(Operation::kRead, "kv1/a").mount_type, "kv");
}

}  // namespace
}  // namespace coffer::core
