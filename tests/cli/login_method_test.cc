// `coffer login -method=userpass|approle`: request shapes, secrets from
// stdin, the stored token, and refusals.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "cli/cli_test_util.h"

namespace coffer::cli {
namespace {

using cli_testing::FakeServer;
using cli_testing::Outcome;
using cli_testing::Routes;
using cli_testing::RunCli;
using ::testing::HasSubstr;
using ::testing::Not;
using json = nlohmann::json;

constexpr char kLoginToken[] = "hvs.LOGIN-CANARY-77";
const std::string kLogin =
    std::string(R"({"request_id":"r","lease_id":"","lease_duration":0,"renewable":false,)") +
    R"("data":null,"auth":{"client_token":")" + kLoginToken +
    R"(","accessor":"a1","policies":["default","dev"],"token_policies":["default","dev"],)"
    R"("metadata":{"username":"alice"},"lease_duration":3600,"renewable":true}})";

class LoginMethodTest : public ::testing::Test {
 protected:
  void SetUp() override {
    home_ = std::filesystem::temp_directory_path() /
            ("coffer-login-method-" + std::to_string(getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(home_);
    std::filesystem::create_directories(home_);
  }
  void TearDown() override { std::filesystem::remove_all(home_); }
  std::string Stored() {
    std::ifstream f(home_ / ".coffer-token");
    return std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  }
  std::filesystem::path home_;
};

TEST_F(LoginMethodTest, UserpassReadsThePasswordFromStdin) {
  FakeServer server(Routes({{"POST /v1/auth/userpass/login/alice", {200, kLogin}}}));
  Outcome o = RunCli({"login", "-method=userpass", "username=alice"},
                     {{"COFFER_ADDR", server.address()}, {"HOME", home_}}, "pass-CANARY\n");
  EXPECT_EQ(o.code, 0) << o.err;
  EXPECT_EQ(json::parse(server.requests().back().body), json({{"password", "pass-CANARY"}}));
  EXPECT_EQ(Stored(), kLoginToken);
  EXPECT_THAT(o.out, HasSubstr("Success! You are now authenticated."));
  EXPECT_THAT(o.out, HasSubstr("token_meta_username"));
  EXPECT_THAT(o.out + o.err, Not(HasSubstr("pass-CANARY")));
}

TEST_F(LoginMethodTest, ApproleWithPathAndSecretOnTheCommandLine) {
  FakeServer server(Routes({{"POST /v1/auth/machines/login", {200, kLogin}}}));
  Outcome o = RunCli({"login", "-method=approle", "-path=machines", "role_id=r-1",
                      "secret_id=s-CANARY", "-no-store", "-field=token"},
                     {{"COFFER_ADDR", server.address()}, {"HOME", home_}}, "");
  EXPECT_EQ(o.code, 0) << o.err;
  EXPECT_EQ(o.out, kLoginToken);
  EXPECT_EQ(json::parse(server.requests().back().body),
            json({{"role_id", "r-1"}, {"secret_id", "s-CANARY"}}));
  EXPECT_FALSE(std::filesystem::exists(home_ / ".coffer-token"));
}

TEST_F(LoginMethodTest, RefusedLoginStoresNothingAndNeverEchoesTheSecret) {
  FakeServer server(Routes({{"POST /v1/auth/userpass/login/alice",
                             {400, R"({"errors":["invalid username or password"]})"}}}));
  Outcome o = RunCli({"login", "-method=userpass", "username=alice", "password=-"},
                     {{"COFFER_ADDR", server.address()}, {"HOME", home_}}, "wrong-CANARY");
  EXPECT_EQ(o.code, 2);
  EXPECT_THAT(o.err, HasSubstr("invalid username or password"));
  EXPECT_THAT(o.out + o.err, Not(HasSubstr("wrong-CANARY")));
  EXPECT_FALSE(std::filesystem::exists(home_ / ".coffer-token"));
}

TEST_F(LoginMethodTest, UsageErrors) {
  FakeServer server(Routes({}));
  std::map<std::string, std::string> env{{"COFFER_ADDR", server.address()}, {"HOME", home_}};
  EXPECT_EQ(RunCli({"login", "-method=ldap"}, env, "").code, 1);
  EXPECT_EQ(RunCli({"login", "-method=userpass", "password=x"}, env, "").code, 1);
  EXPECT_EQ(RunCli({"login", "-method=approle", "role_id"}, env, "").code, 1);
  EXPECT_TRUE(server.requests().empty());
}

}  // namespace
}  // namespace coffer::cli
