#pragma once
// The "sys/" paths: seal lifecycle, health, keyring, mounts. One object per
// request, holding a reference to the core; the handlers live in sys_*.cc by
// job (seal, keys, mounts).

#include <optional>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "common/secret_bytes.h"
#include "common/status.h"
#include "logical/help.h"
#include "logical/request.h"
#include "storage/backend.h"

namespace coffer::router {
struct MountEntry;
}  // namespace coffer::router

namespace coffer::core {

class Core;

namespace internal {
// The mount accessor of the built-in token auth method (sys/auth lists it).
inline constexpr std::string_view kTokenAuthAccessor = "auth_token_system";
// The unseal key share in "key" (hex or base64, as sys/unseal takes it) and
// the attempt's "nonce" of sys/rekey/* and sys/generate-root/update.
Result<SecretBytes> ShareKeyField(const logical::Request& request);
Result<std::string> ShareNonceField(const logical::Request& request);
// PUT or POST.
bool IsWrite(const logical::Request& request);
}  // namespace internal

class SystemBackend {
 public:
  explicit SystemBackend(Core& core) : core_(core) {}

  // Paths that need no token (Vault's unauthenticated sys paths).
  static bool IsUnauthenticated(std::string_view path);
  // Path help for sys/ (logical/help.h); the table is in sys_help.cc.
  static logical::EngineHelp Help();
  // The mount listing for UIs asked without a token: Vault answers it with
  // the mounts tuned to listing_visibility "unauth" only. (With a token,
  // the token must be valid and the listing follows its ACL.)
  static bool IsAnonymousMountListing(const logical::Request& request) {
    return request.client_token.empty() && request.path == "sys/internal/ui/mounts";
  }

  // Checks the client token and the ACL for the request. kPermissionDenied
  // for a missing, unknown or insufficient token.
  // On success sets request.auth to the caller's identity.
  Status Authorize(logical::Request& request);

  // sys/init, sys/unseal and sys/rekey/* (they take the core's state lock or
  // the seal's lock themselves; none is audited).
  Result<logical::Response> HandleLifecycle(const logical::Request& request);

  // sys/rekey/init, sys/rekey/update, sys/rekey/verify (sys_rekey.cc).
  static bool IsRekeyPath(std::string_view path);

  // sys/generate-root/attempt and /update (sys_generate_root.cc): answered
  // without a token and before the audit stage, under the core's state
  // lock, only while unsealed.
  static bool IsGenerateRootPath(std::string_view path);
  Result<logical::Response> GenerateRoot(const logical::Request& request);

  // Every other sys/ path.
  Result<logical::Response> Handle(const logical::Request& request);

 private:
  Result<logical::Response> Init(const logical::Request& request);
  Result<logical::Response> Unseal(const logical::Request& request);
  Result<logical::Response> Rekey(const logical::Request& request);
  Result<logical::Response> SealStatus(const logical::Request& request);
  Result<logical::Response> Health(const logical::Request& request);
  Result<logical::Response> Leader(const logical::Request& request);
  // sys/ha-status and sys/step-down for a single node (sys_seal.cc).
  Result<logical::Response> HaStatus(const logical::Request& request);
  Result<logical::Response> StepDown(const logical::Request& request);
  // sys/tools/random[/:source][/:bytes] and sys/tools/hash[/:algorithm] (sys_tools.cc).
  Result<logical::Response> Tools(const logical::Request& request);
  Result<logical::Response> Rotate(const logical::Request& request);
  Result<logical::Response> KeyStatus(const logical::Request& request);
  Result<logical::Response> RotateConfig(const logical::Request& request);
  Result<logical::Response> Mounts(const logical::Request& request);
  Result<logical::Response> Remount(const logical::Request& request);
  // A tune of a KV mount from version 1 to 2: converts its secrets in place
  // (sys_mounts.cc).
  Status UpgradeKvMount(const std::string& path, const logical::Json& config,
                        const std::optional<std::string>& description,
                        const logical::Json& options);
  Result<logical::Response> UiMounts(const logical::Request& request);
  // A tune read's TTLs, as Vault reports them: the mount's, or the
  // system's where the mount has none (sys/mounts lists the stored 0).
  void EffectiveLeaseTtls(const router::MountEntry& mount, logical::Json& out);
  Result<logical::Response> AuthMounts(const logical::Request& request);
  Result<logical::Response> TuneTokenAuth(const logical::Request& request);
  Result<logical::Response> Policies(const logical::Request& request);
  Result<logical::Response> Capabilities(const logical::Request& request);
  // sys/internal/ui/resultant-acl: the caller's merged rules, for UIs.
  Result<logical::Response> ResultantAcl(const logical::Request& request);
  Result<logical::Response> Wrapping(const logical::Request& request);
  Result<logical::Response> Audit(const logical::Request& request);
  Result<logical::Response> AuditHash(const logical::Request& request);
  Result<logical::Response> AuditVerify(const logical::Request& request);
  // sys/policies/password[/:name[/generate]] (sys_password_policies.cc).
  Result<logical::Response> PasswordPolicyPaths(const logical::Request& request);

