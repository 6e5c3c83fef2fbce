#pragma once
// Leases for the secrets engines return (dynamic database credentials): the
// expiration stage of the pipeline (DESIGN.md) and the way back from a
// lease to the engine that issued it.
//
// A lease record's `internal` holds {"mount_uuid", "mount_path", "secret"}:
// the mount that issued it (found again by uuid, so a remount keeps it
// reachable) and the engine's own data (logical::SecretInfo::internal).
//
// Thread-safe (stateless; the core's parts are).
// Errors: storage errors from the expiration manager; the engine's errors
// from revoke/renew; kUnavailable when the issuing mount is not loaded.

#include "common/status.h"
#include "expiration/lease.h"
#include "logical/request.h"
#include "router/router.h"

namespace coffer::core {

class Core;

// When `response.secret` is set: registers its lease (ttl clamped to the
// mount's tune and the system maximum), fills response.lease_id,
// lease_duration and renewable, and clears response.secret. The lease
// belongs to the caller's token (revoking the token revokes it). When the
// lease cannot be stored, the engine is asked to revoke the secret at once.
Status RegisterSecretLease(Core& core, const logical::Request& request,
                           const router::Router::Mounted& mounted, logical::Response& response);

// The Revoker's job for a secret lease: calls the issuing engine's
// RevokeSecret. A lease whose mount no longer exists is dropped (Ok): the
// unmount revoked what it could.
Status RevokeSecretLease(Core& core, const expiration::Lease& lease);

// Before sys/leases/renew writes a renewed lease: calls the engine's
// RenewSecret with the new expiry; an error refuses the renewal. A lease
// whose mount is gone cannot be renewed (kInvalidArgument).
Status RenewSecretLease(Core& core, const expiration::Lease& renewed);

// The TTLs a renewal of the lease follows now, in seconds: the max its
// mount allows (tuned, else the system's) lowered by its engine's own, and
// the engine's default, else the mount's (LogicalBackend::RenewalTtls);
// zeros for a token lease or a mount that is gone.
logical::SecretTtls SecretLeaseTtls(Core& core, const expiration::Lease& lease);

}  // namespace coffer::core
