#include "storage/backend.h"

namespace coffer::storage {

Status ValidateKey(std::string_view key) {
  if (key.empty()) return InvalidArgument("storage key is empty");
  if (key.size() > 1024) return InvalidArgument("storage key is longer than 1024 bytes");
  if (key.front() == '/') return InvalidArgument("storage key starts with '/'");
  if (key.find('\0') != std::string_view::npos) return InvalidArgument("storage key contains NUL");
  return Status::Ok();
}

}  // namespace coffer::storage
