#include <fmt/format.h>
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "audit/entry.h"
#include "audit/filter.h"
#include "audit/hash.h"
#include "common/json_numbers.h"

namespace coffer::audit {
namespace {

using logical::Json;

std::shared_ptr<const Salt> TestSalt(char fill = 'k') {
  return *Salt::Create(SecretBytes::FromString(std::string(32, fill)));
}

TEST(SaltTest, HashIsStableKeyedAndPrefixed) {
  auto a = TestSalt('a');
  auto b = TestSalt('b');
  EXPECT_EQ(a->Hash("secret"), a->Hash("secret"));
  EXPECT_NE(a->Hash("secret"), b->Hash("secret"));
  EXPECT_NE(a->Hash("secret"), a->Hash("secreT"));
  EXPECT_TRUE(a->Hash("x").starts_with("hmac-sha256:"));
  EXPECT_EQ(a->Hash("x").size(), 12u + 64u);
}

// "hmac-sha256:<hex>" by OpenSSL's one-shot HMAC, independently of Salt.
std::string ReferenceHash(const std::string& key, std::string_view value) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(value.data()), value.size(), mac, &size);
  std::string out = "hmac-sha256:";
  for (unsigned int i = 0; i < size; ++i) out += fmt::format("{:02x}", mac[i]);
  return out;
}

// The hashes made once, when the salt is, are the same as any other.
TEST(SaltTest, PrecomputedHashesOfEmptyTrueAndFalseAreTheHmac) {
  auto salt = TestSalt('k');
  const std::string key(32, 'k');
  for (std::string_view v : {"", "true", "false", "x"}) {
    EXPECT_EQ(salt->Hash(v), ReferenceHash(key, v)) << "value '" << v << "'";
  }
  std::string out = "prefix:";
  salt->AppendHashOfBool(out, true);
  EXPECT_EQ(out, "prefix:" + ReferenceHash(key, "true"));
  out.clear();
  salt->AppendHashOfBool(out, false);
  EXPECT_EQ(out, ReferenceHash(key, "false"));
  EXPECT_NE(TestSalt('j')->Hash(""), salt->Hash(""));  // keyed like the rest
}

// Every entry hashes the caller's token and accessor, and the salt keeps the
// recent ones in the clear to skip the MAC: in the secure heap, with the
// MAC's keyed states, not in the ordinary one a core dump would carry. The
// cache still gives the MAC of what was asked, not of what shares its slot.
TEST(SaltTest, TheCacheOfRecentTokensLivesInTheSecureHeap) {
  if (!InitSecureMemory(1 << 16)) GTEST_SKIP() << "mlock refused: no secure arena";
  auto salt = TestSalt('c');
  EXPECT_TRUE(salt->InSecureMemory());
  const std::string key(32, 'c');
  for (int round = 0; round < 2; ++round) {
    for (int i = 0; i < 300; ++i) {
      const std::string token = "hvs.token-" + std::to_string(i);
      std::string out;
      salt->AppendHashCached(out, token);
      ASSERT_EQ(out, ReferenceHash(key, token)) << token;
    }
  }
  std::string longer(200, 't');  // not cached
  std::string out;
  salt->AppendHashCached(out, longer);
  EXPECT_EQ(out, ReferenceHash(key, longer));
}

logical::Request SampleRequest() {
  logical::Request r;
  r.id = "req-1";
  r.operation = logical::Operation::kUpdate;
  r.path = "secret/data/app";
  r.client_token = "s.canarytoken";
  r.remote_address = "127.0.0.1";
  r.data = {{"data", {{"password", "hunter2"}}}};
  auto auth = std::make_shared<logical::Auth>();
  auth->accessor = "acc123";
  auth->policies = {"default", "app"};
  auth->display_name = "token";
  r.auth = auth;
  return r;
}

Json RenderRequest(const logical::Request& r, const MountInfo& m, const Salt& salt,
                   const EntryOptions& o = {}) {
  EntrySource src{EntrySource::Type::kRequest,     &r, &m, nullptr, "",
                  std::chrono::system_clock::now()};
  return Json::parse(Render(src, salt, o));
}

std::string RenderResponse(const logical::Request& r, const MountInfo& m,
                           const logical::Response& resp, const Salt& salt,
                           const EntryOptions& o = {}) {
  EntrySource src{EntrySource::Type::kResponse,    &r, &m, &resp, "",
                  std::chrono::system_clock::now()};
  return Render(src, salt, o);
}

