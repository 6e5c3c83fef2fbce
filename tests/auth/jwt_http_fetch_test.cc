#include <gtest/gtest.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <thread>

#include "auth/jwt/http_fetch.h"

namespace coffer::auth::jwt {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

// Accepts one connection on 127.0.0.1, records the request head, and
// answers `reply` (or nothing, holding the connection, when it is empty).
class OneShotServer {
 public:
  explicit OneShotServer(std::string reply)
      : acceptor_(ioc_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)),
        reply_(std::move(reply)) {
    thread_ = std::thread([this] {
      tcp::socket socket(ioc_);
      boost::system::error_code ec;
      acceptor_.accept(socket, ec);
      if (ec) return;
      asio::streambuf buf;
      asio::read_until(socket, buf, "\r\n\r\n", ec);
      request_ = std::string(asio::buffers_begin(buf.data()), asio::buffers_end(buf.data()));
      if (reply_.empty()) {
        char c;
        socket.read_some(asio::buffer(&c, 1), ec);  // until the client gives up
        return;
      }
      asio::write(socket, asio::buffer(reply_), ec);
      socket.shutdown(tcp::socket::shutdown_both, ec);
    });
  }
  ~OneShotServer() { thread_.join(); }

  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port()) + path;
  }
  const std::string& request() const { return request_; }

 private:
  asio::io_context ioc_;
  tcp::acceptor acceptor_;
  std::string reply_;
  std::string request_;
  std::thread thread_;
};

std::string Reply(int status, const std::string& body) {
  return "HTTP/1.1 " + std::to_string(status) + " X\r\nContent-Type: application/json\r\n" +
         "Content-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
}

TEST(HttpFetchTest, GetsTheBody) {
  OneShotServer server(Reply(200, R"({"keys":[]})"));
  auto body = HttpGet(server.url("/jwks?x=1"), "");
  ASSERT_TRUE(body.has_value()) << body.error().ToString();
  EXPECT_EQ(*body, R"({"keys":[]})");
  EXPECT_TRUE(server.request().starts_with("GET /jwks?x=1 HTTP/1.1\r\n")) << server.request();
}

TEST(HttpFetchTest, NonOkIsUnavailable) {
  OneShotServer server(Reply(404, "secret-looking body"));
  auto body = HttpGet(server.url("/jwks"), "");
  ASSERT_FALSE(body.has_value());
  EXPECT_EQ(body.error().code(), Code::kUnavailable);
  EXPECT_NE(body.error().message().find("404"), std::string::npos);
  EXPECT_EQ(body.error().message().find("secret-looking"), std::string::npos);
}

TEST(HttpFetchTest, TimesOut) {
  OneShotServer server("");  // never answers
  auto started = std::chrono::steady_clock::now();
  auto body = HttpGet(server.url("/slow"), "", std::chrono::milliseconds(300));
  ASSERT_FALSE(body.has_value());
  EXPECT_EQ(body.error().code(), Code::kUnavailable);
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(10));
}

TEST(HttpFetchTest, HttpsToAPlainServerFailsTheHandshake) {
  OneShotServer server(Reply(200, "{}"));
  std::string url = server.url("/jwks");
  url.replace(0, 4, "https");
  auto body = HttpGet(url, "", std::chrono::seconds(1));
  ASSERT_FALSE(body.has_value());
  EXPECT_EQ(body.error().code(), Code::kUnavailable);
}

TEST(HttpFetchTest, RefusesBadUrlsAndCa) {
  EXPECT_EQ(HttpGet("ftp://127.0.0.1/x", "").error().code(), Code::kInvalidArgument);
  EXPECT_EQ(HttpGet("http://user@127.0.0.1/x", "").error().code(), Code::kInvalidArgument);
  EXPECT_EQ(HttpGet("http://127.0.0.1:x/", "").error().code(), Code::kInvalidArgument);
  EXPECT_EQ(HttpGet("https://127.0.0.1:1/", "not a pem").error().code(), Code::kInvalidArgument);
}

}  // namespace
}  // namespace coffer::auth::jwt
