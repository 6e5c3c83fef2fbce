#include "http/error_map.h"

#include "common/log.h"

namespace coffer::http {

int HttpStatusFor(Code code) {
  switch (code) {
    case Code::kOk:
      return 200;
    case Code::kInvalidArgument:
    case Code::kConflict:
    case Code::kAlreadyExists:
    case Code::kUnsupported:
      return 400;
    case Code::kPermissionDenied:
      return 403;
    case Code::kNotFound:
      return 404;
    case Code::kMethodNotAllowed:
      return 405;
    case Code::kTooLarge:
      return 413;
    case Code::kRateLimited:
      return 429;
    case Code::kInternal:
      return 500;
    case Code::kSealed:
    case Code::kUnavailable:
      return 503;
    case Code::kStorageFull:
      return 507;
  }
  return 500;
}

logical::Response ResponseFor(const Status& status) {
  if (status.ok()) return logical::Response{};
  if (status.code() == Code::kInternal) {
    Log(LogModule::kHttp).error("internal error: {}", status.message());
    return logical::ErrorResponse(500, "internal error");
  }
  return logical::ErrorResponse(HttpStatusFor(status.code()), status.message());
}

}  // namespace coffer::http
