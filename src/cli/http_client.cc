#include "cli/http_client.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>

#include <algorithm>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <cctype>
#include <charconv>
#include <exception>
#include <filesystem>
#include <limits>
#include <mutex>
#include <utility>
#include <vector>

namespace coffer::cli {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

constexpr std::size_t kMaxResponseBytes = 64 << 20;

// Vault's -ca-path: every regular file of `dir` holds PEM certificates, all
// trusted (files in name order; a file without one is an error, as Vault's).
Status LoadCaDirectory(SSL_CTX* ctx, const std::string& dir) {
  std::error_code ec;
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    if (entry.is_regular_file(ec)) files.push_back(entry.path());
  }
  if (ec) return InvalidArgument("cannot read CA directory \"" + dir + "\": " + ec.message());
  std::sort(files.begin(), files.end());
  X509_STORE* store = SSL_CTX_get_cert_store(ctx);
  for (const auto& file : files) {
    BIO* bio = BIO_new_file(file.c_str(), "r");
    if (bio == nullptr) return InvalidArgument("cannot read CA file \"" + file.string() + "\"");
    int loaded = 0;
    while (X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr)) {
      X509_STORE_add_cert(store, cert);  // takes its own reference; duplicates are fine
      X509_free(cert);
      ++loaded;
    }
    BIO_free(bio);
    ERR_clear_error();  // the end of the file reads as an error
    if (loaded == 0) {
      return InvalidArgument("cannot load CA certificates from \"" + file.string() +
                             "\": no PEM certificate in it");
    }
  }
  return Status::Ok();
}

// Runs one asynchronous step to completion on `ioc`. Async operations are
// used (rather than the blocking ones) because only they honour the
// tcp_stream deadline, which is how every step gets a timeout.
template <typename Start>
beast::error_code RunStep(asio::io_context& ioc, Start&& start) {
  beast::error_code result = asio::error::would_block;
  std::forward<Start>(start)([&result](beast::error_code ec, auto&&...) { result = ec; });
  ioc.restart();
  ioc.run();
  return result;
}

// Go's net/http spells errors as `Get "URL": cause`; Vault users know that shape.
std::string Op(std::string_view method) {
  std::string op(method);
  for (std::size_t i = 1; i < op.size(); ++i) {
    op[i] = static_cast<char>(std::tolower(static_cast<unsigned char>(op[i])));
  }
  return op;
}

std::string Describe(const beast::error_code& ec) {
  if (ec == asio::error::connection_refused) return "connection refused";
  if (ec == beast::error::timeout) return "i/o timeout";
  if (ec == http::error::end_of_stream || ec == asio::error::eof) return "EOF";
  if (ec == asio::error::connection_reset) return "connection reset by peer";
  if (ec == asio::error::host_unreachable) return "no route to host";
  if (ec == asio::error::network_unreachable) return "network is unreachable";
  return ec.message();
}

bool IsIpLiteral(const std::string& host) {
  beast::error_code ec;
  asio::ip::make_address(host, ec);
  return !ec;
}

}  // namespace

// Named, not anonymous: HttpClient::Impl::Prepared, which has linkage, holds one.
namespace http_client_detail {
struct Target {
  const ParsedAddress& addr;
  std::string url;  // for messages: scheme://host:port/path
  std::string host_port;
};
}  // namespace http_client_detail

