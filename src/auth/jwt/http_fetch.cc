#include "auth/jwt/http_fetch.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include "common/url.h"

namespace coffer::auth::jwt {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

constexpr std::size_t kMaxBody = 1 << 20;

// Runs one asynchronous operation to completion on `ioc`. Async rather than
// sync calls because beast::tcp_stream's deadline (expires_after) only
// applies to asynchronous operations.
template <typename Start>
beast::error_code Run(asio::io_context& ioc, Start start) {
  beast::error_code result;
  start([&result](beast::error_code ec, auto&&...) { result = ec; });
  ioc.restart();
  ioc.run();
  return result;
}

template <typename Stream>
Result<std::string> Exchange(asio::io_context& ioc, Stream& stream, const HttpUrl& u) {
  http::request<http::empty_body> req{http::verb::get, u.target, 11};
  req.set(http::field::host, u.host);
  req.set(http::field::user_agent, "coffer-jwt-auth");
  req.set(http::field::accept, "application/json");
  if (auto ec = Run(ioc, [&](auto h) { http::async_write(stream, req, std::move(h)); })) {
    return Err(Unavailable("sending to " + u.host + " failed: " + ec.message()));
  }
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(kMaxBody);
  if (auto ec = Run(ioc, [&](auto h) { http::async_read(stream, buffer, parser, std::move(h)); })) {
    return Err(Unavailable("reading from " + u.host + " failed: " + ec.message()));
  }
  const auto& res = parser.get();
  if (res.result() != http::status::ok) {
    return Err(
        Unavailable("GET " + u.host + u.target + " answered " + std::to_string(res.result_int())));
  }
  return res.body();
}

}  // namespace

Result<std::string> HttpGet(const std::string& url, const std::string& ca_pem,
                            std::chrono::milliseconds timeout) {
  ASSIGN_OR_RETURN(HttpUrl u, ParseHttpUrl(url));
  try {
    asio::io_context ioc;
    tcp::resolver resolver(ioc);
    tcp::resolver::results_type endpoints;
    beast::error_code ec = Run(ioc, [&](auto h) {
      resolver.async_resolve(u.host, u.port,
                             [&endpoints, h = std::move(h)](beast::error_code e,
                                                            tcp::resolver::results_type r) mutable {
                               endpoints = std::move(r);
                               h(e);
                             });
    });
    if (ec) return Err(Unavailable("resolving " + u.host + " failed: " + ec.message()));
    if (!u.https) {
      beast::tcp_stream stream(ioc);
      stream.expires_after(timeout);  // bounds the whole exchange
      ec = Run(ioc, [&](auto h) { stream.async_connect(endpoints, std::move(h)); });
      if (ec) return Err(Unavailable("connecting to " + u.host + " failed: " + ec.message()));
      auto body = Exchange(ioc, stream, u);
      stream.socket().shutdown(tcp::socket::shutdown_both, ec);
      return body;
    }
    ssl::context ctx(ssl::context::tls_client);
    ctx.set_verify_mode(ssl::verify_peer);
    if (ca_pem.empty()) {
      ctx.set_default_verify_paths();
    } else {
      ctx.add_certificate_authority(asio::buffer(ca_pem), ec);
      if (ec) return Err(InvalidArgument("the CA PEM could not be parsed"));
    }
    ctx.set_verify_callback(ssl::host_name_verification(u.host));
    beast::ssl_stream<beast::tcp_stream> stream(ioc, ctx);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wold-style-cast"
    if (!SSL_set_tlsext_host_name(stream.native_handle(), u.host.c_str())) {
      return Err(Internal("SNI setup failed"));
    }
#pragma GCC diagnostic pop
    beast::get_lowest_layer(stream).expires_after(timeout);
    ec = Run(ioc, [&](auto h) {
      beast::get_lowest_layer(stream).async_connect(endpoints, std::move(h));
    });
    if (ec) return Err(Unavailable("connecting to " + u.host + " failed: " + ec.message()));
    ec = Run(ioc, [&](auto h) { stream.async_handshake(ssl::stream_base::client, std::move(h)); });
    if (ec) return Err(Unavailable("TLS handshake with " + u.host + " failed: " + ec.message()));
    auto body = Exchange(ioc, stream, u);
    beast::get_lowest_layer(stream).close();  // no close_notify wait
    return body;
  } catch (const std::exception&) {
    return Err(Unavailable("fetching from " + u.host + " failed"));
  }
}

}  // namespace coffer::auth::jwt
