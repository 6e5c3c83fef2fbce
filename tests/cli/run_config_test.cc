// `coffer run`: references, variable names, the project file (HCL and YAML),
// the child's environment, signal names, and the resolver against a fake
// server (missing references named, values never).
#include "cli/run_config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <thread>

#include "cli/cli_test_util.h"
#include "cli/run_process.h"
#include "cli/run_resolve.h"

namespace coffer::cli {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

TEST(RunRefTest, ParsesPathAndField) {
  Result<SecretRef> r = ParseSecretRef("/secret/data/app/#pass#word");
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->path, "secret/data/app/#pass");  // the last '#' splits
  EXPECT_EQ(r->field, "word");
  r = ParseSecretRef("secret/data/app#password");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->path, "secret/data/app");
  EXPECT_EQ(r->Text(), "secret/data/app#password");
  EXPECT_FALSE(ParseSecretRef("secret/data/app"));
  EXPECT_FALSE(ParseSecretRef("#field"));
  EXPECT_FALSE(ParseSecretRef("secret/app#"));
}

TEST(RunRefTest, SecretFlag) {
  Result<EnvMapping> m = ParseSecretFlag("DB_PASSWORD=secret/app#password");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->name, "DB_PASSWORD");
  EXPECT_EQ(m->ref.Text(), "secret/app#password");
  EXPECT_FALSE(ParseSecretFlag("secret/app#password"));
  EXPECT_FALSE(ParseSecretFlag("1X=secret/app#password"));
  EXPECT_FALSE(ParseSecretFlag("A-B=secret/app#password"));
  EXPECT_FALSE(ParseSecretFlag("=secret/app#password"));
}

TEST(RunNameTest, EnvNames) {
  EXPECT_TRUE(IsValidEnvName("_A1"));
  EXPECT_TRUE(IsValidEnvName("db_pass"));
  EXPECT_FALSE(IsValidEnvName(""));
  EXPECT_FALSE(IsValidEnvName("9A"));
  EXPECT_FALSE(IsValidEnvName("A.B"));
  EXPECT_EQ(EnvNameForField("APP_", "db-pass"), "APP_DB_PASS");
  EXPECT_EQ(EnvNameForField("", "api.key"), "API_KEY");
  EXPECT_EQ(EnvNameForField("", "2fa"), "_2FA");
  EXPECT_EQ(EnvNameForField("X_", "2fa"), "X_2FA");
  EXPECT_EQ(EnvNameForField("", "caf\xc3\xa9"), "CAF__");
  EXPECT_EQ(EnvNameForField("", "Mixed Case"), "MIXED_CASE");
}

constexpr char kHcl[] = R"(
default_env = "dev"
secrets = {
  LOG_TOKEN = "secret/common#log_token"
}
env "dev" {
  secrets = { DB_PASSWORD = "secret/dev/db#password" }
}
env "prod" {
  secrets = {
    DB_PASSWORD = "secret/data/prod/db#password"
    LOG_TOKEN   = "secret/prod/common#log_token"
  }
  paths = ["secret/prod/app", { path = "secret/prod/api", prefix = "API_" }]
}
)";

constexpr char kYaml[] = R"(# the same file in YAML
default_env: dev
secrets:
  LOG_TOKEN: secret/common#log_token
env:
  dev:
    secrets:
      DB_PASSWORD: secret/dev/db#password
  prod:
    secrets:
      DB_PASSWORD: "secret/data/prod/db#password"
      LOG_TOKEN: 'secret/prod/common#log_token'
    paths:
      - secret/prod/app
      - path: secret/prod/api
        prefix: API_
)";

void ExpectProd(const RunSpec& spec) {
  ASSERT_EQ(spec.secrets.size(), 2u);
  // The environment's definitions replace the top-level ones of the same name.
  EXPECT_EQ(spec.secrets[0].name, "DB_PASSWORD");
  EXPECT_EQ(spec.secrets[0].ref.Text(), "secret/data/prod/db#password");
  EXPECT_EQ(spec.secrets[1].name, "LOG_TOKEN");
  EXPECT_EQ(spec.secrets[1].ref.Text(), "secret/prod/common#log_token");
  ASSERT_EQ(spec.paths.size(), 2u);
  EXPECT_EQ(spec.paths[0].path, "secret/prod/app");
  EXPECT_EQ(spec.paths[0].prefix, "");
  EXPECT_EQ(spec.paths[1].path, "secret/prod/api");
  EXPECT_EQ(spec.paths[1].prefix, "API_");
}