namespace {

using http_client_detail::Target;

template <typename Stream>
Result<HttpResponse> Exchange(asio::io_context& ioc, Stream& stream,
                              http::request<http::string_body>& req, const Target& t,
                              std::string_view method, std::chrono::milliseconds timeout) {
  const std::string prefix = Op(method) + " \"" + t.url + "\": ";
  beast::get_lowest_layer(stream).expires_after(timeout);
  beast::error_code ec =
      RunStep(ioc, [&](auto handler) { http::async_write(stream, req, std::move(handler)); });
  // The body may carry an unseal key; it is no longer needed once sent.
  WipeString(req.body());
  if (ec) return Err(Unavailable(prefix + "write: " + Describe(ec)));

  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(kMaxResponseBytes);
  beast::get_lowest_layer(stream).expires_after(timeout);
  // The header on its own first: read eagerly, Boost 1.74's response parser
  // lets a Content-Length over the body limit through.
  ec = RunStep(ioc, [&](auto handler) {
    http::async_read_header(stream, buffer, parser, std::move(handler));
  });
  if (!ec && !parser.is_done()) {
    ec = RunStep(
        ioc, [&](auto handler) { http::async_read(stream, buffer, parser, std::move(handler)); });
  }
  if (ec) return Err(Unavailable(prefix + "read: " + Describe(ec)));
  HttpResponse out;
  out.status = static_cast<int>(parser.get().result_int());
  out.body = std::move(parser.get().body());
  return out;
}

}  // namespace

struct HttpClient::Impl {
  ClientConfig config;
  ParsedAddress addr;
  std::map<std::string, std::string> headers;

  struct Prepared {
    Target target;
    std::string prefix;  // `Get "URL": ` for messages
    http::request<http::string_body> req;
  };

  Result<HttpResponse> Do(std::string_view method, std::string_view path, std::string_view body);
  Result<HttpResponse> Stream(std::string_view path, const StreamHandlers& handlers,
                              std::chrono::milliseconds idle_timeout, StreamCanceller* canceller);
  Result<Prepared> Prepare(std::string_view method, std::string_view path, std::string_view body);
  std::string CurlCommand(std::string_view method, std::string_view path, std::string_view body);
  // Connects (and shakes hands for https), then runs `exchange(stream)`.
  template <typename Exchange>
  Result<HttpResponse> Connected(asio::io_context& ioc, const Prepared& p, Exchange&& exchange);
};

Result<ParsedAddress> ParseAddress(std::string_view address) {
  ParsedAddress out;
  std::string_view rest;
  if (address.starts_with("https://")) {
    out.tls = true;
    rest = address.substr(8);
  } else if (address.starts_with("http://")) {
    rest = address.substr(7);
  } else {
    return Err(InvalidArgument("invalid address \"" + std::string(address) +
                               "\": it must start with http:// or https://"));
  }
  std::size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  if (slash != std::string_view::npos) {
    std::string_view p = rest.substr(slash);
    while (!p.empty() && p.back() == '/') p.remove_suffix(1);
    out.base_path = std::string(p);
  }
  std::string_view port;
  if (authority.starts_with("[")) {
    std::size_t close = authority.find(']');
    if (close == std::string_view::npos) {
      return Err(InvalidArgument("invalid address \"" + std::string(address) + "\""));
    }
    out.host = std::string(authority.substr(1, close - 1));
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after[0] != ':') {
        return Err(InvalidArgument("invalid address \"" + std::string(address) + "\""));
      }
      port = after.substr(1);
    }
  } else {
    std::size_t colon = authority.rfind(':');
    out.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port = authority.substr(colon + 1);
  }
  if (out.host.empty()) {
    return Err(InvalidArgument("invalid address \"" + std::string(address) + "\": no host"));
  }
  if (port.empty()) {
    out.port = out.tls ? "443" : "80";
  } else {
    int value = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc() || end != port.data() + port.size() || value < 1 || value > 65535) {
      return Err(InvalidArgument("invalid address \"" + std::string(address) + "\": bad port \"" +
                                 std::string(port) + "\""));
    }
    out.port = std::string(port);
  }
  return out;
}

Result<std::unique_ptr<HttpClient>> HttpClient::Create(ClientConfig config) {
  ASSIGN_OR_RETURN(ParsedAddress addr, ParseAddress(config.address));
  auto impl = std::make_unique<Impl>();
  impl->config = std::move(config);
  impl->addr = std::move(addr);
  return std::unique_ptr<HttpClient>(new HttpClient(std::move(impl)));
}

HttpClient::HttpClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HttpClient::~HttpClient() = default;

const std::string& HttpClient::address() const { return impl_->config.address; }

