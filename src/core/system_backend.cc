#include "core/system_backend.h"

#include "core/core.h"

namespace coffer::core {

std::string_view CofferVersion() { return "0.1.0"; }

bool SystemBackend::IsUnauthenticated(std::string_view path) {
  return path == "sys/init" || path == "sys/unseal" || path == "sys/seal-status" ||
         path == "sys/health" || path == "sys/leader";
}

Status SystemBackend::Authorize(logical::Request& request) {
  if (request.client_token.empty()) return PermissionDenied();
  ASSIGN_OR_RETURN(auto entry, core_.tokens().Lookup(request.client_token));
  if (!entry) return PermissionDenied();
  // Until policies land only root tokens exist, and root may do anything.
  if (!entry->IsRoot()) return PermissionDenied();
  auto auth = std::make_shared<logical::Auth>();
  auth->token_hmac = entry->id_hmac;
  auth->accessor = entry->accessor;
  auth->policies = entry->policies;
  auth->display_name = entry->display_name;
  auth->metadata = entry->meta;
  auth->root = true;
  auth->sudo = true;
  auth->ttl = entry->ttl;
  request.auth = std::move(auth);
  return Status::Ok();
}

logical::Response LegacyResponse(const logical::Request& request, logical::Json data) {
  logical::Json body{{"request_id", request.id}, {"lease_id", ""}, {"renewable", false},
                     {"lease_duration", 0},      {"data", data},   {"wrap_info", nullptr},
                     {"warnings", nullptr},      {"auth", nullptr}};
  for (auto& [k, v] : data.items()) {
    if (!body.contains(k)) body[k] = v;
  }
  logical::Response r;
  r.raw = std::move(body);
  return r;
}

Result<logical::Response> SystemBackend::HandleLifecycle(const logical::Request& request) {
  if (request.path == "sys/init") return Init(request);
  return Unseal(request);
}

Result<logical::Response> SystemBackend::Handle(const logical::Request& request) {
  std::string_view p = request.path;
  if (p == "sys/seal-status") return SealStatus(request);
  if (p == "sys/health") return Health(request);
  if (p == "sys/leader") return Leader(request);
  if (p == "sys/rotate") return Rotate(request);
  if (p == "sys/key-status") return KeyStatus(request);
  if (p == "sys/rotate/config") return RotateConfig(request);
  if (p == "sys/mounts" || p.starts_with("sys/mounts/")) return Mounts(request);
  if (p == "sys/remount") return Remount(request);
  if (p == "sys/internal/ui/mounts" || p.starts_with("sys/internal/ui/mounts/")) {
    return UiMounts(request);
  }
  if (p == "sys/auth" || p.starts_with("sys/auth/")) return AuthMounts(request);
  return Err(NotFound("unsupported path"));
}

}  // namespace coffer::core