TEST(RunProjectFileTest, HclAndYamlGiveTheSameSpec) {
  for (auto [text, format] :
       {std::pair{kHcl, ProjectFormat::kHcl}, std::pair{kYaml, ProjectFormat::kYaml}}) {
    Result<RunSpec> prod = ParseProjectFile(text, format, "prod", ".coffer");
    ASSERT_TRUE(prod) << prod.error().message();
    ExpectProd(*prod);
    Result<RunSpec> dev = ParseProjectFile(text, format, "", ".coffer");  // default_env
    ASSERT_TRUE(dev) << dev.error().message();
    ASSERT_EQ(dev->secrets.size(), 2u);
    EXPECT_EQ(dev->secrets[0].name, "LOG_TOKEN");
    EXPECT_EQ(dev->secrets[1].ref.Text(), "secret/dev/db#password");
    EXPECT_TRUE(dev->paths.empty());
    Result<RunSpec> none = ParseProjectFile(text, format, "staging", ".coffer");
    ASSERT_FALSE(none);
    EXPECT_THAT(none.error().message(), HasSubstr("\"staging\" is not defined"));
    EXPECT_THAT(none.error().message(), HasSubstr("dev, prod"));
  }
}

TEST(RunProjectFileTest, EnvironmentsWithoutDefaultNeedEnv) {
  Result<RunSpec> r = ParseProjectFile("env \"a\" {\n secrets = { X = \"s/p#f\" }\n}\n",
                                       ProjectFormat::kHcl, "", "f.hcl");
  ASSERT_FALSE(r);
  EXPECT_THAT(r.error().message(), HasSubstr("choose an environment with --env (defined: a)"));
  r = ParseProjectFile("secrets = { X = \"s/p#f\" }\n", ProjectFormat::kHcl, "", "f.hcl");
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->secrets.size(), 1u);
}

TEST(RunProjectFileTest, RefusesMistakes) {
  struct Case {
    const char* text;
    ProjectFormat format;
    const char* want;
  } cases[] = {
      {"secret = { X = \"s/p#f\" }\n", ProjectFormat::kHcl, "unknown key \"secret\""},
      {"secrets = { X = \"s/p\" }\n", ProjectFormat::kHcl, "has no #field"},
      {"secrets = { \"X-Y\" = \"s/p#f\" }\n", ProjectFormat::kHcl, "not a valid environment"},
      {"secrets = { X = 3 }\n", ProjectFormat::kHcl, "must be a string"},
      {"paths = \"s/p\"\n", ProjectFormat::kHcl, "paths must be a list"},
      {"paths = [{ path = \"s/p\", prefx = \"A\" }]\n", ProjectFormat::kHcl,
       "unknown key \"prefx\""},
      {"env \"a\" { secrets = {} }\nenv \"a\" { secrets = {} }\n", ProjectFormat::kHcl,
       "exactly once"},
      {"env:\n  a:\n    secret:\n      X: s/p#f\n", ProjectFormat::kYaml, "unknown key \"secret\""},
      {"secrets:\n  X: s/p#f\n  X: s/q#f\n", ProjectFormat::kYaml, "duplicate key \"X\""},
      {"base: &b\n  X: s/p#f\nsecrets: *b\n", ProjectFormat::kYaml, "anchors and aliases"},
      {"secrets: {X: s/p#f}\n---\nsecrets: {}\n", ProjectFormat::kYaml, "one YAML document"},
      {"secrets: [unclosed\n", ProjectFormat::kYaml, "line "},
      {"- a\n- b\n", ProjectFormat::kYaml, "must be a map"},
  };
  for (const Case& c : cases) {
    Result<RunSpec> r = ParseProjectFile(c.text, c.format, "a", "proj");
    ASSERT_FALSE(r) << c.text;
    EXPECT_THAT(r.error().message(), HasSubstr(c.want)) << c.text;
    EXPECT_THAT(r.error().message(), HasSubstr("proj")) << c.text;
  }
}

TEST(RunYamlTest, ScalarsAreStringsAndEmptyIsNull) {
  Result<nlohmann::json> j = ParseYaml("a: 1\nb: true\nc:\nd: [x, 'y']\ne: \"\"\n");
  ASSERT_TRUE(j) << j.error().message();
  EXPECT_EQ(j->dump(), R"({"a":"1","b":"true","c":null,"d":["x","y"],"e":""})");
  Result<nlohmann::json> empty = ParseYaml("# nothing\n");
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->is_null());
  std::string deep(100, '[');
  EXPECT_FALSE(ParseYaml(deep));
  EXPECT_EQ(ParseYaml(std::string(2 << 20, ' ')).error().code(), Code::kTooLarge);
}