void HttpClient::SetToken(SecretBytes token) { impl_->config.token = std::move(token); }

void HttpClient::SetHeader(const std::string& name, std::string value) {
  if (value.empty()) {
    impl_->headers.erase(name);
  } else {
    impl_->headers[name] = std::move(value);
  }
}

namespace {

Status NotSent() { return Unsupported("the request was captured, not sent"); }

}  // namespace

RequestCapture* HttpClient::capture() const { return impl_->config.capture.get(); }

bool HttpClient::Captured(std::string_view method, std::string_view path, std::string_view body) {
  RequestCapture* c = capture();
  if (c == nullptr || !c->active || c->paused > 0) return false;
  if (c->captured) return true;
  c->captured = true;
  c->method = std::string(method);
  c->path = std::string(path);
  if (c->output == RequestCapture::Output::kCurl) c->curl = impl_->CurlCommand(method, path, body);
  return true;
}

Result<HttpResponse> HttpClient::Do(std::string_view method, std::string_view path,
                                    std::string_view body) {
  if (Captured(method, path, body)) return Err(NotSent());
  try {
    return impl_->Do(method, path, body);
  } catch (const std::exception& e) {
    // Library exceptions (allocation, OpenSSL context setup) carry no secrets.
    return Err(Internal(std::string("HTTP client failure: ") + e.what()));
  }
}

Result<HttpResponse> HttpClient::StreamEvents(std::string_view path, const StreamHandlers& handlers,
                                              std::chrono::milliseconds idle_timeout,
                                              StreamCanceller* canceller) {
  if (Captured("GET", path, {})) return Err(NotSent());
  try {
    return impl_->Stream(path, handlers, idle_timeout, canceller);
  } catch (const std::exception& e) {
    if (canceller != nullptr) {
      std::scoped_lock lock(canceller->mu_);
      canceller->abort_ = nullptr;
    }
    return Err(Internal(std::string("HTTP client failure: ") + e.what()));
  }
}

void StreamCanceller::Cancel() {
  std::scoped_lock lock(mu_);
  cancelled_ = true;
  if (abort_) abort_();
}

void StreamCanceller::Reset() {
  std::scoped_lock lock(mu_);
  cancelled_ = false;
}

bool StreamCanceller::cancelled() const {
  std::scoped_lock lock(mu_);
  return cancelled_;
}

namespace {
constexpr std::size_t kMaxSseRecord = 1 << 20;
}  // namespace

void SseParser::Feed(std::string_view bytes) {
  for (char c : bytes) {
    if (c == '\n') {
      std::string_view line(line_);
      if (line.ends_with('\r')) line.remove_suffix(1);
      Line(line);
      line_.clear();
    } else if (line_.size() <= kMaxSseRecord) {
      line_ += c;
    } else {
      oversized_ = true;
    }
  }
}

void SseParser::Line(std::string_view line) {
  if (line.empty()) {
    if (has_data_ && !oversized_) on_data_(data_);
    WipeString(data_);
    data_.clear();
    has_data_ = false;
    oversized_ = false;
    return;
  }
  if (!line.starts_with("data")) return;  // comments and other fields
  std::string_view value = line.substr(4);
  if (!value.empty()) {
    if (value.front() != ':') return;  // a field named e.g. "database"
    value.remove_prefix(1);
    if (value.starts_with(' ')) value.remove_prefix(1);
  }
  if (has_data_) data_ += '\n';
  data_.append(value);
  has_data_ = true;
  if (data_.size() > kMaxSseRecord) {
    oversized_ = true;
    data_.clear();
  }
}

