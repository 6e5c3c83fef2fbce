#pragma once
// How the agent talks to the server. Transport is the raw HTTP exchange (the
// CLI's HttpClient in production, see cli/agent.cc; a fake in unit tests);
// Client adds Vault's JSON envelope and error mapping on top.
//
// Errors from Client::Call: the transport's (kUnavailable when the server is
// unreachable); for HTTP answers 400 kInvalidArgument, 403 kPermissionDenied,
// 404 kNotFound, 429 kRateLimited, 503 kUnavailable (sealed, standby), other
// statuses kInternal. Messages carry the method, path, status and the
// server's error strings, never the token or a request body.
// Not thread-safe.

#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "common/secret_bytes.h"
#include "common/status.h"

namespace coffer::agent {

struct HttpAnswer {
  int status = 0;
  std::string body;
};

class Transport {
 public:
  virtual ~Transport() = default;
  // `path` starts with "/v1/". `token` empty: no X-Vault-Token. `wrap_ttl`
  // non-empty: sent as X-Vault-Wrap-TTL.
  virtual Result<HttpAnswer> Send(std::string_view method, std::string_view path,
                                  std::string_view body, const SecretBytes& token,
                                  std::string_view wrap_ttl) = 0;

  // A streaming GET of Server-Sent Events (see ChangeSubscriber::StreamFn):
  // on_open once the server answered 200, then on_record per record, until
  // the stream ends. Returns the HTTP status or the transport error. Runs
  // on another thread than Send, so an implementation uses its own
  // connection. Default: kUnsupported (no streaming; the agent polls).
  virtual Result<int> StreamEvents(std::string_view path, const SecretBytes& token,
                                   const std::function<void()>& on_open,
                                   const std::function<void(std::string_view)>& on_record) {
    (void)path, (void)token, (void)on_open, (void)on_record;
    return Err(Unsupported("this transport cannot stream"));
  }
  // Ends a StreamEvents in progress (and the next one, until ResetStream).
  // Thread-safe.
  virtual void CancelStream() {}
  virtual void ResetStream() {}
};

class Client {
 public:
  explicit Client(std::unique_ptr<Transport> transport) : transport_(std::move(transport)) {}

  // `path` without "/v1/" ("auth/token/renew-self"). Returns the decoded body
  // (null when empty). The body string is wiped after sending.
  Result<nlohmann::json> Call(std::string_view method, std::string_view path, std::string body,
                              const SecretBytes& token, std::string_view wrap_ttl = {});

 private:
  std::unique_ptr<Transport> transport_;
};

}  // namespace coffer::agent
