// The dispatcher (cli.cc): how flags are parsed for every command, as Vault's
// Go flag package parses them.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/cli_test_util.h"

namespace coffer::cli {
namespace {

using cli_testing::FakeServer;
using cli_testing::kSecretV2;
using cli_testing::Outcome;
using cli_testing::Routes;
using cli_testing::RunCli;
using cli_testing::Vars;
using ::testing::HasSubstr;
using json = nlohmann::json;

// The body of the last request, parsed.
json LastBody(const FakeServer& s) { return json::parse(s.requests().back().body); }

// Vault's request flags on every command: -header K=V (not X-Vault-*),
// -namespace/-ns or $VAULT_NAMESPACE as X-Vault-Namespace.
TEST(RequestFlagTest, HeaderAndNamespace) {
  FakeServer server(Routes({{"POST /v1/auth/token/create", {200, R"({"auth":{}})"}}}));
  Outcome h = RunCli({"token", "create", "-header=X-Team=ops", "-header=X-Trace=1"}, Vars(server));
  EXPECT_EQ(h.code, 0) << h.err;
  EXPECT_EQ(server.requests().back().headers["x-team"], "ops");
  EXPECT_EQ(server.requests().back().headers["x-trace"], "1");
  const std::size_t sent = server.requests().size();
  Outcome own = RunCli({"token", "create", "-header=X-Vault-Token=s.other"}, Vars(server));
  EXPECT_EQ(own.code, 2);
  EXPECT_THAT(own.err, HasSubstr("X-Vault- are for the client's own use"));
  EXPECT_EQ(own.err.find("s.other"), std::string::npos) << own.err;
  EXPECT_EQ(RunCli({"token", "create", "-header=novalue"}, Vars(server)).code, 2);
  EXPECT_EQ(server.requests().size(), sent);  // nothing was sent for those
  RunCli({"token", "create", "-ns=team-a"}, Vars(server));
  EXPECT_EQ(server.requests().back().headers["x-vault-namespace"], "team-a");
  auto vars = Vars(server);
  vars["VAULT_NAMESPACE"] = "team-b";
  RunCli({"token", "create"}, vars);
  EXPECT_EQ(server.requests().back().headers["x-vault-namespace"], "team-b");
}

// -non-interactive: what would be asked for on the terminal is an error.
TEST(RequestFlagTest, NonInteractiveNeverPrompts) {
  FakeServer server(Routes({}));
  std::istringstream in("typed-key\n");
  std::ostringstream out, err;
  Env env;
  env.in = &in;
  env.out = &out;
  env.err = &err;
  env.tty_fd = 0;  // as if stdin were a terminal
  auto vars = Vars(server);
  env.getenv = [vars](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
  EXPECT_NE(cli::Run({"operator", "unseal", "-non-interactive"}, env), 0);
  EXPECT_THAT(err.str(), HasSubstr("-non-interactive"));
  EXPECT_EQ(err.str().find("Unseal Key"), std::string::npos) << err.str();
  EXPECT_TRUE(server.requests().empty());
}

// Duration flags are checked before anything is sent, as Vault's CLI
// parses them: a bad one exits 1 and names the flag.
TEST(DurationFlagTest, ABadDurationIsALocalError) {
  FakeServer server(Routes({{"POST /v1/sys/mounts/kv/tune", {204, ""}}}));
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"token", "create", "-ttl=banana"},
           {"token", "create", "-period=1x"},
           {"secrets", "tune", "-default-lease-ttl=banana", "kv"},
           {"auth", "tune", "-user-lockout-duration=soon", "userpass"},
           {"kv", "metadata", "put", "-delete-version-after=later", "secret/app"}}) {
    Outcome o = RunCli(args, Vars(server));
    EXPECT_EQ(o.code, 1) << args[1];
    EXPECT_THAT(o.err, HasSubstr("invalid value \"")) << o.err;
  }
  EXPECT_TRUE(server.requests().empty());
  Outcome system = RunCli({"secrets", "tune", "-max-lease-ttl=system", "kv"}, Vars(server));
  EXPECT_EQ(system.code, 0) << system.err;
}

TEST(BoolFlagTest, BareFlagIsTrueAndTakesNoValue) {
  FakeServer server(Routes({{"GET /v1/sys/internal/ui/mounts/secret", {200, kSecretV2}},
                            {"POST /v1/secret/metadata/app", {204, ""}},
                            {"POST /v1/auth/token/create", {200, R"({"auth":{}})"}}}));
  Outcome bare =
      RunCli({"kv", "metadata", "put", "-mount=secret", "-cas-required", "app"}, Vars(server));
  EXPECT_EQ(bare.code, 0) << bare.err;
  EXPECT_EQ(LastBody(server), json::parse(R"({"cas_required":true})"));
  Outcome off = RunCli({"kv", "metadata", "put", "-mount=secret", "-cas-required=false", "app"},
                       Vars(server));
  EXPECT_EQ(off.code, 0) << off.err;
  EXPECT_EQ(LastBody(server), json::parse(R"({"cas_required":false})"));
  Outcome none = RunCli({"kv", "metadata", "put", "-mount=secret", "app"}, Vars(server));
  EXPECT_EQ(none.code, 0) << none.err;
  EXPECT_EQ(LastBody(server), json::object());

  Outcome renewable = RunCli({"token", "create", "-renewable", "-ttl=1h"}, Vars(server));
  EXPECT_EQ(renewable.code, 0) << renewable.err;
  EXPECT_EQ(LastBody(server), json::parse(R"({"renewable":true,"ttl":"1h"})"));
  Outcome not_renewable = RunCli({"token", "create", "-renewable=f", "-ttl=1h"}, Vars(server));
  EXPECT_EQ(not_renewable.code, 0) << not_renewable.err;
  EXPECT_EQ(LastBody(server), json::parse(R"({"renewable":false,"ttl":"1h"})"));
  Outcome orphan_off = RunCli({"token", "create", "-orphan=false"}, Vars(server));
  EXPECT_EQ(orphan_off.code, 0) << orphan_off.err;
  EXPECT_EQ(server.requests().back().target, "/v1/auth/token/create");

  Outcome bad = RunCli({"token", "create", "-renewable=maybe"}, Vars(server));
  EXPECT_EQ(bad.code, 1);
}

