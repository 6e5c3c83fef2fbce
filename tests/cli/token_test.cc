// `coffer token ...` and `coffer login`: requests, output, token file.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
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
using cli_testing::Vars;
using ::testing::HasSubstr;
using ::testing::Not;
using json = nlohmann::json;

constexpr char kNewToken[] = "s.NEW-CANARY-9f2";

const std::string kCreated =
    std::string(R"({"request_id":"r","lease_id":"","lease_duration":0,"renewable":false,)") +
    R"("data":null,"wrap_info":null,"warnings":null,"auth":{"client_token":")" + kNewToken +
    R"(","accessor":"acc1","policies":["default","app"],"token_policies":["default","app"],)"
    R"("metadata":{"team":"ops"},"lease_duration":3600,"renewable":true}})";

// The client token of these tests, the parent of the tokens they create.
constexpr char kParent[] = "s.parent";

TEST(TokenCreateTest, BodyPathAndAuthTable) {
  FakeServer server(Routes({{"POST /v1/auth/token/create", {200, kCreated}},
                            {"POST /v1/auth/token/create-orphan", {200, kCreated}},
                            {"POST /v1/auth/token/create/ci", {200, kCreated}}}));
  Outcome o = RunCli({"token", "create", "-policy=app,db", "-policy=x", "-ttl=1h",
                      "-explicit-max-ttl=2h", "-period=30m", "-no-default-policy", "-use-limit=3",
                      "-display-name=ci", "-metadata=team=ops"},
                     Vars(server, kParent));
  EXPECT_EQ(o.code, 0) << o.err;
  EXPECT_EQ(json::parse(server.requests().back().body),
            json::parse(R"({"policies":["app","db","x"],"meta":{"team":"ops"},"ttl":"1h",)"
                        R"("explicit_max_ttl":"2h","period":"30m","display_name":"ci",)"
                        R"("num_uses":3,"no_default_policy":true})"));
  EXPECT_EQ(o.out, std::string("Key                  Value\n"
                               "---                  -----\n"
                               "token                ") +
                       kNewToken +
                       "\n"
                       "token_accessor       acc1\n"
                       "token_duration       1h\n"
                       "token_renewable      true\n"
                       "token_policies       [\"default\" \"app\"]\n"
                       "identity_policies    []\n"
                       "policies             [\"default\" \"app\"]\n"
                       "token_meta_team      ops\n");
  // -orphan is Vault's no_parent on create (which takes sudo there), not a
  // request to create-orphan; with -role it goes to create/ROLE.
  RunCli({"token", "create", "-orphan"}, Vars(server, kParent));
  EXPECT_EQ(server.requests().back().target, "/v1/auth/token/create");
  EXPECT_EQ(json::parse(server.requests().back().body), json::parse(R"({"no_parent":true})"));
  RunCli({"token", "create", "-orphan", "-role=ci"}, Vars(server, kParent));
  EXPECT_EQ(server.requests().back().target, "/v1/auth/token/create/ci");
  EXPECT_EQ(json::parse(server.requests().back().body), json::parse(R"({"no_parent":true})"));
  Outcome f = RunCli({"token", "create", "-role=ci", "-field=token"}, Vars(server, kParent));
  EXPECT_EQ(server.requests().back().target, "/v1/auth/token/create/ci");
  EXPECT_EQ(f.out, kNewToken);
  RunCli({"token", "create", "-role=ci", "-entity-alias=svc-a"}, Vars(server, kParent));
  EXPECT_EQ(server.requests().back().target, "/v1/auth/token/create/ci");
  EXPECT_EQ(json::parse(server.requests().back().body), json::parse(R"({"entity_alias":"svc-a"})"));
}

