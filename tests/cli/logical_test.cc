// read/write/list/delete, unwrap, lease, secrets/auth and policy commands.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "cli/cli_test_util.h"
#include "cli/data_args.h"
#include "cli/policy_fmt.h"
#include "hcl/hcl.h"

namespace coffer::cli {
namespace {

using cli_testing::FakeServer;
using cli_testing::Outcome;
using cli_testing::Routes;
using cli_testing::RunCli;
using cli_testing::Vars;
using ::testing::HasSubstr;
using json = nlohmann::json;

std::filesystem::path TempFile(const std::string& name, const std::string& contents) {
  auto p = std::filesystem::temp_directory_path() /
           ("coffer-cli-" + std::to_string(getpid()) + "-" + name);
  std::ofstream(p, std::ios::binary) << contents;
  return p;
}

TEST(DataArgsTest, PairsFilesStdinAndRepeats) {
  auto file = TempFile("value", "file-secret\n");
  std::istringstream in("stdin-value");
  Result<Json> d =
      ParseDataArgs({"a=1", "b=@" + file.string(), "c=\\@lit", "d=-", "a=2", "e=x=y", ""}, &in);
  ASSERT_TRUE(d) << d.error().message();
  EXPECT_EQ(json::parse(d->dump()),
            json::parse(R"({"a":["1","2"],"b":"file-secret\n","c":"@lit","d":"stdin-value",)"
                        R"("e":"x=y"})"));
  std::istringstream in2(R"({"x":1})");
  Result<Json> j = ParseDataArgs({"-", "y=2"}, &in2);
  ASSERT_TRUE(j);
  EXPECT_EQ(json::parse(j->dump()), json::parse(R"({"x":1,"y":"2"})"));
  std::istringstream in3("v");
  EXPECT_FALSE(ParseDataArgs({"a=-", "b=-"}, &in3));  // stdin only once
  EXPECT_FALSE(ParseDataArgs({"noequals"}, &in3));
  Result<Json> missing = ParseDataArgs({"k=@/nonexistent/f"}, &in3);
  ASSERT_FALSE(missing);
  EXPECT_THAT(missing.error().message(), HasSubstr("/nonexistent/f"));
  std::filesystem::remove(file);
}

TEST(ReadWriteTest, WriteBodyWrapTtlAndWrapInfo) {
  FakeServer server(Routes(
      {{"PUT /v1/secret/app", {204, ""}},
       {"GET /v1/secret/app",
        {200,
         R"({"wrap_info":{"token":"s.w","accessor":"a","ttl":60,)"
         R"("creation_time":"2024-05-09T14:22:03.000000000Z","creation_path":"secret/app"}})"}}}));
  Outcome w = RunCli({"write", "secret/app", "x=1"}, Vars(server));
  EXPECT_EQ(w.code, 0) << w.err;
  EXPECT_EQ(w.out, "Success! Data written to: secret/app\n");
  EXPECT_EQ(server.requests().back().method, "PUT");
  EXPECT_EQ(json::parse(server.requests().back().body), json({{"x", "1"}}));
  EXPECT_EQ(RunCli({"write", "secret/app"}, Vars(server)).code, 1);  // no data, no -force
  Outcome r = RunCli({"read", "-wrap-ttl=1m", "secret/app"}, Vars(server));
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(server.requests().back().headers["x-vault-wrap-ttl"], "1m");
  EXPECT_THAT(r.out, HasSubstr("wrapping_token:                  s.w\n"));
  EXPECT_THAT(r.out, HasSubstr("wrapping_token_ttl:              1m\n"));
  // Go's time.String(): a whole second shows no fraction.
  EXPECT_THAT(r.out, HasSubstr("wrapping_token_creation_time:    2024-05-09 14:22:03 +0000 UTC\n"));
  Outcome f = RunCli({"read", "-field=wrapping_token", "secret/app"}, Vars(server));
  EXPECT_EQ(f.out, "s.w");
}

TEST(ReadWriteTest, ReadTableLeaseRowsAndNotFound) {
  FakeServer server(Routes(
      {{"GET /v1/database/creds/ro?ttl=1h",
        {200, R"({"lease_id":"database/creds/ro/abc","lease_duration":3600,"renewable":true,)"
              R"("data":{"username":"u","password":"p","tags":["a","b"]}})"}},
       {"GET /v1/kv2/app",
        {404, R"({"data":null,"warnings":["Invalid path for a versioned K/V secrets engine."]})"}},
       {"GET /v1/kv2/?list=true",
        {404, R"({"data":null,"warnings":["Invalid path for a versioned K/V secrets engine."]})"}},
       {"GET /v1/kv2/data/gone",
        {404, R"({"data":{"data":null,"metadata":{"deletion_time":"2024-05-09T14:22:03Z",)"
              R"("destroyed":false,"version":2}}})"}}}));
  Outcome o = RunCli({"read", "database/creds/ro", "ttl=1h"}, Vars(server));
  EXPECT_EQ(o.code, 0) << o.err;
  EXPECT_EQ(o.out,
            "Key                Value\n"
            "---                -----\n"
            "lease_id           database/creds/ro/abc\n"
            "lease_duration     1h\n"
            "lease_renewable    true\n"
            "password           p\n"
            "tags               [a b]\n"
            "username           u\n");
  Outcome none = RunCli({"read", "secret/none"}, Vars(server));
  EXPECT_EQ(none.code, 2);
  EXPECT_EQ(none.err, "No value found at secret/none\n");
  // As Vault's client: a 404 with warnings (a KV v2 mount asked a v1-style
  // path) or data (a deleted version's metadata) is an answer, exit 0.
  const std::string warning =
      "WARNING! The following warnings were returned from Vault:\n\n"
      "  * Invalid path for a versioned K/V secrets engine.\n\n";
  Outcome why = RunCli({"read", "kv2/app"}, Vars(server));
  EXPECT_EQ(why.code, 0);
  EXPECT_EQ(why.err, warning);
  EXPECT_EQ(why.out, "");
  Outcome listed = RunCli({"list", "kv2"}, Vars(server));
  EXPECT_EQ(listed.code, 0);
  EXPECT_EQ(listed.err, warning);
  Outcome deleted = RunCli({"read", "kv2/data/gone"}, Vars(server));
  EXPECT_EQ(deleted.code, 0) << deleted.err;
  EXPECT_THAT(deleted.out, HasSubstr("metadata    map[deletion_time:2024-05-09T14:22:03Z"));
}

// Vault's -format=raw: read prints the body as the server sent it; other
// commands refuse the format.
TEST(ReadWriteTest, RawFormatPrintsTheBodyAsSent) {
  const std::string body = R"({"data":{"big":100000000000000000000,"pem":"-----BEGIN X-----"}})";
  FakeServer server(Routes({{"GET /v1/kv1/app", {200, body}}}));
  Outcome r = RunCli({"read", "-format=raw", "kv1/app"}, Vars(server));
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, body + "\n");
  Outcome none = RunCli({"read", "-format=RAW", "kv1/none"}, Vars(server));
  EXPECT_EQ(none.code, 2);
  EXPECT_EQ(none.err, "No value found at kv1/none\n");
  Outcome other = RunCli({"token", "lookup", "-format=raw"}, Vars(server));
  EXPECT_EQ(other.code, 1);
  EXPECT_EQ(other.err, "This command does not support the -format=raw option.\n");
}

TEST(ReadWriteTest, FieldDataRequestIdAndRenewable) {
  FakeServer server(Routes(
      {{"GET /v1/kv1/app",
        {200, R"({"request_id":"req-1","lease_id":"","renewable":false,"lease_duration":0,)"
              R"("data":{"user":"admin"},"wrap_info":null,"warnings":null,"auth":null})"}}}));
  Outcome data = RunCli({"read", "-format=json", "-field=data", "kv1/app"}, Vars(server));
  EXPECT_EQ(data.code, 0) << data.err;
  EXPECT_EQ(json::parse(data.out), json::parse(R"({"user":"admin"})"));
  Outcome id = RunCli({"read", "-field=request_id", "kv1/app"}, Vars(server));
  EXPECT_EQ(id.code, 0) << id.err;
  EXPECT_EQ(id.out, "req-1");
  Outcome renewable = RunCli({"read", "-field=renewable", "kv1/app"}, Vars(server));
  EXPECT_EQ(renewable.code, 0) << renewable.err;
  EXPECT_EQ(renewable.out, "false");
}

// An answer outside Vault's envelope (sys/health, sys/in-flight-req) is shown
// as a table of its own keys, not as nothing.
TEST(ReadWriteTest, AnswerWithoutEnvelopeIsShownAsAMap) {
  FakeServer server(
      Routes({{"GET /v1/sys/in-flight-req",
               {200, R"({"req-1":{"request_method":"GET","request_path":"/v1/sys/health"}})"}},
              {"GET /v1/secret/empty", {200, R"({"request_id":"r","data":{}})"}}}));
  Outcome o = RunCli({"read", "sys/in-flight-req"}, Vars(server));
  EXPECT_EQ(o.code, 0) << o.err;
  EXPECT_EQ(o.out,
            "Key      Value\n"
            "---      -----\n"
            "req-1    map[request_method:GET request_path:/v1/sys/health]\n");
  // An enveloped answer with nothing in it still prints nothing.
  Outcome empty = RunCli({"read", "secret/empty"}, Vars(server));
  EXPECT_EQ(empty.code, 0) << empty.err;
  EXPECT_EQ(empty.out, "");
}

// -format=yaml (and its alias yml, or VAULT_FORMAT=yaml) prints what
// -format=json prints, as YAML.
TEST(ReadWriteTest, YamlFormat) {
  FakeServer server(Routes(
      {{"GET /v1/kv1/app",
        {200, R"({"request_id":"req-1","lease_id":"","renewable":false,"lease_duration":3600,)"
              R"("data":{"user":"admin","pin":"0042"},"wrap_info":null,"warnings":null,)"
              R"("auth":null})"}},
       {"GET /v1/secret/?list=true", {200, R"({"data":{"keys":["z","a/"]}})"}}}));
  Outcome read = RunCli({"read", "-format=yaml", "kv1/app"}, Vars(server));
  EXPECT_EQ(read.code, 0) << read.err;
  EXPECT_EQ(read.out,
            "data:\n"
            "  pin: \"0042\"\n"
            "  user: admin\n"
            "lease_duration: 3600\n"
            "lease_id: \"\"\n"
            "renewable: false\n"
            "request_id: req-1\n"
            "warnings: null\n");
  auto env = Vars(server);
  env["VAULT_FORMAT"] = "yml";
  Outcome field = RunCli({"read", "-field=data", "kv1/app"}, env);
  EXPECT_EQ(field.code, 0) << field.err;
  EXPECT_EQ(field.out, "pin: \"0042\"\nuser: admin") << "no final newline off a terminal, as JSON";
  Outcome list = RunCli({"list", "-format=YAML", "secret"}, Vars(server));
  EXPECT_EQ(list.code, 0) << list.err;
  EXPECT_EQ(list.out, "- z\n- a/\n");
}

// coffer patch sends a JSON merge patch and prints what write prints.
TEST(ReadWriteTest, PatchSendsAMergePatch) {
  FakeServer server(Routes({{"PATCH /v1/secret/data/app", {204, ""}},
                            {"PATCH /v1/transit/keys/k/config", {200, R"({"data":{"v":1}})"}}}));
  Outcome none = RunCli({"patch", "secret/data/app"}, Vars(server));
  EXPECT_EQ(none.code, 1);
  EXPECT_EQ(none.err, "Must supply data or use -force\n");
  EXPECT_TRUE(server.requests().empty()) << "sent without data";

  Outcome o = RunCli({"patch", "secret/data/app", "-"}, Vars(server), R"({"data":{"a":null}})");
  EXPECT_EQ(o.code, 0) << o.err;
  EXPECT_EQ(o.out, "Success! Data written to: secret/data/app\n");
  auto sent = server.requests().back();
  EXPECT_EQ(sent.method, "PATCH");
  EXPECT_EQ(sent.headers["content-type"], "application/merge-patch+json");
  EXPECT_EQ(json::parse(sent.body), json::parse(R"({"data":{"a":null}})"));

  Outcome field = RunCli({"patch", "-field=v", "transit/keys/k/config", "x=1"}, Vars(server));
  EXPECT_EQ(field.code, 0) << field.err;
  EXPECT_EQ(field.out, "1");
}

TEST(ReadWriteTest, ListAndDelete) {
  FakeServer server(Routes({{"GET /v1/secret/?list=true", {200, R"({"data":{"keys":["z","a"]}})"}},
                            {"DELETE /v1/secret/app", {204, ""}}}));
  Outcome l = RunCli({"list", "secret/"}, Vars(server));
  EXPECT_EQ(l.code, 0) << l.err;
  EXPECT_EQ(l.out, "Keys\n----\na\nz\n");
  Outcome j = RunCli({"list", "-format=json", "secret"}, Vars(server));
  EXPECT_EQ(json::parse(j.out), json::parse(R"(["z","a"])"));
  Outcome d = RunCli({"delete", "secret/app"}, Vars(server));
  EXPECT_EQ(d.out, "Success! Data deleted (if it existed) at: secret/app\n");
  Outcome dj = RunCli({"delete", "-format=json", "secret/app"}, Vars(server));
  EXPECT_EQ(dj.code, 0) << dj.err;
  EXPECT_EQ(dj.out, "");
}

TEST(ReadWriteTest, ListOfNothingIsEmptyJsonOrNamedWithoutSlash) {
  FakeServer server(Routes({{"GET /v1/secret/nokeys/?list=true", {200, R"({"data":{}})"}}}));
  for (const char* path : {"secret/none", "secret/nokeys"}) {
    Outcome j = RunCli({"list", "-format=json", path}, Vars(server));
    EXPECT_EQ(j.code, 2) << path;
    EXPECT_EQ(j.out, "{}\n") << path;
    EXPECT_EQ(j.err, "") << path;
  }
  Outcome missing = RunCli({"list", "secret/none/"}, Vars(server));
  EXPECT_EQ(missing.code, 2);
  EXPECT_EQ(missing.err, "No value found at secret/none\n");
  Outcome empty = RunCli({"list", "secret/nokeys"}, Vars(server));
  EXPECT_EQ(empty.code, 2);
  EXPECT_EQ(empty.err, "No entries found at secret/nokeys\n");
}

TEST(ReadWriteTest, MissingPathNamesTheMinimum) {
  FakeServer server(Routes({}));
  for (const char* command : {"read", "write"}) {
    Outcome o = RunCli({command}, Vars(server));
    EXPECT_EQ(o.code, 1) << command;
    EXPECT_EQ(o.err, "Not enough arguments (expected 1, got 0)\n") << command;
  }
  EXPECT_TRUE(server.requests().empty());
}

TEST(UnwrapTest, TokenArgumentIsTheRequestToken) {
  FakeServer server(Routes({{"POST /v1/sys/wrapping/unwrap", {200, R"({"data":{"k":"v"}})"}}}));
  Outcome o = RunCli({"unwrap", "-"}, Vars(server), "s.wrapping\n");
  EXPECT_EQ(o.code, 0) << o.err;
  EXPECT_EQ(server.requests().back().token, "s.wrapping");
  EXPECT_EQ(server.requests().back().body, "");
  EXPECT_EQ(o.out, "Key    Value\n---    -----\nk      v\n");
  RunCli({"unwrap"}, Vars(server));
  EXPECT_EQ(server.requests().back().token, "s.tok");
}

// As Vault's unwrap: a wrapped LIST shows as a list, and a wrapped answer
// without data is a success.
TEST(UnwrapTest, ListsAndEmptyAnswers) {
  FakeServer lists(
      Routes({{"POST /v1/sys/wrapping/unwrap", {200, R"({"data":{"keys":["a","b/"]}})"}},
              {"GET /v1/secret/?list=true", {200, R"({"wrap_info":{"token":"s.w","ttl":300}})"}}}));
  Outcome wrapped = RunCli({"list", "-wrap-ttl=5m", "secret"}, Vars(lists));
  EXPECT_EQ(lists.requests().back().headers["x-vault-wrap-ttl"], "5m");
  Outcome l = RunCli({"unwrap"}, Vars(lists));
  EXPECT_EQ(l.code, 0) << l.err;
  EXPECT_EQ(l.out, "Keys\n----\na\nb/\n");
  Outcome j = RunCli({"unwrap", "-format=json"}, Vars(lists));
  EXPECT_EQ(json::parse(j.out), json::parse(R"(["a","b/"])"));
  FakeServer empty(Routes({{"POST /v1/sys/wrapping/unwrap", {204, ""}}}));
  Outcome e = RunCli({"unwrap"}, Vars(empty));
  EXPECT_EQ(e.code, 0) << e.err;
  EXPECT_EQ(e.out, "Successfully unwrapped. There was no data in the wrapped secret.\n");
}

TEST(PathHelpTest, PrintsTheServersHelp) {
  FakeServer server(Routes(
      {{"GET /v1/secret?help=1", {200, R"({"help":"## DESCRIPTION\n\nKV","see_also":null})"}},
       {"GET /v1/nomount/x?help=1", {404, R"({"errors":["no handler for route"]})"}}}));
  Outcome o = RunCli({"path-help", "secret"}, Vars(server));
  EXPECT_EQ(o.code, 0) << o.err;
  EXPECT_EQ(o.out, "## DESCRIPTION\n\nKV\n");
  Outcome j = RunCli({"path-help", "-format=json", "secret"}, Vars(server));
  EXPECT_EQ(j.code, 0) << j.err;
  EXPECT_EQ(json::parse(j.out).at("help"), "## DESCRIPTION\n\nKV");
  Outcome missing = RunCli({"path-help", "nomount/x"}, Vars(server));
  EXPECT_EQ(missing.code, 2);
  EXPECT_THAT(missing.err, HasSubstr("Error retrieving help: "));
  EXPECT_THAT(missing.err, HasSubstr("no handler for route"));
}

TEST(LeaseTest, RenewRevokeLookup) {
  FakeServer server(
      Routes({{"PUT /v1/sys/leases/renew",
               {200, R"({"lease_id":"l/1","lease_duration":60,"renewable":true})"}},
              {"PUT /v1/sys/leases/revoke", {204, ""}},
              {"PUT /v1/sys/leases/revoke-prefix/db/creds", {204, ""}},
              {"PUT /v1/sys/leases/revoke-force/db/creds", {204, ""}},
              {"PUT /v1/sys/leases/lookup", {200, R"({"data":{"id":"l/1","ttl":59}})"}}}));
  Outcome r = RunCli({"lease", "renew", "-increment=1m", "l/1"}, Vars(server));
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(json::parse(server.requests().back().body),
            json::parse(R"({"lease_id":"l/1","increment":60})"));
  EXPECT_THAT(r.out, HasSubstr("lease_duration     1m\n"));
  // Queued unless -sync, as Vault's command.
  EXPECT_EQ(RunCli({"lease", "revoke", "l/1"}, Vars(server)).out,
            "All revocation operations queued successfully!\n");
  EXPECT_EQ(json::parse(server.requests().back().body),
            json::parse(R"({"lease_id":"l/1","sync":false})"));
  EXPECT_EQ(RunCli({"lease", "revoke", "-sync", "l/1"}, Vars(server)).out,
            "Success! Revoked lease: l/1\n");
  EXPECT_EQ(json::parse(server.requests().back().body),
            json::parse(R"({"lease_id":"l/1","sync":true})"));
  EXPECT_EQ(RunCli({"lease", "revoke", "-prefix", "-sync", "db/creds"}, Vars(server)).out,
            "Success! Revoked any leases with prefix: db/creds\n");
  EXPECT_EQ(server.requests().back().target, "/v1/sys/leases/revoke-prefix/db/creds");
  EXPECT_EQ(json::parse(server.requests().back().body), json::parse(R"({"sync":true})"));
  Outcome forced = RunCli({"lease", "revoke", "-prefix", "-force", "db/creds"}, Vars(server));
  EXPECT_EQ(server.requests().back().target, "/v1/sys/leases/revoke-force/db/creds");
  EXPECT_EQ(forced.out, "Success! Force revoked any leases with prefix: db/creds\n");
  EXPECT_THAT(forced.err, HasSubstr("Warning! Force-removing leases"));
  EXPECT_EQ(RunCli({"lease", "revoke", "-force", "db/creds"}, Vars(server)).code, 1);
  Outcome l = RunCli({"lease", "lookup", "l/1"}, Vars(server));
  EXPECT_THAT(l.out, HasSubstr("ttl    59s\n"));
}

TEST(MountsTest, SecretsEnableListTuneMoveDisable) {
  FakeServer server(Routes(
      {{"POST /v1/sys/mounts/kv2", {204, ""}},
       {"POST /v1/sys/mounts/kv2/tune", {204, ""}},
       {"POST /v1/sys/remount", {200, R"({"data":{"migration_id":"m-1"}})"}},
       {"GET /v1/sys/remount/status/m-1",
        {200, R"({"data":{"migration_id":"m-1","migration_info":{"source_mount":"kv2/",)"
              R"("target_mount":"kv3/","status":"success"}}})"}},
       {"DELETE /v1/sys/mounts/kv2", {204, ""}},
       {"GET /v1/sys/mounts",
        {200,
         R"({"secret/":{"type":"kv","accessor":"kv_1","description":"",)"
         R"("config":{"default_lease_ttl":0,"max_lease_ttl":3600},"options":{"version":"2"}},)"
         R"("cubbyhole/":{"type":"cubbyhole","accessor":"c_2","description":"per-token"}})"}}}));
  Outcome e = RunCli({"secrets", "enable", "-path=kv2", "-version=2", "-description=d",
                      "-default-lease-ttl=1h", "kv"},
                     Vars(server));
  EXPECT_EQ(e.code, 0) << e.err;
  EXPECT_EQ(e.out, "Success! Enabled the kv secrets engine at: kv2/\n");
  EXPECT_EQ(json::parse(server.requests().back().body),
            json::parse(R"({"type":"kv","description":"d","config":{"default_lease_ttl":"1h"},)"
                        R"("options":{"version":"2"}})"));
  Outcome l = RunCli({"secrets", "list"}, Vars(server));
  EXPECT_EQ(l.out,
            "Path          Type         Accessor    Description\n"
            "----          ----         --------    -----------\n"
            "cubbyhole/    cubbyhole    c_2         per-token\n"
            "secret/       kv           kv_1        n/a\n");
  // Vault's -detailed: TTLs in seconds ("system" for the system's, n/a for
  // cubbyhole/), and the plugin version columns.
  Outcome dl = RunCli({"secrets", "list", "-detailed"}, Vars(server));
  const std::string detailed = dl.out.substr(0, dl.out.find('\n'));
  EXPECT_THAT(detailed, HasSubstr("Force No Cache"));
  EXPECT_THAT(detailed, HasSubstr("UUID    Version    Running Version    Running SHA256    "
                                  "Deprecation Status"));
  EXPECT_THAT(dl.out, HasSubstr("kv_1        system         3600       false"));
  EXPECT_THAT(dl.out, HasSubstr("c_2         n/a            n/a        false"));
  EXPECT_THAT(dl.out, HasSubstr("map[version:2]"));
  RunCli({"secrets", "tune", "-max-lease-ttl=2h", "kv2"}, Vars(server));
  EXPECT_EQ(json::parse(server.requests().back().body), json({{"max_lease_ttl", "2h"}}));
  Outcome m = RunCli({"secrets", "move", "kv2", "kv3"}, Vars(server));
  EXPECT_EQ(m.code, 0) << m.err;
  ASSERT_GE(server.requests().size(), 2u);
  EXPECT_EQ(json::parse(server.requests()[server.requests().size() - 2].body),
            json::parse(R"({"from":"kv2/","to":"kv3/"})"));
  EXPECT_EQ(m.out,
            "Started moving secrets engine kv2/ to kv3/, with migration ID m-1\n"
            "Success! Finished moving secrets engine kv2/ to kv3/, with migration ID m-1\n");
  Outcome d = RunCli({"secrets", "disable", "kv2"}, Vars(server));
  EXPECT_EQ(d.out, "Success! Disabled the secrets engine (if it existed) at: kv2/\n");
  EXPECT_EQ(RunCli({"secrets", "enable"}, Vars(server)).code, 1);
}

TEST(MountsTest, OptionsLocalVisibilityAndAuditKeys) {
  FakeServer server(Routes({{"POST /v1/sys/mounts/kv2", {204, ""}},
                            {"POST /v1/sys/mounts/kv2/tune", {204, ""}},
                            {"POST /v1/sys/auth/up", {204, ""}}}));
  Outcome e = RunCli({"secrets", "enable", "-path=kv2", "-options=version=2", "-options=a=b=c",
                      "-local", "-listing-visibility=unauth", "-audit-non-hmac-request-keys=x,y",
                      "-audit-non-hmac-request-keys=z", "-audit-non-hmac-response-keys=r", "kv"},
                     Vars(server));
  EXPECT_EQ(e.code, 0) << e.err;
  EXPECT_EQ(json::parse(server.requests().back().body),
            json::parse(R"({"type":"kv","local":true,"config":{"listing_visibility":"unauth",)"
                        R"("audit_non_hmac_request_keys":["x","y","z"],)"
                        R"("audit_non_hmac_response_keys":["r"]},)"
                        R"("options":{"version":"2","a":"b=c"}})"));
  // Vault's flag names are plural; the singular ones Coffer first had still work.
  Outcome t = RunCli({"secrets", "tune", "-options=version=2", "-listing-visibility=",
                      "-audit-non-hmac-response-keys=r", "-passthrough-request-headers=X-A",
                      "-passthrough-request-header=X-B", "-allowed-response-headers=X-C", "kv2"},
                     Vars(server));
  EXPECT_EQ(t.code, 0) << t.err;
  EXPECT_EQ(json::parse(server.requests().back().body),
            json::parse(R"({"listing_visibility":"","audit_non_hmac_response_keys":["r"],)"
                        R"("passthrough_request_headers":["X-A","X-B"],)"
                        R"("allowed_response_headers":["X-C"],)"
                        R"("options":{"version":"2"}})"));
  Outcome a = RunCli({"auth", "enable", "-path=up", "-local", "-listing-visibility=unauth",
                      "-audit-non-hmac-request-keys=password", "userpass"},
                     Vars(server));
  EXPECT_EQ(a.code, 0) << a.err;
  EXPECT_EQ(
      json::parse(server.requests().back().body),
      json::parse(R"({"type":"userpass","local":true,"config":{)"
                  R"("listing_visibility":"unauth","audit_non_hmac_request_keys":["password"]}})"));
  EXPECT_EQ(RunCli({"secrets", "enable", "-options=novalue", "kv"}, Vars(server)).code, 1);
}

// The rest of Vault's enable flags: auth methods take -options, -version and
// -token-type; both take -seal-wrap, -external-entropy-access, -plugin-name
// (for the type "plugin") and -plugin-version.
TEST(MountsTest, EnableTakesVaultsOtherFlags) {
  FakeServer server(Routes({{"POST /v1/sys/auth/up", {204, ""}},
                            {"POST /v1/sys/mounts/kvw", {204, ""}},
                            {"POST /v1/sys/mounts/kv", {204, ""}}}));
  Outcome a = RunCli({"auth", "enable", "-path=up", "-options=a=b", "-version=2",
                      "-token-type=batch", "-seal-wrap", "userpass"},
                     Vars(server));
  EXPECT_EQ(a.code, 0) << a.err;
  EXPECT_EQ(json::parse(server.requests().back().body),
            json::parse(R"({"type":"userpass","seal_wrap":true,"config":{"token_type":"batch"},)"
                        R"("options":{"a":"b","version":"2"}})"));
  Outcome s = RunCli({"secrets", "enable", "-path=kvw", "-seal-wrap", "-external-entropy-access",
                      "-force-no-cache", "-plugin-version=", "kv"},
                     Vars(server));
  EXPECT_EQ(s.code, 0) << s.err;
  EXPECT_EQ(json::parse(server.requests().back().body),
            json::parse(R"({"type":"kv","seal_wrap":true,"external_entropy_access":true,)"
                        R"("config":{"force_no_cache":true,"plugin_version":""}})"));
  Outcome p = RunCli({"secrets", "enable", "-plugin-name=kv", "plugin"}, Vars(server));
  EXPECT_EQ(p.code, 0) << p.err;
  EXPECT_EQ(p.out, "Success! Enabled the kv secrets engine at: kv/\n");
  EXPECT_EQ(RunCli({"secrets", "enable", "plugin"}, Vars(server)).code, 1);
  // -force-no-cache is a secrets engine's flag only, as in Vault.
  EXPECT_EQ(RunCli({"auth", "enable", "-force-no-cache", "userpass"}, Vars(server)).code, 1);
}

TEST(MountsTest, AuthEnableListDisable) {
  FakeServer server(Routes({{"POST /v1/sys/auth/users", {204, ""}},
                            {"DELETE /v1/sys/auth/users", {204, ""}},
                            {"GET /v1/sys/auth",
                             {200, R"({"data":{"token/":{"type":"token","accessor":"t_1",)"
                                   R"("description":"token based credentials",)"
                                   R"("config":{"token_type":"default-service"}}}})"}}}));
  Outcome e = RunCli({"auth", "enable", "-path=users", "userpass"}, Vars(server));
  EXPECT_EQ(e.out, "Success! Enabled userpass auth method at: users/\n");
  EXPECT_EQ(json::parse(server.requests().back().body), json({{"type", "userpass"}}));
  Outcome l = RunCli({"auth", "list"}, Vars(server));
  // Vault's auth list has a Version column; -detailed shows the token type.
  EXPECT_THAT(l.out, HasSubstr("token/    token    t_1         token based credentials    n/a\n"));
  Outcome dl = RunCli({"auth", "list", "-detailed"}, Vars(server));
  EXPECT_THAT(dl.out, HasSubstr("Max TTL    Token Type         Replication"));
  EXPECT_THAT(dl.out, HasSubstr("system         system     default-service    replicated"));
  Outcome d = RunCli({"auth", "disable", "users"}, Vars(server));
  EXPECT_EQ(d.out, "Success! Disabled the auth method (if it existed) at: users/\n");
  FakeServer denied(Routes({}));
  EXPECT_EQ(RunCli({"auth", "disable", "x"}, Vars(denied)).code, 2);
}

TEST(MountsTest, AuthTunePostsOnlyWhatIsGiven) {
  FakeServer server(Routes({{"POST /v1/sys/auth/users/tune", {204, ""}}}));
  Outcome t = RunCli({"auth", "tune", "-max-lease-ttl=8h", "-token-type=batch",
                      "-listing-visibility=unauth", "users"},
                     Vars(server));
  EXPECT_EQ(t.code, 0) << t.err;
  EXPECT_EQ(t.out, "Success! Tuned the auth method at: users/\n");
  EXPECT_EQ(json::parse(server.requests().back().body),
            json::parse(R"({"max_lease_ttl":"8h","token_type":"batch",)"
                        R"("listing_visibility":"unauth"})"));
  EXPECT_EQ(RunCli({"auth", "tune", "-description=people", "users/"}, Vars(server)).code, 0);
  EXPECT_EQ(json::parse(server.requests().back().body), json::parse(R"({"description":"people"})"));
  Outcome o = RunCli({"auth", "tune", "-options=a=b", "-version=2", "-user-lockout-threshold=3",
                      "-user-lockout-duration=30m", "-user-lockout-counter-reset-duration=10m",
                      "-user-lockout-disable=false", "users"},
                     Vars(server));
  EXPECT_EQ(o.code, 0) << o.err;
  EXPECT_EQ(json::parse(server.requests().back().body),
            json::parse(R"({"options":{"a":"b","version":"2"},"user_lockout_config":{)"
                        R"("lockout_threshold":"3","lockout_duration":"30m",)"
                        R"("lockout_counter_reset_duration":"10m","lockout_disable":false}})"));
  // -token-type and the lockout flags are for auth methods only.
  EXPECT_EQ(RunCli({"secrets", "tune", "-token-type=batch", "kv"}, Vars(server)).code, 1);
  EXPECT_EQ(RunCli({"secrets", "tune", "-user-lockout-threshold=3", "kv"}, Vars(server)).code, 1);
  FakeServer denied(Routes({}));
  Outcome e = RunCli({"auth", "tune", "-max-lease-ttl=1h", "users"}, Vars(denied));
  EXPECT_EQ(e.code, 2);
  EXPECT_THAT(e.err, HasSubstr("Error tuning auth method users/: "));
}

// `auth move` posts both paths to sys/remount and polls the move's status;
// a move reported as failed is a failure of the command.
TEST(MountsTest, AuthMoveReportsAFailedMigration) {
  FakeServer server(Routes(
      {{"POST /v1/sys/remount", {200, R"({"data":{"migration_id":"m-2"}})"}},
       {"GET /v1/sys/remount/status/m-2",
        {200, R"({"data":{"migration_id":"m-2","migration_info":{"status":"failure"}}})"}}}));
  Outcome m = RunCli({"auth", "move", "auth/users", "auth/people"}, Vars(server));
  EXPECT_EQ(m.code, 2);
  EXPECT_EQ(json::parse(server.requests().front().body),
            json::parse(R"({"from":"auth/users/","to":"auth/people/"})"));
  EXPECT_EQ(m.out,
            "Started moving auth method auth/users/ to auth/people/, with migration ID m-2\n");
  EXPECT_THAT(m.err, HasSubstr("Failure! Error encountered moving auth method auth/users/ to "
                               "auth/people/, with migration ID m-2"));
}

TEST(PolicyTest, WriteReadListDelete) {
  const std::string rules = "path \"secret/*\" {\n  capabilities = [\"read\"]\n}\n";
  FakeServer server(Routes(
      {{"PUT /v1/sys/policies/acl/app", {204, ""}},
       {"GET /v1/sys/policies/acl/app", {200, json({{"data", {{"policy", rules}}}}).dump()}},
       {"GET /v1/sys/policies/acl?list=true", {200, R"({"data":{"keys":["default","root"]}})"}},
       {"DELETE /v1/sys/policies/acl/app", {204, ""}}}));
  Outcome w = RunCli({"policy", "write", "App", "-"}, Vars(server), rules);
  EXPECT_EQ(w.code, 0) << w.err;
  EXPECT_EQ(w.out, "Success! Uploaded policy: app\n");
  EXPECT_EQ(w.err, "Policy name was converted from \"App\" to \"app\"\n");  // Vault's warning
  EXPECT_EQ(json::parse(server.requests().back().body), json({{"policy", rules}}));
  EXPECT_EQ(RunCli({"policy", "write", "app", "-"}, Vars(server), rules).err, "");
  EXPECT_EQ(RunCli({"policy", "read", "app"}, Vars(server)).out, rules);
  Outcome missing = RunCli({"policy", "read", "nope"}, Vars(server));
  EXPECT_EQ(missing.code, 2);
  EXPECT_EQ(missing.err, "No policy named: nope\n");
  EXPECT_EQ(RunCli({"policy", "list"}, Vars(server)).out, "default\nroot\n");
  EXPECT_EQ(RunCli({"policy", "delete", "app"}, Vars(server)).out,
            "Success! Deleted policy: app\n");
  EXPECT_EQ(RunCli({"policy", "write", "app", "/nonexistent/p.hcl"}, Vars(server)).code, 2);
  // Check-and-set, OpenBao's fields.
  Outcome cas =
      RunCli({"policy", "write", "-cas=-1", "-cas-required", "app", "-"}, Vars(server), rules);
  EXPECT_EQ(cas.code, 0) << cas.err;
  EXPECT_EQ(json::parse(server.requests().back().body),
            json({{"policy", rules}, {"cas", -1}, {"cas_required", true}}));
}

// Vault's layout: order kept, two-space indents, aligned `=` in a run of
// one-line attributes, one-line lists, a blank line around each block.
TEST(PolicyFmtTest, LaysOutAndKeepsOrder) {
  Result<std::string> out = FormatPolicy(
      "path \"sys/*\" { capabilities=[\"deny\"] }\n"
      "path \"secret/*\" {\n capabilities = [\"read\",\"list\"]\n"
      " allowed_parameters = { \"ttl\" = [] , \"a\"=[\"1\"] }\n max_wrapping_ttl = \"1h\"\n"
      "min_wrapping_ttl=\"1s\" }\n");
  ASSERT_TRUE(out) << out.error().message();
  EXPECT_EQ(*out,
            "path \"sys/*\" {\n"
            "  capabilities = [\"deny\"]\n"
            "}\n\n"
            "path \"secret/*\" {\n"
            "  capabilities = [\"read\", \"list\"]\n"
            "  allowed_parameters = {\n"
            "    \"ttl\" = []\n"
            "    \"a\"   = [\"1\"]\n"
            "  }\n"
            "  max_wrapping_ttl = \"1h\"\n"
            "  min_wrapping_ttl = \"1s\"\n"
            "}\n");
  Result<std::string> again = FormatPolicy(*out);
  ASSERT_TRUE(again);
  EXPECT_EQ(*again, *out);
  EXPECT_FALSE(FormatPolicy("path \"a\" { capabilities = [ }"));
}

// Comments stay where they were: above an item, after it on its line,
// inside a list, at the end; blank lines between items stay (one at most).
TEST(PolicyFmtTest, KeepsComments) {
  const std::string in =
      "# Policy for the app team.\n"
      "# Owner: platform\n"
      "\n\n"
      "# Read the app's secrets\n"
      "path \"secret/data/app/*\" {\n"
      "  capabilities = [\"read\",\"list\"]   # no writes\n"
      "  max_wrapping_ttl=\"1h\"\n"
      "}\n"
      "path \"sys/*\" { capabilities=[\"deny\"] }  // never\n"
      "/* block\n"
      "   comment */\n"
      "path \"auth/token/create\" {\n"
      "  capabilities = [\n"
      "    \"update\", # to create tokens\n"
      "    # and, rarely,\n"
      "    \"sudo\"\n"
      "  ]\n"
      "}\n"
      "# the end\n";
  Result<std::string> out = FormatPolicy(in);
  ASSERT_TRUE(out) << out.error().message();
  EXPECT_EQ(*out,
            "# Policy for the app team.\n"
            "# Owner: platform\n"
            "\n"
            "# Read the app's secrets\n"
            "path \"secret/data/app/*\" {\n"
            "  capabilities     = [\"read\", \"list\"] # no writes\n"
            "  max_wrapping_ttl = \"1h\"\n"
            "}\n"
            "\n"
            "path \"sys/*\" {\n"
            "  capabilities = [\"deny\"]\n"
            "} // never\n"
            "\n"
            "/* block\n"
            "   comment */\n"
            "path \"auth/token/create\" {\n"
            "  capabilities = [\n"
            "    \"update\", # to create tokens\n"
            "    # and, rarely,\n"
            "    \"sudo\",\n"
            "  ]\n"
            "}\n"
            "# the end\n");
  Result<std::string> again = FormatPolicy(*out);
  ASSERT_TRUE(again);
  EXPECT_EQ(*again, *out);
}

// What a policy says never changes: the result parses to the input's tree,
// for heredocs, numbers, nested objects and empty bodies too. A JSON policy
// comes out as HCL in a canonical order.
TEST(PolicyFmtTest, SameTreeAndJsonInput) {
  for (const char* in : {
           "path \"a\" {}\npath \"b\" { capabilities = [] }",
           "path \"a\" {\n capabilities = [\"read\"]\n required_parameters = [\"x\", \"y\"]\n"
           " denied_parameters = { \"*\" = [] }\n}\n",
           "# c\npath \"a\" {\n capabilities = [\"read\"] // c\n}\n/* tail */",
           // quotes inside ${...} do not end the string (found by fuzzing)
           "path \"a/${ \"}\" }/b\" { capabilities = [\"read\"] }",
           "path \"a\" {\n capabilities = [\"read\"]\n allowed_parameters = {\n"
           "  \"n\" = [1, 2.5, true]  # mixed\n  \"s\" = [<<EOF\nline\nEOF\n, <<-X\n  y\n  X\n]\n"
           " }\n}\n",
           // a comment after a heredoc's comma: no blank line appears on the
           // second pass (found by fuzzing)
           "path \"a\" {\n  allowed_parameters = {\n    \"s\" = [<<EOF\nline\nEOF\n"
           "# Owner: platf\n, <<-X\n  y\n  X\n]\n  }\n}\n",
           // comments on the line of a heredoc's comma
           "path \"a\" {\n allowed_parameters = {\n  \"s\" = [<<EOF\nx\nEOF\n, # c\n\"b\", "
           "<<Y\nz\nY\n"
           ", # last\n]\n }\n}\n",
       }) {
    Result<std::string> out = FormatPolicy(in);
    ASSERT_TRUE(out) << in << "\n" << out.error().message();
    auto before = hcl::Parse(in, {});
    auto after = hcl::Parse(*out, {});
    ASSERT_TRUE(before && after) << *out;
    EXPECT_EQ(after->json(), before->json()) << *out;
    Result<std::string> again = FormatPolicy(*out);
    ASSERT_TRUE(again) << again.error().message();
    EXPECT_EQ(*again, *out) << "formatting twice changed it";
    // Every comment is kept.
    for (std::size_t at = 0; (at = std::string_view(in).find('#', at)) != std::string_view::npos;
         ++at) {
      const std::string_view comment =
          std::string_view(in).substr(at).substr(0, std::string_view(in).substr(at).find('\n'));
      EXPECT_NE(out->find(comment), std::string::npos) << comment << " lost:\n" << *out;
    }
  }
  // Found by fuzzing: a byte order mark; a JSON key that is no identifier;
  // a JSON "path" whose body is no object; a number HCL cannot hold.
  Result<std::string> bom = FormatPolicy("\xEF\xBB\xBFpath \"a\" { capabilities = [] }");
  ASSERT_TRUE(bom) << bom.error().message();
  EXPECT_EQ(*bom, "path \"a\" {\n  capabilities = []\n}\n");
  Result<std::string> dash = FormatPolicy(R"({"-x":{"y":"1"}})");
  ASSERT_TRUE(dash) << dash.error().message();
  EXPECT_EQ(*dash, "\"-x\" = {\n  \"y\" = \"1\"\n}\n");
  Result<std::string> not_body = FormatPolicy(R"({"path":{"a":["read"]}})");
  ASSERT_FALSE(not_body);
  EXPECT_EQ(not_body.error().code(), Code::kInvalidArgument);
  Result<std::string> huge = FormatPolicy(R"({"a":9967777777777747815})");
  ASSERT_FALSE(huge);
  EXPECT_EQ(huge.error().code(), Code::kInvalidArgument);
  Result<std::string> json_policy =
      FormatPolicy(R"({"path":{"z/*":{"capabilities":["read"]},"a/*":{"capabilities":["list"]}}})");
  ASSERT_TRUE(json_policy) << json_policy.error().message();
  EXPECT_EQ(*json_policy,
            "path \"a/*\" {\n  capabilities = [\"list\"]\n}\n\n"
            "path \"z/*\" {\n  capabilities = [\"read\"]\n}\n");
}

TEST(PolicyFmtTest, CommandRewritesFile) {
  auto file = TempFile("p.hcl", "path \"a\" {capabilities=[\"read\"]}");
  Outcome o = RunCli({"policy", "fmt", file.string()}, {});
  EXPECT_EQ(o.code, 0) << o.err;
  EXPECT_EQ(o.out, "Success! Formatted policy: " + file.string() + "\n");
  std::ifstream f(file);
  std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  EXPECT_EQ(text, "path \"a\" {\n  capabilities = [\"read\"]\n}\n");
  std::filesystem::remove(file);
  EXPECT_EQ(RunCli({"policy", "fmt", "/nonexistent.hcl"}, {}).code, 1);
}

TEST(PolicyFmtTest, RefusesWhatTheServerWouldRefuseAndKeepsTheFile) {
  const std::string bad = "path \"a\" {\n  capabilities = [\"reed\"]\n}\n";
  auto file = TempFile("app.hcl", bad);
  Outcome o = RunCli({"policy", "fmt", file.string()}, {});
  EXPECT_EQ(o.code, 1);
  EXPECT_EQ(o.out, "");
  // Named after the file, as the server names a policy after its path.
  EXPECT_EQ(o.err, "Error parsing policy: policy \"" + file.stem().string() +
                       "\": line 2: path \"a\": unknown capability \"reed\" (valid: create, "
                       "read, update, patch, delete, list, scan, subscribe, sudo, deny)\n");
  std::ifstream f(file);
  std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  EXPECT_EQ(text, bad);
  std::filesystem::remove(file);

  auto templated =
      TempFile("own.hcl", "path \"k/{{identity.entity.name}}/*\" {capabilities=[\"read\"]}");
  EXPECT_EQ(RunCli({"policy", "fmt", templated.string()}, {}).code, 0);
  std::filesystem::remove(templated);
  auto typo =
      TempFile("own.hcl", "path \"k/{{identity.entity.nmae}}/*\" {capabilities=[\"read\"]}");
  Outcome t = RunCli({"policy", "fmt", typo.string()}, {});
  EXPECT_EQ(t.code, 1);
  EXPECT_NE(t.err.find("unknown template parameter"), std::string::npos) << t.err;
  std::filesystem::remove(typo);
}

}  // namespace
}  // namespace coffer::cli
