// One HTTP/1.1 connection (plain or TLS), driven by hand on top of Beast's
// request parser: we read into a flat buffer and feed the parser ourselves,
// so the raw header can be checked before it is interpreted, limits map to
// the right statuses, and no composed-operation machinery runs per request.
// Requests on a connection are handled strictly one at a time (pipelined
// requests wait in the buffer), so responses can never be reordered.

#include <boost/asio/post.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <deque>

#include "common/log.h"
#include "http/error_map.h"
#include "http/framing.h"
#include "http/in_flight.h"
#include "http/path.h"
#include "http/request_builder.h"
#include "http/response_writer.h"
#include "http/server_internal.h"
#include "logical/stream.h"
#include "metrics/telemetry.h"

namespace coffer::http::internal {
namespace {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using Clock = std::chrono::steady_clock;
using boost::system::error_code;

constexpr std::size_t kReadChunk = 16 * 1024;
constexpr std::chrono::seconds kLingerTime{2};
constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
// A streaming client that lets this much pile up unread is dropped.
constexpr std::size_t kMaxStreamBacklog = 1 << 20;

using TlsStream = asio::ssl::stream<tcp::socket>;

template <class Stream>
class Connection final : public ConnBase {
 public:
  static constexpr bool kTls = std::is_same_v<Stream, TlsStream>;

  Connection(Server::Impl& impl, Worker& worker, tcp::socket socket)
      : impl_(impl),
        worker_(worker),
        stream_(MakeStream(impl, std::move(socket))),
        in_flight_(InFlightRegistry::Global(), worker.in_flight_shard) {
    error_code ec;
    auto ep = Lowest().remote_endpoint(ec);
    if (!ec) {
      remote_ = ep.address().to_string();
      in_flight_.fields().remote_address = ep.address().is_v6()
                                               ? "[" + remote_ + "]:" + std::to_string(ep.port())
                                               : remote_ + ":" + std::to_string(ep.port());
    }
    Lowest().set_option(tcp::no_delay(true), ec);
  }

  void Start() override {
    const auto& o = impl_.options;
    if constexpr (kTls) {
      phase_ = Phase::kHandshake;
      deadline_ = Clock::now() + o.header_read_timeout;
      stream_.async_handshake(asio::ssl::stream_base::server, [self = Self()](error_code ec) {
        if (self->phase_ == Phase::kClosed) return;
        if (ec) return self->CloseNow();
        self->CapturePeerChain();
        self->BeginRequest();
      });
    } else {
      BeginRequest();
    }
  }

  // The client's certificate chain (DER, leaf first), once per connection.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wold-style-cast"  // OpenSSL's STACK_OF macros
  void CapturePeerChain() {
    if constexpr (kTls) {
      SSL* ssl = stream_.native_handle();
      // On a server the chain from OpenSSL leaves out the leaf.
      X509* leaf = SSL_get0_peer_certificate(ssl);
      if (leaf == nullptr) return;
      auto out = std::make_shared<std::vector<std::string>>();
      auto append = [&](X509* cert) {
        unsigned char* der = nullptr;
        int len = i2d_X509(cert, &der);
        if (len <= 0) return false;
        out->emplace_back(reinterpret_cast<const char*>(der), static_cast<std::size_t>(len));
        OPENSSL_free(der);
        return true;
      };
      if (!append(leaf)) return;
      STACK_OF(X509)* chain = SSL_get_peer_cert_chain(ssl);
      for (int i = 0; chain != nullptr && i < sk_X509_num(chain); ++i) {
        X509* cert = sk_X509_value(chain, i);
        if (X509_cmp(cert, leaf) == 0) continue;
        if (!append(cert)) return;
      }
      peer_chain_ = std::move(out);
    }
  }
#pragma GCC diagnostic pop

  void CloseNow() override {
    if (phase_ == Phase::kClosed) return;
    phase_ = Phase::kClosed;
    deadline_ = SteadyTime::max();
    EndInFlight(200);  // a stream that ends
    if (stream_sink_) stream_sink_->closed = true;
    if (auto source = std::move(stream_source_)) source->Stop();
    error_code ec;
    Lowest().close(ec);
    worker_.Remove(*this);
  }