Result<HttpResponse> HttpClient::Impl::Stream(std::string_view path, const StreamHandlers& handlers,
                                              std::chrono::milliseconds idle_timeout,
                                              StreamCanceller* canceller) {
  ASSIGN_OR_RETURN(Prepared p, Prepare("GET", path, {}));
  p.req.set(http::field::accept, handlers.on_bytes ? "text/plain" : "text/event-stream");
  asio::io_context ioc;
  // The canceller posts the close to this io_context, so that the socket is
  // only touched by the thread running it; it is unhooked before `ioc` dies.
  std::function<void()> close_socket;
  struct Unhook {
    StreamCanceller* c;
    ~Unhook() {
      if (c == nullptr) return;
      std::scoped_lock lock(c->mu_);
      c->abort_ = nullptr;
    }
  } unhook{canceller};
  auto cancelled = [&] { return canceller != nullptr && canceller->cancelled(); };
  if (canceller != nullptr) {
    std::scoped_lock lock(canceller->mu_);
    if (canceller->cancelled_) return Err(Unavailable(p.prefix + "cancelled"));
    canceller->abort_ = [&ioc, &close_socket] {
      asio::post(ioc, [&close_socket] {
        if (close_socket) close_socket();
      });
    };
  }
  return Connected(ioc, p, [&](auto& stream) -> Result<HttpResponse> {
    auto& socket = beast::get_lowest_layer(stream);
    close_socket = [&socket] { socket.close(); };
    if (cancelled()) return Err(Unavailable(p.prefix + "cancelled"));
    socket.expires_after(config.timeout);
    beast::error_code ec =
        RunStep(ioc, [&](auto handler) { http::async_write(stream, p.req, std::move(handler)); });
    if (ec)
      return Err(Unavailable(p.prefix + (cancelled() ? "cancelled" : "write: " + Describe(ec))));

    beast::flat_buffer buffer;
    http::response_parser<http::buffer_body> parser;
    // An event stream has no end; boost::none would say "no limit" but
    // Boost 1.74 then refuses any Content-Length (it compares with none).
    parser.body_limit(std::numeric_limits<std::uint64_t>::max());
    ec = RunStep(ioc, [&](auto handler) {
      http::async_read_header(stream, buffer, parser, std::move(handler));
    });
    if (ec)
      return Err(Unavailable(p.prefix + (cancelled() ? "cancelled" : "read: " + Describe(ec))));
    HttpResponse out;
    out.status = static_cast<int>(parser.get().result_int());
    const bool events = out.status == 200;
    if (events && handlers.on_open) handlers.on_open();
    SseParser sse([&](std::string_view data) {
      if (handlers.on_data) handlers.on_data(data);
    });
    char chunk[16384];
    while (!parser.is_done()) {
      parser.get().body().data = chunk;
      parser.get().body().size = sizeof(chunk);
      socket.expires_after(events ? idle_timeout : config.timeout);
      ec = RunStep(ioc, [&](auto handler) {
        http::async_read_some(stream, buffer, parser, std::move(handler));
      });
      if (ec == http::error::need_buffer) ec = {};
      const std::size_t n = sizeof(chunk) - parser.get().body().size;
      if (events && handlers.on_bytes) {
        if (n > 0) handlers.on_bytes(std::string_view(chunk, n));
      } else if (events) {
        sse.Feed(std::string_view(chunk, n));
      } else if (out.body.size() < kMaxResponseBytes) {
        out.body.append(chunk, n);
      }
      if (ec == http::error::end_of_stream || ec == asio::error::eof ||
          ec == ssl::error::stream_truncated) {
        break;  // the server closed the stream
      }
      if (ec) {
        return Err(Unavailable(p.prefix + (cancelled() ? "cancelled" : "read: " + Describe(ec))));
      }
    }
    close_socket = nullptr;
    return out;
  });
}

