// sys/config/state/sanitized: the configuration the server started with,
// without its storage and seal parameters (config/sanitized.h).

#include "core/core.h"
#include "core/system_backend.h"

namespace coffer::core {

using logical::Json;
using logical::Operation;

Result<logical::Response> SystemBackend::SanitizedConfig(const logical::Request& request) {
  if (request.operation != Operation::kRead) {
    return Err(Status(Code::kMethodNotAllowed, "unsupported operation"));
  }
  std::shared_ptr<const Json> config = core_.sanitized_config();
  if (config->is_null()) return Err(NotFound("no configuration was loaded"));
  logical::Response r;
  r.data = *config;
  return r;
}

}  // namespace coffer::core
