#pragma once
// One outgoing HTTP(S) request and its answer, for what the server fetches or
// posts by itself: JWKS and OIDC discovery documents (auth/jwt) and webhooks
// (events, KV rotation). Boost.Beast stays inside http_exchange.cc, the one
// file of the server that compiles its client side.
//
// Every step (resolve, connect, TLS handshake, write, read) runs
// asynchronously under one deadline, `timeout`, which bounds the whole
// exchange: a peer that accepts and never answers costs at most `timeout`.
// (Beast's stream deadlines apply only to asynchronous operations.)
//
// https verifies the server certificate and host name against `ca_pem`
// (PEM certificates) or, when empty, the system trust store, and sends the
// host as SNI. No redirects are followed; the connection is not reused.
//
// Errors: kInvalidArgument for a URL that is not http:// or https://
// host[:port][/path], a header name or value with CR, LF or NUL (it would
// add headers to the request), or a `ca_pem` that does not parse; kUnavailable for
// resolution, connection, TLS and timeout failures and for an answer whose
// body exceeds `max_body`. Messages name the method, host and step, never a
// body. Thread-safe: each call has its own io_context.

#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <string>

#include "common/status.h"

namespace coffer::net {

struct HttpRequest {
  std::string method = "GET";  // GET or POST
  std::string url;
  std::map<std::string, std::string> headers;
  std::string body;  // sent with a Content-Length when the method is POST
  std::string ca_pem;
  std::string user_agent = "coffer";
  std::chrono::milliseconds timeout{10'000};
  std::size_t max_body = 1 << 20;
};

struct HttpResponse {
  int status = 0;
  std::string body;
};

// Any status the peer answers is a response, 500 included; see above for errors.
Result<HttpResponse> Exchange(const HttpRequest& request);

// How a component makes its outgoing requests: Exchange, or a test's own.
using HttpDo = std::function<Result<HttpResponse>(const HttpRequest&)>;

}  // namespace coffer::net