TEST(EntryTest, EveryLeafKindIsHashedNullsStayExemptKeysStay) {
  auto salt = TestSalt();
  logical::Request r = SampleRequest();
  r.data = Json::parse(R"({"s":"pw","n":42,"f":1.5,"b":true,"nb":false,"e":"","z":null,"ttl":"1h",
                           "nested":{"deep":["x",{"y":"z"}]}, "q":"a\"b\n"})");
  MountInfo m{"kv", "secret/", "", {"ttl"}, {}};
  Json d = RenderRequest(r, m, *salt)["request"]["data"];
  EXPECT_EQ(d["s"], salt->Hash("pw"));
  EXPECT_EQ(d["n"], salt->Hash("42"));
  EXPECT_EQ(d["f"], salt->Hash("1.5"));
  EXPECT_EQ(d["b"], ReferenceHash(std::string(32, 'k'), "true"));
  EXPECT_EQ(d["nb"], ReferenceHash(std::string(32, 'k'), "false"));
  EXPECT_EQ(d["e"], ReferenceHash(std::string(32, 'k'), ""));
  EXPECT_TRUE(d["z"].is_null());
  EXPECT_EQ(d["ttl"], "1h");
  EXPECT_EQ(d["nested"]["deep"][0], salt->Hash("x"));
  EXPECT_EQ(d["nested"]["deep"][1]["y"], salt->Hash("z"));
  EXPECT_EQ(d["q"], salt->Hash("a\"b\n"));
  // Raw, the same data comes back exactly (escaping included).
  EntryOptions raw;
  raw.log_raw = true;
  EXPECT_EQ(RenderRequest(r, m, *salt, raw)["request"]["data"], r.data);
}

TEST(EntryTest, RequestEntryHasVaultShapeAndHidesSecrets) {
  auto salt = TestSalt();
  MountInfo mount{"kv", "secret/", "kv_1", {}, {}};
  logical::Request r = SampleRequest();
  EntrySource src{EntrySource::Type::kRequest,     &r, &mount, nullptr, "",
                  std::chrono::system_clock::now()};
  std::string line = Render(src, *salt, EntryOptions{});
  Json e = Json::parse(line);
  EXPECT_EQ(e["type"], "request");
  EXPECT_EQ(e["request"]["operation"], "update");
  EXPECT_EQ(e["request"]["path"], "secret/data/app");
  EXPECT_EQ(e["request"]["mount_type"], "kv");
  EXPECT_EQ(e["request"]["mount_accessor"], "kv_1");
  EXPECT_EQ(e["request"]["namespace"]["id"], "root");
  EXPECT_EQ(e["auth"]["client_token"], salt->Hash("s.canarytoken"));
  EXPECT_EQ(e["auth"]["accessor"], salt->Hash("acc123"));
  EXPECT_EQ(e["request"]["client_token"], salt->Hash("s.canarytoken"));
  EXPECT_EQ(e["request"]["client_token_accessor"], salt->Hash("acc123"));
  EXPECT_EQ(e["request"]["data"]["data"]["password"], salt->Hash("hunter2"));
  EXPECT_EQ(e["auth"]["policies"], Json({"default", "app"}));
  EXPECT_EQ(e["auth"]["token_type"], "service");
  EXPECT_FALSE(e.contains("error"));
  EXPECT_EQ(line.find("hunter2"), std::string::npos);
  EXPECT_EQ(line.find("canarytoken"), std::string::npos);

  auto batch = std::make_shared<logical::Auth>(*r.auth);
  batch->batch = true;
  r.auth = batch;
  EXPECT_EQ(Json::parse(Render(src, *salt, EntryOptions{}))["auth"]["token_type"], "batch");
}

TEST(EntryTest, SharedRenderCacheGivesTheSameBytes) {
  // The broker renders a request's two entries with one RenderCache (the
  // second copies the first's auth, request and token hashes); the lines
  // must be exactly what rendering each on its own gives.
  auto salt = TestSalt();
  MountInfo mount{"kv", "secret/", "kv_1", {}, {}};
  logical::Request r = SampleRequest();
  logical::Response resp;
  resp.data = {{"data", {{"password", "hunter2"}}}, {"n", 3}};
  const auto t =
      std::chrono::system_clock::time_point(std::chrono::nanoseconds(1'767'225'600'000'000'005));
  EntrySource req{EntrySource::Type::kRequest, &r, &mount, nullptr, "", t};
  EntrySource res{EntrySource::Type::kResponse, &r, &mount, &resp, "", t};
  for (bool hmac_accessor : {true, false}) {
    EntryOptions o;
    o.hmac_accessor = hmac_accessor;
    RenderCache cache;
    std::string first = Render(req, *salt, o, &cache);
    std::string second = Render(res, *salt, o, &cache);
    EXPECT_EQ(first, Render(req, *salt, o));
    EXPECT_EQ(second, Render(res, *salt, o));
    EXPECT_NE(first.find("\"time\":\"2026-01-01T00:00:00.000000005Z\""), std::string::npos)
        << first;
    // A cache handed on to another request renders that one afresh.
    logical::Request other = SampleRequest();
    other.client_token = "s.othertoken";
    EntrySource next{EntrySource::Type::kRequest, &other, &mount, nullptr, "", t};
    EXPECT_EQ(Render(next, *salt, o, &cache), Render(next, *salt, o));
  }
}

