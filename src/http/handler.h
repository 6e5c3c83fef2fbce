#pragma once
// The interface between the HTTP server and whoever answers requests (the
// core). The server parses, limits and canonicalises; the handler decides.

#include <functional>

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
};

}  // namespace coffer::http
