// End-to-end tests of the listener over raw TCP sockets on 127.0.0.1.

#include "http/server.h"

#include <gtest/gtest.h>

#include <memory>
#include <thread>
#include <vector>

#include "http/fake_handler.h"
#include "http/in_flight.h"
#include "http/test_client.h"

namespace coffer::http {
namespace {

using logical::Json;
using testing::FakeHandler;
using testing::RawClient;
using namespace std::chrono_literals;

constexpr std::string_view kHealth = "GET /v1/sys/health HTTP/1.1\r\nHost: t\r\n\r\n";

class ServerTest : public ::testing::Test {
 protected:
  void StartServer(ServerOptions o = {}) {
    o.address = "127.0.0.1:0";
    if (o.io_threads == 0) o.io_threads = 2;
    auto s = Server::Create(o, handler_);
    ASSERT_TRUE(s.has_value()) << s.error().ToString();
    server_ = std::move(*s);
    server_->Start();
  }
  void TearDown() override {
    if (server_) server_->Stop();
  }
  std::uint16_t port() const { return server_->port(); }

  // One request on a fresh connection.
  std::optional<testing::HttpResponse> Roundtrip(std::string_view raw) {
    RawClient c(port());
    if (!c.connected() || !c.Send(raw)) return std::nullopt;
    return c.Read();
  }

  void ExpectHealthy() {
    auto r = Roundtrip(kHealth);
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, R"({"initialized":true})");
  }

  FakeHandler handler_;
  std::unique_ptr<Server> server_;
};

TEST_F(ServerTest, KeepAliveServesManyRequestsOnOneConnection) {
  StartServer();
  RawClient c(port());
  ASSERT_TRUE(c.connected());
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(c.Send(kHealth));
    auto r = c.Read();
    ASSERT_TRUE(r.has_value()) << i;
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->Header("connection"), "");
  }
  EXPECT_EQ(handler_.count(), 20);
  EXPECT_EQ(server_->open_connections(), 1u);
}

TEST_F(ServerTest, PipelinedRequestsAnswerInOrder) {
  StartServer();
  RawClient c(port());
  std::string batch;
  batch += "GET /v1/first HTTP/1.1\r\nHost: t\r\n\r\n";
  batch += "GET /v1/async HTTP/1.1\r\nHost: t\r\n\r\n";
  batch += "POST /v1/third HTTP/1.1\r\nHost: t\r\nContent-Length: 7\r\n\r\n{\"a\":1}";
  batch += "GET /v1/fourth HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";
  ASSERT_TRUE(c.Send(batch));
  std::vector<std::string> seen;
  for (int i = 0; i < 4; ++i) {
    auto r = c.Read();
    ASSERT_TRUE(r.has_value()) << i;
    Json body = Json::parse(r->body);
    seen.push_back(body["data"].contains("path") ? body["data"]["path"].get<std::string>()
                                                 : "async");
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"first", "async", "third", "fourth"}));
  EXPECT_TRUE(c.WaitClosed());
}

TEST_F(ServerTest, RendersEnvelopeAndHeaders) {
  StartServer();
  auto r = Roundtrip(
      "POST /v1/secret/data/x?list=ignored&q=a%20b HTTP/1.1\r\nHost: t\r\n"
      "X-Vault-Token: s.tok\r\nContent-Type: application/json\r\nContent-Length: 14\r\n\r\n"
      "{\"password\":1}");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->Header("content-type"), "application/json");
  EXPECT_EQ(r->Header("cache-control"), "no-store");
  EXPECT_EQ(r->Header("x-test"), "yes");
  Json body = Json::parse(r->body);
  EXPECT_EQ(body["request_id"].get<std::string>().size(), 36u);
  EXPECT_EQ(body["lease_id"], "lease/1");
  EXPECT_EQ(body["renewable"], true);
  EXPECT_EQ(body["lease_duration"], 60);
  EXPECT_EQ(body["data"]["path"], "secret/data/x");
  EXPECT_EQ(body["data"]["operation"], "update");
  EXPECT_EQ(body["data"]["body"]["password"], 1);
  EXPECT_EQ(body["data"]["query"]["q"], "a b");
  EXPECT_EQ(body["data"]["has_token"], true);
  EXPECT_EQ(body["warnings"], Json::array({"a warning"}));
  EXPECT_TRUE(body["auth"].is_null());
  EXPECT_TRUE(body["wrap_info"].is_null());
  EXPECT_EQ(body["mount_type"], "kv");
  EXPECT_EQ(handler_.last().client_token, "s.tok");
  EXPECT_EQ(handler_.last().remote_address, "127.0.0.1");
}

