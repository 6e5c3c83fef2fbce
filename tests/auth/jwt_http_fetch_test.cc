#include <gtest/gtest.h>

#include "auth/jwt/http_fetch.h"
#include "net/one_shot_server.h"

namespace coffer::auth::jwt {
namespace {

using coffer::testing::OneShotServer;

TEST(HttpFetchTest, GetsTheBody) {
  OneShotServer server(OneShotServer::Reply(200, R"({"keys":[]})"));
  auto body = HttpGet(server.url("/jwks?x=1"), "");
  ASSERT_TRUE(body.has_value()) << body.error().ToString();
  EXPECT_EQ(*body, R"({"keys":[]})");
  EXPECT_TRUE(server.request().starts_with("GET /jwks?x=1 HTTP/1.1\r\n")) << server.request();
}

TEST(HttpFetchTest, NonOkIsUnavailable) {
  OneShotServer server(OneShotServer::Reply(404, "secret-looking body"));
  auto body = HttpGet(server.url("/jwks"), "");
  ASSERT_FALSE(body.has_value());
  EXPECT_EQ(body.error().code(), Code::kUnavailable);
  EXPECT_NE(body.error().message().find("404"), std::string::npos);
  EXPECT_EQ(body.error().message().find("secret-looking"), std::string::npos);
}

// Timeouts, TLS failures and limits: tests/net/http_exchange_test.cc.

TEST(HttpFetchTest, RefusesBadUrlsAndCa) {
  EXPECT_EQ(HttpGet("ftp://127.0.0.1/x", "").error().code(), Code::kInvalidArgument);
  EXPECT_EQ(HttpGet("http://user@127.0.0.1/x", "").error().code(), Code::kInvalidArgument);
  EXPECT_EQ(HttpGet("http://127.0.0.1:x/", "").error().code(), Code::kInvalidArgument);
  EXPECT_EQ(HttpGet("https://127.0.0.1:1/", "not a pem").error().code(), Code::kInvalidArgument);
}

}  // namespace
}  // namespace coffer::auth::jwt