Result<HttpClient::Impl::Prepared> HttpClient::Impl::Prepare(std::string_view method,
                                                             std::string_view path,
                                                             std::string_view body) {
  const bool bracket = addr.host.find(':') != std::string::npos;
  const std::string host_for_url = bracket ? "[" + addr.host + "]" : addr.host;
  Prepared p{Target{addr, "", host_for_url + ":" + addr.port}, "", {}};
  std::string target = addr.base_path + std::string(path);
  // Vault's LIST is sent as GET ?list=true, as Vault's own client does, so
  // that proxies which only know standard verbs pass it through; OpenBao's
  // SCAN likewise as GET ?scan=true.
  http::verb verb = http::string_to_verb(method);
  if (method == "LIST" || method == "SCAN") {
    verb = http::verb::get;
    target += (target.find('?') == std::string::npos ? "?" : "&");
    target += method == "LIST" ? "list=true" : "scan=true";
  }
  if (verb == http::verb::unknown) {
    return Err(InvalidArgument("unsupported HTTP method " + std::string(method)));
  }
  p.target.url = std::string(addr.tls ? "https://" : "http://") + p.target.host_port + target;
  p.prefix = Op(method) + " \"" + p.target.url + "\": ";

  http::request<http::string_body>& req = p.req;
  req = http::request<http::string_body>{verb, target, 11};
  req.set(http::field::host, p.target.host_port);
  req.set(http::field::user_agent, "coffer-cli");
  req.keep_alive(false);
  // Beast copies the token into its header buffer, which is freed (not wiped)
  // with the request; the CLI process is short-lived.
  if (!config.token.empty()) req.set("X-Vault-Token", config.token.view());
  if (!body.empty()) {
    req.set(http::field::content_type, "application/json");
    req.body() = std::string(body);
  }
  for (const auto& [name, value] : headers) req.set(name, value);
  req.prepare_payload();
  return p;
}

namespace {

// One shell word: single-quoted, a quote inside written as '\''.
std::string ShellQuote(std::string_view s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  out += '\'';
  return out;
}

}  // namespace

// -output-curl-string: the prepared request as a curl command for bash. As
// Vault's CLI prints it, except that the token and the body never become a
// process's arguments: the body comes from printf (a shell builtin) on
// curl's stdin, and the token header from a curl config read through a
// pipe (<(...)), filled in by `coffer print token` when the command runs.
std::string HttpClient::Impl::CurlCommand(std::string_view method, std::string_view path,
                                          std::string_view body) {
  Result<Prepared> p = Prepare(method, path, body);
  if (!p) return "";
  const auto& req = p->req;
  std::string out;
  if (!body.empty()) out += "printf '%s' " + ShellQuote(body) + " | ";
  out += "curl";
  if (config.tls_skip_verify) out += " --insecure";
  if (req.method() != http::verb::get) out += " -X " + std::string(req.method_string());
  if (!config.ca_cert.empty()) out += " --cacert " + ShellQuote(config.ca_cert);
  if (!config.ca_path.empty()) out += " --capath " + ShellQuote(config.ca_path);
  if (!config.client_cert.empty()) out += " --cert " + ShellQuote(config.client_cert);
  if (!config.client_key.empty()) out += " --key " + ShellQuote(config.client_key);
  for (const auto& field : req) {
    const auto name = field.name();
    if (name == http::field::host || name == http::field::user_agent ||
        name == http::field::content_length || name == http::field::connection) {
      continue;
    }
    std::string_view key(field.name_string().data(), field.name_string().size());
    if (key == "X-Vault-Token") {
      out += " -K <(printf 'header = \"X-Vault-Token: %s\"\\n' \"$(coffer print token)\")";
      continue;
    }
    std::string header(key);
    header += ": ";
    header.append(field.value().data(), field.value().size());
    out += " -H " + ShellQuote(header);
  }
  if (!body.empty()) out += " --data-binary @-";
  out += " " + ShellQuote(p->target.url);
  return out;
}

