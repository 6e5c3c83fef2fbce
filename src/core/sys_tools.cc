// sys/tools/random and sys/tools/hash: the same handlers as transit/random
// and transit/hash (engines/transit/tools.h), reachable without a transit
// mount.

#include "core/system_backend.h"
#include "engines/transit/tools.h"

namespace coffer::core {

Result<logical::Response> SystemBackend::Tools(const logical::Request& request) {
  std::string_view rest = request.path;
  rest.remove_prefix(std::string_view("sys/tools/").size());
  const bool write = request.operation == logical::Operation::kUpdate ||
                     request.operation == logical::Operation::kCreate;
  if (rest == "random" || rest.starts_with("random/")) {
    if (!write) return Err(Status(Code::kMethodNotAllowed, "unsupported operation"));
    return engines::transit::HandleRandom(request, rest.substr(6));
  }
  if (rest == "hash" || rest.starts_with("hash/")) {
    if (!write) return Err(Status(Code::kMethodNotAllowed, "unsupported operation"));
    std::string_view algorithm = rest.size() > 5 ? rest.substr(5) : std::string_view();
    if (algorithm.find('/') != std::string_view::npos) return Err(NotFound("unsupported path"));
    return engines::transit::HandleHash(request, algorithm);
  }
  return Err(NotFound("unsupported path"));
}

}  // namespace coffer::core