  // sys/quotas/rate-limit[/:name] and sys/quotas/config (sys_quotas.cc).
  Result<logical::Response> Quotas(const logical::Request& request);
  // sys/locked-users[/:mount_accessor/unlock/:alias] (sys_locked_users.cc).
  Result<logical::Response> LockedUsers(const logical::Request& request);
  // sys/metrics (sys_metrics.cc).
  Result<logical::Response> Metrics(const logical::Request& request);
  // sys/plugins/catalog[/:type[/:name]] (sys_plugins.cc).
  Result<logical::Response> PluginCatalog(const logical::Request& request);
  // sys/version-history (sys_version_history.cc).
  Result<logical::Response> VersionHistory(const logical::Request& request);
  // sys/loggers[/:name] (sys_loggers.cc).
  Result<logical::Response> Loggers(const logical::Request& request);
  // sys/config/cors (sys_cors.cc).
  Result<logical::Response> CorsConfig(const logical::Request& request);
  // sys/config/state/sanitized (sys_config_state.cc).
  Result<logical::Response> SanitizedConfig(const logical::Request& request);
  // sys/host-info (sys_host_info.cc).
  Result<logical::Response> HostInfo(const logical::Request& request);
  // sys/internal/counters/{tokens,entities} (sys_counters.cc).
  Result<logical::Response> Counters(const logical::Request& request);
  // sys/in-flight-req (sys_counters.cc).
  Result<logical::Response> InFlightRequests(const logical::Request& request);
  // sys/config/auditing/request-headers[/:name] (sys_audited_headers.cc).
  Result<logical::Response> AuditedHeaderPaths(const logical::Request& request);
  Core& core_;
};

// Vault answers several sys endpoints with the data both inside the usual
// envelope and copied at the top level; clients read either.
logical::Response LegacyResponse(const logical::Request& request, logical::Json data);

// A password from the named password policy (the default generator for
// ""), for engines (BackendConfig::generate_password). kNotFound for an
// unknown policy.
Result<SecretBytes> GeneratePolicyPassword(Core& core, std::string_view name);

// The sys/metrics answer (Prometheus text or JSON, by the `format` query
// parameter). `state_readable`: the caller holds the core's state lock and
// the core is unsealed (gauges that need it are left out otherwise).
// Errors: kInvalidArgument (unknown format, Prometheus turned off),
// kMethodNotAllowed (not a read).
Result<logical::Response> MetricsResponse(Core& core, const logical::Request& request,
                                          bool state_readable);

// Coffer's own version: the server's banner, sys/version-history, the
// built-in plugins' versions.
std::string_view CofferVersion();

// The version seal-status, health and sys/ha-status report: the Vault API
// Coffer serves, with Coffer's own version as semver build metadata
// ("1.15.0+coffer.0.1.0", as Vault Enterprise reports "1.15.0+ent").
// Clients gate features on it (Nomad refuses a Vault before 0.6.1 for any
// job that asks for a token, Terraform's provider turns off what came after
// the version it reads); build metadata plays no part in their comparisons.
std::string_view ReportedVersion();

// Records the running version in the store's version history
// (core/versions/<version>, with when it first unsealed it) unless it is
// there already. Called at every unseal.
Status RecordRunningVersion(storage::Backend& barrier, Clock& clock);

}  // namespace coffer::core
