#pragma once
// http:// and https:// URLs as the server's outgoing requests need them
// (JWKS and OIDC discovery fetches, event webhooks): scheme, host, port and
// request target. Pure; thread-safe.

#include <string>
#include <string_view>

#include "common/status.h"

namespace coffer {

struct HttpUrl {
  bool https = false;
  std::string host;    // without brackets for IPv6
  std::string port;    // digits; 443 or 80 when the URL names none
  std::string target;  // path and query, "/" at least; no fragment
};

// kInvalidArgument for another scheme, user info, an empty or malformed
// host, a bad port, or spaces and control characters.
Result<HttpUrl> ParseHttpUrl(std::string_view url);

// The Host header for a request to `url`: the URL's authority (RFC 9110
// 7.2), the port named unless it is the scheme's own, an IPv6 address in
// brackets. Identity providers build their issuer and JWKS URLs from it.
std::string HostHeader(const HttpUrl& url);

}  // namespace coffer
