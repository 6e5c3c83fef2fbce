// Unit tests for the Beast-free pieces: framing checks, request building,
// response rendering, the error map.

#include <gtest/gtest.h>

#include "common/json_numbers.h"
#include "http/error_map.h"
#include "http/framing.h"
#include "http/request_builder.h"
#include "http/response_writer.h"

namespace coffer::http {
namespace {

using logical::Json;
using logical::Operation;

const JsonParseLimits kJsonLimits{.max_depth = 500};

TEST(Framing, RawHeader) {
  EXPECT_TRUE(CheckRawHeader("GET / HTTP/1.1\r\nHost: a\r\n\r\n").ok());
  EXPECT_FALSE(CheckRawHeader("GET / HTTP/1.1\r\nHost: a\r\n b\r\n\r\n").ok());   // obs-fold
  EXPECT_FALSE(CheckRawHeader("GET / HTTP/1.1\r\nHost: a\r\n\tb\r\n\r\n").ok());  // obs-fold
  EXPECT_FALSE(CheckRawHeader("GET / HTTP/1.1\r\nHost: a\rX: b\r\n\r\n").ok());   // bare CR
  EXPECT_FALSE(CheckRawHeader("GET / HTTP/1.1\r\nHost: a\nX: b\r\n\r\n").ok());   // bare LF
  EXPECT_FALSE(CheckRawHeader(std::string("GET / HTTP/1.1\r\nX: a\0b\r\n\r\n", 27)).ok());
}

TEST(Framing, Fields) {
  FramingFields f;
  EXPECT_TRUE(CheckFraming(f).ok());
  f.content_length = {"10"};
  EXPECT_TRUE(CheckFraming(f).ok());
  f.content_length = {"10", "10"};
  EXPECT_FALSE(CheckFraming(f).ok());
  f.content_length = {"10, 10"};
  EXPECT_FALSE(CheckFraming(f).ok());
  f.content_length = {"+10"};
  EXPECT_FALSE(CheckFraming(f).ok());
  f.content_length = {"10"};
  f.transfer_encoding = {"chunked"};
  EXPECT_FALSE(CheckFraming(f).ok());
  f.content_length.clear();
  EXPECT_TRUE(CheckFraming(f).ok());
  f.transfer_encoding = {"Chunked"};
  EXPECT_TRUE(CheckFraming(f).ok());
  f.transfer_encoding = {"gzip, chunked"};
  EXPECT_FALSE(CheckFraming(f).ok());
  f.transfer_encoding = {"identity"};
  EXPECT_FALSE(CheckFraming(f).ok());
  f.transfer_encoding = {"chunked", "chunked"};
  EXPECT_FALSE(CheckFraming(f).ok());
  f.transfer_encoding = {"chunked"};
  f.version = 10;
  EXPECT_FALSE(CheckFraming(f).ok());
  f.transfer_encoding.clear();
  f.version = 20;
  EXPECT_FALSE(CheckFraming(f).ok());
}

WireRequest Wire(std::string_view method, std::string_view target, std::string_view body = "") {
  WireRequest w;
  w.method = method;
  w.target = target;
  w.body = body;
  w.remote_address = "127.0.0.1";
  return w;
}

TEST(BuildRequest, Operations) {
  struct Case {
    std::string_view method, target;
    Operation op;
    std::string path;
  };
  for (const Case& c :
       {Case{"GET", "/v1/secret/a", Operation::kRead, "secret/a"},
        Case{"GET", "/v1/secret/a?list=true", Operation::kList, "secret/a/"},
        Case{"GET", "/v1/secret/?list=1", Operation::kList, "secret/"},
        Case{"GET", "/v1/secret/a?list=false", Operation::kRead, "secret/a"},
        Case{"LIST", "/v1/secret/a", Operation::kList, "secret/a/"},
        Case{"POST", "/v1/secret/a", Operation::kUpdate, "secret/a"},
        Case{"PUT", "/v1/secret/a", Operation::kUpdate, "secret/a"},
        Case{"DELETE", "/v1/secret/a", Operation::kDelete, "secret/a"},
        Case{"HEAD", "/v1/sys/health", Operation::kHead, "sys/health"},
        // OpenBao's recursive list, and Coffer's older form of it.
        Case{"SCAN", "/v1/secret/a", Operation::kScan, "secret/a/"},
        Case{"GET", "/v1/secret/a?scan=true", Operation::kScan, "secret/a/"},
        Case{"GET", "/v1/secret/a?scan=false", Operation::kRead, "secret/a"},
        Case{"LIST", "/v1/secret/a?recursive=true", Operation::kScan, "secret/a/"},
        Case{"GET", "/v1/secret/a?list=true&recursive=1", Operation::kScan, "secret/a/"},
        Case{"LIST", "/v1/secret/a?recursive=false", Operation::kList, "secret/a/"},
        Case{"GET", "/v1/secret/a?recursive=true", Operation::kRead, "secret/a"}}) {
    auto r = BuildRequest(Wire(c.method, c.target), kJsonLimits);
    ASSERT_TRUE(r.has_value()) << c.method << " " << c.target;
    EXPECT_EQ(r->operation, c.op) << c.method << " " << c.target;
    EXPECT_EQ(r->path, c.path);
    EXPECT_TRUE(r->answer_on_wire);  // the core may answer it as text
  }
  auto patch = Wire("PATCH", "/v1/secret/a", R"({"a":1})");
  patch.content_type = "application/merge-patch+json; charset=utf-8";
  auto p = BuildRequest(patch, kJsonLimits);
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->operation, Operation::kPatch);
  EXPECT_EQ(p->data["a"], 1);
  patch.content_type = "application/json";
  auto p415 = BuildRequest(patch, kJsonLimits);
  ASSERT_FALSE(p415.has_value());
  EXPECT_EQ(p415.error().http_status, 415);