  void BeginShutdown() override {
    shutting_down_ = true;
    if (phase_ != Phase::kHandling && phase_ != Phase::kWriting) CloseNow();
  }

  bool Idle() const override { return phase_ == Phase::kIdle; }

  bool CloseIfIdle() override {
    if (!Idle()) return false;
    CloseNow();
    return true;
  }

  // Runs on the worker thread; ignores a second or stale `done`.
  void OnResponse(std::uint64_t gen, logical::Response response) {
    if (phase_ != Phase::kHandling || gen != gen_) return;
    Respond(response);
  }

 private:
  enum class Phase {
    kHandshake,
    kIdle,
    kHeader,
    kBody,
    kHandling,
    kWriting,
    kStreaming,
    kLinger,
    kClosed
  };

  // The sink a streaming source writes to: hands bytes to the worker thread.
  struct Sink final : logical::StreamSink {
    std::weak_ptr<Connection> conn;
    std::shared_ptr<Gate> gate;
    std::atomic<bool> closed{false};

    template <class Fn>
    void Post(Fn fn) {
      std::scoped_lock lock(gate->mu);
      if (gate->ctx == nullptr) return;
      auto c = conn.lock();
      if (!c) return;
      asio::post(*gate->ctx, [c = std::move(c), fn = std::move(fn)]() mutable { fn(*c); });
    }
    bool Write(std::string bytes) override {
      if (closed.load()) return false;
      Post([b = std::move(bytes)](Connection& c) mutable { c.StreamWrite(std::move(b)); });
      return !closed.load();
    }
    void Close() override {
      Post([](Connection& c) { c.StreamEnd(); });
    }
  };

  static Stream MakeStream(Server::Impl& impl, tcp::socket socket) {
    if constexpr (kTls) {
      return Stream(std::move(socket), *impl.ssl);
    } else {
      (void)impl;
      return socket;
    }
  }

  tcp::socket& Lowest() {
    if constexpr (kTls) {
      return stream_.next_layer();
    } else {
      return stream_;
    }
  }

  std::shared_ptr<Connection> Self() {
    return std::static_pointer_cast<Connection>(shared_from_this());
  }

  void BeginRequest() {
    if (shutting_down_) return CloseNow();
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(
        std::min<std::size_t>(impl_.options.max_header_size, UINT32_MAX)));
    parser_->body_limit(impl_.options.max_request_size);
    parser_->eager(false);  // stop after the header so we can vet it first
    header_checked_ = false;
    const auto now = Clock::now();
    if (buffer_.size() > 0 || first_request_) {
      // A new connection gets the header timeout from the start: connecting
      // and sending nothing must not hold a slot for the idle timeout.
      phase_ = Phase::kHeader;
      deadline_ = now + impl_.options.header_read_timeout;
    } else {
      phase_ = Phase::kIdle;
      deadline_ = now + impl_.options.idle_timeout;
    }
    first_request_ = false;
    Parse();
  }

  void DoRead() {
    stream_.async_read_some(buffer_.prepare(kReadChunk),
                            [self = Self()](error_code ec, std::size_t n) { self->OnRead(ec, n); });
  }

  void OnRead(error_code ec, std::size_t n) {
    if (phase_ == Phase::kClosed) return;
    if (ec) return CloseNow();  // EOF, reset, or closed by a timeout
    buffer_.commit(n);
    if (phase_ == Phase::kIdle) {
      phase_ = Phase::kHeader;
      deadline_ = Clock::now() + impl_.options.header_read_timeout;
    }
    Parse();
  }

