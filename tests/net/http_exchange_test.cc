#include "net/http_exchange.h"

#include <gtest/gtest.h>

#include "common/url.h"
#include "net/one_shot_server.h"

namespace coffer::net {
namespace {

using coffer::testing::OneShotServer;
using std::chrono::milliseconds;

TEST(HttpExchangeTest, GetReturnsStatusAndBody) {
  OneShotServer server(OneShotServer::Reply(200, R"({"keys":[]})"));
  auto res = Exchange({.url = server.url("/jwks?x=1"), .headers = {{"Accept", "text/plain"}}});
  ASSERT_TRUE(res.has_value()) << res.error().ToString();
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->body, R"({"keys":[]})");
  EXPECT_TRUE(server.request().starts_with("GET /jwks?x=1 HTTP/1.1\r\n")) << server.request();
  EXPECT_NE(server.request().find("\r\nAccept: text/plain\r\n"), std::string::npos);
  EXPECT_NE(server.request().find("\r\nUser-Agent: coffer\r\n"), std::string::npos);
  // The Host header is the URL's authority, its port included (RFC 9110
  // 7.2): identity providers build their issuer and JWKS URLs from it.
  const std::string port = server.url("").substr(server.url("").rfind(':') + 1);
  EXPECT_NE(server.request().find("\r\nHost: 127.0.0.1:" + port + "\r\n"), std::string::npos)
      << server.request();
}

TEST(HttpExchangeTest, TheHostHeaderNamesAPortOtherThanTheSchemes) {
  auto header = [](std::string_view url) {
    auto u = ParseHttpUrl(url);
    EXPECT_TRUE(u.has_value()) << url;
    return u ? HostHeader(*u) : std::string();
  };
  EXPECT_EQ(header("http://idp.example/x"), "idp.example");
  EXPECT_EQ(header("http://idp.example:80/x"), "idp.example");
  EXPECT_EQ(header("https://idp.example:443/x"), "idp.example");
  EXPECT_EQ(header("http://localhost:18555/oauth"), "localhost:18555");
  EXPECT_EQ(header("https://idp.example:80/x"), "idp.example:80");
  EXPECT_EQ(header("http://[::1]:8200/x"), "[::1]:8200");
  EXPECT_EQ(header("https://[::1]/x"), "[::1]");
}

TEST(HttpExchangeTest, PostSendsTheBodyAndAnyStatusIsAnAnswer) {
  OneShotServer server(OneShotServer::Reply(503, "busy"));
  auto res = Exchange({.method = "POST",
                       .url = server.url("/hook"),
                       .headers = {{"X-Coffer-Signature", "sha256=ab"}},
                       .body = R"({"id":"e1"})"});
  ASSERT_TRUE(res.has_value()) << res.error().ToString();
  EXPECT_EQ(res->status, 503);
  EXPECT_EQ(res->body, "busy");
  EXPECT_TRUE(server.request().starts_with("POST /hook HTTP/1.1\r\n")) << server.request();
  EXPECT_NE(server.request().find("\r\nContent-Length: 11\r\n"), std::string::npos);
  EXPECT_NE(server.request().find("\r\nX-Coffer-Signature: sha256=ab\r\n"), std::string::npos);
  EXPECT_EQ(server.body(), R"({"id":"e1"})");
}

// A peer that accepts and never answers costs the caller the timeout, for a
// POST as for a GET: every step runs under the deadline.
TEST(HttpExchangeTest, APeerThatNeverAnswersCostsTheTimeout) {
  for (const char* method : {"GET", "POST"}) {
    OneShotServer server("");
    const auto started = std::chrono::steady_clock::now();
    auto res = Exchange(
        {.method = method, .url = server.url("/slow"), .body = "{}", .timeout = milliseconds(300)});
    const auto took = std::chrono::steady_clock::now() - started;
    ASSERT_FALSE(res.has_value()) << method;
    EXPECT_EQ(res.error().code(), Code::kUnavailable);
    EXPECT_NE(res.error().message().find("reading the answer failed"), std::string::npos)
        << res.error().message();
    // The server holds the connection for 5 s: a call without a deadline takes that long.
    EXPECT_LT(took, std::chrono::seconds(3)) << method;
  }
}

// Whether the answer declares its length, is chunked, or runs to the end of
// the connection.
TEST(HttpExchangeTest, AnAnswerOverTheLimitIsRefused) {
  const std::string big(2000, 'x');
  const std::string chunked =
      "HTTP/1.1 200 X\r\nTransfer-Encoding: chunked\r\n\r\n7d0\r\n" + big + "\r\n0\r\n\r\n";
  const std::string to_eof = "HTTP/1.1 200 X\r\nConnection: close\r\n\r\n" + big;
  for (const std::string& reply : {OneShotServer::Reply(200, big), chunked, to_eof}) {
    OneShotServer server(reply);
    auto res = Exchange({.url = server.url("/big"), .max_body = 1000});
    ASSERT_FALSE(res.has_value()) << reply.substr(0, 40);
    EXPECT_EQ(res.error().code(), Code::kUnavailable);
    EXPECT_NE(res.error().message().find("exceeds 1000 bytes"), std::string::npos)
        << res.error().message();
  }
  for (const std::string& reply : {OneShotServer::Reply(200, big), chunked, to_eof}) {
    OneShotServer server(reply);
    auto res = Exchange({.url = server.url("/big"), .max_body = 2000});
    ASSERT_TRUE(res.has_value()) << res.error().ToString();
    EXPECT_EQ(res->body, big);
  }
}

TEST(HttpExchangeTest, HttpsToAPlainServerFailsTheHandshake) {
  OneShotServer server(OneShotServer::Reply(200, "{}"));
  auto res = Exchange({.url = server.url("/jwks", "https"), .timeout = milliseconds(500)});
  ASSERT_FALSE(res.has_value());
  EXPECT_EQ(res.error().code(), Code::kUnavailable);
  EXPECT_NE(res.error().message().find("TLS handshake"), std::string::npos)
      << res.error().message();
}

TEST(HttpExchangeTest, RefusesBadUrlsMethodsAndCa) {
  EXPECT_EQ(Exchange({.url = "ftp://127.0.0.1/x"}).error().code(), Code::kInvalidArgument);
  EXPECT_EQ(Exchange({.url = "http://user@127.0.0.1/x"}).error().code(), Code::kInvalidArgument);
  EXPECT_EQ(Exchange({.url = "http://127.0.0.1:x/"}).error().code(), Code::kInvalidArgument);
  // A port is 1 to 65535 (99999 would wrap to 34463), and nothing follows
  // an IPv6 host but its port.
  for (const char* bad :
       {"http://127.0.0.1:99999/", "http://127.0.0.1:0/", "http://127.0.0.1:65536/",
        "http://[::1]junk:80/", "http://[127.0.0.1]x/"}) {
    EXPECT_FALSE(ParseHttpUrl(bad).has_value()) << bad;
  }
  EXPECT_EQ(ParseHttpUrl("http://127.0.0.1:65535/")->port, "65535");
  EXPECT_EQ(ParseHttpUrl("http://[::1]:8200/")->port, "8200");
  EXPECT_EQ(Exchange({.method = "DELETE", .url = "http://127.0.0.1:1/"}).error().code(),
            Code::kInvalidArgument);
  EXPECT_EQ(Exchange({.url = "https://127.0.0.1:1/", .ca_pem = "not a pem"}).error().code(),
            Code::kInvalidArgument);
}

// A line break in a header (a caller's token in Authorization) would add
// headers or a request of its own: refused before anything is sent.
TEST(HttpExchangeTest, HeadersWithLineBreaksAreRefused) {
  OneShotServer server(OneShotServer::Reply(200, "{}"));
  for (const auto& [name, value] :
       {std::pair<std::string, std::string>{"Authorization", "Bearer a\r\nX-Injected: yes"},
        {"Authorization", "Bearer a\nX-Injected: yes"},
        {"Authorization", std::string("Bearer a\0b", 10)},
        {"X-A\r\nX-Injected", "yes"}}) {
    auto res = Exchange({.url = server.url("/user"), .headers = {{name, value}}});
    ASSERT_FALSE(res.has_value()) << name;
    EXPECT_EQ(res.error().code(), Code::kInvalidArgument);
    EXPECT_EQ(res.error().message().find("X-Injected"), std::string::npos);
  }
  auto agent = Exchange({.url = server.url("/user"), .user_agent = "coffer\r\nX-Injected: yes"});
  EXPECT_EQ(agent.error().code(), Code::kInvalidArgument);
  // Nothing reached the server; a clean request still does.
  auto res = Exchange({.url = server.url("/user"), .headers = {{"Authorization", "Bearer a"}}});
  ASSERT_TRUE(res.has_value()) << res.error().ToString();
  EXPECT_EQ(server.request().find("X-Injected"), std::string::npos);
  EXPECT_NE(server.request().find("\r\nAuthorization: Bearer a\r\n"), std::string::npos);
}

TEST(HttpExchangeTest, ARefusedConnectionIsUnavailable) {
  std::string url;
  {
    OneShotServer server(OneShotServer::Reply(200, ""));
    url = server.url("/");
    auto res = Exchange({.url = url});  // serves its one connection, then closes
    ASSERT_TRUE(res.has_value()) << res.error().ToString();
  }
  auto res = Exchange({.url = url, .timeout = std::chrono::seconds(2)});
  ASSERT_FALSE(res.has_value());
  EXPECT_EQ(res.error().code(), Code::kUnavailable);
  EXPECT_NE(res.error().message().find("connecting failed"), std::string::npos)
      << res.error().message();
}

}  // namespace
}  // namespace coffer::net
