// HttpClient::Do refuses an answer whose declared length is over its 64 MiB
// limit as soon as the header arrives, instead of reserving and reading it.
#include <gtest/gtest.h>

#include "cli/http_client.h"
#include "net/one_shot_server.h"

namespace coffer::cli {
namespace {

using coffer::testing::OneShotServer;

TEST(HttpClientLimitTest, AnAnswerDeclaredOverTheLimitIsRefusedAtItsHeader) {
  OneShotServer server("HTTP/1.1 200 X\r\nContent-Length: 104857600\r\n\r\n{\"data\":");
  auto client = HttpClient::Create({.address = server.url("")});
  ASSERT_TRUE(client.has_value()) << client.error().ToString();
  auto res = (*client)->Do("GET", "/v1/secret/big");
  ASSERT_FALSE(res.has_value());
  EXPECT_EQ(res.error().code(), Code::kUnavailable);
  EXPECT_NE(res.error().message().find("body limit"), std::string::npos) << res.error().message();
}

TEST(HttpClientLimitTest, AnAnswerWithinTheLimitIsRead) {
  OneShotServer server(OneShotServer::Reply(200, R"({"data":{"a":"b"}})"));
  auto client = HttpClient::Create({.address = server.url("")});
  ASSERT_TRUE(client.has_value()) << client.error().ToString();
  auto res = (*client)->Do("GET", "/v1/secret/small");
  ASSERT_TRUE(res.has_value()) << res.error().ToString();
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->body, R"({"data":{"a":"b"}})");
}

}  // namespace
}  // namespace coffer::cli