  // A list and a scan at once is refused, as OpenBao does.
  auto both = BuildRequest(Wire("GET", "/v1/secret/a?list=true&scan=true"), kJsonLimits);
  ASSERT_FALSE(both.has_value());
  EXPECT_EQ(both.error().http_status, 400);

  for (std::string_view m : {"OPTIONS", "TRACE", "CONNECT", "FOO", "get"}) {
    auto r = BuildRequest(Wire(m, "/v1/secret/a"), kJsonLimits);
    ASSERT_FALSE(r.has_value()) << m;
    EXPECT_EQ(r.error().http_status, 405) << m;
  }
}

// A JSON body is held to the listener's bounds as it is read, and a
// refusal says which bound without repeating the body.
TEST(BuildRequest, JsonBodiesAreBounded) {
  const JsonParseLimits limits{.max_depth = 3,
                               .max_string_length = 8,
                               .max_object_entries = 3,
                               .max_array_elements = 4,
                               .max_tokens = 20};
  auto build = [&](std::string body) {
    return BuildRequest(Wire("POST", "/v1/secret/a", std::move(body)), limits);
  };
  auto refused = [&](std::string body, std::string_view why) {
    auto r = build(std::move(body));
    ASSERT_FALSE(r.has_value()) << why;
    EXPECT_EQ(r.error().http_status, 400);
    const std::string text = r.error().raw ? r.error().raw->dump() : "";
    EXPECT_NE(text.find(why), std::string::npos) << text;
  };
  ASSERT_TRUE(build(R"({"a":[1,2,3,4],"b":"12345678","c":{"d":[]}})").has_value());
  refused(R"({"a":[1,2,3,4,5]})", "an array has more than 4 elements");
  refused(R"({"a":[[],[],[],[],[]]})", "an array has more than 4 elements");
  refused(R"({"a":1,"b":2,"c":3,"d":4})", "an object has more than 3 entries");
  refused(R"({"a":"123456789"})", "a string is longer than 8 bytes");
  refused(R"({"123456789":1})", "a string is longer than 8 bytes");
  refused(R"({"a":{"b":{"c":{}}}})", "nesting too deep");
  refused(R"({"a":[1,2,3,4],"b":[1,2,3,4],"c":{"d":[1,2,3,4]}})", "more than 20 values and keys");
  // A syntax error names the place, not the text read: here a secret value
  // with a control character in it.
  auto bad = build("{\"a\":\"hunter2-secret\x01\"}");
  ASSERT_FALSE(bad.has_value());
  const std::string said = bad.error().raw ? bad.error().raw->dump() : "";
  EXPECT_NE(said.find("failed to parse JSON input"), std::string::npos) << said;
  EXPECT_EQ(said.find("hunter2"), std::string::npos) << said;
}

TEST(BuildRequest, FormBodiesAreReadAsVaultReadsThem) {
  // A POST or PUT with the form media type whose body does not start like
  // JSON is a form: its pairs are the request's data, every value a string.
  for (std::string_view method : {"POST", "PUT"}) {
    auto w = Wire(method, "/v1/auth/userpass/login/alice", "password=s3cret%21+pw&name=web");
    w.content_type = "application/x-www-form-urlencoded; charset=utf-8";
    auto r = BuildRequest(w, kJsonLimits);
    ASSERT_TRUE(r.has_value()) << method;
    EXPECT_EQ(r->data, (Json{{"password", "s3cret! pw"}, {"name", "web"}})) << method;
  }
  // curl -d sends the form type with JSON too: a body that starts like
  // JSON is parsed as JSON, as before.
  auto json = Wire("POST", "/v1/secret/a", " \n{\"n\":12}");
  json.content_type = "application/x-www-form-urlencoded";
  auto j = BuildRequest(json, kJsonLimits);
  ASSERT_TRUE(j.has_value());
  EXPECT_EQ(j->data, (Json{{"n", 12}}));
  auto array = Wire("POST", "/v1/secret/a", "[1]");
  array.content_type = "application/x-www-form-urlencoded";
  auto a = BuildRequest(array, kJsonLimits);
  ASSERT_FALSE(a.has_value());  // JSON, and not an object
  EXPECT_EQ(a.error().http_status, 400);
  // Without the form media type a form-shaped body is bad JSON.
  auto untyped = Wire("POST", "/v1/secret/a", "password=x");
  auto u = BuildRequest(untyped, kJsonLimits);
  ASSERT_FALSE(u.has_value());
  EXPECT_EQ(u.error().http_status, 400);
  // A malformed form is refused, with nothing of it in the message.
  auto bad = Wire("POST", "/v1/secret/a", "password=hunter2%zz");
  bad.content_type = "application/x-www-form-urlencoded";
  auto b = BuildRequest(bad, kJsonLimits);
  ASSERT_FALSE(b.has_value());
  EXPECT_EQ(b.error().http_status, 400);
  EXPECT_EQ(b.error().raw->dump().find("hunter2"), std::string::npos);
  EXPECT_NE(b.error().raw->dump().find("error parsing form data"), std::string::npos);
  // An empty form is no data, as an empty JSON body is.
  auto empty = Wire("POST", "/v1/auth/token/renew-self", "");
  empty.content_type = "application/x-www-form-urlencoded";
  auto e = BuildRequest(empty, kJsonLimits);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->data, Json::object());
  // Only writes: a DELETE's body is JSON whatever its type (Vault reads
  // none; Coffer reads a JSON one).
  auto del = Wire("DELETE", "/v1/secret/a", "versions=1");
  del.content_type = "application/x-www-form-urlencoded";
  EXPECT_FALSE(BuildRequest(del, kJsonLimits).has_value());
}