TEST(RunEnvironmentTest, TokenRemovedUnlessPassedAndSecretsOverride) {
  std::vector<std::pair<std::string, SecretBytes>> secrets;
  secrets.emplace_back("DB_PASSWORD", SecretBytes::FromString("pw=1"));
  secrets.emplace_back("HOME", SecretBytes::FromString("/override"));
  std::vector<std::string> base = {"PATH=/bin", "COFFER_TOKEN=s.tok", "VAULT_TOKEN=s.tok",
                                   "HOME=/home/u", "EMPTY="};
  EXPECT_THAT(BuildEnvironment(base, secrets, nullptr),
              ElementsAre("PATH=/bin", "EMPTY=", "DB_PASSWORD=pw=1", "HOME=/override"));
  SecretBytes token = SecretBytes::FromString("s.other");
  EXPECT_THAT(BuildEnvironment(base, secrets, &token),
              ElementsAre("PATH=/bin", "EMPTY=", "COFFER_TOKEN=s.other", "VAULT_TOKEN=s.other",
                          "DB_PASSWORD=pw=1", "HOME=/override"));
}

TEST(RunProcessTest, SignalNames) {
  EXPECT_EQ(ParseSignal("SIGHUP"), SIGHUP);
  EXPECT_EQ(ParseSignal("hup"), SIGHUP);
  EXPECT_EQ(ParseSignal("USR2"), SIGUSR2);
  EXPECT_EQ(ParseSignal("15"), SIGTERM);
  EXPECT_EQ(ParseSignal("SIGNOPE"), std::nullopt);
  EXPECT_EQ(ParseSignal("0"), std::nullopt);
  EXPECT_EQ(ParseSignal(""), std::nullopt);
}

// A change that arrives after a stop signal (while the child is still
// exiting) must not start another child: coffer run ends with the child.
TEST(RunProcessTest, AChangeAfterAStopSignalStartsNoNewChild) {
  char dir_template[] = "/tmp/coffer-sup-XXXXXX";
  ASSERT_NE(mkdtemp(dir_template), nullptr);
  const std::string dir = dir_template;
  const std::string ready = dir + "/ready";
  ChildSpec first;
  first.program = "/bin/sh";
  // On SIGTERM the child takes 0.5 s to exit with 3: time for a change.
  first.argv = {"sh", "-c",
                "trap 'sleep 0.5; exit 3' TERM; touch " + ready + "; while :; do sleep 0.1; done"};
  int refreshes = 0;
  Supervisor supervisor({}, [&]() -> std::optional<ChildSpec> {
    ++refreshes;
    ChildSpec next;
    next.program = "/bin/true";
    next.argv = {"true"};
    return next;
  });
  std::thread driver([&] {
    for (int i = 0; i < 200 && access(ready.c_str(), F_OK) != 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    kill(getpid(), SIGTERM);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    Supervisor::Notify();
  });
  const int code = supervisor.Run(std::move(first));
  driver.join();
  EXPECT_EQ(code, 3);
  EXPECT_EQ(refreshes, 0);
  std::remove(ready.c_str());
  rmdir(dir.c_str());
}

TEST(RunProcessTest, FindsExecutablesOnPath) {
  Result<std::string> sh = FindExecutable("sh", "/nonexistent:/bin:/usr/bin");
  ASSERT_TRUE(sh);
  EXPECT_EQ(*sh, "/bin/sh");
  EXPECT_EQ(*FindExecutable("./x", ""), "./x");
  Result<std::string> none = FindExecutable("no-such-command-here", "/bin");
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code(), Code::kNotFound);
  EXPECT_THAT(none.error().message(), HasSubstr("command not found"));
}

// --- the resolver against a fake server ----------------------------------

using cli_testing::FakeServer;
using cli_testing::kSecretV2;

constexpr char kApp[] =
    R"({"data":{"data":{"password":"hunter2-value","db-user":"admin","port":5432},)"
    R"("metadata":{"version":3,"deletion_time":"","destroyed":false}},"lease_id":""})";
constexpr char kAppMeta[] =
    R"({"data":{"current_version":4,"versions":{"3":{"deletion_time":"","destroyed":false},)"
    R"("4":{"deletion_time":"","destroyed":false}}}})";

