#include "common/status.h"

namespace coffer {

std::string_view CodeName(Code code) {
  switch (code) {
    case Code::kOk:
      return "ok";
    case Code::kInvalidArgument:
      return "invalid argument";
    case Code::kPermissionDenied:
      return "permission denied";
    case Code::kNotFound:
      return "not found";
    case Code::kMethodNotAllowed:
      return "method not allowed";
    case Code::kConflict:
      return "conflict";
    case Code::kAlreadyExists:
      return "already exists";
    case Code::kTooLarge:
      return "too large";
    case Code::kRateLimited:
      return "rate limited";
    case Code::kUnsupported:
      return "unsupported";
    case Code::kSealed:
      return "sealed";
    case Code::kUnavailable:
      return "unavailable";
    case Code::kStorageFull:
      return "storage full";
    case Code::kInternal:
      return "internal error";
  }
  return "unknown";
}

std::string Status::ToString() const {
  if (ok()) return "ok";
  std::string out(CodeName(code_));
  if (!message_.empty()) {
    out += ": ";
    out += message_;
  }
  return out;
}

}  // namespace coffer
