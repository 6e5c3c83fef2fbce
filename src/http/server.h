#pragma once
// The HTTP/1.1 (+TLS) listener: keep-alive, limits, timeouts, strict framing,
// path canonicalisation, then Handler::Handle. Boost.Beast/Asio stay inside
// src/http/*.cc (pimpl), so including this header is cheap.
//
// Threading: one io_context per I/O thread (see server.cc for why). Create,
// Start and Stop are called from one controlling thread; port() and
// open_connections() are thread-safe. Stop() (also run by the destructor)
// stops accepting, closes idle connections, lets in-flight requests finish
// for up to shutdown_timeout, then joins the threads. The Handler must
// outlive the Server; a `done` called after Stop() is ignored.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "common/json_numbers.h"
#include "common/status.h"
#include "http/handler.h"

namespace coffer::http {

struct ServerOptions {
  std::string address = "127.0.0.1:8200";  // host:port ("[::1]:8200"); port 0 = ephemeral
  bool tls = false;
  std::string tls_cert_file;              // PEM, the leaf first then intermediates
  std::string tls_key_file;               // PEM
  std::string tls_min_version = "tls12";  // "tls12" | "tls13"
  // Client certificates (cert auth): by default the server asks for one and
  // hands it to the core unverified (the auth method verifies it against
  // its own trusted certificates); with tls_require_and_verify_client_cert
  // a connection without a certificate chaining to tls_client_ca_file is
  // refused in the handshake; tls_disable_client_certs asks for none.
  std::string tls_client_ca_file;
  bool tls_require_and_verify_client_cert = false;
  bool tls_disable_client_certs = false;
  std::size_t max_request_size = 32 * 1024 * 1024;  // body limit → 413
  std::size_t max_header_size = 16 * 1024;          // request line + fields → 431
  std::chrono::seconds header_read_timeout{10};     // also the TLS handshake timeout
  std::chrono::seconds idle_timeout{60};            // keep-alive idle; also per response write
  std::chrono::seconds body_read_timeout{60};       // whole body, from the end of the header
  std::chrono::seconds write_timeout{0};            // one response's write; 0: idle_timeout
                                                    // (resolved in Server::Create)
  std::chrono::seconds shutdown_timeout{10};        // Stop(): wait for in-flight requests
  // A JSON body's bounds (the listener's max_json_* keys; Vault's defaults).
  JsonParseLimits json_limits{.max_depth = 500,
                              .max_string_length = 1024 * 1024,
                              .max_object_entries = 10000,
                              .max_array_elements = 10000,
                              .max_tokens = 500000};
  int io_threads = 0;  // 0 = std::thread::hardware_concurrency()
  // Pins I/O thread i to the i-th CPU (modulo their count) of those the
  // process may run on, so the scheduler cannot stack two of them on one
  // core while another idles. Off by default: on a host shared with other
  // busy processes a pinned thread cannot move away from them.
  bool pin_io_threads = false;
  std::size_t max_connections = 4096;  // beyond this, new connections are closed at once
  // The listener's telemetry { unauthenticated_metrics_access = true }:
  // GET sys/metrics goes to Handler::HandleUnauthenticatedMetrics.
  bool unauthenticated_metrics_access = false;
  // The listener's inflight_requests_logging {
  // unauthenticated_in_flight_requests_access = true }: GET
  // sys/in-flight-req is answered by the listener itself, without a token.
  bool unauthenticated_in_flight_requests_access = false;
  // The listener's disable_unauthed_rekey_endpoints: sys/rekey/* and
  // sys/rekey-recovery-key/* answer 405 here, before the core sees them.
  bool disable_unauthed_rekey_endpoints = false;
  // disable_unauthed_generate_root_endpoints: the same for
  // sys/generate-root/*.
  bool disable_unauthed_generate_root_endpoints = false;
};

class Server {
 public:
  // Validates the options, loads the certificate and key, binds and listens
  // (no thread is started). Errors: kInvalidArgument (bad address or option,
  // unreadable or mismatched certificate/key), kUnavailable (bind or listen
  // failed, e.g. the port is in use).
  static Result<std::unique_ptr<Server>> Create(ServerOptions options, Handler& handler);

  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // The bound port (useful with port 0).
  std::uint16_t port() const;

  // Spawns the I/O threads and starts accepting; returns at once. Once only.
  void Start();

  // Idempotent; see the header comment.
  void Stop();

  // Connections currently open (for tests and metrics).
  std::size_t open_connections() const;

  struct Impl;

 private:
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace coffer::http