  void Parse() {
    for (;;) {
      if (buffer_.size() == 0) return DoRead();
      error_code ec;
      const auto data = buffer_.data();
      std::size_t used = parser_->put(data, ec);
      if (!header_checked_ && parser_->is_header_done()) {
        header_checked_ = true;
        std::string_view raw(static_cast<const char*>(data.data()), used);
        buffer_.consume(used);
        if (!OnHeader(raw)) return;
        if (ec == bhttp::error::need_more) ec = {};
      } else {
        buffer_.consume(used);
      }
      if (ec == bhttp::error::need_more) {
        // In the body, bytes pile up unparsed only while the parser waits
        // for the end of a chunk-size line (with its extensions) or of the
        // trailer: neither counts against the body limit, so the header
        // limit bounds them too.
        if (buffer_.size() > impl_.options.max_header_size) {
          return FailAndClose(431, parser_->is_header_done() ? "chunk header or trailer too large"
                                                             : "request header too large");
        }
        return DoRead();
      }
      if (ec) return FailParse(ec);
      if (parser_->is_done()) return Dispatch();
      if (expect_continue_ && buffer_.size() == 0) {
        expect_continue_ = false;
        asio::async_write(stream_, asio::buffer(kContinue.data(), kContinue.size()),
                          [self = Self()](error_code e, std::size_t) {
                            if (self->phase_ == Phase::kClosed) return;
                            if (e) return self->CloseNow();
                            self->Parse();
                          });
        return;
      }
    }
  }

  // The header is complete; returns false when it was refused.
  bool OnHeader(std::string_view raw) {
    if (Status s = CheckRawHeader(raw); !s.ok()) {
      FailAndClose(400, s.message());
      return false;
    }
    const auto& h = parser_->get();
    FramingFields f;
    f.version = h.version();
    for (const auto& field : h) {
      if (field.name() == bhttp::field::content_length) {
        f.content_length.push_back(field.value());
      } else if (field.name() == bhttp::field::transfer_encoding) {
        f.transfer_encoding.push_back(field.value());
      }
    }
    if (Status s = CheckFraming(f); !s.ok()) {
      FailAndClose(400, s.message());
      return false;
    }
    auto expect = h[bhttp::field::expect];
    expect_continue_ = beast::iequals(expect, "100-continue");
    header_fields_ = static_cast<std::size_t>(std::distance(h.begin(), h.end()));
    phase_ = Phase::kBody;
    deadline_ = Clock::now() + impl_.options.body_read_timeout;
    parser_->eager(true);
    return true;
  }

  void FailParse(error_code ec) {
    if (ec == bhttp::error::header_limit) return FailAndClose(431, "request header too large");
    if (ec == bhttp::error::body_limit) return FailAndClose(413, "request body too large");
    FailAndClose(400, "malformed request: " + ec.message());
  }

  // Answers a request we could not frame, then closes: after a framing
  // error the rest of the byte stream cannot be trusted.
  void FailAndClose(int status, std::string message) {
    metrics::Telemetry::Global().RecordRefusal(metrics::Refusal::kFraming, status);
    keep_alive_ = false;
    linger_ = true;
    is_head_ = false;
    request_id_.clear();
    phase_ = Phase::kHandling;
    Respond(logical::ErrorResponse(status, std::move(message)));
  }

  // Every request ends answered or closed: an exception before the core
  // has it (a std::bad_alloc while a body is decoded) would otherwise leave
  // the connection in the handling phase, which never times out.
  void Dispatch() {
    try {
      DispatchRequest();
      return;
    } catch (const std::exception& e) {
      Log(LogModule::kHttp).error("cannot dispatch a request: {}", e.what());
    } catch (...) {
      Log(LogModule::kHttp).error("cannot dispatch a request: a non-standard exception");
    }
    try {
      keep_alive_ = false;
      Respond(logical::ErrorResponse(500, "internal error"));
    } catch (...) {
      CloseNow();
    }
  }

