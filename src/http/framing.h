#pragma once
// Strict request framing checks, on top of what Beast's parser enforces, to
// close the request-smuggling doors: anything ambiguous is a 400 and the
// connection is closed. Pure functions; thread-safe.

#include <string_view>
#include <vector>

#include "common/status.h"

namespace coffer::http {

// Checks the raw header bytes (request line + fields + the final CRLFCRLF):
// every line ends in CRLF (no bare CR, no bare LF), no obs-fold (a line
// starting with SP or HTAB), no NUL. Errors: kInvalidArgument.
Status CheckRawHeader(std::string_view raw);

// The framing-relevant parts of a parsed header.
struct FramingFields {
  unsigned version = 11;                            // 10 or 11
  std::vector<std::string_view> content_length;     // every Content-Length value
  std::vector<std::string_view> transfer_encoding;  // every Transfer-Encoding value
};

// HTTP/1.0 or 1.1 only; at most one Content-Length, made of digits only; at
// most one Transfer-Encoding, exactly "chunked" and only with HTTP/1.1; never
// both. Errors: kInvalidArgument.
Status CheckFraming(const FramingFields& fields);

}  // namespace coffer::http
