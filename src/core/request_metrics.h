#pragma once
// How the core feeds coffer_http_requests_total and
// coffer_http_request_duration_seconds (metrics/telemetry.h): the route
// family of a request comes from the mount that served it (the built-in
// sys/, auth/, identity/ and cubbyhole/ mounts, else the engine's mount
// type), never from the path's text beyond those fixed prefixes.
//
// Thread-safe; no state of its own.

#include <chrono>

#include "logical/request.h"
#include "metrics/telemetry.h"
#include "router/router.h"

namespace coffer::core {

metrics::Method MetricsMethod(logical::Operation operation);

// The route family. A successful engine answer carries its mount type; for
// other answers on an engine's path (403, 404, ...) the router is asked.
metrics::Family MetricsFamily(const logical::Request& request, const logical::Response& response,
                              const router::Router& router);

// Counts one answered request, timed from `started`.
void CountRequest(metrics::Family family, metrics::Method method, const logical::Response& response,
                  std::chrono::steady_clock::time_point started);

}  // namespace coffer::core