  void DispatchRequest() {
    auto& msg = parser_->get();
    // The parser adds a chunked body's trailer fields to the header fields:
    // a token (or any header) must not arrive that way, past whatever
    // filtered the real header. Requests with trailers are refused.
    if (static_cast<std::size_t>(std::distance(msg.begin(), msg.end())) != header_fields_) {
      return FailAndClose(400, "trailer fields are not supported");
    }
    WireRequest wire;
    wire.method = msg.method_string();
    wire.target = msg.target();
    wire.vault_token = msg["X-Vault-Token"];
    wire.authorization = msg[bhttp::field::authorization];
    wire.wrap_ttl = msg["X-Vault-Wrap-TTL"];
    for (auto [it, last] = msg.equal_range("X-Vault-MFA"); it != last; ++it) {
      if (!wire.mfa.empty()) wire.mfa.push_back('\n');
      wire.mfa += it->value();
    }
    wire.vault_namespace = msg["X-Vault-Namespace"];
    wire.content_type = msg[bhttp::field::content_type];
    wire.accept = msg[bhttp::field::accept];
    wire.body = msg.body();
    wire.remote_address = remote_;
    wire.tls = kTls;
    wire.peer_certificates = peer_chain_;
    if (auto audited = impl_.handler.AuditedHeaders()) {
      for (const auto& [name, hmac] : *audited) {
        auto [first, last] = msg.equal_range(name);
        if (first == last) continue;
        logical::AuditedHeader& h = wire.audited_headers.emplace_back();
        h.name = name;
        h.hmac = hmac;
        for (auto it = first; it != last; ++it) h.values.emplace_back(it->value());
      }
    }

    keep_alive_ = parser_->keep_alive();
    linger_ = false;
    is_head_ = wire.method == "HEAD";
    phase_ = Phase::kHandling;
    deadline_ = SteadyTime::max();  // the handler's time is the core's business
    const std::uint64_t gen = ++gen_;

    // Cross-origin checks come first, then rate limits, all before the
    // body is decoded. Whatever answers here carries the CORS headers too,
    // so that a browser can read a refusal.
    std::map<std::string, std::string> extra_headers;
    if (impl_.handler.WantsCors()) {
      const std::string_view origin = msg[bhttp::field::origin];
      if (!origin.empty()) {
        auto answer = impl_.handler.CheckCors(
            origin, wire.method, msg[bhttp::field::access_control_request_method], &extra_headers);
        if (answer) {
          request_id_ = NewRequestId();
          return Respond(*answer);
        }
      }
    }
    auto with_extra = [&extra_headers](logical::Response r) {
      for (const auto& [k, v] : extra_headers) r.headers.emplace(k, v);
      return r;
    };
    if (impl_.handler.WantsPreflight()) {
      const Target target = SplitTarget(wire.target);
      auto path = CanonicalizePath(target.path);
      auto refusal =
          path ? impl_.handler.Preflight(*path, wire.remote_address, &extra_headers) : std::nullopt;
      if (refusal) {
        metrics::Telemetry::Global().RecordRefusal(metrics::Refusal::kRateLimit,
                                                   refusal->http_status);
        request_id_ = NewRequestId();
        const auto query = ParseQuery(target.query);
        const auto op =
            OperationOf(wire.method, query ? *query : std::map<std::string, std::string>{});
        if (op) {
          logical::Request head;
          head.id = request_id_;
          head.operation = *op;
          head.path = *path;
          if (logical::IsListOperation(*op) && !head.path.ends_with('/')) head.path += '/';
          head.remote_address = wire.remote_address;
          impl_.handler.PreflightRefused(std::move(head), *refusal);
        }
        return Respond(with_extra(*std::move(refusal)));
      }
    }
    auto built = BuildRequest(wire, impl_.options.json_limits);
    if (!built) {
      metrics::Telemetry::Global().RecordRefusal(metrics::Refusal::kRequest,
                                                 built.error().http_status);
      request_id_ = NewRequestId();
      return Respond(with_extra(std::move(built.error())));
    }
    request_id_ = built->id;
    {
      // Listed for sys/in-flight-req until its answer starts (or, for a
      // stream, until the stream ends).
      InFlightRequest& f = in_flight_.fields();
      f.id = built->id;
      f.method = wire.method;
      f.path.assign("/v1/").append(built->path);
      f.start = std::chrono::system_clock::now();
      f.mono_start = Clock::now();
      in_flight_.Begin();
    }
    try {
      auto done = MakeDone(gen);
      if (!extra_headers.empty()) {
        done = [done = std::move(done),
                extra = std::move(extra_headers)](logical::Response response) mutable {
          for (auto& [k, v] : extra) response.headers.emplace(k, v);
          done(std::move(response));
        };
      }
      if (const char* key = DisabledOnListener(built->path)) {
        return done(logical::ErrorResponse(
            405, fmt::format("this endpoint is disabled on this listener ({} = true)", key)));
      }
      if (impl_.options.unauthenticated_in_flight_requests_access &&
          built->path == "sys/in-flight-req" && built->operation == logical::Operation::kRead) {
        // Answered here, without a token and without the core, as Vault's
        // listener option does: the list is the HTTP layer's own.
        logical::Response r;
        r.raw = InFlightJson(InFlightRegistry::Global().Snapshot());
        return done(std::move(r));  // with the CORS headers, if any
      }
      if (impl_.options.unauthenticated_metrics_access && built->path == "sys/metrics" &&
          built->operation == logical::Operation::kRead) {
        impl_.handler.HandleUnauthenticatedMetrics(std::move(*built), std::move(done));
      } else {
        impl_.handler.Handle(std::move(*built), std::move(done));
      }
      return;
    } catch (const std::exception& e) {
      Log(LogModule::kHttp).error("handler threw: {}", e.what());
    } catch (...) {
      Log(LogModule::kHttp).error("handler threw a non-standard exception");
    }
    OnResponse(gen, ResponseFor(Internal("handler exception")));
  }