TEST_F(ServerTest, MethodsStatusesAndBodies) {
  StartServer();
  auto list = Roundtrip("LIST /v1/secret/metadata HTTP/1.1\r\nHost: t\r\n\r\n");
  ASSERT_TRUE(list.has_value());
  EXPECT_EQ(Json::parse(list->body)["data"]["path"], "secret/metadata/");
  EXPECT_EQ(Json::parse(list->body)["data"]["operation"], "list");

  auto empty = Roundtrip("DELETE /v1/empty HTTP/1.1\r\nHost: t\r\n\r\n");
  ASSERT_TRUE(empty.has_value());
  EXPECT_EQ(empty->status, 204);
  EXPECT_EQ(empty->body, "");

  {
    RawClient c(port());
    ASSERT_TRUE(c.Send("HEAD /v1/sys/health HTTP/1.1\r\nHost: t\r\n\r\n"));
    auto head = c.Read(/*head=*/true);
    ASSERT_TRUE(head.has_value());
    EXPECT_EQ(head->status, 200);
    ASSERT_TRUE(c.Send(kHealth));  // nothing stray was sent after the HEAD answer
    auto next = c.Read();
    ASSERT_TRUE(next.has_value());
    EXPECT_EQ(next->body, R"({"initialized":true})");
  }

  auto not_api = Roundtrip("GET /index.html HTTP/1.1\r\nHost: t\r\n\r\n");
  ASSERT_TRUE(not_api.has_value());
  EXPECT_EQ(not_api->status, 404);
  auto dots = Roundtrip("GET /v1/secret/../sys/seal HTTP/1.1\r\nHost: t\r\n\r\n");
  ASSERT_TRUE(dots.has_value());
  EXPECT_EQ(dots->status, 400);
  auto options = Roundtrip("OPTIONS /v1/sys/health HTTP/1.1\r\nHost: t\r\n\r\n");
  ASSERT_TRUE(options.has_value());
  EXPECT_EQ(options->status, 405);
  auto array = Roundtrip("PUT /v1/x HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\n[]");
  ASSERT_TRUE(array.has_value());
  EXPECT_EQ(array->status, 400);
  EXPECT_TRUE(Json::parse(array->body)["errors"][0].get<std::string>().starts_with(
      "failed to parse JSON input: "));
  EXPECT_EQ(handler_.count(), 4);  // LIST, DELETE, HEAD, GET; not the refused ones
}

TEST_F(ServerTest, HandlerExceptionIs500AndServerLives) {
  StartServer();
  auto r = Roundtrip("GET /v1/throw HTTP/1.1\r\nHost: t\r\n\r\n");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 500);
  EXPECT_EQ(Json::parse(r->body)["errors"][0], "internal error");
  ExpectHealthy();
}

TEST_F(ServerTest, ChunkedBodyIsAccepted) {
  StartServer();
  auto r = Roundtrip(
      "POST /v1/x HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
      "4\r\n{\"a\"\r\n3\r\n:1}\r\n0\r\n\r\n");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(Json::parse(r->body)["data"]["body"]["a"], 1);
}

TEST_F(ServerTest, ExpectContinue) {
  StartServer();
  RawClient c(port());
  ASSERT_TRUE(
      c.Send("PUT /v1/x HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\n"
             "Content-Length: 7\r\n\r\n"));
  auto cont = c.Read();
  ASSERT_TRUE(cont.has_value());
  EXPECT_EQ(cont->status, 100);
  ASSERT_TRUE(c.Send("{\"a\":2}"));
  auto r = c.Read();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 200);
}

