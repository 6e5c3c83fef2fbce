#pragma once
// LeasesBackend: Vault's sys/leases API over an ExpirationManager. The core
// routes these sys paths here (request.relative_path is the part after
// "sys/"):
//
//   PUT  leases/lookup                {lease_id}            → 200 {id, issue_time, ...}
//   LIST leases/lookup/<prefix>                             → 200 {keys} (404 when none)
//   PUT  leases/renew[/<lease_id>]    {lease_id, increment} → 200 lease_id/renewable/lease_duration
//   PUT  leases/revoke[/<lease_id>]   {lease_id}            → 204
//   PUT  leases/revoke-prefix/<prefix>                      → 204
//   PUT  leases/revoke-force/<prefix>                       → 204
//   PUT  leases/tidy                                        → 202 (warning)
//   GET  leases/count?type=irrevocable                      → 200 {lease_count, counts}
//   GET  leases?type=irrevocable[&limit=N|none]             → 200 {lease_count, leases}
// and the older aliases renew[/<id>], revoke[/<id>], revoke-prefix/<p>,
// revoke-force/<p>. Access control (sudo for LIST, revoke-prefix,
// revoke-force and sys/leases) is the core's ACL's job, not this class's.
//
// "Irrevocable" leases are those whose revocation at expiry failed six times
// in a row since this node unsealed (Vault gives up at the sixth failure;
// Coffer goes on retrying, so a lease leaves the report once it is revoked).
//
// Thread-safe (stateless besides the manager).

#include <functional>
#include <string>
#include <string_view>

#include "expiration/expiration_manager.h"
#include "logical/backend.h"

namespace coffer::expiration {

class LeasesBackend final : public logical::Backend {
 public:
  // token_alive: whether a token (by its HMAC) still exists, for tidy; a
  // backend without it answers tidy 404. mount_accessor: the accessor of the
  // mount a lease id lies under ("" when none), for the irrevocable reports.
  explicit LeasesBackend(ExpirationManager& manager,
                         std::function<bool(std::string_view token_hmac)> token_alive = {},
                         std::function<std::string(std::string_view lease_id)> mount_accessor = {})
      : manager_(manager),
        token_alive_(std::move(token_alive)),
        mount_accessor_(std::move(mount_accessor)) {}

  // True for relative paths this backend answers ("leases/...", "renew",
  // "revoke", "revoke-prefix/...", "revoke-force/...").
  static bool Handles(std::string_view relative_path);

  Result<logical::Response> HandleRequest(const logical::Request& request) override;

 private:
  Result<logical::Response> Lookup(const logical::Request& request);
  Result<logical::Response> ListLeases(std::string_view prefix);
  Result<logical::Response> Renew(const logical::Request& request, std::string_view url_id);
  Result<logical::Response> Revoke(const logical::Request& request, std::string_view url_id);
  Result<logical::Response> CountIrrevocable(const logical::Request& request);
  Result<logical::Response> ListIrrevocable(const logical::Request& request);
  // Vault's "mount-accessor-not-found" when the lease lies under no mount.
  std::string MountAccessorOf(std::string_view lease_id) const;

  ExpirationManager& manager_;
  std::function<bool(std::string_view token_hmac)> token_alive_;
  std::function<std::string(std::string_view lease_id)> mount_accessor_;
};

}  // namespace coffer::expiration