TEST(RepeatedFlagTest, LastValueWins) {
  FakeServer server(Routes({{"POST /v1/auth/token/create", {200, R"({"auth":{}})"}}}));
  Outcome o = RunCli({"token", "create", "-format=table", "-format=json", "-ttl=1h", "-ttl=2h",
                      "-orphan", "-orphan=false", "-policy=a", "-policy=b"},
                     Vars(server));
  EXPECT_EQ(o.code, 0) << o.err;
  EXPECT_EQ(json::parse(o.out), json::parse(R"({"auth":{}})"));
  EXPECT_EQ(server.requests().back().target, "/v1/auth/token/create");
  EXPECT_EQ(LastBody(server), json::parse(R"({"policies":["a","b"],"ttl":"2h"})"));
}

TEST(FormatTest, AnyCaseFromFlagOrEnvironment) {
  FakeServer server(Routes({{"POST /v1/auth/token/create", {200, R"({"auth":{}})"}}}));
  Outcome flag = RunCli({"token", "create", "-format=JSON"}, Vars(server));
  EXPECT_EQ(flag.code, 0) << flag.err;
  EXPECT_EQ(json::parse(flag.out), json::parse(R"({"auth":{}})"));
  for (const char* var : {"COFFER_FORMAT", "VAULT_FORMAT"}) {
    auto vars = Vars(server);
    vars[var] = "Json";
    Outcome env = RunCli({"token", "create"}, vars);
    EXPECT_EQ(env.code, 0) << var << ": " << env.err;
    EXPECT_EQ(json::parse(env.out), json::parse(R"({"auth":{}})")) << var;
  }
}

TEST(EmptyValueTest, NameEqualsNothingIsAnEmptyValue) {
  FakeServer server(Routes({{"POST /v1/auth/token/create", {200, R"({"auth":{}})"}},
                            {"POST /v1/auth/token/create-orphan", {200, R"({"auth":{}})"}}}));
  Outcome o = RunCli({"token", "create", "-display-name=", "-ttl=1h"}, Vars(server));
  EXPECT_EQ(o.code, 0) << o.err;
  EXPECT_EQ(LastBody(server), json::parse(R"({"ttl":"1h"})"));
  Outcome flag = RunCli({"token", "create", "-orphan=", "-ttl=1h"}, Vars(server));
  EXPECT_EQ(flag.code, 0) << flag.err;
  EXPECT_EQ(LastBody(server), json::parse(R"({"no_parent":true,"ttl":"1h"})"));
}

// Whatever was mistyped, a value from the command line may be a secret: no
// parse or argument error repeats one.
TEST(ArgumentErrorTest, NeverEchoesAValue) {
  FakeServer server(Routes({}));
  const std::string kSecret = "hvs.S3cretValue";
  struct Case {
    std::vector<std::string> args;
    std::string message;
  };
  const std::vector<Case> cases = {
      {{"login", "-token=" + kSecret}, "flag provided but not defined: -token\n"},
      {{"login", "-x=" + kSecret}, "flag provided but not defined: -x\n"},
      {{"unwrap", "s.tok", kSecret}, "Too many arguments (expected 0-1, got 2)\n"},
      {{"token", "create", "a", kSecret}, "Too many arguments (expected 0, got 2)\n"},
      {{"login", "-method=userpass", "username=bob", kSecret},
       "Error parsing configuration: format must be key=value\n"},
      {{"token", "create", "-use-limit=" + kSecret}, "invalid value for flag -use-limit\n"},
      {{"token", "create", "-renewable=" + kSecret}, "invalid value for flag -renewable\n"},
      {{"token", "create", "-metadata=" + kSecret}, "Invalid -metadata: expected K=V\n"},
  };
  for (const Case& c : cases) {
    Outcome o = RunCli(c.args, Vars(server));
    EXPECT_EQ(o.code, 1) << c.args[0] << " " << c.args[1];
    EXPECT_EQ(o.err.find("S3cret"), std::string::npos) << o.err;
    EXPECT_EQ(o.out.find("S3cret"), std::string::npos) << o.out;
    EXPECT_THAT(o.err, ::testing::StartsWith(c.message));
  }
  EXPECT_TRUE(server.requests().empty());
}

}  // namespace
}  // namespace coffer::cli
