// -output-policy: the command's own request is not sent; the policy it
// needs is printed instead, as Vault's CLI prints it.
#include "cli/output_policy.h"

#include <gtest/gtest.h>

#include "cli/cli_test_util.h"

namespace coffer::cli {
namespace {

using cli_testing::FakeServer;
using cli_testing::kSecretV2;
using cli_testing::Outcome;
using cli_testing::Routes;
using cli_testing::RunCli;
using cli_testing::Vars;

constexpr char kAppV2[] = R"({"data":{"data":{"user":"admin"},"metadata":{"version":3}}})";

std::string Policy(const std::string& path, const std::string& caps) {
  return "path \"" + path + "\" {\n  capabilities = [" + caps + "]\n}\n";
}

TEST(OutputPolicyTest, KvPutLooksUpTheMountButDoesNotWrite) {
  FakeServer server(Routes({{"GET /v1/sys/internal/ui/mounts/secret/app", {200, kSecretV2}},
                            {"PUT /v1/secret/data/app", {200, "{}"}}}));
  Outcome o = RunCli({"kv", "put", "-output-policy", "secret/app", "pass=s3cret"}, Vars(server));
  EXPECT_EQ(o.code, 0) << o.err;
  EXPECT_EQ(o.err, "");
  EXPECT_EQ(o.out, Policy("secret/data/app", R"("create", "update")"));
  ASSERT_EQ(server.requests().size(), 1u);  // only the mount's version
  EXPECT_EQ(server.requests()[0].target, "/v1/sys/internal/ui/mounts/secret/app");
}

TEST(OutputPolicyTest, KvPatchReadThenWriteReadsButDoesNotWrite) {
  FakeServer server(Routes({{"GET /v1/sys/internal/ui/mounts/secret/app", {200, kSecretV2}},
                            {"GET /v1/secret/data/app", {200, kAppV2}}}));
  Outcome o = RunCli({"kv", "patch", "-method=rw", "-output-policy", "secret/app", "user=root"},
                     Vars(server));
  EXPECT_EQ(o.code, 0) << o.err;
  EXPECT_EQ(o.out, Policy("secret/data/app", R"("create", "update")"));
  ASSERT_EQ(server.requests().size(), 2u);
  EXPECT_EQ(server.requests()[1].method, "GET");
  Outcome patch =
      RunCli({"kv", "patch", "-output-policy", "secret/app", "user=root"}, Vars(server));
  EXPECT_EQ(patch.out, Policy("secret/data/app", R"("patch")"));
  EXPECT_EQ(server.requests().size(), 3u);  // the mount lookup only
}

TEST(OutputPolicyTest, EachMethodGetsItsCapabilitiesAndSudoPathsSudo) {
  FakeServer server(Routes({}));
  auto policy_of = [&](std::vector<std::string> args) {
    args.push_back("-output-policy");  // flags may follow the arguments
    Outcome o = RunCli(args, Vars(server));
    EXPECT_EQ(o.code, 0) << o.err;
    return o.out;
  };
  EXPECT_EQ(policy_of({"read", "sys/mounts"}), Policy("sys/mounts", R"("read")"));
  EXPECT_EQ(policy_of({"delete", "secret/data/app"}), Policy("secret/data/app", R"("delete")"));
  EXPECT_EQ(policy_of({"write", "sys/audit/file", "type=file"}),
            Policy("sys/audit/file", R"("create", "update", "sudo")"));
  EXPECT_EQ(policy_of({"list", "auth/token/accessors"}),
            Policy("auth/token/accessors/", R"("list", "sudo")"));
  EXPECT_EQ(policy_of({"token", "create", "-policy=app"}),
            Policy("auth/token/create", R"("create", "update")"));
  EXPECT_TRUE(server.requests().empty());
}

TEST(OutputPolicyTest, ACommandWithoutARequestSaysSo) {
  Outcome o = RunCli({"version", "-output-policy"}, {});
  EXPECT_EQ(o.code, 1);
  EXPECT_EQ(o.err, "Could not generate policy: the command made no request\n");
  // A command that fails before its request shows its own error.
  FakeServer server(Routes({}));
  Outcome bad = RunCli({"kv", "put", "-output-policy", "secret/app"}, Vars(server));
  EXPECT_NE(bad.code, 0);
  EXPECT_NE(bad.err.find("Unable to generate policy from command\n"), std::string::npos);
  EXPECT_EQ(bad.out, "");
}

// -output-curl-string prints the request as a bash command that keeps the
// token and the body out of every process's arguments.
TEST(OutputCurlStringTest, KvPutBecomesACommandWithoutTheTokenInIt) {
  FakeServer server(Routes({{"GET /v1/sys/internal/ui/mounts/secret/app", {200, kSecretV2}},
                            {"PUT /v1/secret/data/app", {200, "{}"}}}));
  Outcome o = RunCli({"kv", "put", "-output-curl-string", "secret/app", "user=it's"},
                     Vars(server, "s.secret-token"));
  EXPECT_EQ(o.code, 0) << o.err;
  EXPECT_EQ(o.out,
            "printf '%s' '{\"data\":{\"user\":\"it'\\''s\"}}' | curl -X PUT "
            "-K <(printf 'header = \"X-Vault-Token: %s\"\\n' \"$(coffer print token)\") "
            "-H 'Content-Type: application/json' --data-binary @- '" +
                server.address() + "/v1/secret/data/app'\n");
  EXPECT_EQ(o.out.find("s.secret-token"), std::string::npos);
  EXPECT_EQ(server.requests().size(), 1u);  // only the mount's version

  Outcome list = RunCli({"list", "-output-curl-string", "sys/policies/acl"}, Vars(server));
  EXPECT_EQ(list.out,
            "curl -K <(printf 'header = \"X-Vault-Token: %s\"\\n' "
            "\"$(coffer print token)\") '" +
                server.address() + "/v1/sys/policies/acl/?list=true'\n");
  Outcome none = RunCli({"version", "-output-curl-string"}, {});
  EXPECT_EQ(none.code, 1);
  EXPECT_EQ(none.err, "Could not generate cURL command: the command made no request\n");
}

TEST(SamplePolicyTest, ListParameterAndQuoting) {
  RequestCapture r;
  r.method = "GET";
  r.path = "/v1/sys/version-history?list=true";
  EXPECT_EQ(*SamplePolicy(r), "path \"sys/version-history\" {\n  capabilities = [\"list\"]\n}");
  r.path = "/v1/sys/version-history?list=maybe";
  EXPECT_FALSE(SamplePolicy(r).has_value());
  r.method = "SCAN";
  r.path = "/v1/secret/metadata/";
  EXPECT_EQ(*SamplePolicy(r), "path \"secret/metadata/\" {\n  capabilities = [\"scan\"]\n}");
  r.method = "PUT";
  r.path = "/v1/kv/a\"b";
  EXPECT_EQ(*SamplePolicy(r), "path \"kv/a\\\"b\" {\n  capabilities = [\"create\", \"update\"]\n}");
}

}  // namespace
}  // namespace coffer::cli
