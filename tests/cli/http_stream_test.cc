// HttpClient::StreamEvents and SseParser: records arrive as they are sent
// (not when the stream ends), refusals come back with their status, and a
// stream ends on EOF, on cancel from another thread and on idle timeout.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "cli/http_client.h"

namespace coffer::cli {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using namespace std::chrono_literals;

TEST(SseParserTest, JoinsDataLinesAndSkipsCommentsAndOtherFields) {
  std::vector<std::string> got;
  SseParser p([&](std::string_view d) { got.emplace_back(d); });
  p.Feed(": keepalive\n\n");
  p.Feed("data: {\"a\":1}\n\nid: 7\nevent: x\ndata:two\r\ndata: lines\r\n\r\n");
  p.Feed("database: nope\n\n");
  p.Feed("data: split ");
  p.Feed("across\n");
  EXPECT_EQ(got.size(), 2u);
  p.Feed("\n");
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0], "{\"a\":1}");
  EXPECT_EQ(got[1], "two\nlines");
  EXPECT_EQ(got[2], "split across");
}

TEST(SseParserTest, DropsOversizedRecordsAndRecovers) {
  std::vector<std::string> got;
  SseParser p([&](std::string_view d) { got.emplace_back(d); });
  p.Feed("data: " + std::string(2 << 20, 'x') + "\n\n");
  p.Feed("data: ok\n\n");
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0], "ok");
}

// One connection on 127.0.0.1: reads the request head, then runs `script`
// on the socket.
class ScriptedServer {
 public:
  using Script = std::function<void(tcp::socket&, const std::string& head)>;
  explicit ScriptedServer(Script script)
      : acceptor_(ioc_, {asio::ip::make_address("127.0.0.1"), 0}) {
    port_ = acceptor_.local_endpoint().port();
    thread_ = std::thread([this, script = std::move(script)] {
      tcp::socket s(ioc_);
      boost::system::error_code ec;
      acceptor_.accept(s, ec);
      if (ec) return;
      asio::streambuf buf;
      asio::read_until(s, buf, "\r\n\r\n", ec);
      if (ec) return;
      std::string head(asio::buffers_begin(buf.data()), asio::buffers_end(buf.data()));
      script(s, head);
    });
  }
  ~ScriptedServer() { thread_.join(); }
  std::string address() const { return "http://127.0.0.1:" + std::to_string(port_); }

 private:
  asio::io_context ioc_;
  tcp::acceptor acceptor_;
  unsigned short port_ = 0;
  std::thread thread_;
};

void Send(tcp::socket& s, const std::string& text) {
  boost::system::error_code ec;
  asio::write(s, asio::buffer(text), ec);
}

std::unique_ptr<HttpClient> ClientFor(const std::string& address) {
  ClientConfig c;
  c.address = address;
  c.token = SecretBytes::FromString("s.streamtoken");
  c.timeout = 5s;
  auto client = HttpClient::Create(std::move(c));
  EXPECT_TRUE(client.has_value());
  return std::move(*client);
}

constexpr char kHead[] =
    "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n";

TEST(HttpStreamTest, DeliversEachRecordBeforeTheNextIsSent) {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::string> got;
  bool opened = false;
  std::string head_seen;
  auto wait_for = [&](std::size_t n) {
    std::unique_lock lock(mu);
    return cv.wait_for(lock, 5s, [&] { return got.size() >= n; });
  };
  ScriptedServer server([&](tcp::socket& s, const std::string& head) {
    {
      std::scoped_lock lock(mu);
      head_seen = head;
    }
    Send(s, kHead);
    Send(s, ": keepalive\n\n");
    Send(s, "data: {\"n\":1}\n\n");
    // The second record is sent only once the first was handed over: a
    // client that waited for the end of the stream would time out here.
    if (!wait_for(1)) return;
    Send(s, "data: {\"n\":2}\n\n");
    wait_for(2);
  });
  auto client = ClientFor(server.address());
  StreamHandlers h;
  h.on_open = [&] { opened = true; };
  h.on_data = [&](std::string_view d) {
    std::scoped_lock lock(mu);
    got.emplace_back(d);
    cv.notify_all();
  };
  Result<HttpResponse> r = client->StreamEvents("/v1/sys/events/subscribe/kv*", h, 5s);
  ASSERT_TRUE(r.has_value()) << r.error().message();
  EXPECT_EQ(r->status, 200);
  EXPECT_TRUE(opened);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0], "{\"n\":1}");
  EXPECT_EQ(got[1], "{\"n\":2}");
  EXPECT_NE(head_seen.find("GET /v1/sys/events/subscribe/kv* HTTP/1.1"), std::string::npos);
  EXPECT_NE(head_seen.find("X-Vault-Token: s.streamtoken"), std::string::npos);
}