std::unique_ptr<ApiClient> ClientFor(const FakeServer& server) {
  ClientConfig config;
  config.address = server.address();
  config.token = SecretBytes::FromString("s.tok");
  auto http = HttpClient::Create(std::move(config));
  return std::make_unique<ApiClient>(std::move(*http));
}

TEST(RunResolverTest, ReadsFieldsAndNamesMissingReferencesWithoutValues) {
  FakeServer server(cli_testing::Routes({
      {"GET /v1/sys/internal/ui/mounts/secret/app", {200, kSecretV2}},
      {"GET /v1/sys/internal/ui/mounts/secret/data/app", {200, kSecretV2}},
      {"GET /v1/sys/internal/ui/mounts/secret/gone", {200, kSecretV2}},
      {"GET /v1/secret/data/app", {200, kApp}},
      {"GET /v1/secret/metadata/app", {200, kAppMeta}},
  }));
  auto client = ClientFor(server);
  SecretResolver resolver(*client);
  RunSpec spec;
  spec.secrets.push_back({"PW", {"secret/data/app", "password"}});
  spec.paths.push_back({"secret/app", "APP_"});
  Result<ResolvedSecrets> r = resolver.Resolve(spec);
  ASSERT_TRUE(r) << r.error().message();
  std::vector<std::string> got;
  for (const auto& [name, value] : r->env) got.push_back(name + "=" + std::string(value.view()));
  // --path fields in the server's order, then the --secret mappings.
  EXPECT_THAT(got, ElementsAre("APP_PASSWORD=hunter2-value", "APP_DB_USER=admin", "APP_PORT=5432",
                               "PW=hunter2-value"));
  // Both spellings are one secret, watched once.
  ASSERT_EQ(r->targets.size(), 1u);
  EXPECT_EQ(r->targets[0].metadata_path, "secret/metadata/app");
  Result<std::string> fp = resolver.Fingerprint(r->targets[0]);
  ASSERT_TRUE(fp);
  EXPECT_NE(*fp, r->targets[0].fingerprint);  // version 4 is newer than the 3 read

  spec.secrets.push_back({"X", {"secret/app", "nope"}});
  spec.secrets.push_back({"Y", {"secret/gone", "password"}});
  r = resolver.Resolve(spec);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), Code::kNotFound);
  EXPECT_THAT(r.error().message(), HasSubstr("secret/app#nope"));
  EXPECT_THAT(r.error().message(), HasSubstr("secret/gone#password"));
  EXPECT_THAT(r.error().message(), Not(HasSubstr("hunter2")));
}

TEST(RunResolverTest, CollidingPathFieldsAreAnError) {
  FakeServer server(cli_testing::Routes({
      {"GET /v1/sys/internal/ui/mounts/secret/a", {200, kSecretV2}},
      {"GET /v1/sys/internal/ui/mounts/secret/b", {200, kSecretV2}},
      {"GET /v1/secret/data/a", {200, kApp}},
      {"GET /v1/secret/data/b", {200, kApp}},
  }));
  auto client = ClientFor(server);
  SecretResolver resolver(*client);
  RunSpec spec;
  spec.paths.push_back({"secret/a", ""});
  spec.paths.push_back({"secret/b", ""});
  Result<ResolvedSecrets> r = resolver.Resolve(spec);
  ASSERT_FALSE(r);
  EXPECT_THAT(r.error().message(), HasSubstr("map to the variable"));
  EXPECT_THAT(r.error().message(), Not(HasSubstr("hunter2")));
}

TEST(RunCommandTest, MissingSecretFailsBeforeRunning) {
  FakeServer server(cli_testing::Routes({
      {"GET /v1/sys/internal/ui/mounts/secret/app", {200, kSecretV2}},
  }));
  cli_testing::Outcome o =
      cli_testing::RunCli({"run", "--secret", "A=secret/app#password", "--", "/bin/false"},
                          {{"COFFER_ADDR", server.address()}, {"COFFER_TOKEN", "s.tok"}});
  EXPECT_EQ(o.code, 2);
  EXPECT_THAT(o.err, HasSubstr("secret/app#password"));
  o = cli_testing::RunCli({"run", "--secret", "A=secret/app#password"},
                          {{"COFFER_ADDR", server.address()}, {"COFFER_TOKEN", "s.tok"}});
  EXPECT_EQ(o.code, 1);
  EXPECT_THAT(o.err, HasSubstr("no command"));
}

}  // namespace
}  // namespace coffer::cli
