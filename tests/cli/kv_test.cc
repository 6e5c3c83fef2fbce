// `coffer kv ...` against a fake server: version detection, path rewriting,
// request bodies and Vault's table output.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "cli/cli_test_util.h"

namespace coffer::cli {
namespace {

using cli_testing::FakeServer;
using cli_testing::kSecretV1;
using cli_testing::kSecretV2;
using cli_testing::Outcome;
using cli_testing::Routes;
using cli_testing::RunCli;
using cli_testing::Vars;
using ::testing::HasSubstr;
using json = nlohmann::json;

constexpr char kAppV2[] = R"({"request_id":"r","lease_id":"","renewable":false,"lease_duration":0,)"
                          R"("data":{"data":{"pass":"p4ss","user":"admin"},"metadata":{)"
                          R"("created_time":"2024-01-02T03:04:05.000Z","custom_metadata":null,)"
                          R"("deletion_time":"","destroyed":false,"version":3}},)"
                          R"("wrap_info":null,"warnings":null,"auth":null})";

constexpr char kWritten[] =
    R"({"data":{"created_time":"2024-01-02T03:04:05Z","custom_metadata":null,)"
    R"("deletion_time":"","destroyed":false,"version":4}})";

TEST(KvGetTest, V2TableMatchesVault) {
  FakeServer server(Routes({{"GET /v1/sys/internal/ui/mounts/secret/app", {200, kSecretV2}},
                            {"GET /v1/secret/data/app", {200, kAppV2}}}));
  Outcome o = RunCli({"kv", "get", "secret/app"}, Vars(server));
  EXPECT_EQ(o.code, 0) << o.err;
  EXPECT_EQ(o.out,
            "= Secret Path =\nsecret/data/app\n\n"
            "======= Metadata =======\n"
            "Key                Value\n"
            "---                -----\n"
            "created_time       2024-01-02T03:04:05.000Z\n"
            "custom_metadata    <nil>\n"
            "deletion_time      n/a\n"
            "destroyed          false\n"
            "version            3\n\n"
            "==== Data ====\n"
            "Key     Value\n"
            "---     -----\n"
            "pass    p4ss\n"
            "user    admin\n");
}

// Vault prints the warnings' header once, then each warning.
TEST(KvGetTest, WarningsUnderOneHeader) {
  json warned = json::parse(kAppV2);
  warned["warnings"] = {"first", "second"};
  FakeServer server(Routes({{"GET /v1/sys/internal/ui/mounts/secret/app", {200, kSecretV2}},
                            {"GET /v1/secret/data/app", {200, warned.dump()}}}));
  Outcome o = RunCli({"kv", "get", "secret/app"}, Vars(server));
  EXPECT_EQ(o.code, 0) << o.err;
  EXPECT_EQ(o.err,
            "WARNING! The following warnings were returned from Vault:\n\n"
            "  * first\n\n"
            "  * second\n\n");
}

TEST(KvGetTest, FieldIsRawWithNewlineOnlyOnTerminal) {
  FakeServer server(Routes({{"GET /v1/sys/internal/ui/mounts/secret/app", {200, kSecretV2}},
                            {"GET /v1/secret/data/app", {200, kAppV2}}}));
  Outcome piped = RunCli({"kv", "get", "-field=pass", "secret/app"}, Vars(server));
  EXPECT_EQ(piped.code, 0) << piped.err;
  EXPECT_EQ(piped.out, "p4ss");
  Outcome tty = RunCli({"kv", "get", "-field=pass", "secret/app"}, Vars(server), "", true);
  EXPECT_EQ(tty.out, "p4ss\n");
  Outcome missing = RunCli({"kv", "get", "-field=nope", "secret/app"}, Vars(server));
  EXPECT_EQ(missing.code, 1);
  EXPECT_EQ(missing.err, "Field \"nope\" not present in secret\n");
}

TEST(KvGetTest, FieldDataIsTheSecretsDataMap) {
  FakeServer server(Routes({{"GET /v1/sys/internal/ui/mounts/secret/app", {200, kSecretV2}},
                            {"GET /v1/secret/data/app", {200, kAppV2}}}));
  Outcome o = RunCli({"kv", "get", "-format=json", "-field=data", "secret/app"}, Vars(server));
  EXPECT_EQ(o.code, 0) << o.err;
  EXPECT_EQ(json::parse(o.out), json::parse(R"({"pass":"p4ss","user":"admin"})"));
  Outcome table = RunCli({"kv", "get", "-field=data", "secret/app"}, Vars(server));
  EXPECT_EQ(table.out, "map[pass:p4ss user:admin]");
}

TEST(KvGetTest, FieldDataPrefersAKeyNamedData) {
  FakeServer server(
      Routes({{"GET /v1/sys/internal/ui/mounts/secret/app", {200, kSecretV2}},
              {"GET /v1/secret/data/app",
               {200, R"({"data":{"data":{"data":"inner","x":"y"},"metadata":{}}})"}}}));
  Outcome o = RunCli({"kv", "get", "-field=data", "secret/app"}, Vars(server));
  EXPECT_EQ(o.code, 0) << o.err;
  EXPECT_EQ(o.out, "inner");
}

TEST(KvGetTest, WrappedAnswerGivesItsWrapFieldsToField) {
  FakeServer server(Routes(
      {{"GET /v1/sys/internal/ui/mounts/secret/app", {200, kSecretV2}},
       {"GET /v1/secret/data/app",
        {200,
         R"({"wrap_info":{"token":"s.wrap","accessor":"wacc","ttl":300,)"
         R"("creation_time":"2024-05-09T14:22:03.5Z","creation_path":"secret/data/app"}})"}}}));
  Outcome o =
      RunCli({"kv", "get", "-wrap-ttl=5m", "-field=wrapping_token", "secret/app"}, Vars(server));
  EXPECT_EQ(o.code, 0) << o.err;
  EXPECT_EQ(o.out, "s.wrap");
  EXPECT_EQ(server.requests().back().headers["x-vault-wrap-ttl"], "5m");
  Outcome data = RunCli({"kv", "get", "-wrap-ttl=5m", "-field=pass", "secret/app"}, Vars(server));
  EXPECT_EQ(data.code, 1);
  EXPECT_EQ(data.err, "Field \"pass\" not present in secret\n");
}

TEST(KvGetTest, VersionQueryAndJson) {
  FakeServer server(Routes({{"GET /v1/sys/internal/ui/mounts/secret/app", {200, kSecretV2}},
                            {"GET /v1/secret/data/app?version=2", {200, kAppV2}}}));
  Outcome o = RunCli({"kv", "get", "-version=2", "-format=json", "secret/app"}, Vars(server));
  EXPECT_EQ(o.code, 0) << o.err;
  json j = json::parse(o.out);
  EXPECT_EQ(j["data"]["data"]["user"], "admin");
  EXPECT_FALSE(j.contains("auth"));  // null auth/wrap_info are left out, as Vault does
  EXPECT_EQ(server.requests().back().token, "s.tok");
}

TEST(KvGetTest, MissingSecretExitsTwo) {
  FakeServer server(Routes({{"GET /v1/sys/internal/ui/mounts/secret/nope", {200, kSecretV2}}}));
  Outcome o = RunCli({"kv", "get", "secret/nope"}, Vars(server));
  EXPECT_EQ(o.code, 2);
  EXPECT_EQ(o.err, "No value found at secret/data/nope\n");
}

TEST(KvGetTest, V1ReadsPlainPathAndPrintsDataOnly) {
  FakeServer server(
      Routes({{"GET /v1/sys/internal/ui/mounts/secret/app", {200, kSecretV1}},
              {"GET /v1/secret/app", {200, R"({"lease_duration":2764800,"data":{"a":"b"}})"}}}));
  Outcome o = RunCli({"kv", "get", "secret/app"}, Vars(server));
  EXPECT_EQ(o.code, 0) << o.err;
  EXPECT_EQ(o.out, "== Data ==\nKey    Value\n---    -----\na      b\n");
}

TEST(KvPathTest, FallsBackToSysMountsLongestPrefix) {
  FakeServer server(Routes(
      {{"GET /v1/sys/internal/ui/mounts/team/deep/x", {403, R"({"errors":["permission denied"]})"}},
       {"GET /v1/sys/mounts",
        {200, R"({"team/":{"type":"kv","options":{"version":"1"}},)"
              R"("team/deep/":{"type":"kv","options":{"version":"2"}},)"
              R"("sys/":{"type":"system"}})"}},
       {"GET /v1/team/deep/data/x", {200, kAppV2}}}));
  Outcome o = RunCli({"kv", "get", "-field=user", "team/deep/x"}, Vars(server));
  EXPECT_EQ(o.code, 0) << o.err;
  EXPECT_EQ(o.out, "admin");
}

TEST(KvPathTest, Missing404EndpointAndNoMountMeansV1) {
  FakeServer server(
      Routes({{"GET /v1/sys/mounts", {200, R"({"data":{}})"}}, {"PUT /v1/other/x", {204, ""}}}));
  Outcome o = RunCli({"kv", "put", "other/x", "a=b"}, Vars(server));
  EXPECT_EQ(o.code, 0) << o.err;
  EXPECT_EQ(o.out, "Success! Data written to: other/x\n");
}

TEST(KvPathTest, MountFlag) {
  FakeServer server(Routes({{"GET /v1/sys/internal/ui/mounts/secret", {200, kSecretV2}},
                            {"GET /v1/secret/data/app/db", {200, kAppV2}}}));
  Outcome o = RunCli({"kv", "get", "-mount=secret", "-field=user", "app/db"}, Vars(server));
  EXPECT_EQ(o.code, 0) << o.err;
  EXPECT_EQ(o.out, "admin");
}

TEST(KvPathTest, DetectionErrorExitsTwo) {
  FakeServer server(
      Routes({{"GET /v1/sys/internal/ui/mounts/secret/a", {500, R"({"errors":["x"]})"}}}));
  Outcome o = RunCli({"kv", "get", "secret/a"}, Vars(server));
  EXPECT_EQ(o.code, 2);
  EXPECT_THAT(o.err, HasSubstr("Code: 500"));
}

TEST(KvPutTest, V2BodyWithCasAndMetadataTable) {
  FakeServer server(Routes({{"GET /v1/sys/internal/ui/mounts/secret/app", {200, kSecretV2}},
                            {"PUT /v1/secret/data/app", {200, kWritten}}}));
  Outcome o = RunCli({"kv", "put", "-cas=3", "secret/app", "user=admin", "n=1"}, Vars(server));
  EXPECT_EQ(o.code, 0) << o.err;
  EXPECT_EQ(json::parse(server.requests().back().body),
            json::parse(R"({"data":{"user":"admin","n":"1"},"options":{"cas":3}})"));
  EXPECT_EQ(o.out,
            "= Secret Path =\nsecret/data/app\n\n"
            "======= Metadata =======\n"
            "Key                Value\n"
            "---                -----\n"
            "created_time       2024-01-02T03:04:05Z\n"
            "custom_metadata    <nil>\n"
            "deletion_time      n/a\n"
            "destroyed          false\n"
            "version            4\n");
  Outcome v = RunCli({"kv", "put", "-field=version", "secret/app", "a=b"}, Vars(server));
  EXPECT_EQ(v.out, "4");
}

// -wrap-ttl (or $VAULT_WRAP_TTL) on kv put and kv list wraps the answer of
// the command's own request, never the mount lookup before it.
TEST(KvPutTest, WrapTtlWrapsTheWriteAndTheListingOnly) {
  const std::string wrapped =
      R"({"wrap_info":{"token":"s.w","accessor":"a","ttl":300,)"
      R"("creation_time":"2024-05-09T14:22:03Z","creation_path":"secret/data/app"}})";
  FakeServer server(Routes({{"GET /v1/sys/internal/ui/mounts/secret/app", {200, kSecretV2}},
                            {"GET /v1/sys/internal/ui/mounts/secret", {200, kSecretV2}},
                            {"PUT /v1/secret/data/app", {200, wrapped}},
                            {"GET /v1/secret/metadata/?list=true", {200, wrapped}}}));
  Outcome put = RunCli({"kv", "put", "-wrap-ttl=5m", "secret/app", "a=1"}, Vars(server));
  EXPECT_EQ(put.code, 0) << put.err;
  EXPECT_THAT(put.out, HasSubstr("wrapping_token:                  s.w\n"));
  ASSERT_EQ(server.requests().size(), 2u);
  EXPECT_EQ(server.requests()[0].headers.count("x-vault-wrap-ttl"), 0u);  // the mount lookup
  EXPECT_EQ(server.requests()[1].headers["x-vault-wrap-ttl"], "5m");
  auto vars = Vars(server);
  vars["VAULT_WRAP_TTL"] = "2m";
  Outcome list = RunCli({"kv", "list", "secret"}, vars);
  EXPECT_EQ(list.code, 0) << list.err;
  EXPECT_EQ(server.requests().back().headers["x-vault-wrap-ttl"], "2m");
  EXPECT_EQ(server.requests()[server.requests().size() - 2].headers.count("x-vault-wrap-ttl"), 0u);
  EXPECT_THAT(list.out, HasSubstr("wrapping_token:                  s.w\n"));
}

TEST(KvPutTest, V1BodyIsPlainAndErrorsExit) {
  FakeServer server(Routes({{"GET /v1/sys/internal/ui/mounts/secret/app", {200, kSecretV1}},
                            {"PUT /v1/secret/app", {204, ""}}}));
  Outcome o = RunCli({"kv", "put", "secret/app", "k=v"}, Vars(server), "");
  EXPECT_EQ(o.code, 0) << o.err;
  EXPECT_EQ(json::parse(server.requests().back().body), json({{"k", "v"}}));
  EXPECT_EQ(RunCli({"kv", "put", "secret/app"}, Vars(server)).code, 1);  // no data
  Outcome bad = RunCli({"kv", "put", "secret/app", "novalue"}, Vars(server));
  EXPECT_EQ(bad.code, 1);
  EXPECT_THAT(bad.err, HasSubstr("format must be key=value"));
}

TEST(KvPutTest, ValueFromStdinNeverInArgv) {
  FakeServer server(Routes({{"GET /v1/sys/internal/ui/mounts/secret/app", {200, kSecretV2}},
                            {"PUT /v1/secret/data/app", {200, kWritten}}}));
  Outcome o = RunCli({"kv", "put", "secret/app", "pass=-"}, Vars(server), "from-stdin\n");
  EXPECT_EQ(o.code, 0) << o.err;
  EXPECT_EQ(json::parse(server.requests().back().body)["data"]["pass"], "from-stdin\n");
  Outcome j = RunCli({"kv", "put", "secret/app", "-"}, Vars(server), R"({"x":{"y":1}})");
  EXPECT_EQ(j.code, 0) << j.err;
  EXPECT_EQ(json::parse(server.requests().back().body)["data"], json::parse(R"({"x":{"y":1}})"));
}

TEST(KvPatchTest, SendsMergePatch) {
  FakeServer server(Routes({{"GET /v1/sys/internal/ui/mounts/secret/app", {200, kSecretV2}},
                            {"PATCH /v1/secret/data/app", {200, kWritten}}}));
  Outcome o = RunCli({"kv", "patch", "secret/app", "user=root"}, Vars(server));
  EXPECT_EQ(o.code, 0) << o.err;
  auto r = server.requests().back();
  EXPECT_EQ(r.headers["content-type"], "application/merge-patch+json");
  EXPECT_EQ(json::parse(r.body), json::parse(R"({"data":{"user":"root"}})"));
  // As Vault's kv patch: -cas=0 is no check-and-set, a version above 0 is one;
  // -method=rw checks the version it read, whatever -cas says.
  RunCli({"kv", "patch", "-cas=0", "secret/app", "user=root"}, Vars(server));
  EXPECT_EQ(json::parse(server.requests().back().body), json::parse(R"({"data":{"user":"root"}})"));
  RunCli({"kv", "patch", "-cas=2", "secret/app", "user=root"}, Vars(server));
  EXPECT_EQ(json::parse(server.requests().back().body),
            json::parse(R"({"data":{"user":"root"},"options":{"cas":2}})"));
  EXPECT_EQ(RunCli({"kv", "patch", "-method=both", "secret/app", "a=b"}, Vars(server)).code, 2);
}

TEST(KvPatchTest, RefusedPatchFallsBackToReadThenWrite) {
  for (int status : {403, 405}) {
    FakeServer server(Routes({{"GET /v1/sys/internal/ui/mounts/secret/app", {200, kSecretV2}},
                              {"PATCH /v1/secret/data/app", {status, R"({"errors":["no"]})"}},
                              {"GET /v1/secret/data/app", {200, kAppV2}},
                              {"PUT /v1/secret/data/app", {200, kWritten}}}));
    Outcome o = RunCli({"kv", "patch", "secret/app", "user=root"}, Vars(server));
    EXPECT_EQ(o.code, 0) << status << ": " << o.err;
    auto r = server.requests().back();
    EXPECT_EQ(r.method, "PUT");
    EXPECT_EQ(r.headers["content-type"], "application/json");
    EXPECT_EQ(json::parse(r.body),
              json::parse(R"({"data":{"pass":"p4ss","user":"root"},"options":{"cas":3}})"));
    EXPECT_THAT(o.out, HasSubstr("version            4\n"));
    if (status == 403) {
      EXPECT_THAT(o.err, HasSubstr("add the \"patch\" capability to your ACL policy"));
    } else {
      EXPECT_EQ(o.err, "");
    }
    // -method=patch asks for PATCH only.
    Outcome strict = RunCli({"kv", "patch", "-method=patch", "secret/app", "a=b"}, Vars(server));
    EXPECT_EQ(strict.code, 2);
    EXPECT_EQ(server.requests().back().method, "PATCH");
  }
}

TEST(KvPatchTest, RemoveDataIsANullInThePatchOrDroppedOnRw) {
  FakeServer server(Routes({{"GET /v1/sys/internal/ui/mounts/secret/app", {200, kSecretV2}},
                            {"PATCH /v1/secret/data/app", {200, kWritten}},
                            {"GET /v1/secret/data/app", {200, kAppV2}},
                            {"PUT /v1/secret/data/app", {200, kWritten}}}));
  Outcome o =
      RunCli({"kv", "patch", "-remove-data=pass", "-remove-data=x", "secret/app"}, Vars(server));
  ASSERT_EQ(o.code, 0) << o.err;
  EXPECT_EQ(json::parse(server.requests().back().body),
            json::parse(R"({"data":{"pass":null,"x":null}})"));
  Outcome rw =
      RunCli({"kv", "patch", "-method=rw", "-cas=9", "-remove-data=pass", "secret/app", "k=v"},
             Vars(server));
  EXPECT_EQ(rw.code, 0) << rw.err;
  EXPECT_EQ(json::parse(server.requests().back().body),
            json::parse(R"({"data":{"k":"v","user":"admin"},"options":{"cas":3}})"));
  EXPECT_EQ(RunCli({"kv", "patch", "secret/app"}, Vars(server)).err, "Must supply data\n");
}

TEST(KvPatchTest, V1IsRefused) {
  FakeServer server(Routes({{"GET /v1/sys/internal/ui/mounts/secret/app", {200, kSecretV1}}}));
  Outcome o = RunCli({"kv", "patch", "secret/app", "a=b"}, Vars(server));
  EXPECT_EQ(o.code, 2);
  EXPECT_THAT(o.err, HasSubstr("version 2"));
}

TEST(KvVersionsTest, DeleteUndeleteDestroy) {
  FakeServer server(Routes({{"GET /v1/sys/internal/ui/mounts/secret/app", {200, kSecretV2}},
                            {"DELETE /v1/secret/data/app", {204, ""}},
                            {"PUT /v1/secret/delete/app", {204, ""}},
                            {"PUT /v1/secret/undelete/app", {204, ""}},
                            {"PUT /v1/secret/destroy/app", {204, ""}}}));
  Outcome d = RunCli({"kv", "delete", "secret/app"}, Vars(server));
  EXPECT_EQ(d.code, 0) << d.err;
  EXPECT_EQ(d.out, "Success! Data deleted (if it existed) at: secret/data/app\n");
  // Vault names the data path, though the versions go to delete/.
  Outcome dv = RunCli({"kv", "delete", "-versions=1,2", "secret/app"}, Vars(server));
  EXPECT_EQ(dv.out, "Success! Data deleted (if it existed) at: secret/data/app\n");
  EXPECT_EQ(json::parse(server.requests().back().body), json::parse(R"({"versions":[1,2]})"));
  Outcome u = RunCli({"kv", "undelete", "-versions=2", "-versions=3", "secret/app"}, Vars(server));
  EXPECT_EQ(u.out, "Success! Data written to: secret/undelete/app\n");
  EXPECT_EQ(json::parse(server.requests().back().body), json::parse(R"({"versions":[2,3]})"));
  Outcome x = RunCli({"kv", "destroy", "-versions=1", "secret/app"}, Vars(server));
  EXPECT_EQ(x.code, 0);
  EXPECT_EQ(server.requests().back().target, "/v1/secret/destroy/app");
  EXPECT_EQ(RunCli({"kv", "destroy", "secret/app"}, Vars(server)).code, 1);
  EXPECT_EQ(RunCli({"kv", "undelete", "-versions=x", "secret/app"}, Vars(server)).code, 1);
}

TEST(KvVersionsTest, JsonFormatPrintsNoSuccessLine) {
  FakeServer server(Routes({{"GET /v1/sys/internal/ui/mounts/secret/app", {200, kSecretV2}},
                            {"DELETE /v1/secret/data/app", {204, ""}},
                            {"PUT /v1/secret/undelete/app", {204, ""}},
                            {"PUT /v1/secret/destroy/app", {204, ""}},
                            {"POST /v1/secret/metadata/app", {204, ""}}}));
  for (std::vector<std::string> args :
       std::vector<std::vector<std::string>>{{"kv", "delete"},
                                             {"kv", "undelete", "-versions=1"},
                                             {"kv", "destroy", "-versions=1"},
                                             {"kv", "metadata", "put", "-max-versions=3"}}) {
    args.push_back("-format=json");
    args.push_back("secret/app");
    Outcome o = RunCli(args, Vars(server));
    EXPECT_EQ(o.code, 0) << args[1] << ": " << o.err;
    EXPECT_EQ(o.out, "") << args[1];
  }
}

TEST(KvListTest, ListsMetadataPath) {
  FakeServer server(Routes(
      {{"GET /v1/sys/internal/ui/mounts/secret/dir", {200, kSecretV2}},
       {"GET /v1/secret/metadata/dir/?list=true", {200, R"({"data":{"keys":["b","a/"]}})"}}}));
  Outcome o = RunCli({"kv", "list", "secret/dir"}, Vars(server));
  EXPECT_EQ(o.code, 0) << o.err;
  EXPECT_EQ(o.out, "Keys\n----\na/\nb\n");
  Outcome none = RunCli({"kv", "list", "secret/empty"}, Vars(server));
  EXPECT_EQ(none.code, 2);
}

TEST(KvListTest, MountFlagWithoutPathListsTheRoot) {
  FakeServer server(
      Routes({{"GET /v1/sys/internal/ui/mounts/secret", {200, kSecretV2}},
              {"GET /v1/secret/metadata/?list=true", {200, R"({"data":{"keys":["app"]}})"}}}));
  Outcome o = RunCli({"kv", "list", "-mount=secret"}, Vars(server));
  EXPECT_EQ(o.code, 0) << o.err;
  EXPECT_EQ(o.out, "Keys\n----\napp\n");
  Outcome none = RunCli({"kv", "list"}, Vars(server));
  EXPECT_EQ(none.code, 1);
  EXPECT_EQ(none.err, "Not enough arguments (expected 1, got 0)\n");
}

TEST(KvListTest, NothingThereIsEmptyJsonOrNamedWithoutSlash) {
  FakeServer server(Routes({{"GET /v1/sys/internal/ui/mounts/secret/empty", {200, kSecretV2}}}));
  Outcome json_out = RunCli({"kv", "list", "-format=json", "secret/empty"}, Vars(server));
  EXPECT_EQ(json_out.code, 2);
  EXPECT_EQ(json_out.out, "{}\n");
  EXPECT_EQ(json_out.err, "");
  Outcome table = RunCli({"kv", "list", "secret/empty"}, Vars(server));
  EXPECT_EQ(table.code, 2);
  EXPECT_EQ(table.err, "No value found at secret/metadata/empty\n");
}

TEST(KvMetadataTest, GetPutDelete) {
  FakeServer server(
      Routes({{"GET /v1/sys/internal/ui/mounts/secret/app", {200, kSecretV2}},
              {"GET /v1/secret/metadata/app",
               {200, R"({"data":{"cas_required":false,"current_version":2,"max_versions":0,)"
                     R"("versions":{"10":{"destroyed":true},"2":{"destroyed":false}}}})"}},
              {"POST /v1/secret/metadata/app", {204, ""}},
              {"DELETE /v1/secret/metadata/app", {204, ""}}}));
  Outcome g = RunCli({"kv", "metadata", "get", "secret/app"}, Vars(server));
  EXPECT_EQ(g.code, 0) << g.err;
  EXPECT_THAT(g.out, HasSubstr("== Metadata Path ==\nsecret/metadata/app\n\n"));
  EXPECT_THAT(g.out, HasSubstr("current_version    2\n"));
  EXPECT_LT(g.out.find("Version 2 "), g.out.find("Version 10 "));
  Outcome p = RunCli({"kv", "metadata", "put", "-max-versions=5", "-cas-required=true",
                      "-custom-metadata=owner=ops", "secret/app"},
                     Vars(server));
  EXPECT_EQ(p.code, 0) << p.err;
  EXPECT_EQ(json::parse(server.requests().back().body),
            json::parse(R"({"max_versions":5,"cas_required":true,)"
                        R"("custom_metadata":{"owner":"ops"}})"));
  Outcome d = RunCli({"kv", "metadata", "delete", "secret/app"}, Vars(server));
  EXPECT_EQ(d.out, "Success! Data deleted (if it existed) at: secret/metadata/app\n");
}

// A merge patch of what is given; -remove-custom-metadata sends a null.
TEST(KvMetadataTest, PatchSendsOnlyTheGivenSettings) {
  FakeServer server(Routes({{"GET /v1/sys/internal/ui/mounts/secret/app", {200, kSecretV2}},
                            {"PATCH /v1/secret/metadata/app", {204, ""}}}));
  Outcome p = RunCli({"kv", "metadata", "patch", "-max-versions=3", "-custom-metadata=team=a",
                      "-remove-custom-metadata=owner", "secret/app"},
                     Vars(server));
  EXPECT_EQ(p.code, 0) << p.err;
  EXPECT_EQ(p.out, "Success! Data written to: secret/metadata/app\n");
  const FakeServer::Request sent = server.requests().back();  // requests() is a copy
  EXPECT_EQ(sent.method, "PATCH");
  EXPECT_EQ(sent.headers.at("content-type"), "application/merge-patch+json");
  EXPECT_EQ(json::parse(sent.body),
            json::parse(R"({"max_versions":3,"custom_metadata":{"team":"a","owner":null}})"));
  Outcome only =
      RunCli({"kv", "metadata", "patch", "-cas-required=false", "secret/app"}, Vars(server));
  EXPECT_EQ(only.code, 0) << only.err;
  EXPECT_EQ(json::parse(server.requests().back().body),
            json::parse(R"({"cas_required":false,"custom_metadata":{}})"));
}

// As Vault's rollback: only data/ is read (the latest version for
// check-and-set, then the old one), so a policy on data/ is enough.
TEST(KvRollbackTest, WritesOldDataWithCas) {
  FakeServer server(Routes(
      {{"GET /v1/sys/internal/ui/mounts/secret/app", {200, kSecretV2}},
       {"GET /v1/secret/data/app", {200, kAppV2}},
       {"GET /v1/secret/data/app?version=1",
        {200, R"({"data":{"data":{"old":"v"},"metadata":{"deletion_time":"","destroyed":false,)"
              R"("version":1}}})"}},
       {"GET /v1/secret/data/app?version=2",
        {404, R"({"data":{"data":null,"metadata":{"deletion_time":"2024-01-02T03:04:05Z",)"
              R"("destroyed":false,"version":2}}})"}},
       {"PUT /v1/secret/data/app", {200, kWritten}}}));
  Outcome o = RunCli({"kv", "rollback", "-version=1", "secret/app"}, Vars(server));
  EXPECT_EQ(o.code, 0) << o.err;
  EXPECT_EQ(json::parse(server.requests().back().body),
            json::parse(R"({"data":{"old":"v"},"options":{"cas":3}})"));
  for (const auto& request : server.requests()) {
    EXPECT_EQ(request.target.find("/metadata/"), std::string::npos) << request.target;
  }
  EXPECT_THAT(o.out, HasSubstr("version            4\n"));
  Outcome deleted = RunCli({"kv", "rollback", "-version=2", "secret/app"}, Vars(server));
  EXPECT_EQ(deleted.code, 2);
  EXPECT_EQ(deleted.err, "Cannot roll back to a version that has been deleted\n");
  Outcome missing = RunCli({"kv", "rollback", "-version=9", "secret/app"}, Vars(server));
  EXPECT_EQ(missing.code, 2);
  EXPECT_EQ(missing.err, "No value found at secret/data/app\n");
  EXPECT_EQ(RunCli({"kv", "rollback", "secret/app"}, Vars(server)).code, 1);
}
}  // namespace
}  // namespace coffer::cli