TEST(BuildRequest, PathErrors) {
  auto r = BuildRequest(Wire("GET", "/v1/a/../b"), kJsonLimits);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().http_status, 400);
  auto nf = BuildRequest(Wire("GET", "/index.html"), kJsonLimits);
  ASSERT_FALSE(nf.has_value());
  EXPECT_EQ(nf.error().http_status, 404);
  auto q = BuildRequest(Wire("GET", "/v1/a?x=%zz"), kJsonLimits);
  ASSERT_FALSE(q.has_value());
  EXPECT_EQ(q.error().http_status, 400);
}

// Repeated slashes get Vault's 301 to the cleaned path (Go's ServeMux), the
// query kept; the request itself goes no further.
TEST(BuildRequest, RepeatedSlashesRedirect) {
  for (auto [target, location] :
       {std::pair{"/v1//secret/data/a", "/v1/secret/data/a"},
        std::pair{"/v1/secret//data///a?version=2", "/v1/secret/data/a?version=2"},
        std::pair{"/v1/auth/jwt//login", "/v1/auth/jwt/login"}, std::pair{"/v1/kv//", "/v1/kv/"}}) {
    for (std::string_view method : {"GET", "POST"}) {
      auto r = BuildRequest(Wire(method, target), kJsonLimits);
      ASSERT_FALSE(r.has_value()) << target;
      EXPECT_EQ(r.error().http_status, 301) << target;
      EXPECT_EQ(r.error().headers.at("Location"), location);
    }
  }
  // Not under /v1/: not ours to redirect.
  auto other = BuildRequest(Wire("GET", "//v1/secret"), kJsonLimits);
  ASSERT_FALSE(other.has_value());
  EXPECT_EQ(other.error().http_status, 404);
  // A dot segment is still refused once the slashes are clean.
  auto dots = BuildRequest(Wire("GET", "/v1/a/../b"), kJsonLimits);
  EXPECT_EQ(dots.error().http_status, 400);
}