TEST(EntryTest, HmacAccessorFalseAndLogRaw) {
  auto salt = TestSalt();
  MountInfo mount{"kv", "secret/", "", {}, {}};
  logical::Request r = SampleRequest();
  EntryOptions plain_accessor;
  plain_accessor.hmac_accessor = false;
  Json e = RenderRequest(r, mount, *salt, plain_accessor);
  EXPECT_EQ(e["auth"]["accessor"], "acc123");
  EXPECT_EQ(e["auth"]["client_token"], salt->Hash("s.canarytoken"));
  EntryOptions raw_opts;
  raw_opts.log_raw = true;
  Json raw = RenderRequest(r, mount, *salt, raw_opts);
  EXPECT_EQ(raw["request"]["data"]["data"]["password"], "hunter2");
  EXPECT_EQ(raw["auth"]["client_token"], "s.canarytoken");
}

// Audited request headers: each value as sent, or its HMAC when asked;
// log_raw writes them all as sent; a request without any has no "headers".
TEST(EntryTest, AuditedHeadersAsSentOrHashed) {
  auto salt = TestSalt();
  MountInfo mount{"kv", "secret/", "", {}, {}};
  logical::Request r = SampleRequest();
  EXPECT_FALSE(RenderRequest(r, mount, *salt)["request"].contains("headers"));
  r.audited_headers = {{"x-forwarded-for", {"10.0.0.1", "10.0.0.2"}, false},
                       {"x-correlation-id", {"corr \"1\""}, true}};
  Json e = RenderRequest(r, mount, *salt);
  EXPECT_EQ(e["request"]["headers"], (Json{{"x-forwarded-for", {"10.0.0.1", "10.0.0.2"}},
                                           {"x-correlation-id", {salt->Hash("corr \"1\"")}}}));
  EntryOptions raw_opts;
  raw_opts.log_raw = true;
  EXPECT_EQ(RenderRequest(r, mount, *salt, raw_opts)["request"]["headers"]["x-correlation-id"],
            Json::array({"corr \"1\""}));
}

TEST(EntryTest, ResponseEntryHashesDataAuthAndWrapInfo) {
  auto salt = TestSalt();
  MountInfo mount{"token", "auth/token/", "", {}, {"keep"}};
  logical::Response resp;
  resp.data = {{"keep", "visible"}, {"secret", "s3"}};
  resp.auth = {{"client_token", "s.child"}, {"accessor", "acc2"}, {"policies", {"default"}}};
  resp.wrap_info = {{"token", "s.wrap"}, {"accessor", "acc3"}, {"ttl", 60}};
  resp.lease_id = "auth/token/create/abc";
  std::string line = RenderResponse(SampleRequest(), mount, resp, *salt);
  Json e = Json::parse(line);
  EXPECT_EQ(e["type"], "response");
  EXPECT_EQ(e["response"]["data"]["keep"], "visible");
  EXPECT_EQ(e["response"]["data"]["secret"], salt->Hash("s3"));
  EXPECT_EQ(e["response"]["auth"]["client_token"], salt->Hash("s.child"));
  EXPECT_EQ(e["response"]["auth"]["policies"], Json({"default"}));
  EXPECT_EQ(e["response"]["wrap_info"]["token"], salt->Hash("s.wrap"));
  EXPECT_EQ(e["response"]["wrap_info"]["ttl"], 60);
  EXPECT_EQ(e["response"]["secret"]["lease_id"], "auth/token/create/abc");
  for (const char* leak : {"s3", "s.child", "s.wrap", "acc2", "acc3"}) {
    EXPECT_EQ(line.find(std::string("\"") + leak + "\""), std::string::npos) << leak;
  }
}

