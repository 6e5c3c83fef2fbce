#include "events/http_post.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include "common/url.h"
#include "crypto/hmac.h"

namespace coffer::events {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

template <class Stream>
Result<int> Exchange(Stream& stream, const HttpUrl& u, const std::string& body,
                     const std::map<std::string, std::string>& headers) {
  bhttp::request<bhttp::string_body> req{bhttp::verb::post, u.target, 11};
  req.set(bhttp::field::host, u.host);
  req.set(bhttp::field::user_agent, "coffer-webhook");
  req.set(bhttp::field::content_type, "application/json");
  for (const auto& [k, v] : headers) req.set(k, v);
  req.body() = body;
  req.prepare_payload();
  bhttp::write(stream, req);
  beast::flat_buffer buffer;
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(64 * 1024);
  bhttp::read(stream, buffer, parser);
  return static_cast<int>(parser.get().result_int());
}

}  // namespace

Status ValidateWebhookUrl(const std::string& url) {
  ASSIGN_OR_RETURN(HttpUrl u, ParseHttpUrl(url));
  (void)u;
  return Status::Ok();
}

Result<std::string> SignatureHeader(std::string_view secret, std::string_view body) {
  ASSIGN_OR_RETURN(std::string mac, crypto::HmacSha256(secret, body));
  return "sha256=" + crypto::ToHex(mac);
}

Result<int> HttpPost(const std::string& url, const std::string& body,
                     const std::map<std::string, std::string>& headers,
                     std::chrono::milliseconds timeout) {
  ASSIGN_OR_RETURN(HttpUrl u, ParseHttpUrl(url));
  try {
    asio::io_context ioc;
    tcp::resolver resolver(ioc);
    auto endpoints = resolver.resolve(u.host, u.port);
    if (!u.https) {
      beast::tcp_stream stream(ioc);
      stream.expires_after(timeout);
      stream.connect(endpoints);
      auto status = Exchange(stream, u, body, headers);
      beast::error_code ec;
      stream.socket().shutdown(tcp::socket::shutdown_both, ec);
      return status;
    }
    ssl::context ctx(ssl::context::tls_client);
    ctx.set_default_verify_paths();
    ctx.set_verify_mode(ssl::verify_peer);
    beast::ssl_stream<beast::tcp_stream> stream(ioc, ctx);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wold-style-cast"
    const bool sni = SSL_set_tlsext_host_name(stream.native_handle(), u.host.c_str());
#pragma GCC diagnostic pop
    if (!sni) {
      return Err(Unavailable("webhook: cannot set TLS server name for " + u.host));
    }
    stream.set_verify_callback(ssl::host_name_verification(u.host));
    beast::get_lowest_layer(stream).expires_after(timeout);
    beast::get_lowest_layer(stream).connect(endpoints);
    stream.handshake(ssl::stream_base::client);
    auto status = Exchange(stream, u, body, headers);
    beast::error_code ec;
    stream.shutdown(ec);
    return status;
  } catch (const std::exception& e) {
    return Err(Unavailable("webhook: POST to " + u.host + " failed: " + e.what()));
  }
}

}  // namespace coffer::events