TEST(BuildRequest, TokensAndHeaders) {
  auto w = Wire("GET", "/v1/a?x=1");
  w.authorization = "Bearer s.abc";
  w.wrap_ttl = "5m";
  auto r = BuildRequest(w, kJsonLimits);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->client_token, "s.abc");
  EXPECT_EQ(r->wrap_ttl, "5m");
  EXPECT_EQ(r->query.at("x"), "1");
  // Zero asks for no wrapping; a bad value is passed on for the core to refuse.
  for (const char* zero : {"0", "0s", " 0m ", "0.0ms"}) {
    w.wrap_ttl = zero;
    EXPECT_EQ(BuildRequest(w, kJsonLimits)->wrap_ttl, "") << zero;
  }
  w.wrap_ttl = "-5s";
  EXPECT_EQ(BuildRequest(w, kJsonLimits)->wrap_ttl, "-5s");
  // Under a second is still a request to wrap (which the core refuses),
  // never an answer sent unwrapped.
  w.wrap_ttl = "500ms";
  EXPECT_EQ(BuildRequest(w, kJsonLimits)->wrap_ttl, "500ms");
  w.wrap_ttl = "5m";
  EXPECT_EQ(r->remote_address, "127.0.0.1");
  w.vault_token = "s.vault";
  EXPECT_EQ(BuildRequest(w, kJsonLimits)->client_token, "s.vault");  // X-Vault-Token wins
  w.vault_token = "";
  w.authorization = "Basic abc";
  EXPECT_EQ(BuildRequest(w, kJsonLimits)->client_token, "");
  // Only the root namespace exists: naming it (or none) is fine, another
  // one is refused rather than served from the root's mounts.
  for (const char* root : {"", "root", "/", " root/ "}) {
    w.vault_namespace = root;
    EXPECT_TRUE(BuildRequest(w, kJsonLimits).has_value()) << root;
  }
  for (const char* other : {"team-a", "admin/", "root/child"}) {
    w.vault_namespace = other;
    auto refused = BuildRequest(w, kJsonLimits);
    ASSERT_FALSE(refused.has_value()) << other;
    EXPECT_EQ(refused.error().http_status, 400);
  }
}

