#pragma once
// A lease: the promise that a secret (or a token) stays valid until
// expire_time unless renewed, after which it is revoked.
//
// Lease ids are "<path>/<random>" for secrets (e.g.
// "database/creds/ro/3Jf...") and "<token path>/<token hmac>" for tokens
// (e.g. "auth/token/create/9f0c..."), as Vault writes them.

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "common/status.h"
#include "logical/backend.h"

namespace coffer::expiration {

struct Lease {
  enum class Kind { kSecret, kToken };

  std::string id;
  std::string path;               // the request path that created it
  std::string token_hmac;         // kSecret: the creating token; kToken: the token itself
  std::int64_t issue_time = 0;    // unix seconds
  std::int64_t expire_time = 0;   // unix seconds
  std::int64_t last_renewal = 0;  // unix seconds, 0 = never renewed
  bool renewable = false;
  std::int64_t ttl = 0;      // seconds granted by the last issue/renewal
  std::int64_t max_ttl = 0;  // seconds from issue_time; 0 = the system maximum
  nlohmann::json internal = nlohmann::json::object();  // engine-private data for revocation
  Kind kind = Kind::kSecret;
};

// A stored lease record: a JSON object, keys sorted.
std::string EncodeLease(const Lease& lease);
Result<Lease> LeaseFromJson(std::string_view text);

// Called by the expiration manager to undo what a lease granted. The core
// implements it: kToken → revoke the token tree; kSecret → the owning engine.
//
// Must be thread-safe; is called without any manager lock held, from the
// expiry thread or from the thread calling Revoke*(). Returning an error
// makes the manager keep the lease and retry with exponential backoff (for
// expiry) or fail the call (for explicit revocation). Revoke must be
// idempotent: it can be called again for a lease whose revocation
// succeeded if the process stops before the lease record is deleted.
class Revoker {
 public:
  virtual ~Revoker() = default;
  virtual Status Revoke(const Lease& lease) = 0;
  // For a renewal: the TTLs the lease's engine and mount give now (0s:
  // nothing known). The max bounds the renewal with the lease's own, so
  // that a max tuned down since the issue bounds the lease too; the
  // default is what a renewal without an increment gets (else the lease
  // keeps its last TTL), as in Vault.
  virtual logical::SecretTtls CurrentTtls(const Lease& lease) {
    (void)lease;
    return {};
  }
  // For a renewal: the lease as it will be (new expiry), before it is
  // written. An error refuses the renewal and nothing changes (the issuing
  // engine is asked first, as Vault asks it).
  virtual Status Renew(const Lease& renewed) {
    (void)renewed;
    return Status::Ok();
  }
};

}  // namespace coffer::expiration