TEST(HttpStreamTest, RefusalComesBackWithStatusAndBody) {
  ScriptedServer server([](tcp::socket& s, const std::string&) {
    std::string body = "{\"errors\":[\"permission denied\"]}";
    Send(s, "HTTP/1.1 403 Forbidden\r\nContent-Type: application/json\r\nContent-Length: " +
                std::to_string(body.size()) + "\r\n\r\n" + body);
  });
  auto client = ClientFor(server.address());
  bool opened = false;
  Result<HttpResponse> r = client->StreamEvents(
      "/v1/sys/events/subscribe/kv*", StreamHandlers{[&] { opened = true; }, nullptr}, 5s);
  ASSERT_TRUE(r.has_value()) << r.error().message();
  EXPECT_EQ(r->status, 403);
  EXPECT_EQ(r->body, "{\"errors\":[\"permission denied\"]}");
  EXPECT_FALSE(opened);
}

TEST(HttpStreamTest, CancelFromAnotherThreadEndsAnIdleStream) {
  std::promise<void> done;
  auto done_future = done.get_future();
  ScriptedServer server([&](tcp::socket& s, const std::string&) {
    Send(s, kHead);
    done_future.wait_for(10s);  // sends nothing more
  });
  auto client = ClientFor(server.address());
  StreamCanceller canceller;
  std::promise<void> opened;
  std::thread canceller_thread([&] {
    opened.get_future().wait_for(5s);
    canceller.Cancel();
  });
  auto start = std::chrono::steady_clock::now();
  Result<HttpResponse> r =
      client->StreamEvents("/v1/sys/events/subscribe/kv*",
                           StreamHandlers{[&] { opened.set_value(); }, nullptr}, 30s, &canceller);
  canceller_thread.join();
  done.set_value();
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), Code::kUnavailable);
  EXPECT_NE(r.error().message().find("cancelled"), std::string::npos) << r.error().message();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
  // Still cancelled: the next stream returns at once, until Reset.
  r = client->StreamEvents("/v1/sys/events/subscribe/kv*", {}, 30s, &canceller);
  ASSERT_FALSE(r.has_value());
  EXPECT_TRUE(canceller.cancelled());
  canceller.Reset();
  EXPECT_FALSE(canceller.cancelled());
}

TEST(HttpStreamTest, SilentStreamTimesOut) {
  std::promise<void> done;
  auto done_future = done.get_future();
  ScriptedServer server([&](tcp::socket& s, const std::string&) {
    Send(s, kHead);
    done_future.wait_for(10s);
  });
  auto client = ClientFor(server.address());
  Result<HttpResponse> r = client->StreamEvents("/v1/sys/events/subscribe/kv*", {}, 200ms);
  done.set_value();
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message().find("i/o timeout"), std::string::npos) << r.error().message();
}

TEST(HttpStreamTest, ConnectionRefusedIsUnavailable) {
  std::string address;
  {
    asio::io_context ioc;
    tcp::acceptor a(ioc, {asio::ip::make_address("127.0.0.1"), 0});
    address = "http://127.0.0.1:" + std::to_string(a.local_endpoint().port());
  }
  auto client = ClientFor(address);
  Result<HttpResponse> r = client->StreamEvents("/v1/sys/events/subscribe/kv*", {}, 1s);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), Code::kUnavailable);
}

}  // namespace
}  // namespace coffer::cli
