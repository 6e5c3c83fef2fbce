#include "common/url.h"

namespace coffer {

Result<HttpUrl> ParseHttpUrl(std::string_view url) {
  HttpUrl u;
  std::string_view rest = url;
  if (rest.starts_with("https://")) {
    u.https = true;
    rest.remove_prefix(8);
  } else if (rest.starts_with("http://")) {
    rest.remove_prefix(7);
  } else {
    return Err(InvalidArgument("URL must start with http:// or https://"));
  }
  for (char c : url) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) {
      return Err(InvalidArgument("URL must not contain spaces or control characters"));
    }
  }
  auto slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  u.target = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
  if (authority.empty() || authority.find('@') != std::string_view::npos) {
    return Err(InvalidArgument("URL has no valid host"));
  }
  if (authority.front() == '[') {  // [IPv6]:port
    auto close = authority.find(']');
    if (close == std::string_view::npos) return Err(InvalidArgument("URL has a bad IPv6 host"));
    u.host = std::string(authority.substr(1, close - 1));
    authority.remove_prefix(close + 1);
    if (authority.starts_with(":")) u.port = std::string(authority.substr(1));
  } else {
    auto colon = authority.rfind(':');
    u.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) u.port = std::string(authority.substr(colon + 1));
  }
  if (u.host.empty()) return Err(InvalidArgument("URL has no valid host"));
  if (u.port.empty()) u.port = u.https ? "443" : "80";
  if (u.port.size() > 5) return Err(InvalidArgument("URL has a bad port"));
  for (char c : u.port) {
    if (c < '0' || c > '9') return Err(InvalidArgument("URL has a bad port"));
  }
  if (auto hash = u.target.find('#'); hash != std::string::npos) u.target.resize(hash);
  return u;
}

std::string HostHeader(const HttpUrl& url) {
  std::string out = url.host.find(':') != std::string::npos ? "[" + url.host + "]" : url.host;
  if (url.port != (url.https ? "443" : "80")) out += ":" + url.port;
  return out;
}

}  // namespace coffer
