#include "events/http_post.h"

#include <gtest/gtest.h>

#include "net/one_shot_server.h"

namespace coffer::events {
namespace {

using coffer::testing::OneShotServer;

TEST(HttpPostTest, PostsJsonWithTheHeadersAndReturnsTheStatus) {
  OneShotServer server(OneShotServer::Reply(204, ""));
  auto status =
      HttpPost(server.url("/hook"), R"({"id":"e1"})", {{"X-Coffer-Signature", "sha256=00"}});
  ASSERT_TRUE(status.has_value()) << status.error().ToString();
  EXPECT_EQ(*status, 204);
  EXPECT_TRUE(server.request().starts_with("POST /hook HTTP/1.1\r\n")) << server.request();
  EXPECT_NE(server.request().find("\r\nContent-Type: application/json\r\n"), std::string::npos);
  EXPECT_NE(server.request().find("\r\nUser-Agent: coffer-webhook\r\n"), std::string::npos);
  EXPECT_NE(server.request().find("\r\nX-Coffer-Signature: sha256=00\r\n"), std::string::npos);
  EXPECT_EQ(server.body(), R"({"id":"e1"})");
}

// The sender thread posts one hook at a time and Unload waits for it: a
// receiver that accepts and never answers must cost the timeout, not hold
// the sender (and a seal) forever.
TEST(HttpPostTest, AReceiverThatNeverAnswersCostsTheTimeout) {
  OneShotServer server("");  // holds the connection for 5 s
  const auto started = std::chrono::steady_clock::now();
  auto status = HttpPost(server.url("/hook"), "{}", {}, std::chrono::milliseconds(300));
  const auto took = std::chrono::steady_clock::now() - started;
  ASSERT_FALSE(status.has_value());
  EXPECT_EQ(status.error().code(), Code::kUnavailable);
  EXPECT_TRUE(status.error().message().starts_with("webhook: POST 127.0.0.1: "))
      << status.error().message();
  EXPECT_LT(took, std::chrono::seconds(3));
}

}  // namespace
}  // namespace coffer::events