// A login that waits for MFA: its request id (which with one passcode makes
// a token) is hashed like a token; the constraints stay readable.
TEST(EntryTest, MfaRequestIdIsHashed) {
  auto salt = TestSalt();
  MountInfo mount{"userpass", "auth/userpass/", "", {}, {}};
  logical::Response resp;
  resp.auth = {{"client_token", ""},
               {"mfa_requirement",
                {{"mfa_request_id", "5e6f7a8b-mfa-request"},
                 {"mfa_constraints", {{"totp", {{"any", {{{"type", "totp"}}}}}}}}}}};
  std::string line = RenderResponse(SampleRequest(), mount, resp, *salt);
  Json e = Json::parse(line);
  EXPECT_EQ(e["response"]["auth"]["mfa_requirement"]["mfa_request_id"],
            salt->Hash("5e6f7a8b-mfa-request"));
  EXPECT_EQ(e["response"]["auth"]["mfa_requirement"]["mfa_constraints"]["totp"]["any"][0]["type"],
            "totp");
  EXPECT_EQ(line.find("5e6f7a8b-mfa-request"), std::string::npos);
}

// An entry's tree without its time, which differs between two renderings.
Json WithoutTime(const std::string& line) {
  Json e = Json::parse(line);
  e.erase("time");
  return e;
}

// An answer sent as text (Response::data_text, a KV read) is hashed as its
// tree would be: the same entry, byte for byte.
TEST(EntryTest, AnswerSentAsTextIsHashedLikeItsTree) {
  auto salt = TestSalt();
  MountInfo mount{"kv", "secret/", "", {}, {"keep"}};
  logical::Request r = SampleRequest();
  logical::Response tree;
  tree.data = Json::parse(R"({"data":{"password":"hunter2","keep":"visible","n":7,"b":false},
                              "metadata":{"version":3,"deletion_time":"","custom_metadata":null}})");
  logical::Response text;
  text.data_text = tree.data.dump();
  std::string from_text = RenderResponse(r, mount, text, *salt);
  Json b = WithoutTime(from_text);
  EXPECT_EQ(WithoutTime(RenderResponse(r, mount, tree, *salt)), b);
  EXPECT_EQ(b["response"]["data"]["data"]["password"], salt->Hash("hunter2"));
  EXPECT_EQ(b["response"]["data"]["data"]["keep"], "visible");
  EXPECT_EQ(b["response"]["data"]["metadata"]["version"], salt->Hash("3"));
  EXPECT_EQ(from_text.find("hunter2"), std::string::npos);
}

// A number kept as written (common/json_numbers.h) in an answer given as a
// tree (a KV v1 read, an unwrap) is hashed as the same number sent as text
// is, and logged raw as written.
TEST(EntryTest, NumberTextIsHashedAsTheNumberItReadsAs) {
  auto salt = TestSalt();
  MountInfo mount{"kv", "kv/", "", {}, {}};
  logical::Request r = SampleRequest();
  logical::Response tree;
  tree.data = Json{{"rate", MakeNumberText("1.50")}};
  tree.number_text = true;
  logical::Response text;
  text.data_text = R"({"rate":1.50})";
  Json from_tree = WithoutTime(RenderResponse(r, mount, tree, *salt));
  EXPECT_EQ(from_tree["response"]["data"]["rate"], salt->Hash("1.5"));
  EXPECT_EQ(WithoutTime(RenderResponse(r, mount, text, *salt)), from_tree);
  EntryOptions raw;
  raw.log_raw = true;
  EXPECT_NE(RenderResponse(r, mount, tree, *salt, raw).find(R"("rate":1.50)"), std::string::npos);
}

// A token's auth block sent as text (Response::auth_text) is hashed as its
// tree would be.
TEST(EntryTest, AuthBlockSentAsTextIsHashedLikeItsTree) {
  auto salt = TestSalt();
  MountInfo mount{"token", "auth/token/", "", {}, {}};
  logical::Request r = SampleRequest();
  logical::Response tree;
  tree.auth = {{"client_token", "hvs.child"},
               {"accessor", "acc2"},
               {"policies", {"default"}},
               {"metadata", nullptr},
               {"lease_duration", 3600}};
  logical::Response text;
  text.auth_text = tree.auth.dump();
  std::string from_text = RenderResponse(r, mount, text, *salt);
  Json b = WithoutTime(from_text);
  EXPECT_EQ(WithoutTime(RenderResponse(r, mount, tree, *salt)), b);
  EXPECT_EQ(b["response"]["auth"]["client_token"], salt->Hash("hvs.child"));
  EXPECT_EQ(b["response"]["auth"]["accessor"], salt->Hash("acc2"));
  EXPECT_EQ(from_text.find("hvs.child"), std::string::npos);
}

