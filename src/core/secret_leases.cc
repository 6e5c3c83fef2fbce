#include "core/secret_leases.h"

#include "common/log.h"
#include "core/core.h"

namespace coffer::core {
namespace {

using logical::Json;

std::int64_t ConfigSeconds(const Json& config, const char* name) {
  auto it = config.find(name);
  if (it == config.end() || !it->is_number_integer()) return 0;
  return std::max<std::int64_t>(0, it->get<std::int64_t>());
}

// The mount a lease came from: by uuid, then (older records) by path.
std::shared_ptr<const router::Router::Mounted> FindMount(Core& core, const Json& internal) {
  auto snapshot = core.router().snapshot();
  if (!snapshot) return nullptr;
  std::string uuid = internal.value("mount_uuid", "");
  for (const auto& m : snapshot->mounts) {
    if (!uuid.empty() && m->entry.uuid == uuid) return m;
  }
  return nullptr;
}

logical::SecretLease ToSecretLease(const expiration::Lease& lease) {
  logical::SecretLease s;
  s.lease_id = lease.id;
  s.path = lease.path;
  auto it = lease.internal.find("secret");
  if (it != lease.internal.end()) s.internal = *it;
  s.issue_time = lease.issue_time;
  s.expire_time = lease.expire_time;
  s.ttl = lease.ttl;
  return s;
}

}  // namespace

Status RegisterSecretLease(Core& core, const logical::Request& request,
                           const router::Router::Mounted& mounted, logical::Response& response) {
  if (!response.secret) return Status::Ok();
  const router::MountEntry& mount = mounted.entry;
  logical::SecretInfo secret = std::move(*response.secret);
  response.secret.reset();
  std::int64_t mount_default = ConfigSeconds(mount.config, "default_lease_ttl");
  std::int64_t mount_max = ConfigSeconds(mount.config, "max_lease_ttl");
  std::int64_t max = mount_max;
  if (secret.max_ttl > 0) max = max > 0 ? std::min(max, secret.max_ttl) : secret.max_ttl;
  std::int64_t ttl = secret.ttl > 0 ? secret.ttl : mount_default;
  if (max > 0 && ttl > 0) ttl = std::min(ttl, max);

  expiration::LeaseRequest lr;
  lr.path = request.path;
  if (request.auth) {
    // A batch token's leases belong to its parent (none for an orphan) and
    // end with the batch token at the latest.
    ASSIGN_OR_RETURN(token::LeaseOwner owner,
                     core.tokens().LeaseOwnerOf(request.auth->token_hmac, request.client_token,
                                                request.auth->batch));
    lr.token_hmac = std::move(owner.token_hmac);
    if (owner.expire_time > 0) {
      const std::int64_t left =
          std::max<std::int64_t>(1, owner.expire_time - core.tokens().NowUnixUp());
      if (max == 0 || max > left) max = left;  // the manager clamps ttl to max
    }
  }
  lr.ttl = std::chrono::seconds(ttl);
  lr.max_ttl = std::chrono::seconds(max);
  lr.renewable = secret.renewable;
  lr.internal =
      Json{{"mount_uuid", mount.uuid}, {"mount_path", mount.path}, {"secret", secret.internal}};
  auto lease = core.expiration().Register(lr);
  if (!lease) {
    logical::SecretLease undo;
    undo.path = request.path;
    undo.internal = std::move(secret.internal);
    Status s = mounted.engine->RevokeSecret(undo);
    if (!s.ok())
      Log(LogModule::kExpiration).error("revoking a secret whose lease failed: {}", s.ToString());
    return lease.error();
  }
  response.lease_id = lease->id;
  response.lease_duration = lease->ttl;
  response.renewable = lease->renewable;
  return Status::Ok();
}

Status RevokeSecretLease(Core& core, const expiration::Lease& lease) {
  if (!lease.internal.contains("mount_uuid")) return Status::Ok();  // nothing to undo
  auto mount = FindMount(core, lease.internal);
  if (!mount) {
    if (core.Sealed()) return Unavailable("sealed: the lease's mount is not loaded");
    Log(LogModule::kExpiration).warn("lease {}: its mount is gone; dropping the lease", lease.id);
    return Status::Ok();
  }
  return mount->engine->RevokeSecret(ToSecretLease(lease));
}

Status RenewSecretLease(Core& core, const expiration::Lease& renewed) {
  if (renewed.kind != expiration::Lease::Kind::kSecret) return Status::Ok();
  if (!renewed.internal.contains("mount_uuid")) return Status::Ok();
  auto mount = FindMount(core, renewed.internal);
  if (!mount) return InvalidArgument("the secrets engine that issued this lease is not mounted");
  return mount->engine->RenewSecret(ToSecretLease(renewed));
}

logical::SecretTtls SecretLeaseTtls(Core& core, const expiration::Lease& lease) {
  if (lease.kind != expiration::Lease::Kind::kSecret) return {};
  auto mount = FindMount(core, lease.internal);
  if (!mount) return {};
  const auto [mount_default, mount_max] = core.MountLeaseTtls(mount->entry);
  // The engine's own now (a database role's), as Vault's engines return
  // them with each renewal: its max lowers the mount's, its default
  // replaces the mount's.
  const logical::SecretTtls engine = mount->engine->RenewalTtls(ToSecretLease(lease));
  logical::SecretTtls ttls{mount_default.count(), mount_max.count()};
  if (engine.max_ttl > 0 && (ttls.max_ttl <= 0 || engine.max_ttl < ttls.max_ttl)) {
    ttls.max_ttl = engine.max_ttl;
  }
  if (engine.default_ttl > 0) ttls.default_ttl = engine.default_ttl;
  return ttls;
}

}  // namespace coffer::core
