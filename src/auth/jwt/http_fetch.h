#pragma once
// A minimal HTTP(S) GET for JWKS and OIDC discovery documents, through
// net::Exchange (net/http_exchange.h).
//
// https verifies the server certificate and host name against `ca_pem`
// (PEM certificates) or, when empty, the system trust store. No redirects
// are followed; only a 200 answer counts. Bodies are capped at 1 MiB and the
// whole exchange at `timeout`.
//
// Errors: kInvalidArgument for a malformed or non-http(s) URL or a bad
// ca_pem; kUnavailable for connection, TLS or timeout failures and non-200
// answers (messages name the host and status, never a body).
// Thread-safe (each call has its own io_context).

#include <chrono>
#include <functional>
#include <string>

#include "common/status.h"

namespace coffer::auth::jwt {

Result<std::string> HttpGet(const std::string& url, const std::string& ca_pem,
                            std::chrono::milliseconds timeout = std::chrono::seconds(10));

// How the method fetches documents; tests substitute their own.
using Fetcher =
    std::function<Result<std::string>(const std::string& url, const std::string& ca_pem)>;

}  // namespace coffer::auth::jwt