TEST(BuildRequest, RequestIdIsUuidV4) {
  std::string a = NewRequestId(), b = NewRequestId();
  EXPECT_NE(a, b);
  ASSERT_EQ(a.size(), 36u);
  EXPECT_EQ(a[8], '-');
  EXPECT_EQ(a[14], '4');
  EXPECT_NE(std::string("89ab").find(a[19]), std::string::npos);
}

TEST(ParseJsonBody, Limits) {
  EXPECT_EQ(*ParseJsonBody("", kJsonLimits), Json::object());
  EXPECT_EQ(*ParseJsonBody(" \r\n", kJsonLimits), Json::object());
  // `null` is no data, as in Vault (its Go client sends it for a nil map).
  EXPECT_EQ(*ParseJsonBody("null", kJsonLimits), Json::object());
  EXPECT_EQ(*ParseJsonBody(" null\n", kJsonLimits), Json::object());
  EXPECT_EQ((*ParseJsonBody(R"({"a":[1,{"b":2}]})", kJsonLimits))["a"][1]["b"], 2);
  auto arr = ParseJsonBody("[1,2]", kJsonLimits);
  ASSERT_FALSE(arr.has_value());
  EXPECT_TRUE(arr.error().message().starts_with("failed to parse JSON input: "));
  EXPECT_FALSE(ParseJsonBody("\"str\"", kJsonLimits).has_value());
  EXPECT_FALSE(ParseJsonBody("{bad", kJsonLimits).has_value());
  EXPECT_FALSE(ParseJsonBody("{\"a\":\"\xFF\"}", kJsonLimits).has_value());

  // Exactly at the limit is fine, one more is not.
  auto nested = [](int depth) {
    std::string s;
    for (int i = 1; i < depth; ++i) s += "{\"a\":";
    s += "{}";
    for (int i = 1; i < depth; ++i) s += "}";
    return s;
  };
  EXPECT_TRUE(ParseJsonBody(nested(10), {.max_depth = 10}).has_value());
  EXPECT_FALSE(ParseJsonBody(nested(11), {.max_depth = 10}).has_value());

  std::string hostile = "{\"a\":" + std::string(200000, '[');
  auto deep = ParseJsonBody(hostile, kJsonLimits);
  ASSERT_FALSE(deep.has_value());
  EXPECT_EQ(deep.error().code(), Code::kInvalidArgument);
}

TEST(ParseJsonBody, KeepsNumbersAsWrittenBesideTheTree) {
  // A body whose numbers all print back as written has no second tree.
  std::shared_ptr<const Json> written;
  auto plain = ParseJsonBody(R"({"data":{"n":1.5,"i":7}})", kJsonLimits, &written);
  ASSERT_TRUE(plain.has_value());
  EXPECT_EQ(written, nullptr);
  // One that does not gets the body with those numbers kept as written;
  // the tree engines read fields from holds plain doubles, as before.
  auto body = ParseJsonBody(R"({"data":{"big":123456789012345678901234567890,"f":1.50}})",
                            kJsonLimits, &written);
  ASSERT_TRUE(body.has_value());
  ASSERT_NE(written, nullptr);
  EXPECT_TRUE((*body)["data"]["big"].is_number_float());
  EXPECT_EQ(DumpJsonWithNumberText(*written),
            R"({"data":{"big":123456789012345678901234567890,"f":1.50}})");

  logical::Request req;
  req.data = *body;
  req.data_as_written = written;
  EXPECT_EQ(&req.DataAsWritten(), written.get());
  req.data["data"]["f"] = 2;  // changed since: the kept tree no longer describes it
  EXPECT_EQ(&req.DataAsWritten(), &req.data);
}

TEST(ResponseWriter, NumberTextIsWrittenAsItIs) {
  logical::Response r;
  r.data = Json{{"n", MakeNumberText("1e5")}, {"d", 1e-5}};
  r.number_text = true;
  const std::string body = RenderBody(r, "id");
  EXPECT_NE(body.find(R"("data":{"d":0.00001,"n":1e5})"), std::string::npos) << body;
}

