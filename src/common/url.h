#pragma once
// http:// and https:// URLs as the server's outgoing requests need them
// (JWKS and OIDC discovery fetches, event webhooks): scheme, host, port and
// request target. Pure; thread-safe.

#include <map>
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

// Percent-encodes a query parameter or path segment (RFC 3986 unreserved
// characters kept; a space is %20, which form decoding reads as a space too).
std::string QueryEscape(std::string_view s);

// The value of a hexadecimal digit, or -1.
int HexDigitValue(char c);

// Appends the percent-decoded form of `in` to `out` ('+' to a space when
// plus_is_space); false on a malformed escape. (An out-parameter rather than
// Result<std::string>: g++ 12 reports a false maybe-uninitialized through
// std::expected<std::string> in its callers.)
bool PercentDecodeAppend(std::string_view in, bool plus_is_space, std::string& out);

// Percent-decodes `in`. Errors: kInvalidArgument for a malformed escape.
Result<std::string> PercentDecode(std::string_view in, bool plus_is_space);

// Decoded name=value pairs of a query or form body ("a=1&b=x+y"); the last
// of a repeated name wins. Errors: kInvalidArgument for a malformed escape.
Result<std::map<std::string, std::string>> ParseQueryPairs(std::string_view text);

}  // namespace coffer
