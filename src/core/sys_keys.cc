// sys/rotate, sys/key-status, sys/rotate/config.

#include "common/clock.h"
#include "common/duration.h"
#include "core/core.h"
#include "core/system_backend.h"

namespace coffer::core {

using logical::Json;

Result<logical::Response> SystemBackend::Rotate(const logical::Request& request) {
  if (request.operation != logical::Operation::kUpdate &&
      request.operation != logical::Operation::kCreate) {
    return Err(Status(Code::kMethodNotAllowed, "unsupported operation"));
  }
  TRY(core_.barrier().Rotate());
  return logical::Response{};
}

Result<logical::Response> SystemBackend::KeyStatus(const logical::Request& request) {
  if (request.operation != logical::Operation::kRead) {
    return Err(Status(Code::kMethodNotAllowed, "unsupported operation"));
  }
  ASSIGN_OR_RETURN(barrier::KeyStatus status, core_.barrier().GetKeyStatus());
  return LegacyResponse(request, Json{{"term", status.term},
                                      {"install_time", FormatRfc3339(status.install_time)},
                                      {"encryptions", status.encryptions}});
}

Result<logical::Response> SystemBackend::RotateConfig(const logical::Request& request) {
  ASSIGN_OR_RETURN(barrier::RotationConfig config, core_.barrier().GetRotationConfig());
  if (request.operation == logical::Operation::kRead) {
    return LegacyResponse(request, Json{{"max_operations", config.max_operations},
                                        {"interval", FormatDuration(config.interval)},
                                        {"enabled", !config.disabled}});
  }
  if (request.operation != logical::Operation::kUpdate &&
      request.operation != logical::Operation::kCreate) {
    return Err(Status(Code::kMethodNotAllowed, "unsupported operation"));
  }
  if (const Json* f = request.Field("max_operations")) {
    if (!f->is_number_integer() || f->get<long long>() < 0) {
      return Err(InvalidArgument("max_operations must be a non-negative integer"));
    }
    // Vault's bounds: at least 1,000,000 and at most the GCM safety limit.
    auto v = f->get<unsigned long long>();
    if (v != 0 && (v < 1'000'000 || v > 3'865'470'566ULL)) {
      return Err(InvalidArgument("max_operations must be between 1000000 and 3865470566"));
    }
    if (v != 0) config.max_operations = v;
  }
  if (const Json* f = request.Field("interval")) {
    if (f->is_string()) {
      ASSIGN_OR_RETURN(config.interval, ParseDuration(f->get<std::string>()));
    } else if (f->is_number_integer() && f->get<long long>() >= 0) {
      config.interval = std::chrono::seconds(f->get<long long>());
    } else {
      return Err(InvalidArgument("interval must be a duration such as \"24h\""));
    }
    if (config.interval.count() != 0 && config.interval < std::chrono::hours(24)) {
      return Err(InvalidArgument("interval must be at least 24h, or 0 to disable"));
    }
  }
  if (const Json* f = request.Field("enabled")) {
    if (!f->is_boolean()) return Err(InvalidArgument("enabled must be a boolean"));
    config.disabled = !f->get<bool>();
  }
  TRY(core_.barrier().SetRotationConfig(config));
  return logical::Response{};
}

}  // namespace coffer::core