  // The listener key that turns `path` off here, or null. The prefixes take
  // every spelling the core would route (the path is already cleaned).
  const char* DisabledOnListener(std::string_view path) const {
    const ServerOptions& o = impl_.options;
    if (o.disable_unauthed_rekey_endpoints &&
        (path.starts_with("sys/rekey/") || path.starts_with("sys/rekey-recovery-key/"))) {
      return "disable_unauthed_rekey_endpoints";
    }
    if (o.disable_unauthed_generate_root_endpoints && path.starts_with("sys/generate-root/")) {
      return "disable_unauthed_generate_root_endpoints";
    }
    return nullptr;
  }

  // The request leaves sys/in-flight-req's list, and is logged when
  // log_requests_level asks for it.
  void EndInFlight(int status) {
    if (!in_flight_.active()) return;
    LogCompletedRequest(in_flight_.fields(), status);
    in_flight_.End();
  }

  std::function<void(logical::Response)> MakeDone(std::uint64_t gen) {
    return [weak = std::weak_ptr<Connection>(Self()), gate = worker_.gate, worker = &worker_,
            gen](logical::Response response) {
      if (current_worker == worker) {
        if (auto c = weak.lock()) c->OnResponse(gen, std::move(response));
        return;
      }
      std::scoped_lock lock(gate->mu);
      if (gate->ctx == nullptr) return;  // the server has stopped
      auto c = weak.lock();
      if (!c) return;
      asio::post(*gate->ctx, [c = std::move(c), gen, r = std::move(response)]() mutable {
        c->OnResponse(gen, std::move(r));
      });
    };
  }

  void Respond(const logical::Response& response) {
    if (response.stream && response.http_status == 200 && !shutting_down_ && !is_head_) {
      return StartStream(response);
    }
    EndInFlight(response.http_status);
    if (shutting_down_) keep_alive_ = false;
    try {
      RenderResponse(response, request_id_, is_head_, keep_alive_, out_);
    } catch (const std::exception& e) {
      Log(LogModule::kHttp).error("cannot render a response: {}", e.what());
      keep_alive_ = false;
      RenderResponse(logical::ErrorResponse(500, "internal error"), request_id_, is_head_, false,
                     out_);
    }
    phase_ = Phase::kWriting;
    deadline_ = Clock::now() + impl_.options.write_timeout;
    asio::async_write(stream_, asio::buffer(out_),
                      [self = Self()](error_code ec, std::size_t) { self->OnWrite(ec); });
  }

  void OnWrite(error_code ec) {
    if (phase_ == Phase::kClosed) return;
    if (ec) return CloseNow();
    if (out_.capacity() > 64 * 1024) std::string().swap(out_);  // don't pin big buffers
    if (keep_alive_ && !shutting_down_) return BeginRequest();
    if constexpr (!kTls) {
      if (linger_) return Linger();
    }
    error_code ignored;
    Lowest().shutdown(tcp::socket::shutdown_send, ignored);
    CloseNow();
  }

  // A streaming response: the header, then whatever the source writes, until
  // the source ends it, the client goes away or the server stops.
  void StartStream(const logical::Response& response) {
    keep_alive_ = false;
    phase_ = Phase::kStreaming;
    deadline_ = SteadyTime::max();
    stream_sink_ = std::make_shared<Sink>();
    stream_sink_->conn = Self();
    stream_sink_->gate = worker_.gate;
    stream_source_ = response.stream;
    std::string header;
    RenderStreamHeader(response, header);
    StreamWrite(std::move(header));
    StreamRead();
    stream_source_->Start(stream_sink_);
  }

