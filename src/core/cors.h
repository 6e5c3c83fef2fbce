#pragma once
// Cross-origin requests from browsers (sys/config/cors), as Vault's: off
// until an operator names the origins a browser application may call from.
//
// While it is on, a request that carries an Origin header is checked before
// anything else: an origin not on the list gets 403 "origin not allowed"; an
// allowed one gets Access-Control-Allow-Origin (and Vary: Origin) on its
// answer; a preflight (OPTIONS with Access-Control-Request-Method) is
// answered here with the methods and headers the API takes. Requests
// without an Origin header (the CLI, servers, hvac) are never affected.
//
// The settings are stored in the barrier and survive restarts; they are read
// at unseal and kept in memory across a seal, so a browser can still poll
// sys/seal-status and unseal. Thread-safe.

#include <atomic>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "logical/request.h"
#include "storage/backend.h"

namespace coffer::core {

class Cors {
 public:
  struct Settings {
    bool enabled = false;
    std::vector<std::string> allowed_origins;  // "*" alone, or exact origins
    std::vector<std::string> allowed_headers;  // the API's own, then the operator's
    bool allow_credentials = false;            // Access-Control-Allow-Credentials: true
  };

  // The request headers a browser may send to the API (Vault's list).
  static const std::vector<std::string>& StandardHeaders();

  // Reads the stored settings (unseal). kInternal if they are corrupt.
  Status Load(storage::Backend& barrier);
  // Validates, stores, then applies. kInvalidArgument: no origin, or "*"
  // with others.
  Status Enable(storage::Backend& barrier, std::vector<std::string> origins,
                std::vector<std::string> extra_headers, bool allow_credentials);
  Status Disable(storage::Backend& barrier);
  Settings Current() const;

  // Cheap: whether Check has anything to do.
  bool Enabled() const { return enabled_.load(std::memory_order_relaxed); }
  // For a request with an Origin header: nullopt to go on, with the
  // headers its answer must carry added to *headers; or the answer to send
  // instead (403 for an origin not allowed, 405 for a preflight of a
  // method the API does not take, 204 for an accepted preflight).
  std::optional<logical::Response> Check(std::string_view origin, std::string_view method,
                                         std::string_view preflight_method,
                                         std::map<std::string, std::string>* headers) const;

 private:
  Status Store(storage::Backend& barrier, const Settings& settings);

  mutable std::mutex mu_;
  Settings settings_;  // guarded by mu_
  std::atomic<bool> enabled_{false};
};

}  // namespace coffer::core