TEST(ResponseWriter, Envelope) {
  logical::Response r;
  r.data = Json{{"k", "v"}};
  r.lease_id = "l/1";
  r.renewable = true;
  r.lease_duration = 30;
  r.mount_type = "kv";
  Json body = Json::parse(RenderBody(r, "rid"));
  EXPECT_EQ(body["request_id"], "rid");
  EXPECT_EQ(body["lease_id"], "l/1");
  EXPECT_EQ(body["renewable"], true);
  EXPECT_EQ(body["lease_duration"], 30);
  EXPECT_EQ(body["data"]["k"], "v");
  EXPECT_TRUE(body["wrap_info"].is_null());
  EXPECT_TRUE(body["warnings"].is_null());
  EXPECT_TRUE(body["auth"].is_null());
  EXPECT_EQ(body["mount_type"], "kv");

  logical::Response raw;
  raw.raw = Json{{"sealed", false}};
  EXPECT_EQ(RenderBody(raw, "rid"), R"({"sealed":false})");
}

// The envelope's strings and nulls are written without a JSON tree; the
// body is still exactly what dumping the envelope as one tree gives, for
// plain ids and for ones that need escaping.
TEST(ResponseWriter, EnvelopeIsTheTreesDump) {
  for (std::string id :
       {std::string("4f7e0c2a-1b3d-4e5f-8a9b-0c1d2e3f4a5b"), std::string(""),
        std::string("quote\"back\\slash\ttab\x01\x7f"), std::string("caf\xc3\xa9")}) {
    logical::Response r;
    r.data = Json{{"k", "v"}};
    r.lease_id = id;
    r.mount_type = id;
    r.warnings = Json::array({"w"});
    Json tree{{"request_id", id},       {"lease_id", id},  {"renewable", false},
              {"lease_duration", 0},    {"data", r.data},  {"wrap_info", nullptr},
              {"warnings", r.warnings}, {"auth", nullptr}, {"mount_type", id}};
    Json parsed = Json::parse(RenderBody(r, id));
    EXPECT_EQ(parsed, tree) << id;
    // Field by field, the bytes are the dump's.
    std::string body = RenderBody(r, id);
    EXPECT_NE(body.find("\"request_id\":" + Json(id).dump()), std::string::npos) << body;
    EXPECT_NE(body.find("\"mount_type\":" + Json(id).dump() + "}"), std::string::npos) << body;
  }
  // Invalid UTF-8 (a lease id carries a request path) is replaced, as the
  // envelope always did, and the body stays valid JSON.
  logical::Response bad;
  bad.lease_id = "creds/x\xff";
  std::string body = RenderBody(bad, "rid");
  EXPECT_NE(body.find("\"lease_id\":\"creds/x\xef\xbf\xbd\""), std::string::npos) << body;
  EXPECT_EQ(Json::parse(body)["lease_id"], "creds/x\xef\xbf\xbd");
}

// An engine's answer as text (Response::data_text) goes out in place of
// the data tree, and makes the answer non-empty.
TEST(ResponseWriter, DataTextIsSentAsTheData) {
  logical::Response r;
  r.data_text = R"({"data":{"a":1},"metadata":null})";
  EXPECT_FALSE(IsEmptyResponse(r));
  Json body = Json::parse(RenderBody(r, "rid"));
  EXPECT_EQ(body["data"], (Json{{"data", {{"a", 1}}}, {"metadata", nullptr}}));
  std::string out;
  RenderResponse(r, "rid", false, true, out);
  EXPECT_TRUE(out.starts_with("HTTP/1.1 200 OK\r\n"));
  EXPECT_NE(out.find(R"("data":{"data":{"a":1},"metadata":null})"), std::string::npos);
}