TEST(TokenCreateTest, WrapTtlHeaderAndWrapInfoTable) {
  FakeServer server(Routes(
      {{"POST /v1/auth/token/create",
        {200,
         R"({"wrap_info":{"token":"s.wrap","accessor":"wacc","ttl":300,)"
         R"("creation_time":"2024-05-09T14:22:03.500000000Z","creation_path":"auth/token/create"}})"}}}));
  Outcome o = RunCli({"token", "create", "-wrap-ttl=5m"}, Vars(server, kParent));
  EXPECT_EQ(o.code, 0) << o.err;
  EXPECT_EQ(server.requests().back().headers["x-vault-wrap-ttl"], "5m");
  EXPECT_EQ(o.out,
            "Key                              Value\n"
            "---                              -----\n"
            "wrapping_token:                  s.wrap\n"
            "wrapping_accessor:               wacc\n"
            "wrapping_token_ttl:              5m\n"
            "wrapping_token_creation_time:    2024-05-09 14:22:03.5 +0000 UTC\n"
            "wrapping_token_creation_path:    auth/token/create\n");
  EXPECT_EQ(RunCli({"token", "create", "-wrap-ttl=soon"}, Vars(server, kParent)).code, 1);
  // Without the flag, the variable (Vault's, or Coffer's first); the flag wins.
  for (const char* var : {"VAULT_WRAP_TTL", "COFFER_WRAP_TTL"}) {
    auto vars = Vars(server, kParent);
    vars[var] = "2m";
    Outcome env = RunCli({"token", "create"}, vars);
    EXPECT_EQ(env.code, 0) << var << ": " << env.err;
    EXPECT_EQ(server.requests().back().headers["x-vault-wrap-ttl"], "2m") << var;
    RunCli({"token", "create", "-wrap-ttl=7m"}, vars);
    EXPECT_EQ(server.requests().back().headers["x-vault-wrap-ttl"], "7m") << var;
    vars[var] = "soon";
    Outcome bad = RunCli({"token", "create"}, vars);
    EXPECT_EQ(bad.code, 1) << var;
    EXPECT_NE(bad.err.find(var), std::string::npos) << bad.err;
  }
}

