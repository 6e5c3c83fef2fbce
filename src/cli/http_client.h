#pragma once
// HttpClient: a small synchronous HTTP/1.1 client for the CLI, over TCP or
// TLS (https:// addresses). One connection per request; no redirects.
//
// TLS: the server certificate is verified against `ca_cert` (a PEM file) or,
// when that is empty, the system trust store, and its name must match the
// host of the address, unless `tls_skip_verify` is set.
//
// The token is sent as X-Vault-Token and is never part of an error message.
//
// Errors (Status codes):
//   kInvalidArgument  the address is not a valid http(s) URL, the CA file is unreadable
//   kUnavailable      resolving, connecting, TLS handshake, sending or receiving failed;
//                     the message names the method, URL and cause, Go-style:
//                     `Get "http://127.0.0.1:8200/v1/sys/seal-status": dial tcp
//                     127.0.0.1:8200: connect: connection refused`
// A non-2xx answer is not an error here: the caller gets the status and body.
//
// Not thread-safe: one request at a time per client.

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "common/secret_bytes.h"
#include "common/status.h"

namespace coffer::cli {

// -output-policy and -output-curl-string: while `active` and not paused, a
// client sends nothing. The first request it is asked for is recorded here
// instead, and fails with kUnsupported, so the command stops there; the
// dispatcher then prints the policy that request needs, or a curl command
// that sends it. Lookups a command makes before its own request (a KV
// mount's version) pause it, as Vault's CLI does (UncapturedScope).
struct RequestCapture {
  enum class Output { kPolicy, kCurl };
  Output output = Output::kPolicy;
  bool active = false;
  int paused = 0;
  bool captured = false;
  std::string method;  // as given: GET, PUT, POST, PATCH, DELETE, LIST, SCAN
  std::string path;    // as given: "/v1/..." with its query
  // kCurl: the request as a shell command that keeps the token and the body
  // out of every process's arguments (see HttpClient::Impl::CurlCommand).
  std::string curl;
};

struct ClientConfig {
  std::string address = "https://127.0.0.1:8200";
  SecretBytes token;    // empty: no X-Vault-Token header
  std::string ca_cert;  // path to a PEM bundle; empty: ca_path, else the system store
  // A directory whose every file is PEM certificates (Vault's -ca-path);
  // used when ca_cert is empty.
  std::string ca_path;
  bool tls_skip_verify = false;
  // The name sent as SNI and checked against the server's certificate;
  // empty: the address's host (Vault's -tls-server-name).
  std::string tls_server_name;
  // A TLS client certificate (PEM chain) and its key, for cert logins;
  // both or neither.
  std::string client_cert;
  std::string client_key;
  std::chrono::milliseconds timeout{std::chrono::seconds(60)};
  std::shared_ptr<RequestCapture> capture;  // null: every request is sent
};

struct HttpResponse {
  int status = 0;
  std::string body;
};

// What HttpClient::StreamEvents does with a Server-Sent Events stream.
struct StreamHandlers {
  std::function<void()> on_open;                       // the server answered 200
  std::function<void(std::string_view data)> on_data;  // one record's data
  // When set, a 200 body is not parsed as events: its bytes come here as
  // they arrive (a plain-text stream such as sys/monitor); on_data is unused.
  std::function<void(std::string_view bytes)> on_bytes;
};

// Ends a HttpClient::StreamEvents in progress, from any thread: the stream's
// socket is closed and StreamEvents returns kUnavailable ("... cancelled").
// Cancelling before the stream starts makes it return at once; Reset()
// makes the canceller usable again. Thread-safe.
class StreamCanceller {
 public:
  void Cancel();
  void Reset();
  bool cancelled() const;

 private:
  friend class HttpClient;
  mutable std::mutex mu_;
  bool cancelled_ = false;       // guarded by mu_
  std::function<void()> abort_;  // guarded by mu_; set while a stream runs
};

// Splits a text/event-stream into records, following the WHATWG rules that
// matter here: `data:` lines (one optional space after the colon) are joined
// with "\n" and a blank line dispatches them; comments (`: keepalive`) and
// other fields are ignored; CRLF and LF both end lines. A record over 1 MiB
// is dropped whole. Not thread-safe.
class SseParser {
 public:
  explicit SseParser(std::function<void(std::string_view data)> on_data)
      : on_data_(std::move(on_data)) {}
  void Feed(std::string_view bytes);

 private:
  void Line(std::string_view line);

  std::function<void(std::string_view)> on_data_;
  std::string line_;
  std::string data_;
  bool has_data_ = false;
  bool oversized_ = false;  // the current record passed the limit
};

class HttpClient {
 public:
  // Parses the address; does not connect.
  static Result<std::unique_ptr<HttpClient>> Create(ClientConfig config);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Sends `method` (GET, PUT, POST, DELETE, LIST) to `path` (starting with
  // "/", e.g. "/v1/sys/init") with an optional JSON body and reads the whole
  // answer.
  Result<HttpResponse> Do(std::string_view method, std::string_view path,
                          std::string_view body = {});

  // GETs `path` as a Server-Sent Events stream (sys/events/subscribe/...).
  // When the answer is 200: calls on_open, then on_data for every record,
  // until the server ends the stream (returns {200, ""}), nothing at all
  // (not even a keepalive comment) arrives for `idle_timeout`, the
  // connection fails, or `canceller` is cancelled (kUnavailable for those
  // three). Any other status comes back with its body, as from Do.
  // Connecting and the handshake use the configured timeout.
  Result<HttpResponse> StreamEvents(std::string_view path, const StreamHandlers& handlers,
                                    std::chrono::milliseconds idle_timeout,
                                    StreamCanceller* canceller = nullptr);

  // The capture of -output-policy / -output-curl-string, or null.
  RequestCapture* capture() const;

  // The address as configured, e.g. "http://127.0.0.1:8200".
  const std::string& address() const;

  // Replaces the token sent as X-Vault-Token (empty: none), for commands that
  // act with a token other than the configured one (login, unwrap TOKEN).
  void SetToken(SecretBytes token);

  // Adds a header to every later request (X-Vault-Wrap-TTL, or Content-Type,
  // which overrides application/json); an empty value removes it.
  void SetHeader(const std::string& name, std::string value);

 private:
  struct Impl;
  explicit HttpClient(std::unique_ptr<Impl> impl);
  // Records the request when a capture is active; true when it was.
  bool Captured(std::string_view method, std::string_view path, std::string_view body);
  std::unique_ptr<Impl> impl_;
};

// The parts of an http(s) URL the client needs. Exposed for tests.
struct ParsedAddress {
  bool tls = false;
  std::string host;       // without brackets for IPv6
  std::string port;       // "8200"; defaults to 80 / 443
  std::string base_path;  // "" or "/prefix" (no trailing slash)
};
Result<ParsedAddress> ParseAddress(std::string_view address);

}  // namespace coffer::cli
