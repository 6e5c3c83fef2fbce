#include "core/system_backend.h"

#include <string>

#include "core/core.h"
#include "policy/policy.h"

namespace coffer::core {

std::string_view CofferVersion() { return "0.1.0"; }

std::string_view ReportedVersion() {
  // The Vault release whose API the docs and the client checks hold to
  // (docs/clients.md).
  static const std::string reported = "1.15.0+coffer." + std::string(CofferVersion());
  return reported;
}

bool SystemBackend::IsUnauthenticated(std::string_view path) {
  return path == "sys/init" || path == "sys/unseal" || path == "sys/seal-status" ||
         path == "sys/health" || path == "sys/leader" || path == "sys/wrapping/lookup";
}

Status SystemBackend::Authorize(logical::Request& request) {
  // The paths a request acts on besides the one it names: a policy name is
  // canonical in the store (lower case, trimmed), and an engine may put a
  // name in canonical form too (Backend::AclPath).
  std::vector<std::string> also;
  if (!logical::IsListOperation(request.operation)) {
    for (std::string_view prefix : {"sys/policy/", "sys/policies/acl/"}) {
      if (!request.path.starts_with(prefix)) continue;
      std::string_view name = std::string_view(request.path).substr(prefix.size());
      std::string canonical = policy::CanonicalPolicyName(name);
      if (canonical != name) also.push_back(std::string(prefix) + canonical);
    }
    // Only auth methods put names in canonical form (userpass, approle,
    // ldap, github); secrets engines keep names as written, and a KV read
    // (the hot path) takes no second route lookup.
    if (!request.path.starts_with("auth/")) return core_.authorizer().Authorize(request, also);
    if (auto match = core_.router().Route(request.path);
        match && request.path.ends_with(match->relative_path)) {
      std::string acl_path = match->mount->engine->AclPath(match->relative_path);
      if (acl_path != match->relative_path) {
        const std::string_view mount =
            std::string_view(request.path)
                .substr(0, request.path.size() - match->relative_path.size());
        also.push_back(std::string(mount) + acl_path);
      }
    }
  }
  return core_.authorizer().Authorize(request, also);
}

logical::Response LegacyResponse(const logical::Request& request, logical::Json data) {
  // The envelope names the answering mount, as every answer's does
  // (VaultSharp reads it): these are all the system backend's.
  logical::Json body{{"request_id", request.id}, {"lease_id", ""},  {"renewable", false},
                     {"lease_duration", 0},      {"data", data},    {"wrap_info", nullptr},
                     {"warnings", nullptr},      {"auth", nullptr}, {"mount_type", "system"}};
  for (auto& [k, v] : data.items()) {
    if (!body.contains(k)) body[k] = v;
  }
  logical::Response r;
  r.raw = std::move(body);
  return r;
}

Result<logical::Response> SystemBackend::HandleLifecycle(const logical::Request& request) {
  if (request.path == "sys/init") return Init(request);
  if (IsRekeyPath(request.path)) return Rekey(request);
  return Unseal(request);
}

Result<logical::Response> SystemBackend::Handle(const logical::Request& request) {
  std::string_view p = request.path;
  if (p == "sys/seal-status") return SealStatus(request);
  if (p == "sys/health") return Health(request);
  if (p == "sys/leader") return Leader(request);
  if (p == "sys/ha-status") return HaStatus(request);
  if (p == "sys/step-down") return StepDown(request);
  if (p.starts_with("sys/tools/")) return Tools(request);
  if (p == "sys/rotate") return Rotate(request);
  if (p == "sys/key-status") return KeyStatus(request);
  if (p == "sys/rotate/config" || p == "sys/rotate/keyring/config") return RotateConfig(request);
  if (p == "sys/rotate/keyring") return Rotate(request);
  if (p == "sys/config/cors") return CorsConfig(request);
  if (p == "sys/config/state/sanitized") return SanitizedConfig(request);
  if (p == "sys/host-info") return HostInfo(request);
  if (p.starts_with("sys/internal/counters/")) return Counters(request);
  if (p == "sys/in-flight-req") return InFlightRequests(request);
  if (p == "sys/config/auditing/request-headers" ||
      p.starts_with("sys/config/auditing/request-headers/")) {
    return AuditedHeaderPaths(request);
  }
  if (p == "sys/mounts" || p.starts_with("sys/mounts/")) return Mounts(request);
  if (p == "sys/remount" || p.starts_with("sys/remount/")) return Remount(request);
  if (p == "sys/internal/ui/mounts" || p.starts_with("sys/internal/ui/mounts/")) {
    return UiMounts(request);
  }
  if (p == "sys/internal/ui/resultant-acl") return ResultantAcl(request);
  if (p == "sys/auth" || p.starts_with("sys/auth/")) return AuthMounts(request);
  if (p == "sys/policy" || p.starts_with("sys/policy/") || p == "sys/policies/acl" ||
      p.starts_with("sys/policies/acl/") || p == "sys/policies/detailed/acl" ||
      p.starts_with("sys/policies/detailed/acl/")) {
    return Policies(request);
  }
  if (p == "sys/policies/password" || p.starts_with("sys/policies/password/")) {
    return PasswordPolicyPaths(request);
  }
  if (p == "sys/capabilities" || p == "sys/capabilities-self" || p == "sys/capabilities-accessor") {
    return Capabilities(request);
  }
  if (p.starts_with("sys/wrapping/")) return Wrapping(request);
  if (p.starts_with("sys/events/")) return core_.events().Handle(request);
  if (p == "sys/monitor") return core_.events().Monitor(request);
  if (p == "sys/loggers" || p.starts_with("sys/loggers/")) return Loggers(request);
  if (p == "sys/version-history" || p == "sys/version-history/") return VersionHistory(request);
  if (p == "sys/plugins/catalog" || p.starts_with("sys/plugins/catalog/")) {
    return PluginCatalog(request);
  }
  if (p.starts_with("sys/quotas/")) return Quotas(request);
  if (p == "sys/locked-users" || p.starts_with("sys/locked-users/")) return LockedUsers(request);
  if (p == "sys/metrics") return Metrics(request);
  if (p == "sys/audit" || p.starts_with("sys/audit/")) return Audit(request);
  if (p.starts_with("sys/audit-hash/")) return AuditHash(request);
  if (p.starts_with("sys/audit-verify/")) return AuditVerify(request);
  return Err(NotFound("unsupported path"));
}

}  // namespace coffer::core
