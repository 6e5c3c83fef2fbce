// sys/internal/counters/{tokens,entities}: how many service tokens and
// identity entities exist (Vault's and OpenBao's API); sys/in-flight-req:
// the requests the listeners are handling right now.

#include "core/core.h"
#include "core/system_backend.h"
#include "http/in_flight.h"

namespace coffer::core {

using logical::Json;
using logical::Operation;

Result<logical::Response> SystemBackend::Counters(const logical::Request& request) {
  const std::string_view which =
      std::string_view(request.path).substr(std::string_view("sys/internal/counters/").size());
  if (which != "tokens" && which != "entities") return Err(NotFound("unsupported path"));
  if (request.operation != Operation::kRead) {
    return Err(Status(Code::kMethodNotAllowed, "unsupported operation"));
  }
  logical::Response r;
  if (which == "tokens") {
    ASSIGN_OR_RETURN(std::size_t total, core_.tokens().CountTokens());
    r.data = Json{{"counters", {{"service_tokens", {{"total", total}}}}}};
  } else {
    r.data = Json{{"counters", {{"entities", {{"total", core_.identity().EntityCount()}}}}}};
  }
  return r;
}

Result<logical::Response> SystemBackend::InFlightRequests(const logical::Request& request) {
  if (request.operation != Operation::kRead) {
    return Err(Status(Code::kMethodNotAllowed, "unsupported operation"));
  }
  // As in Vault, the body is the map itself, keyed by request id, without
  // the usual envelope.
  logical::Response r;
  r.raw = http::InFlightJson(http::InFlightRegistry::Global().Snapshot());
  return r;
}

}  // namespace coffer::core