// Hostile framing: each one is a 400 and the connection is closed.
TEST_F(ServerTest, AmbiguousFramingIs400AndClosed) {
  StartServer();
  const std::vector<std::string> hostile = {
      "POST /v1/x HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"
      "0\r\n\r\n",
      "POST /v1/x HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n"
      "0\r\n\r\n",
      "POST /v1/x HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\n{}",
      "POST /v1/x HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}",
      "POST /v1/x HTTP/1.1\r\nHost: t\r\nContent-Length: 2, 2\r\n\r\n{}",
      "POST /v1/x HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip\r\n\r\n",
      "POST /v1/x HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
      "POST /v1/x HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n"
      "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
      "POST /v1/x HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n",
      "POST /v1/x HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\n\r\n",
      "POST /v1/x HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcdef\r\n",
      "GET /v1/x HTTP/1.1\r\nHost: t\r\nX-A: 1\r\n folded\r\n\r\n",
      "GET /v1/x HTTP/1.1\r\nHost: t\r\nX-A: 1\rX-B: 2\r\n\r\n",
      "GET /v1/x HTTP/1.1\r\nHost: t\nX-B: 2\r\n\r\n",
      "GET /v1/x HTTP/2.0\r\nHost: t\r\n\r\n",
      "GET /v1/x\r\n\r\n",
      "G@T /v1/x HTTP/1.1\r\nHost: t\r\n\r\n",
  };
  for (const auto& raw : hostile) {
    RawClient c(port());
    ASSERT_TRUE(c.Send(raw));
    auto r = c.Read();
    ASSERT_TRUE(r.has_value()) << raw;
    EXPECT_EQ(r->status, 400) << raw;
    EXPECT_EQ(r->Header("connection"), "close") << raw;
    EXPECT_TRUE(c.WaitClosed()) << raw;
  }
  EXPECT_EQ(handler_.count(), 0);
  ExpectHealthy();
}

TEST_F(ServerTest, DeepJsonIs400AndServerStillAnswers) {
  StartServer();
  std::string body = "{\"a\":" + std::string(200000, '[');
  auto r =
      Roundtrip("POST /v1/x HTTP/1.1\r\nHost: t\r\nContent-Length: " + std::to_string(body.size()) +
                "\r\n\r\n" + body);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(handler_.count(), 0);
  ExpectHealthy();
}

TEST_F(ServerTest, BodyOverLimitIs413) {
  StartServer();  // default limit: 32 MiB
  RawClient c(port());
  const std::size_t size = 40u << 20;
  ASSERT_TRUE(c.Send("PUT /v1/x HTTP/1.1\r\nHost: t\r\nContent-Length: " + std::to_string(size) +
                     "\r\n\r\n"));
  // The answer comes from the header alone; the client keeps sending.
  std::thread writer([&c, size] {
    std::string chunk(1 << 20, 'a');
    for (std::size_t sent = 0; sent < size; sent += chunk.size()) {
      if (!c.Send(chunk)) break;
    }
  });
  auto r = c.Read();
  writer.join();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 413);
  EXPECT_TRUE(c.WaitClosed());
  EXPECT_EQ(handler_.count(), 0);
}

TEST_F(ServerTest, ChunkedBodyOverLimitIs413WhileStreaming) {
  ServerOptions o;
  o.max_request_size = 64 * 1024;
  StartServer(o);
  RawClient c(port());
  ASSERT_TRUE(c.Send("PUT /v1/x HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"));
  std::string chunk = "4000\r\n" + std::string(0x4000, 'a') + "\r\n";
  std::optional<testing::HttpResponse> r;
  for (int i = 0; i < 8 && c.Send(chunk); ++i) {
  }
  r = c.Read();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 413);
  EXPECT_EQ(handler_.count(), 0);
}

// Trailer fields would join the header fields (a token among them, past
// whatever filtered the header): a request with trailers is refused.
TEST_F(ServerTest, TrailerFieldsAreRefused) {
  StartServer();
  RawClient c(port());
  ASSERT_TRUE(
      c.Send("POST /v1/x HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
             "2\r\n{}\r\n0\r\nX-Vault-Token: smuggled\r\n\r\n"));
  auto r = c.Read();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(handler_.count(), 0);
  ExpectHealthy();
}

// Bytes of an unfinished chunk-size line (extensions) or trailer count
// against the header limit, not without bound.
TEST_F(ServerTest, EndlessChunkExtensionOrTrailerIs431) {
  StartServer();
  for (const std::string& start : {std::string("1;e="), std::string("0\r\nX-T: ")}) {
    RawClient c(port());
    ASSERT_TRUE(
        c.Send("POST /v1/x HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n" + start));
    const std::string filler(16 * 1024, 'x');
    for (int i = 0; i < 64 && c.Send(filler); ++i) {
    }
    auto r = c.Read();
    ASSERT_TRUE(r.has_value()) << start;
    EXPECT_EQ(r->status, 431) << start;
  }
  EXPECT_EQ(handler_.count(), 0);
  ExpectHealthy();
}

TEST_F(ServerTest, OversizedHeaderIs431) {
  StartServer();
  auto r =
      Roundtrip("GET /v1/x HTTP/1.1\r\nHost: t\r\nX-Big: " + std::string(20000, 'b') + "\r\n\r\n");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 431);
  ExpectHealthy();
}

