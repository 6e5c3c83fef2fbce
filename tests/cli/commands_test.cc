// The CLI commands end to end against a fake server on loopback.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/cli.h"
#include "cli/cli_test_util.h"
#include "cli/fake_server.h"

namespace coffer::cli {
namespace {

using cli_testing::ClosedPort;
using cli_testing::FakeServer;
using ::testing::HasSubstr;
using ::testing::Not;
using json = nlohmann::json;

constexpr char kToken[] = "s.CANARY-token-7f3a";
constexpr char kKey[] = "Zm9vYmFyLWNhbmFyeS1rZXk=";

using cli_testing::Outcome;
using cli_testing::Routes;
using cli_testing::RunCli;

const char kUnsealed[] =
    R"({"type":"shamir","initialized":true,"sealed":false,"t":3,"n":5,"progress":0,)"
    R"("nonce":"","version":"0.1.0","build_date":"","migration":false,)"
    R"("recovery_seal":false,"storage_type":"inmem"})";
const char kSealed[] =
    R"({"type":"shamir","initialized":true,"sealed":true,"t":3,"n":5,"progress":1,)"
    R"("nonce":"8b1f6c3e","version":"0.1.0","build_date":"","migration":false,)"
    R"("recovery_seal":false,"storage_type":"inmem"})";

TEST(StatusCommandTest, UnsealedPrintsVaultTableAndExitsZero) {
  FakeServer server(Routes({{"GET /v1/sys/seal-status", {200, kUnsealed}}}));
  Outcome o = RunCli({"status"}, {{"COFFER_ADDR", server.address()}});
  EXPECT_EQ(o.code, 0) << o.err;
  EXPECT_EQ(o.out,
            "Key             Value\n"
            "---             -----\n"
            "Seal Type       shamir\n"
            "Initialized     true\n"
            "Sealed          false\n"
            "Total Shares    5\n"
            "Threshold       3\n"
            "Version         0.1.0\n"
            "Build Date      n/a\n"
            "Storage Type    inmem\n"
            "HA Enabled      false\n");
}

TEST(StatusCommandTest, SealedExitsTwoAndShowsProgress) {
  FakeServer server(Routes({{"GET /v1/sys/seal-status", {200, kSealed}}}));
  Outcome o = RunCli({"status"}, {{"VAULT_ADDR", server.address()}});
  EXPECT_EQ(o.code, 2);
  EXPECT_THAT(o.out, HasSubstr("Sealed             true\n"));
  EXPECT_THAT(o.out, HasSubstr("Unseal Progress    1/3\n"));
  EXPECT_THAT(o.out, HasSubstr("Unseal Nonce       8b1f6c3e\n"));
}

TEST(StatusCommandTest, ConnectionRefusedExitsOneNamingAddressNotToken) {
  std::string addr = "http://127.0.0.1:" + std::to_string(ClosedPort());
  Outcome o = RunCli({"status"}, {{"COFFER_ADDR", addr}, {"COFFER_TOKEN", kToken}});
  EXPECT_EQ(o.code, 1);
  EXPECT_THAT(o.err, HasSubstr("Error checking seal status: Get \"" + addr +
                               "/v1/sys/seal-status\": dial tcp "));
  EXPECT_THAT(o.err, HasSubstr("connection refused"));
  EXPECT_THAT(o.err, Not(HasSubstr(kToken)));
  EXPECT_EQ(o.out, "");
}

TEST(StatusCommandTest, ServerErrorExitsOne) {
  FakeServer server(Routes({{"GET /v1/sys/seal-status", {500, R"({"errors":["boom"]})"}}}));
  Outcome o = RunCli({"status"}, {{"COFFER_ADDR", server.address()}});
  EXPECT_EQ(o.code, 1);
  EXPECT_THAT(o.err, HasSubstr("Code: 500. Errors:\n\n* boom"));
}

TEST(StatusCommandTest, JsonFormatAddsHaEnabled) {
  FakeServer server(Routes({{"GET /v1/sys/seal-status", {200, kUnsealed}},
                            {"GET /v1/sys/leader",
                             {200, R"({"ha_enabled":true,"is_self":true,)"
                                   R"("leader_address":"https://a:8200"})"}}}));
  Outcome o = RunCli({"status", "-format=json"}, {{"COFFER_ADDR", server.address()}});
  EXPECT_EQ(o.code, 0) << o.err;
  json j = json::parse(o.out);
  EXPECT_EQ(j["sealed"], false);
  EXPECT_EQ(j["storage_type"], "inmem");
  EXPECT_EQ(j["ha_enabled"], true);
  EXPECT_EQ(j["is_self"], true);
}

TEST(StatusCommandTest, HaActiveRows) {
  FakeServer server(Routes({{"GET /v1/sys/seal-status", {200, kUnsealed}},
                            {"GET /v1/sys/leader",
                             {200, R"({"ha_enabled":true,"is_self":true,)"
                                   R"("leader_cluster_address":"https://a:8201"})"}}}));
  Outcome o = RunCli({"status"}, {{"COFFER_ADDR", server.address()}});
  EXPECT_THAT(o.out, HasSubstr("HA Enabled      true\n"));
  EXPECT_THAT(o.out, HasSubstr("HA Mode         active\n"));
}

TEST(ClientConfigTest, FlagBeatsEnvironmentAndTokenIsSent) {
  FakeServer server(Routes({{"GET /v1/sys/seal-status", {200, kUnsealed}}}));
  std::string dead = "http://127.0.0.1:" + std::to_string(ClosedPort());
  Outcome o = RunCli({"status", "-address=" + server.address()},
                     {{"COFFER_ADDR", dead}, {"COFFER_TOKEN", kToken}, {"VAULT_TOKEN", "other"}});
  EXPECT_EQ(o.code, 0) << o.err;
  ASSERT_FALSE(server.requests().empty());
  EXPECT_EQ(server.requests()[0].token, kToken);
}

TEST(ClientConfigTest, VaultTokenThenTokenFile) {
  FakeServer server(Routes({{"GET /v1/sys/seal-status", {200, kUnsealed}}}));
  RunCli({"status"}, {{"VAULT_ADDR", server.address()}, {"VAULT_TOKEN", "s.vault"}});
  std::filesystem::path home =
      std::filesystem::temp_directory_path() / ("coffer-cli-home-" + std::to_string(getpid()));
  std::filesystem::create_directories(home);
  // Vault's token helper file serves when Coffer's is absent or empty.
  std::ofstream(home / ".vault-token") << "s.from-vault-file";
  RunCli({"status"}, {{"VAULT_ADDR", server.address()}, {"HOME", home.string()}});
  std::ofstream(home / ".coffer-token") << "\n";
  RunCli({"status"}, {{"VAULT_ADDR", server.address()}, {"HOME", home.string()}});
  std::ofstream(home / ".coffer-token") << "s.from-file\n";
  RunCli({"status"}, {{"VAULT_ADDR", server.address()}, {"HOME", home.string()}});
  RunCli({"status"}, {{"VAULT_ADDR", server.address()}});
  std::filesystem::remove_all(home);
  auto reqs = server.requests();
  std::vector<std::string> tokens;
  for (const auto& r : reqs) {
    if (r.target == "/v1/sys/seal-status") tokens.push_back(r.token);
  }
  EXPECT_EQ(tokens, (std::vector<std::string>{"s.vault", "s.from-vault-file", "s.from-vault-file",
                                              "s.from-file", ""}));
}

TEST(ClientConfigTest, HttpsToPlainServerFailsNamingAddress) {
  FakeServer server(Routes({}));
  std::string addr = "https://127.0.0.1:" + std::to_string(server.port());
  Outcome o = RunCli({"status"}, {{"COFFER_ADDR", addr}});
  EXPECT_EQ(o.code, 1);
  EXPECT_THAT(o.err, HasSubstr(addr + "/v1/sys/seal-status"));
}

TEST(ClientConfigTest, MissingCaFileIsReported) {
  Outcome o = RunCli({"status", "-ca-cert=/nonexistent/ca.pem"},
                     {{"COFFER_ADDR", "https://127.0.0.1:" + std::to_string(ClosedPort())}});
  EXPECT_EQ(o.code, 1);
}

TEST(InitCommandTest, SendsSharesAndPrintsKeys) {
  FakeServer server(
      Routes({{"PUT /v1/sys/init",
               {200, R"({"keys":["aa","bb","cc"],"keys_base64":["qg==","uw==","zA=="],)"
                     R"("root_token":"s.root"})"}}}));
  Outcome o = RunCli({"operator", "init", "-key-shares=3", "-key-threshold=2"},
                     {{"COFFER_ADDR", server.address()}});
  EXPECT_EQ(o.code, 0) << o.err;
  ASSERT_EQ(server.requests().size(), 1u);
  EXPECT_EQ(json::parse(server.requests()[0].body),
            json::parse(R"({"secret_shares":3,"secret_threshold":2})"));
  EXPECT_THAT(o.out, HasSubstr("Unseal Key 1: qg==\nUnseal Key 2: uw==\nUnseal Key 3: zA==\n\n"
                               "Initial Root Token: s.root\n"));
  EXPECT_THAT(o.out, HasSubstr("Coffer initialized with 3 key shares and a key threshold of 2."));
}

TEST(InitCommandTest, DefaultsAndDoubleDashFlags) {
  FakeServer server(Routes({{"PUT /v1/sys/init", {200, R"({"keys":[],"root_token":"t"})"}}}));
  RunCli({"operator", "init"}, {{"COFFER_ADDR", server.address()}});
  RunCli({"operator", "init", "--key-shares", "7", "-t", "4"}, {{"COFFER_ADDR", server.address()}});
  auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(json::parse(reqs[0].body), json::parse(R"({"secret_shares":5,"secret_threshold":3})"));
  EXPECT_EQ(json::parse(reqs[1].body), json::parse(R"({"secret_shares":7,"secret_threshold":4})"));
}

TEST(InitCommandTest, JsonOutputHasVaultFields) {
  FakeServer server(Routes(
      {{"PUT /v1/sys/init", {200, R"({"keys":["aa"],"keys_base64":["qg=="],"root_token":"r"})"}}}));
  Outcome o = RunCli({"operator", "init", "-key-shares=1", "-key-threshold=1", "-format=json"},
                     {{"COFFER_ADDR", server.address()}});
  EXPECT_EQ(o.code, 0) << o.err;
  nlohmann::ordered_json j = nlohmann::ordered_json::parse(o.out);
  EXPECT_EQ(j.begin().key(), "unseal_keys_b64");
  EXPECT_EQ(j["unseal_keys_b64"], json::array({"qg=="}));
  EXPECT_EQ(j["unseal_keys_hex"], json::array({"aa"}));
  EXPECT_EQ(j["unseal_shares"], 1);
  EXPECT_EQ(j["unseal_threshold"], 1);
  EXPECT_EQ(j["root_token"], "r");
}

TEST(InitCommandTest, ServerErrorExitsTwoWithVaultText) {
  FakeServer server(
      Routes({{"PUT /v1/sys/init", {400, R"({"errors":["Vault is already initialized"]})"}}}));
  Outcome o = RunCli({"operator", "init"}, {{"COFFER_ADDR", server.address()}});
  EXPECT_EQ(o.code, 2);
  EXPECT_EQ(o.err, "Error initializing: Error making API request.\n\nURL: PUT " + server.address() +
                       "/v1/sys/init\nCode: 400. Errors:\n\n* Vault is already initialized\n");
}

TEST(InitCommandTest, StatusFlag) {
  FakeServer yes(Routes({{"GET /v1/sys/init", {200, R"({"initialized":true})"}}}));
  FakeServer no(Routes({{"GET /v1/sys/init", {200, R"({"initialized":false})"}}}));
  Outcome a = RunCli({"operator", "init", "-status"}, {{"COFFER_ADDR", yes.address()}});
  EXPECT_EQ(a.code, 0);
  EXPECT_EQ(a.out, "Coffer is initialized\n");
  Outcome b = RunCli({"operator", "init", "-status"}, {{"COFFER_ADDR", no.address()}});
  EXPECT_EQ(b.code, 2);
  EXPECT_EQ(b.out, "Coffer is not initialized\n");
  Outcome c = RunCli({"operator", "init", "-status"},
                     {{"COFFER_ADDR", "http://127.0.0.1:" + std::to_string(ClosedPort())}});
  EXPECT_EQ(c.code, 1);
}

TEST(UnsealCommandTest, ReadsKeyFromStdinWhenNotGiven) {
  FakeServer server(Routes({{"PUT /v1/sys/unseal", {200, kUnsealed}}}));
  Outcome o = RunCli({"operator", "unseal"}, {{"COFFER_ADDR", server.address()}},
                     std::string("  ") + kKey + "\n");
  EXPECT_EQ(o.code, 0) << o.err;
  ASSERT_FALSE(server.requests().empty());
  EXPECT_EQ(json::parse(server.requests()[0].body), json({{"key", kKey}}));
  EXPECT_THAT(o.out, HasSubstr("Sealed          false\n"));
  EXPECT_THAT(o.out + o.err, Not(HasSubstr(kKey)));
}

TEST(UnsealCommandTest, KeyArgumentAndProgressOutput) {
  FakeServer server(Routes({{"PUT /v1/sys/unseal", {200, kSealed}}}));
  Outcome o = RunCli({"operator", "unseal", kKey}, {{"COFFER_ADDR", server.address()}});
  EXPECT_EQ(o.code, 0) << o.err;
  EXPECT_EQ(json::parse(server.requests()[0].body), json({{"key", kKey}}));
  EXPECT_THAT(o.out, HasSubstr("Unseal Progress    1/3\n"));
}

TEST(UnsealCommandTest, KeyNeverInErrorOutput) {
  // A server that (wrongly) echoes the key back in its error.
  FakeServer server(Routes(
      {{"PUT /v1/sys/unseal", {400, std::string(R"({"errors":["bad key )") + kKey + "\"]}"}}}));
  Outcome o = RunCli({"operator", "unseal"},
                     {{"COFFER_ADDR", server.address()}, {"COFFER_TOKEN", kToken}}, kKey);
  EXPECT_EQ(o.code, 2);
  EXPECT_THAT(o.err, HasSubstr("Error unsealing: "));
  EXPECT_THAT(o.err, HasSubstr("<redacted>"));
  EXPECT_THAT(o.out + o.err, Not(HasSubstr(kKey)));
  EXPECT_THAT(o.out + o.err, Not(HasSubstr(kToken)));

  std::string dead = "http://127.0.0.1:" + std::to_string(ClosedPort());
  Outcome r =
      RunCli({"operator", "unseal", kKey}, {{"COFFER_ADDR", dead}, {"COFFER_TOKEN", kToken}});
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.err, HasSubstr(dead));
  EXPECT_THAT(r.out + r.err, Not(HasSubstr(kKey)));
  EXPECT_THAT(r.out + r.err, Not(HasSubstr(kToken)));
}

TEST(UnsealCommandTest, EmptyInputIsAnError) {
  FakeServer server(Routes({}));
  Outcome o = RunCli({"operator", "unseal"}, {{"COFFER_ADDR", server.address()}}, "\n");
  EXPECT_EQ(o.code, 1);
  EXPECT_TRUE(server.requests().empty());
}

TEST(UnsealCommandTest, Reset) {
  FakeServer server(Routes({{"PUT /v1/sys/unseal", {200, kSealed}}}));
  Outcome o = RunCli({"operator", "unseal", "-reset"}, {{"COFFER_ADDR", server.address()}});
  EXPECT_EQ(o.code, 0) << o.err;
  EXPECT_EQ(json::parse(server.requests()[0].body), json({{"reset", true}}));
}

TEST(SealCommandTest, SuccessAndPermissionDenied) {
  FakeServer ok(Routes({{"PUT /v1/sys/seal", {204, ""}}}));
  Outcome a =
      RunCli({"operator", "seal"}, {{"COFFER_ADDR", ok.address()}, {"COFFER_TOKEN", kToken}});
  EXPECT_EQ(a.code, 0) << a.err;
  EXPECT_EQ(a.out, "Success! Coffer is sealed.\n");
  EXPECT_EQ(ok.requests()[0].token, kToken);

  FakeServer denied(Routes({{"PUT /v1/sys/seal", {403, R"({"errors":["permission denied"]})"}}}));
  Outcome b = RunCli({"operator", "seal"}, {{"COFFER_ADDR", denied.address()}});
  EXPECT_EQ(b.code, 2);
  EXPECT_THAT(b.err, HasSubstr("Error sealing: Error making API request."));
  EXPECT_THAT(b.err, HasSubstr("Code: 403. Errors:\n\n* permission denied"));
}

constexpr char kKeyStatus[] =
    R"({"term":2,"install_time":"2022-01-21T04:13:00.5Z","encryptions":0})";

TEST(RotateCommandTest, RotatesThenPrintsKeyStatus) {
  FakeServer server(
      Routes({{"PUT /v1/sys/rotate", {204, ""}}, {"GET /v1/sys/key-status", {200, kKeyStatus}}}));
  Outcome o = RunCli({"operator", "rotate"}, {{"COFFER_ADDR", server.address()}});
  EXPECT_EQ(o.code, 0) << o.err;
  EXPECT_EQ(o.out,
            "Success! Rotated key\n\n"
            "Key Term            2\n"
            "Install Time        21 Jan 22 04:13 UTC\n"
            "Encryption Count    0\n");
  ASSERT_EQ(server.requests().size(), 2u);
  EXPECT_EQ(server.requests()[0].method, "PUT");
}

TEST(RotateCommandTest, FailureExitsTwo) {
  FakeServer server(Routes({{"PUT /v1/sys/rotate", {403, R"({"errors":["permission denied"]})"}}}));
  Outcome o = RunCli({"operator", "rotate"}, {{"COFFER_ADDR", server.address()}});
  EXPECT_EQ(o.code, 2);
  EXPECT_THAT(o.err, HasSubstr("Error rotating key: "));
}

TEST(KeyStatusCommandTest, TableAndJson) {
  FakeServer server(Routes({{"GET /v1/sys/key-status", {200, kKeyStatus}}}));
  Outcome t = RunCli({"operator", "key-status"}, {{"COFFER_ADDR", server.address()}});
  EXPECT_EQ(t.code, 0) << t.err;
  EXPECT_EQ(t.out,
            "Key Term            2\n"
            "Install Time        21 Jan 22 04:13 UTC\n"
            "Encryption Count    0\n");
  Outcome j =
      RunCli({"operator", "key-status", "--format=json"}, {{"COFFER_ADDR", server.address()}});
  EXPECT_EQ(j.code, 0);
  EXPECT_EQ(json::parse(j.out)["term"], 2);
}

TEST(DispatchTest, UsageAndExitCodes) {
  Outcome none = RunCli({}, {});
  EXPECT_EQ(none.code, 127);
  EXPECT_THAT(none.err, HasSubstr("Usage: coffer <command> [args]"));
  EXPECT_EQ(RunCli({"no-such-command"}, {}).code, 127);
  Outcome help = RunCli({"-h"}, {});
  EXPECT_EQ(help.code, 0);
  EXPECT_THAT(help.err, HasSubstr("operator"));
  Outcome group = RunCli({"operator"}, {});
  EXPECT_EQ(group.code, 1);
  EXPECT_THAT(group.err, HasSubstr("key-status"));
  EXPECT_EQ(RunCli({"operator", "-h"}, {}).code, 0);
  EXPECT_EQ(RunCli({"operator", "init", "-h"}, {}).code, 0);
  EXPECT_EQ(RunCli({"status", "-no-such-flag"}, {}).code, 1);
  EXPECT_EQ(RunCli({"status", "-format=xml"}, {}).code, 1);
  EXPECT_EQ(RunCli({"-format=json", "status"}, {}).code, 1);
  Outcome v = RunCli({"version"}, {});
  EXPECT_EQ(v.code, 0);
  EXPECT_THAT(v.out, HasSubstr("Coffer v"));
}

TEST(DispatchTest, FormatFromEnvironment) {
  FakeServer server(Routes({{"GET /v1/sys/key-status", {200, kKeyStatus}}}));
  Outcome o = RunCli({"operator", "key-status"},
                     {{"COFFER_ADDR", server.address()}, {"VAULT_FORMAT", "json"}});
  EXPECT_EQ(o.code, 0);
  EXPECT_EQ(json::parse(o.out)["encryptions"], 0);
}

}  // namespace
}  // namespace coffer::cli
