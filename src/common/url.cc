#include "common/url.h"

#include <cctype>

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
    if (authority.starts_with(":")) {
      u.port = std::string(authority.substr(1));
    } else if (!authority.empty()) {
      return Err(InvalidArgument("URL has a bad IPv6 host"));
    }
  } else {
    auto colon = authority.rfind(':');
    u.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) u.port = std::string(authority.substr(colon + 1));
  }
  if (u.host.empty()) return Err(InvalidArgument("URL has no valid host"));
  if (u.port.empty()) u.port = u.https ? "443" : "80";
  // A number from 1 to 65535: "99999" would wrap to another port.
  if (u.port.size() > 5) return Err(InvalidArgument("URL has a bad port"));
  unsigned port = 0;
  for (char c : u.port) {
    if (c < '0' || c > '9') return Err(InvalidArgument("URL has a bad port"));
    port = port * 10 + static_cast<unsigned>(c - '0');
  }
  if (port == 0 || port > 65535) return Err(InvalidArgument("URL has a bad port"));
  if (auto hash = u.target.find('#'); hash != std::string::npos) u.target.resize(hash);
  return u;
}

std::string HostHeader(const HttpUrl& url) {
  std::string out = url.host.find(':') != std::string::npos ? "[" + url.host + "]" : url.host;
  if (url.port != (url.https ? "443" : "80")) out += ":" + url.port;
  return out;
}

std::string QueryEscape(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

int HexDigitValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool PercentDecodeAppend(std::string_view in, bool plus_is_space, std::string& out) {
  out.reserve(out.size() + in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '%') {
      if (in.size() - i < 3) return false;
      int hi = HexDigitValue(in[i + 1]);
      int lo = HexDigitValue(in[i + 2]);
      if (hi < 0 || lo < 0) return false;
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return true;
}

Result<std::string> PercentDecode(std::string_view in, bool plus_is_space) {
  std::string out;
  if (!PercentDecodeAppend(in, plus_is_space, out)) {
    return Err(InvalidArgument("malformed percent escape"));
  }
  return out;
}

Result<std::map<std::string, std::string>> ParseQueryPairs(std::string_view text) {
  std::map<std::string, std::string> out;
  while (!text.empty()) {
    const auto amp = text.find('&');
    std::string_view pair = text.substr(0, amp);
    const auto eq = pair.find('=');
    std::string key, value;
    if (!PercentDecodeAppend(pair.substr(0, eq), true, key) ||
        (eq != std::string_view::npos && !PercentDecodeAppend(pair.substr(eq + 1), true, value))) {
      return Err(InvalidArgument("malformed percent escape"));
    }
    if (!key.empty()) out[std::move(key)] = std::move(value);
    if (amp == std::string_view::npos) break;
    text.remove_prefix(amp + 1);
  }
  return out;
}

}  // namespace coffer