TEST_F(ServerTest, SlowClientsAreCutOffAndDoNotStarveOthers) {
  ServerOptions o;
  o.header_read_timeout = 1s;
  StartServer(o);
  std::vector<std::unique_ptr<RawClient>> slow;
  for (int i = 0; i < 300; ++i) {
    slow.push_back(std::make_unique<RawClient>(port()));
    ASSERT_TRUE(slow.back()->connected());
    ASSERT_TRUE(slow.back()->Send("GET /v1/sys/health HTTP/1.1\r\nHost: t\r\nX-Slow: "));
  }
  // A normal client is answered while the slow ones hang.
  for (int i = 0; i < 5; ++i) ExpectHealthy();
  // Every slow client is disconnected by the server (not answered).
  for (auto& c : slow) EXPECT_TRUE(c->WaitClosed(10s));
  EXPECT_EQ(handler_.count(), 5);
  ExpectHealthy();
}

TEST_F(ServerTest, SilentNewConnectionIsClosedAfterHeaderTimeout) {
  ServerOptions o;
  o.header_read_timeout = 1s;
  o.idle_timeout = 1s;
  StartServer(o);
  RawClient silent(port());
  EXPECT_TRUE(silent.WaitClosed(10s));
  RawClient idle(port());  // idle after one request: the idle timeout applies
  ASSERT_TRUE(idle.Send(kHealth));
  ASSERT_TRUE(idle.Read().has_value());
  EXPECT_TRUE(idle.WaitClosed(10s));
}

TEST_F(ServerTest, AResponseNotReadIsCutOffByTheWriteTimeout) {
  ServerOptions o;
  o.write_timeout = 1s;  // the idle timeout (60 s) would otherwise bound the write
  StartServer(o);
  RawClient reader(port());
  ASSERT_TRUE(reader.Send("GET /v1/big HTTP/1.1\r\nHost: t\r\n\r\n"));
  // The write has begun once its first bytes arrive (rendering 32 MB takes
  // a while under the sanitizers). Not reading from then on, the server's
  // write waits, and gives up after its second.
  ASSERT_TRUE(reader.WaitReadable(120s));
  std::this_thread::sleep_for(3s);
  EXPECT_TRUE(reader.WaitClosed(20s));
  ExpectHealthy();
}

// At max_connections, connections in the middle of a request keep their
// slots and a new client is refused.
TEST_F(ServerTest, MaxConnections) {
  ServerOptions o;
  o.max_connections = 3;
  StartServer(o);
  std::vector<std::unique_ptr<RawClient>> held;
  for (int i = 0; i < 3; ++i) {
    held.push_back(std::make_unique<RawClient>(port()));
    // Half a request: the connection is busy, not idle.
    ASSERT_TRUE(held.back()->Send("GET /v1/sys/health HTTP/1.1\r\nHost: t\r\n"));
  }
  const auto busy = std::chrono::steady_clock::now() + 10s;
  while (server_->open_connections() < 3 && std::chrono::steady_clock::now() < busy) {
    std::this_thread::yield();
  }
  RawClient extra(port());
  EXPECT_TRUE(extra.WaitClosed(10s));
  held.clear();  // freeing slots lets new clients in again
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (server_->open_connections() != 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::yield();
  }
  EXPECT_EQ(server_->open_connections(), 0u);
  bool served = false;
  for (int tries = 0; tries < 200 && !served; ++tries) {
    auto r = Roundtrip(kHealth);
    served = r.has_value() && r->status == 200;
  }
  EXPECT_TRUE(served);
}

// At max_connections, a new client takes the slot of a connection that is
// only kept alive (clients that open a connection per request and never
// close it), instead of being refused.
TEST_F(ServerTest, MaxConnectionsReclaimsAnIdleConnection) {
  ServerOptions o;
  o.max_connections = 2;
  o.io_threads = 1;  // one worker: it holds both idle connections
  StartServer(o);
  std::vector<std::unique_ptr<RawClient>> held;
  for (int i = 0; i < 2; ++i) {
    held.push_back(std::make_unique<RawClient>(port()));
    ASSERT_TRUE(held.back()->Send(kHealth));
    ASSERT_TRUE(held.back()->Read().has_value());
  }
  RawClient extra(port());
  ASSERT_TRUE(extra.Send(kHealth));
  auto r = extra.Read();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 200);
  // The first (longest idle) connection made room.
  EXPECT_TRUE(held[0]->WaitClosed(10s));
  ASSERT_TRUE(held[1]->Send(kHealth));
  EXPECT_TRUE(held[1]->Read().has_value());
}

