#pragma once
// The interface between the HTTP server and whoever answers requests (the
// core). The server parses, limits and canonicalises; the handler decides.

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "logical/request.h"

namespace coffer::http {

class Handler {
 public:
  virtual ~Handler() = default;

  // Called on an I/O thread. The handler must call `done` exactly once, from
  // any thread; it may call it inline for cheap requests (health, sealed
  // answers) and must move anything that blocks (storage writes, fsync) off
  // the I/O thread first. `done` is thread-safe to call.
  virtual void Handle(logical::Request request, std::function<void(logical::Response)> done) = 0;

  // GET sys/metrics on a listener configured with
  // unauthenticated_metrics_access: answered without a token, also while
  // sealed. The same contract as Handle; by default it is Handle.
  virtual void HandleUnauthenticatedMetrics(logical::Request request,
                                            std::function<void(logical::Response)> done) {
    Handle(std::move(request), std::move(done));
  }

  // The request headers to copy into each request for its audit entries
  // (sys/config/auditing/request-headers): lower-case names, each with
  // whether its values are hashed. Null or empty when there are none
  // (cheap: asked for every request).
  virtual std::shared_ptr<const std::vector<std::pair<std::string, bool>>> AuditedHeaders() const {
    return nullptr;
  }

  // Cross-origin requests (sys/config/cors): whether CheckCors has anything
  // to check right now (cheap; when false the server skips it).
  virtual bool WantsCors() const { return false; }
  // Called on the I/O thread for a request with an Origin header, before
  // anything else: nullopt to go on, with headers for the eventual answer
  // put into *headers; or the answer to send instead (a refused origin, a
  // preflight). `preflight_method` is Access-Control-Request-Method. Must
  // not block.
  virtual std::optional<logical::Response> CheckCors(std::string_view origin,
                                                     std::string_view method,
                                                     std::string_view preflight_method,
                                                     std::map<std::string, std::string>* headers) {
    (void)origin;
    (void)method;
    (void)preflight_method;
    (void)headers;
    return std::nullopt;
  }

  // Whether Preflight has anything to check right now (cheap; when false
  // the server skips it).
  virtual bool WantsPreflight() const { return false; }
  // Called on the I/O thread after the head is parsed and before the body
  // is decoded (rate limits): nullopt to go on, or the answer to send
  // instead. `path` is canonical ("secret/data/x"); headers put into
  // *headers are added to the eventual answer. Must not block.
  virtual std::optional<logical::Response> Preflight(std::string_view path,
                                                     std::string_view remote_address,
                                                     std::map<std::string, std::string>* headers) {
    (void)path;
    (void)remote_address;
    (void)headers;
    return std::nullopt;
  }
  // Called on the I/O thread once a Preflight refusal is answered, with what
  // is known of the request before its body is decoded: id, path, operation
  // and remote address (no data, no token). Must not block.
  virtual void PreflightRefused(logical::Request request, const logical::Response& refusal) {
    (void)request;
    (void)refusal;
  }
};

}  // namespace coffer::http