  void StreamWrite(std::string bytes) {
    if (phase_ != Phase::kStreaming || stream_ending_) return;
    stream_backlog_ += bytes.size();
    if (stream_backlog_ > kMaxStreamBacklog) return CloseNow();  // too slow a reader
    stream_out_.push_back(std::move(bytes));
    if (!stream_writing_) StreamFlush();
  }

  void StreamFlush() {
    if (stream_out_.empty()) {
      deadline_ = SteadyTime::max();
      if (stream_ending_) {
        error_code ignored;
        Lowest().shutdown(tcp::socket::shutdown_send, ignored);
        CloseNow();
      }
      return;
    }
    stream_writing_ = true;
    deadline_ = Clock::now() + impl_.options.idle_timeout;
    asio::async_write(stream_, asio::buffer(stream_out_.front()),
                      [self = Self()](error_code ec, std::size_t) {
                        if (self->phase_ == Phase::kClosed) return;
                        if (ec) return self->CloseNow();
                        self->stream_writing_ = false;
                        self->stream_backlog_ -= self->stream_out_.front().size();
                        self->stream_out_.pop_front();
                        self->StreamFlush();
                      });
  }

  void StreamEnd() {
    if (phase_ != Phase::kStreaming) return;
    stream_ending_ = true;
    if (!stream_writing_) StreamFlush();
  }

  // The client sends nothing more; a read completing with an error (EOF,
  // reset) is how its disconnect shows. Anything it does send is discarded.
  void StreamRead() {
    buffer_.clear();
    stream_.async_read_some(buffer_.prepare(4096), [self = Self()](error_code ec, std::size_t) {
      if (self->phase_ == Phase::kClosed) return;
      if (ec) return self->CloseNow();
      self->StreamRead();
    });
  }

  // After an error response, half-close and discard what the client is
  // still sending for a short while: closing with unread data would send a
  // RST that can destroy the response before the client reads it.
  void Linger() {
    error_code ignored;
    Lowest().shutdown(tcp::socket::shutdown_send, ignored);
    phase_ = Phase::kLinger;
    deadline_ = Clock::now() + kLingerTime;
    buffer_.clear();
    DiscardRead();
  }

  void DiscardRead() {
    Lowest().async_read_some(buffer_.prepare(64 * 1024),
                             [self = Self()](error_code ec, std::size_t) {
                               if (self->phase_ == Phase::kClosed) return;
                               if (ec) return self->CloseNow();
                               self->DiscardRead();
                             });
  }

  Server::Impl& impl_;
  Worker& worker_;
  Stream stream_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  std::string out_;
  std::string request_id_;
  std::string remote_;
  std::shared_ptr<const std::vector<std::string>> peer_chain_;  // DER, leaf first
  InFlightRegistry::Slot in_flight_;
  Phase phase_ = Phase::kIdle;
  std::uint64_t gen_ = 0;
  bool first_request_ = true;
  bool header_checked_ = false;
  std::size_t header_fields_ = 0;  // fields in the header, without trailers
  bool expect_continue_ = false;
  bool keep_alive_ = true;
  bool linger_ = false;
  bool is_head_ = false;
  bool shutting_down_ = false;
  // Streaming responses (phase kStreaming).
  std::shared_ptr<Sink> stream_sink_;
  std::shared_ptr<logical::StreamSource> stream_source_;
  std::deque<std::string> stream_out_;
  std::size_t stream_backlog_ = 0;
  bool stream_writing_ = false;
  bool stream_ending_ = false;
};

}  // namespace

void StartConnection(Server::Impl& impl, Worker& worker, tcp::socket socket) {
  std::shared_ptr<ConnBase> conn;
  if (impl.ssl) {
    conn = std::make_shared<Connection<TlsStream>>(impl, worker, std::move(socket));
  } else {
    conn = std::make_shared<Connection<tcp::socket>>(impl, worker, std::move(socket));
  }
  worker.Add(conn);
  conn->Start();
}

}  // namespace coffer::http::internal
