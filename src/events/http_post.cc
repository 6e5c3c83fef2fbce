#include "events/http_post.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include "crypto/hmac.h"

namespace coffer::events {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

struct Url {
  bool https = false;
  std::string host;
  std::string port;
  std::string target;
};

Result<Url> ParseUrl(const std::string& url) {
  Url u;
  std::string_view rest = url;
  if (rest.starts_with("https://")) {
    u.https = true;
    rest.remove_prefix(8);
  } else if (rest.starts_with("http://")) {
    rest.remove_prefix(7);
  } else {
    return Err(InvalidArgument("url must start with http:// or https://"));
  }
  auto slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  u.target = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
  if (authority.empty() || authority.find('@') != std::string_view::npos) {
    return Err(InvalidArgument("url has no valid host"));
  }
  for (char c : url) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) {
      return Err(InvalidArgument("url must not contain spaces or control characters"));
    }
  }
  if (authority.front() == '[') {
    auto close = authority.find(']');
    if (close == std::string_view::npos) return Err(InvalidArgument("url has a bad IPv6 host"));
    u.host = std::string(authority.substr(1, close - 1));
    authority.remove_prefix(close + 1);
    if (authority.starts_with(":")) u.port = std::string(authority.substr(1));
  } else {
    auto colon = authority.rfind(':');
    u.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) u.port = std::string(authority.substr(colon + 1));
  }
  if (u.host.empty()) return Err(InvalidArgument("url has no valid host"));
  if (u.port.empty()) u.port = u.https ? "443" : "80";
  if (u.port.size() > 5) return Err(InvalidArgument("url has a bad port"));
  for (char c : u.port) {
    if (c < '0' || c > '9') return Err(InvalidArgument("url has a bad port"));
  }
  return u;
}

template <class Stream>
Result<int> Exchange(Stream& stream, const Url& u, const std::string& body,
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
  ASSIGN_OR_RETURN(Url u, ParseUrl(url));
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
  ASSIGN_OR_RETURN(Url u, ParseUrl(url));
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
