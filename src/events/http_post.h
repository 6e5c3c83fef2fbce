#pragma once
// A minimal HTTP(S) POST for outgoing webhooks (events, KV rotation),
// through net::Exchange (net/http_exchange.h).
//
// https verifies the server certificate and host name against the system
// trust store. No redirects are followed. The answer's body is read and
// discarded (one over 64 KiB fails the call); only the status is returned.
// The whole exchange is bounded by `timeout`.
//
// Errors: kInvalidArgument for a URL that is not http:// or https://
// host[:port][/path]; kUnavailable for connection, TLS or timeout failures
// (messages name the host, never the body). Thread-safe (each call has its
// own io_context).

#include <chrono>
#include <functional>
#include <map>
#include <string>

#include "common/status.h"

namespace coffer::events {

// Checks that `url` is http:// or https:// with a host (kInvalidArgument).
Status ValidateWebhookUrl(const std::string& url);

// The HTTP status of the answer.
Result<int> HttpPost(const std::string& url, const std::string& body,
                     const std::map<std::string, std::string>& headers,
                     std::chrono::milliseconds timeout = std::chrono::seconds(5));

// How webhook senders post; tests substitute their own.
using Poster = std::function<Result<int>(const std::string& url, const std::string& body,
                                         const std::map<std::string, std::string>& headers)>;

// "sha256=<hex of HMAC-SHA256(secret, body)>", the X-Coffer-Signature value.
Result<std::string> SignatureHeader(std::string_view secret, std::string_view body);

}  // namespace coffer::events
