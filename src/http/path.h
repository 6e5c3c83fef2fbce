#pragma once
// Canonicalisation of request targets, done before anything else looks at a
// request: the result is the one path both the ACL and the engines see.
// Pure functions, no I/O; thread-safe.
//
// Rules (see docs/http-api.md):
//   - only "/v1/<something>" is an API path; anything else is kNotFound;
//   - an encoded slash (%2F) is a '/', as Vault reads the decoded path;
//   - each segment is then percent-decoded once; a decoded segment must not
//     be empty ("//"), "." or "..", nor contain '\\', NUL, control characters
//     (0x00-0x1F, 0x7F) or invalid UTF-8; an encoded backslash (%5C) and
//     malformed escapes ("%", "%4", "%zz") are rejected; a literal
//     backslash or '#' is rejected too;
//   - one trailing '/' is allowed and kept (Vault's LIST paths end in '/').
//   Every rejection is kInvalidArgument.

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace coffer::http {

// Splits a request-target ("/v1/secret/foo?list=true") into its path and its
// query (without the '?'; empty when there is none).
struct Target {
  std::string_view path;
  std::string_view query;
};
Target SplitTarget(std::string_view target);

// For an API path with repeated slashes ("/v1//secret/data/a", "/v1/kv//a"):
// the same path with each run of slashes made one ("/v1/secret/data/a"),
// where Vault's router (Go's ServeMux) redirects such a request with 301.
// nullopt for any other path. The result always starts with "/v1/", so it
// never names another host.
std::optional<std::string> RedirectForRepeatedSlashes(std::string_view encoded_path);

// Canonicalises an encoded path ("/v1/secret/a%20b") and returns it decoded
// and without the "/v1/" prefix ("secret/a b").
// Errors: kNotFound (not under /v1/), kInvalidArgument (see the rules above).
Result<std::string> CanonicalizePath(std::string_view encoded_path);

// Parses "a=1&b=x%20y&flag" into decoded pairs ('+' is a space, a key without
// '=' has the value ""). The first occurrence of a repeated key wins, as in
// Go's url.Values.Get. Errors: kInvalidArgument for malformed escapes, NUL or
// control characters, or invalid UTF-8.
Result<std::map<std::string, std::string>> ParseQuery(std::string_view query);

// Parses an application/x-www-form-urlencoded body ("user=a+b&pass=%21")
// into decoded pairs, as Go's url.ParseQuery does for Vault: '+' is a
// space, a key without '=' has the value "", an empty key is dropped (as
// ParseQuery drops it), and a repeated key's values
// are joined with ',' in their order (Vault reads most lists as
// comma-separated). Values may hold any character but must be valid UTF-8
// (a policy's text spans lines). Errors: kInvalidArgument for a malformed
// escape, a ';' separator (Go refuses it) or invalid UTF-8.
Result<std::map<std::string, std::string>> ParseFormBody(std::string_view body);

// True when `s` is well-formed UTF-8 (no overlongs, surrogates or code points
// above U+10FFFF).
bool IsValidUtf8(std::string_view s);

}  // namespace coffer::http