TEST(EntryTest, ErrorsAndRawSysBodies) {
  auto salt = TestSalt();
  MountInfo mount{"system", "sys/", "", {}, {}};
  logical::Request r = SampleRequest();
  EntrySource src{EntrySource::Type::kResponse, &r, &mount, nullptr, "permission denied", {}};
  Json e = Json::parse(Render(src, *salt, {}));
  EXPECT_EQ(e["error"], "permission denied");
  EXPECT_EQ(e["response"], Json({{"mount_type", "system"}}));
  logical::Response raw;
  raw.raw = Json{{"request_id", "x"}, {"data", {{"hash", "h"}}}, {"hash", "h"}};
  Json f = Json::parse(RenderResponse(r, mount, raw, *salt));
  EXPECT_EQ(f["response"]["data"], Json({{"hash", salt->Hash("h")}}));
}

TEST(EntryTest, ElideListResponsesReplacesKeysWithCount) {
  auto salt = TestSalt();
  MountInfo mount{"kv", "secret/", "", {}, {}};
  logical::Request req = SampleRequest();
  req.operation = logical::Operation::kList;
  logical::Response resp;
  resp.data = {{"keys", {"a", "b", "c"}}};
  EntryOptions opts;
  opts.elide_list_responses = true;
  Json e = Json::parse(RenderResponse(req, mount, resp, *salt, opts));
  EXPECT_EQ(e["response"]["data"]["keys"], 3);
  Json f = Json::parse(RenderResponse(req, mount, resp, *salt));
  EXPECT_EQ(f["response"]["data"]["keys"][0], salt->Hash("a"));
}

TEST(EntryTest, JsonxRendersXml) {
  Json v{{"a", "x<y"}, {"n", 1}, {"l", {true, nullptr}}};
  std::string x = ToJsonx(v);
  EXPECT_TRUE(x.starts_with("<json:object xmlns:json="));
  EXPECT_NE(x.find("<json:string name=\"a\">x&lt;y</json:string>"), std::string::npos);
  EXPECT_NE(x.find("<json:number name=\"n\">1</json:number>"), std::string::npos);
  EXPECT_NE(x.find("<json:array name=\"l\"><json:boolean>true</json:boolean><json:null/>"),
            std::string::npos);
  auto salt = TestSalt();
  MountInfo mount{"kv", "secret/", "", {}, {}};
  logical::Request r = SampleRequest();
  EntryOptions jsonx;
  jsonx.format = Format::kJsonx;
  EntrySource src{EntrySource::Type::kRequest, &r, &mount, nullptr, "", {}};
  std::string line = Render(src, *salt, jsonx);
  EXPECT_TRUE(line.starts_with("<json:object"));
  EXPECT_NE(line.find(salt->Hash("hunter2")), std::string::npos);
  EXPECT_EQ(line.find("hunter2<"), std::string::npos);
}

TEST(FilterTest, Expressions) {
  FilterInput health{"system", "sys/", "sys/health", "read"};
  FilterInput kv_read{"kv", "secret/", "secret/data/a", "read"};
  FilterInput kv_write{"kv", "secret/", "secret/data/a", "update"};
  auto f = *Filter::Parse(R"(path matches "sys/health*")");
  EXPECT_TRUE(f->Matches(health));
  EXPECT_FALSE(f->Matches(kv_read));
  auto g = *Filter::Parse(R"(not path matches "sys/health*")");
  EXPECT_FALSE(g->Matches(health));
  auto h = *Filter::Parse(R"(mount_type == "kv" and (operation == "read" or operation == "list"))");
  EXPECT_TRUE(h->Matches(kv_read));
  EXPECT_FALSE(h->Matches(kv_write));
  auto i = *Filter::Parse(R"(operation != "read")");
  EXPECT_TRUE(i->Matches(kv_write));
  for (const char* bad : {"", "path", "path ==", "path == x", "color == \"x\"", "path == \"x\" and",
                          "(path == \"x\"", "path == \"x"}) {
    EXPECT_FALSE(Filter::Parse(bad).has_value()) << bad;
  }
}

TEST(FilterTest, Glob) {
  EXPECT_TRUE(GlobMatch("*", ""));
  EXPECT_TRUE(GlobMatch("a*c", "abbbc"));
  EXPECT_TRUE(GlobMatch("*/health", "sys/health"));
  EXPECT_FALSE(GlobMatch("a*c", "abcd"));
  EXPECT_TRUE(GlobMatch("a**", "a"));
}

}  // namespace
}  // namespace coffer::audit
