#include "net/http_exchange.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <optional>

#include "common/url.h"

namespace coffer::net {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

// Runs one asynchronous operation to completion on `ioc`: the stream's
// deadline (expires_at) applies to asynchronous operations only.
template <typename Start>
beast::error_code Run(asio::io_context& ioc, Start start) {
  beast::error_code result;
  start([&result](beast::error_code ec, auto&&...) { result = ec; });
  ioc.restart();
  ioc.run();
  return result;
}

// Whether a header's name or value can be written as it is: no CR, LF or NUL.
bool HeaderText(std::string_view s) {
  return s.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos;
}

// What a failed step says: the method, the host and the step, never a body.
Status StepFailed(const HttpRequest& r, const HttpUrl& u, std::string_view step,
                  const beast::error_code& ec) {
  return Unavailable(r.method + " " + u.host + ": " + std::string(step) +
                     " failed: " + ec.message());
}

template <typename Stream>
Result<HttpResponse> WriteAndRead(asio::io_context& ioc, Stream& stream, const HttpRequest& r,
                                  const HttpUrl& u, http::verb verb) {
  http::request<http::string_body> req{verb, u.target, 11};
  req.set(http::field::host, HostHeader(u));
  req.set(http::field::user_agent, r.user_agent);
  for (const auto& [name, value] : r.headers) req.set(name, value);
  if (verb == http::verb::post) req.body() = r.body;
  req.prepare_payload();
  if (auto ec = Run(ioc, [&](auto h) { http::async_write(stream, req, std::move(h)); })) {
    return Err(StepFailed(r, u, "sending", ec));
  }
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(r.max_body);
  // The header first: Beast 1.74's response parser, reading eagerly
  // (http::read, async_read), lets a Content-Length over the body limit
  // through; parsing the header on its own applies the limit to it.
  auto ec =
      Run(ioc, [&](auto h) { http::async_read_header(stream, buffer, parser, std::move(h)); });
  if (!ec && !parser.is_done()) {
    ec = Run(ioc, [&](auto h) { http::async_read(stream, buffer, parser, std::move(h)); });
  }
  if (ec == http::error::body_limit) {
    return Err(Unavailable(r.method + " " + u.host + ": the answer's body exceeds " +
                           std::to_string(r.max_body) + " bytes"));
  }
  if (ec) return Err(StepFailed(r, u, "reading the answer", ec));
  auto& res = parser.get();
  return HttpResponse{static_cast<int>(res.result_int()), std::move(res.body())};
}

}  // namespace

Result<HttpResponse> Exchange(const HttpRequest& r) {
  ASSIGN_OR_RETURN(HttpUrl u, ParseHttpUrl(r.url));
  // Beast writes header values as given: a line break in one (a login's
  // token pasted into Authorization) would add headers or a second request.
  if (!HeaderText(r.user_agent)) return Err(InvalidArgument("the User-Agent holds a line break"));
  for (const auto& [name, value] : r.headers) {
    if (name.empty() || !HeaderText(name) || !HeaderText(value)) {
      return Err(InvalidArgument("the header " + (HeaderText(name) ? name : std::string("name")) +
                                 " holds a line break or a NUL"));
    }
  }
  const http::verb verb = http::string_to_verb(r.method);
  if (verb != http::verb::get && verb != http::verb::post) {
    return Err(InvalidArgument("outgoing requests are GET or POST, not " + r.method));
  }
  try {
    asio::io_context ioc;
    std::optional<ssl::context> ctx;
    if (u.https) {
      ctx.emplace(ssl::context::tls_client);
      ctx->set_verify_mode(ssl::verify_peer);
      beast::error_code ec;
      if (r.ca_pem.empty()) {
        ctx->set_default_verify_paths(ec);
      } else {
        ctx->add_certificate_authority(asio::buffer(r.ca_pem), ec);
      }
      if (ec) return Err(InvalidArgument("the CA PEM could not be parsed"));
      ctx->set_verify_callback(ssl::host_name_verification(u.host));
    }
    const auto deadline = std::chrono::steady_clock::now() + r.timeout;

    // Name resolution is bounded by the system resolver's own timeouts
    // (a numeric host resolves without a lookup).
    tcp::resolver resolver(ioc);
    tcp::resolver::results_type endpoints;
    beast::error_code ec = Run(ioc, [&](auto h) {
      resolver.async_resolve(u.host, u.port,
                             [&endpoints, h = std::move(h)](
                                 beast::error_code e, tcp::resolver::results_type found) mutable {
                               endpoints = std::move(found);
                               h(e);
                             });
    });
    if (ec) return Err(StepFailed(r, u, "resolving the host", ec));

    if (!u.https) {
      beast::tcp_stream stream(ioc);
      stream.expires_at(deadline);
      ec = Run(ioc, [&](auto h) { stream.async_connect(endpoints, std::move(h)); });
      if (ec) return Err(StepFailed(r, u, "connecting", ec));
      auto response = WriteAndRead(ioc, stream, r, u, verb);
      stream.socket().shutdown(tcp::socket::shutdown_both, ec);
      return response;
    }
    beast::ssl_stream<beast::tcp_stream> stream(ioc, *ctx);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wold-style-cast"
    const bool sni = SSL_set_tlsext_host_name(stream.native_handle(), u.host.c_str());
#pragma GCC diagnostic pop
    if (!sni) return Err(Internal("setting the TLS server name failed"));
    beast::get_lowest_layer(stream).expires_at(deadline);
    ec = Run(ioc, [&](auto h) {
      beast::get_lowest_layer(stream).async_connect(endpoints, std::move(h));
    });
    if (ec) return Err(StepFailed(r, u, "connecting", ec));
    ec = Run(ioc, [&](auto h) { stream.async_handshake(ssl::stream_base::client, std::move(h)); });
    if (ec) return Err(StepFailed(r, u, "the TLS handshake", ec));
    auto response = WriteAndRead(ioc, stream, r, u, verb);
    beast::get_lowest_layer(stream).close();  // the answer is in; no close_notify wait
    return response;
  } catch (const std::exception&) {
    return Err(Unavailable(r.method + " " + u.host + " failed"));
  }
}

}  // namespace coffer::net