template <typename Exchange>
Result<HttpResponse> HttpClient::Impl::Connected(asio::io_context& ioc, const Prepared& p,
                                                 Exchange&& exchange) {
  tcp::resolver resolver(ioc);
  beast::error_code ec;
  auto endpoints = resolver.resolve(addr.host, addr.port, ec);
  if (ec) {
    return Err(Unavailable(p.prefix + "dial tcp: lookup " + addr.host + ": " + ec.message()));
  }
  const std::string dial = p.prefix + "dial tcp " + p.target.host_port + ": ";

  if (!addr.tls) {
    beast::tcp_stream stream(ioc);
    stream.expires_after(config.timeout);
    ec = RunStep(ioc, [&](auto handler) { stream.async_connect(endpoints, std::move(handler)); });
    if (ec) return Err(Unavailable(dial + "connect: " + Describe(ec)));
    ASSIGN_OR_RETURN(HttpResponse resp, exchange(stream));
    stream.socket().shutdown(tcp::socket::shutdown_both, ec);
    return resp;
  }

  ssl::context ctx(ssl::context::tls_client);
  SSL_CTX_set_min_proto_version(ctx.native_handle(), TLS1_2_VERSION);
  const std::string& server_name =
      config.tls_server_name.empty() ? addr.host : config.tls_server_name;
  if (config.tls_skip_verify) {
    ctx.set_verify_mode(ssl::verify_none);
  } else {
    ctx.set_verify_mode(ssl::verify_peer);
    if (!config.ca_cert.empty()) {
      ctx.load_verify_file(config.ca_cert, ec);
      if (ec) {
        return Err(InvalidArgument("cannot load CA certificate \"" + config.ca_cert +
                                   "\": " + ec.message()));
      }
    } else if (!config.ca_path.empty()) {
      TRY(LoadCaDirectory(ctx.native_handle(), config.ca_path));
    } else {
      ctx.set_default_verify_paths(ec);
      if (ec) return Err(Internal("cannot load the system CA store: " + ec.message()));
    }
    ctx.set_verify_callback(ssl::host_name_verification(server_name));
  }
  if (!config.client_cert.empty()) {
    ctx.use_certificate_chain_file(config.client_cert, ec);
    if (ec) {
      return Err(InvalidArgument("cannot load client certificate \"" + config.client_cert +
                                 "\": " + ec.message()));
    }
    ctx.use_private_key_file(config.client_key, ssl::context::pem, ec);
    if (ec) {
      return Err(
          InvalidArgument("cannot load client key \"" + config.client_key + "\": " + ec.message()));
    }
  }
  beast::ssl_stream<beast::tcp_stream> stream(ioc, ctx);
  if (!IsIpLiteral(server_name)) {
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wold-style-cast"
    // SNI, so that virtual-hosted TLS front ends pick the right certificate.
    SSL_set_tlsext_host_name(stream.native_handle(), server_name.c_str());
#pragma GCC diagnostic pop
  }
  beast::get_lowest_layer(stream).expires_after(config.timeout);
  ec = RunStep(ioc, [&](auto handler) {
    beast::get_lowest_layer(stream).async_connect(endpoints, std::move(handler));
  });
  if (ec) return Err(Unavailable(dial + "connect: " + Describe(ec)));
  beast::get_lowest_layer(stream).expires_after(config.timeout);
  ec = RunStep(ioc, [&](auto handler) {
    stream.async_handshake(ssl::stream_base::client, std::move(handler));
  });
  if (ec) {
    std::string why = Describe(ec);
    if (why.find("wrong version number") != std::string::npos ||
        why.find("packet length too long") != std::string::npos) {
      why += " (the server may speak plain HTTP: try an http:// address)";
    }
    return Err(
        Unavailable(p.prefix + "TLS handshake with " + p.target.host_port + " failed: " + why));
  }
  ASSIGN_OR_RETURN(HttpResponse resp, exchange(stream));
  // A polite close_notify; a server that just drops the socket is fine too.
  beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(2));
  RunStep(ioc, [&](auto handler) { stream.async_shutdown(std::move(handler)); });
  return resp;
}

Result<HttpResponse> HttpClient::Impl::Do(std::string_view method, std::string_view path,
                                          std::string_view body) {
  ASSIGN_OR_RETURN(Prepared p, Prepare(method, path, body));
  asio::io_context ioc;
  return Connected(ioc, p, [&](auto& stream) {
    return Exchange(ioc, stream, p.req, p.target, method, config.timeout);
  });
}

}  // namespace coffer::cli