TEST_F(ServerTest, StopLetsInFlightRequestFinish) {
  StartServer();
  RawClient c(port());
  ASSERT_TRUE(c.Send("GET /v1/hold HTTP/1.1\r\nHost: t\r\n\r\n"));
  auto done = handler_.TakeHeld();
  RawClient idle(port());
  ASSERT_TRUE(idle.Send(kHealth));
  ASSERT_TRUE(idle.Read().has_value());
  std::thread stopper([this] { server_->Stop(); });
  EXPECT_TRUE(idle.WaitClosed(10s));  // idle connections go at once
  logical::Response r;
  r.data = Json{{"late", true}};
  done(std::move(r));
  auto resp = c.Read();
  stopper.join();
  ASSERT_TRUE(resp.has_value());
  EXPECT_EQ(resp->status, 200);
  EXPECT_EQ(resp->Header("connection"), "close");
  EXPECT_TRUE(Json::parse(resp->body)["data"]["late"]);
}

// A request the handler holds is listed for sys/in-flight-req, with what
// the wire said, until its answer is sent, also when its client has gone.
TEST_F(ServerTest, HeldRequestsAreListedInFlightUntilAnswered) {
  StartServer();
  auto held = [] {
    std::vector<InFlightRequest> out;
    for (auto& r : InFlightRegistry::Global().Snapshot()) {
      if (r.path == "/v1/hold") out.push_back(r);
    }
    return out;
  };
  const auto before = std::chrono::system_clock::now();
  RawClient c(port());
  ASSERT_TRUE(c.Send("DELETE /v1/hold?secret=x HTTP/1.1\r\nHost: t\r\n\r\n"));
  auto done = handler_.TakeHeld();
  auto listed = held();
  ASSERT_EQ(listed.size(), 1U);
  EXPECT_EQ(listed[0].method, "DELETE");
  EXPECT_EQ(listed[0].path, "/v1/hold");  // never the query string
  EXPECT_TRUE(listed[0].remote_address.starts_with("127.0.0.1:")) << listed[0].remote_address;
  EXPECT_GE(listed[0].start, before);
  EXPECT_EQ(listed[0].id, handler_.last().id);

  logical::Response r;
  r.data = Json{{"ok", true}};
  done(std::move(r));
  auto resp = c.Read();
  ASSERT_TRUE(resp.has_value());
  EXPECT_EQ(Json::parse(resp->body)["request_id"], listed[0].id);
  EXPECT_TRUE(held().empty());

  {
    RawClient gone(port());
    ASSERT_TRUE(gone.Send("GET /v1/hold HTTP/1.1\r\nHost: t\r\n\r\n"));
    done = handler_.TakeHeld();
    EXPECT_EQ(held().size(), 1U);
  }  // the client closes its socket
  // The handler still works on it, so it stays listed until answered.
  ExpectHealthy();
  EXPECT_EQ(held().size(), 1U);
  done(logical::Response{});  // posted to the connection's thread
  bool left = false;
  for (int i = 0; i < 500 && !left; ++i) {
    left = held().empty();
    if (!left) std::this_thread::sleep_for(10ms);
  }
  EXPECT_TRUE(left);
}

TEST(ServerCreate, ReportsErrors) {
  FakeHandler h;
  ServerOptions o;
  o.address = "not-an-address";
  EXPECT_EQ(Server::Create(o, h).error().code(), Code::kInvalidArgument);
  o.address = "127.0.0.1:99999";
  EXPECT_EQ(Server::Create(o, h).error().code(), Code::kInvalidArgument);
  o.address = "example.invalid:80";
  EXPECT_EQ(Server::Create(o, h).error().code(), Code::kInvalidArgument);

  o.address = "127.0.0.1:0";
  auto first = Server::Create(o, h);
  ASSERT_TRUE(first.has_value());
  o.address = "127.0.0.1:" + std::to_string((*first)->port());
  auto second = Server::Create(o, h);
  ASSERT_FALSE(second.has_value());
  EXPECT_EQ(second.error().code(), Code::kUnavailable);

  o.address = "127.0.0.1:0";
  o.tls = true;
  o.tls_cert_file = "/nonexistent/cert.pem";
  o.tls_key_file = "/nonexistent/key.pem";
  auto tls = Server::Create(o, h);
  ASSERT_FALSE(tls.has_value());
  EXPECT_EQ(tls.error().code(), Code::kInvalidArgument);
  EXPECT_NE(tls.error().message().find("/nonexistent/cert.pem"), std::string::npos);
}

}  // namespace
}  // namespace coffer::http