// A token's auth block as text (Response::auth_text) goes out as "auth",
// and alone makes the answer non-empty.
TEST(ResponseWriter, AuthTextIsSentAsTheAuthBlock) {
  logical::Response r;
  r.auth_text = R"({"accessor":"a1","client_token":"hvs.x","policies":["default"]})";
  EXPECT_FALSE(IsEmptyResponse(r));
  Json body = Json::parse(RenderBody(r, "rid"));
  EXPECT_EQ(body["auth"], Json::parse(r.auth_text));
  EXPECT_TRUE(body["data"].is_null());
}

TEST(ResponseWriter, WireFormat) {
  logical::Response r;
  r.data = Json{{"k", "v"}};
  r.headers["X-Extra"] = "1";
  r.headers["Bad"] = "a\r\nInjected: yes";
  std::string out;
  RenderResponse(r, "rid", false, true, out);
  EXPECT_TRUE(out.starts_with("HTTP/1.1 200 OK\r\n"));
  EXPECT_NE(out.find("\r\nContent-Type: application/json\r\n"), std::string::npos);
  EXPECT_NE(out.find("\r\nCache-Control: no-store\r\n"), std::string::npos);
  EXPECT_NE(out.find("\r\nX-Extra: 1\r\n"), std::string::npos);
  EXPECT_EQ(out.find("Injected"), std::string::npos);
  EXPECT_EQ(out.find("Connection: close"), std::string::npos);
  auto body = out.substr(out.find("\r\n\r\n") + 4);
  EXPECT_NE(out.find("Content-Length: " + std::to_string(body.size())), std::string::npos);

  RenderResponse(r, "rid", /*head=*/true, false, out);
  EXPECT_TRUE(out.ends_with("\r\n\r\n"));
  EXPECT_NE(out.find("Connection: close"), std::string::npos);

  logical::Response empty;
  RenderResponse(empty, "rid", false, true, out);
  EXPECT_TRUE(out.starts_with("HTTP/1.1 204 No Content\r\n"));
  EXPECT_TRUE(out.ends_with("\r\n\r\n"));
  EXPECT_NE(out.find("\r\nContent-Type: application/json\r\n"), std::string::npos);  // as Vault
  EXPECT_EQ(out.find("Content-Length"), std::string::npos);

  logical::Response text;
  text.raw = Json("metric 1\n");
  text.headers["Content-Type"] = "text/plain; version=0.0.4";
  RenderResponse(text, "rid", false, true, out);
  EXPECT_TRUE(out.ends_with("\r\n\r\nmetric 1\n"));
}

TEST(ErrorMap, Statuses) {
  EXPECT_EQ(HttpStatusFor(Code::kInvalidArgument), 400);
  EXPECT_EQ(HttpStatusFor(Code::kConflict), 400);
  EXPECT_EQ(HttpStatusFor(Code::kAlreadyExists), 400);
  EXPECT_EQ(HttpStatusFor(Code::kUnsupported), 400);
  EXPECT_EQ(HttpStatusFor(Code::kPermissionDenied), 403);
  EXPECT_EQ(HttpStatusFor(Code::kNotFound), 404);
  EXPECT_EQ(HttpStatusFor(Code::kMethodNotAllowed), 405);
  EXPECT_EQ(HttpStatusFor(Code::kTooLarge), 413);
  EXPECT_EQ(HttpStatusFor(Code::kRateLimited), 429);
  EXPECT_EQ(HttpStatusFor(Code::kInternal), 500);
  EXPECT_EQ(HttpStatusFor(Code::kSealed), 503);
  EXPECT_EQ(HttpStatusFor(Code::kUnavailable), 503);

  auto denied = ResponseFor(PermissionDenied());
  EXPECT_EQ(denied.http_status, 403);
  EXPECT_EQ((*denied.raw)["errors"][0], "permission denied");
  auto internal = ResponseFor(Internal("disk on fire at /secret/path"));
  EXPECT_EQ(internal.http_status, 500);
  EXPECT_EQ((*internal.raw)["errors"][0], "internal error");
}

}  // namespace
}  // namespace coffer::http
