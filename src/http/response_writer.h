#pragma once
// Serialises a logical::Response into an HTTP/1.1 response (status line,
// headers, body) in one buffer, ready for a single write. No Beast types.
// Thread-safe (the cached Date header is per thread).

#include <string>
#include <string_view>

#include "logical/request.h"

namespace coffer::http {

// The JSON body for `response`: `raw` when set, otherwise Vault's envelope
// {"request_id","lease_id","renewable","lease_duration","data","wrap_info",
//  "warnings","auth","mount_type"}.
std::string RenderBody(const logical::Response& response, std::string_view request_id);

// True when the response carries nothing and is sent as 204 (Vault answers a
// nil response with 204): status 204, or status 200 with no raw body, no
// data, auth, wrap_info, warnings or lease.
bool IsEmptyResponse(const logical::Response& response);

// Appends the full HTTP/1.1 response to `out` (which is cleared first).
// Headers: Content-Type: application/json (unless response.headers sets
// one), Cache-Control: no-store, Content-Length, Date, Connection: close when
// !keep_alive, then response.headers (names or values with CR, LF or NUL are
// dropped, so a handler cannot split the response). `head` (or no_body, or a
// 204) sends no body. A `raw` string with a non-JSON Content-Type header is
// sent as its bytes (for text/plain metrics, PEM files).
void RenderResponse(const logical::Response& response, std::string_view request_id, bool head,
                    bool keep_alive, std::string& out);

// The header of a streaming response (Response::stream): 200, Content-Type
// text/event-stream unless response.headers sets one, no Content-Length and
// Connection: close (the body runs until the connection closes).
void RenderStreamHeader(const logical::Response& response, std::string& out);

// "Not Found" for 404, ... ("Unknown" otherwise).
std::string_view ReasonPhrase(int status);

}  // namespace coffer::http