// As Vault: -field prints the value alone on stdout, and in table format the
// answer's warnings on stderr.
TEST(TokenCreateTest, FieldKeepsTheWarnings) {
  FakeServer server(Routes({{"POST /v1/auth/token/create",
                             {200, R"({"auth":{"client_token":"s.new"},)"
                                   R"("warnings":["Policy \"nope\" does not exist"]})"}}}));
  Outcome o = RunCli({"token", "create", "-policy=nope", "-field=token"}, Vars(server, kParent));
  EXPECT_EQ(o.code, 0) << o.err;
  EXPECT_EQ(o.out, "s.new");
  EXPECT_EQ(o.err,
            "WARNING! The following warnings were returned from Vault:\n\n"
            "  * Policy \"nope\" does not exist\n\n");
  Outcome json_out = RunCli({"token", "create", "-policy=nope", "-field=token", "-format=json"},
                            Vars(server, kParent));
  EXPECT_EQ(json_out.err, "");
}

TEST(TokenLookupTest, SelfTokenAndAccessor) {
  const char* kLookup = R"({"data":{"accessor":"acc1","policies":["root"],"ttl":0,"period":3600}})";
  FakeServer server(Routes({{"GET /v1/auth/token/lookup-self", {200, kLookup}},
                            {"POST /v1/auth/token/lookup", {200, kLookup}},
                            {"POST /v1/auth/token/lookup-accessor", {200, kLookup}}}));
  Outcome self = RunCli({"token", "lookup"}, Vars(server, kParent));
  EXPECT_EQ(self.code, 0) << self.err;
  EXPECT_THAT(self.out, HasSubstr("period      1h\n"));
  EXPECT_THAT(self.out, HasSubstr("policies    [root]\n"));
  EXPECT_THAT(self.out, HasSubstr("ttl         0s\n"));
  RunCli({"token", "lookup", "-"}, Vars(server, kParent), std::string(kNewToken) + "\n");
  EXPECT_EQ(server.requests().back().target, "/v1/auth/token/lookup");
  EXPECT_EQ(json::parse(server.requests().back().body), json({{"token", kNewToken}}));
  RunCli({"token", "lookup", "-accessor", "acc1"}, Vars(server, kParent));
  EXPECT_EQ(json::parse(server.requests().back().body), json({{"accessor", "acc1"}}));
}

TEST(TokenRenewRevokeTest, RequestsAndValidation) {
  FakeServer server(Routes({{"PUT /v1/auth/token/renew-self", {200, kCreated}},
                            {"PUT /v1/auth/token/renew", {200, kCreated}},
                            {"PUT /v1/auth/token/revoke", {204, ""}},
                            {"PUT /v1/auth/token/revoke-self", {204, ""}},
                            {"PUT /v1/auth/token/revoke-orphan", {204, ""}},
                            {"PUT /v1/auth/token/revoke-accessor", {204, ""}},
                            {"PUT /v1/sys/leases/revoke-prefix/auth/github", {204, ""}}}));
  EXPECT_EQ(RunCli({"token", "renew", "-increment=1h"}, Vars(server, kParent)).code, 0);
  EXPECT_EQ(json::parse(server.requests().back().body), json({{"increment", 3600}}));
  RunCli({"token", "renew", "-"}, Vars(server, kParent), kNewToken);
  EXPECT_EQ(json::parse(server.requests().back().body), json({{"token", kNewToken}}));
  Outcome r = RunCli({"token", "revoke", "-"}, Vars(server, kParent), kNewToken);
  EXPECT_EQ(r.out, "Success! Revoked token (if it existed)\n");
  EXPECT_EQ(server.requests().back().target, "/v1/auth/token/revoke");
  RunCli({"token", "revoke", "-self"}, Vars(server, kParent));
  EXPECT_EQ(server.requests().back().target, "/v1/auth/token/revoke-self");
  RunCli({"token", "revoke", "-mode=orphan", "-"}, Vars(server, kParent), kNewToken);
  EXPECT_EQ(server.requests().back().target, "/v1/auth/token/revoke-orphan");
  RunCli({"token", "revoke", "-accessor", "acc1"}, Vars(server, kParent));
  EXPECT_EQ(json::parse(server.requests().back().body), json({{"accessor", "acc1"}}));
  RunCli({"token", "revoke", "-mode=path", "auth/github"}, Vars(server, kParent));
  EXPECT_EQ(server.requests().back().target, "/v1/sys/leases/revoke-prefix/auth/github");
  EXPECT_EQ(RunCli({"token", "revoke"}, Vars(server, kParent)).code, 1);
  EXPECT_EQ(RunCli({"token", "revoke", "-self", "x"}, Vars(server, kParent)).code, 1);
  EXPECT_EQ(
      RunCli({"token", "revoke", "-accessor", "-mode=orphan", "a"}, Vars(server, kParent)).code, 1);
}

TEST(TokenErrorTest, TokenNeverEchoedInErrors) {
  FakeServer server(
      Routes({{"POST /v1/auth/token/lookup",
               {403, std::string(R"({"errors":["bad token )") + kNewToken + "\"]}"}}}));
  Outcome o = RunCli({"token", "lookup", "-"}, Vars(server, kParent), kNewToken);
  EXPECT_EQ(o.code, 2);
  EXPECT_THAT(o.err, HasSubstr("<redacted>"));
  EXPECT_THAT(o.out + o.err, Not(HasSubstr(kNewToken)));
}

TEST(TokenCapabilitiesTest, SelfAndOther) {
  FakeServer server(
      Routes({{"POST /v1/sys/capabilities-self",
               {200, R"({"capabilities":["update","read"],"secret/x":["update","read"]})"}},
              {"POST /v1/sys/capabilities", {200, R"({"data":{"secret/x":["deny"]}})"}}}));
  Outcome o = RunCli({"token", "capabilities", "secret/x"}, Vars(server, kParent));
  EXPECT_EQ(o.code, 0) << o.err;
  EXPECT_EQ(o.out, "read, update\n");
  EXPECT_EQ(json::parse(server.requests().back().body), json::parse(R"({"paths":["secret/x"]})"));
  Outcome t = RunCli({"token", "capabilities", "-", "secret/x"}, Vars(server, kParent), kNewToken);
  EXPECT_EQ(t.out, "deny\n");
  EXPECT_EQ(json::parse(server.requests().back().body)["token"], kNewToken);
}

class LoginTest : public ::testing::Test {
 protected:
  void SetUp() override {
    home_ = std::filesystem::temp_directory_path() /
            ("coffer-login-" + std::to_string(getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(home_);
    std::filesystem::create_directories(home_);
  }
  void TearDown() override { std::filesystem::remove_all(home_); }
  std::filesystem::path home_;
};

TEST_F(LoginTest, VerifiesWithNewTokenAndStores0600) {
  FakeServer server(Routes(
      {{"GET /v1/auth/token/lookup-self",
        {200, R"({"data":{"accessor":"acc9","policies":["root"],"ttl":0,"renewable":false}})"}}}));
  std::ofstream(home_ / ".coffer-token") << "s.old";
  ::umask(0);  // the file must still be 0600
  Outcome o = RunCli({"login", "-"}, {{"COFFER_ADDR", server.address()}, {"HOME", home_}},
                     std::string(kNewToken) + "\n");
  ::umask(022);
  EXPECT_EQ(o.code, 0) << o.err;
  EXPECT_EQ(server.requests().back().token, kNewToken);
  struct stat st;
  ASSERT_EQ(stat((home_ / ".coffer-token").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  std::ifstream f(home_ / ".coffer-token");
  std::string stored((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  EXPECT_EQ(stored, kNewToken);
  EXPECT_THAT(o.out, HasSubstr("Success! You are now authenticated."));
  EXPECT_THAT(o.out, HasSubstr("token_duration       ∞\n"));
  int files = 0;
  for (auto& e : std::filesystem::directory_iterator(home_)) files += e.is_regular_file();
  EXPECT_EQ(files, 1);  // no temporary file left behind
}

TEST_F(LoginTest, NoStoreAndRejectedToken) {
  FakeServer ok(Routes({{"GET /v1/auth/token/lookup-self", {200, R"({"data":{"ttl":60}})"}}}));
  Outcome n = RunCli({"login", "-no-store", "-field=token", "-"},
                     {{"COFFER_ADDR", ok.address()}, {"HOME", home_}}, kNewToken);
  EXPECT_EQ(n.code, 0) << n.err;
  EXPECT_EQ(n.out, kNewToken);
  EXPECT_FALSE(std::filesystem::exists(home_ / ".coffer-token"));

  FakeServer denied(
      Routes({{"GET /v1/auth/token/lookup-self", {403, R"({"errors":["permission denied"]})"}}}));
  Outcome d =
      RunCli({"login", "-"}, {{"COFFER_ADDR", denied.address()}, {"HOME", home_}}, kNewToken);
  EXPECT_EQ(d.code, 2);
  EXPECT_THAT(d.err, HasSubstr("Error authenticating: "));
  EXPECT_FALSE(std::filesystem::exists(home_ / ".coffer-token"));
  EXPECT_EQ(RunCli({"login"}, {{"COFFER_ADDR", denied.address()}, {"HOME", home_}}, "\n").code, 1);
}

TEST_F(LoginTest, TokenOnlyNoPrintAndTokenEquals) {
  FakeServer server(Routes({{"GET /v1/auth/token/lookup-self", {200, R"({"data":{"ttl":60}})"}}}));
  const std::map<std::string, std::string> vars = {{"COFFER_ADDR", server.address()},
                                                   {"HOME", home_}};
  Outcome only = RunCli({"login", "-token-only", "-"}, vars, kNewToken);
  EXPECT_EQ(only.code, 0) << only.err;
  EXPECT_EQ(only.out, kNewToken);
  EXPECT_FALSE(std::filesystem::exists(home_ / ".coffer-token"));

  Outcome quiet = RunCli({"login", "-no-print", "-"}, vars, kNewToken);
  EXPECT_EQ(quiet.code, 0) << quiet.err;
  EXPECT_EQ(quiet.out, "");
  EXPECT_TRUE(std::filesystem::exists(home_ / ".coffer-token"));

  Outcome both = RunCli({"login", "-no-print", "-no-store", "-"}, vars, kNewToken);
  EXPECT_EQ(both.code, 1);
  EXPECT_EQ(both.err, "-no-store and -no-print cannot be used together\n");
  EXPECT_EQ(RunCli({"login", "-no-print", "-token-only", "-"}, vars, kNewToken).code, 1);

  // token=TOKEN is the token method's configuration form (here from stdin).
  Outcome equals = RunCli({"login", "-token-only", "token=-"}, vars, kNewToken);
  EXPECT_EQ(equals.code, 0) << equals.err;
  EXPECT_EQ(equals.out, kNewToken);
  EXPECT_EQ(server.requests().back().token, kNewToken);
  Outcome literal = RunCli({"login", "-no-store", "token=s.test-login-token"}, vars);
  EXPECT_EQ(literal.code, 0) << literal.err;
  EXPECT_EQ(server.requests().back().token, "s.test-login-token");
  // lookup=false, as in Vault: the token is taken without asking the server.
  const std::size_t asked = server.requests().size();
  Outcome trusted = RunCli({"login", "-token-only", "-", "lookup=false"}, vars, kNewToken);
  EXPECT_EQ(trusted.code, 0) << trusted.err;
  EXPECT_EQ(trusted.out, kNewToken);
  EXPECT_EQ(server.requests().size(), asked);
  Outcome stored = RunCli({"login", "lookup=f", "token=-"}, vars, kNewToken);
  EXPECT_EQ(stored.code, 0) << stored.err;
  EXPECT_EQ(server.requests().size(), asked);
  EXPECT_TRUE(std::filesystem::exists(home_ / ".coffer-token"));
  EXPECT_EQ(RunCli({"login", "lookup=maybe", "-"}, vars, kNewToken).code, 1);
  EXPECT_EQ(RunCli({"login", "other=x", "-"}, vars, kNewToken).code, 1);
  EXPECT_EQ(RunCli({"login", "lookup=true", "-", "-"}, vars, kNewToken).code, 1);  // two tokens
}

}  // namespace
}  // namespace coffer::cli
