#pragma once
// MfaStore: login MFA as Vault 1.10+ models it — TOTP methods, per-entity
// TOTP secrets, login enforcements — and the validation of a passcode.
//
// Storage (the identity barrier view, so encrypted at rest):
//   mfa/method/<id>                 method config (no secrets)
//   mfa/enforcement/<name>          login enforcement
//   mfa/secret/<method>/<entity>    the TOTP key; read only to validate,
//                                   never returned after generation
//   mfa/used/<method>/<entity>      the last accepted counter (time step)
// Methods and enforcements are cached in memory (copy-on-write snapshot).
//
// Validation (ValidateTotp): a code is accepted for the current time step
// ±skew, compared in constant time, and only when its step is later than the
// last accepted one, which is persisted: a code cannot be used twice (nor an
// older code after a newer one), also across restarts. After
// max_validation_attempts consecutive failures for an (entity, method) the
// pair is refused with kRateLimited until (2·skew+1) periods pass without a
// new failure; the failure counts live in memory. Validations of one
// (entity, method) are serialised (a per-pair mutex held across its two
// storage operations) so two requests cannot spend the same code.
//
// Thread-safe.

#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/clock.h"
#include "identity/mfa/totp.h"
#include "logical/request.h"
#include "storage/backend.h"

namespace coffer::identity::mfa {

using logical::Json;

struct TotpMethod {
  std::string id;
  std::string name;  // method_name, optional
  std::string issuer;
  TotpParams params;
  int key_size = 20;
  int qr_size = 200;
  int max_validation_attempts = 5;
  Json ToJson() const;  // Vault's read answer
};

struct Enforcement {
  std::string name;
  std::string id;
  std::vector<std::string> mfa_method_ids;
  std::vector<std::string> auth_method_accessors;
  std::vector<std::string> auth_method_types;
  std::vector<std::string> identity_group_ids;
  std::vector<std::string> identity_entity_ids;
  Json ToJson() const;
};

// One enforcement that applies to a login: any one of its methods satisfies it.
struct Constraint {
  std::string enforcement;
  std::vector<std::string> method_ids;
};

struct Enrolment {
  std::string url;      // otpauth://...
  std::string barcode;  // base64 PNG
};

class MfaStore {
 public:
  MfaStore(storage::Backend& storage, Clock& clock);

  Status Load();
  void Unload();

  // Methods. PutMethod creates (empty id) or replaces; kInvalidArgument for
  // bad fields, kNotFound for an unknown id. DeleteMethod refuses a method
  // an enforcement uses.
  Result<TotpMethod> PutMethod(TotpMethod method);
  std::optional<TotpMethod> Method(std::string_view id_or_name) const;
  std::vector<TotpMethod> Methods() const;
  Status DeleteMethod(std::string_view id);

  // Secrets. nullopt when the entity already has a secret for the method
  // (Vault answers with a warning then). kNotFound for an unknown method.
  Result<std::optional<Enrolment>> Generate(std::string_view method_id, std::string_view entity_id,
                                            std::string_view account_name);
  Status Destroy(std::string_view method_id, std::string_view entity_id);
  // Whether the entity has a secret for the method (listed, never read).
  Result<bool> HasSecret(std::string_view method_id, std::string_view entity_id);
  // For an entity merge: the storage writes that give `to` the TOTP secrets
  // of the entities in `from` (each with no used codes), for the caller's
  // transaction. A method for which `to` (or another of `from`) already has
  // one is refused, in Vault's words, unless `force`: then the last one
  // merged wins. The puts carry key material: wipe their values after use.
  Result<std::vector<storage::Op>> SecretMoveOps(const std::vector<std::string>& from,
                                                 const std::string& to, bool force);

  // Enforcements. Methods must exist; at least one target must be set.
  Result<Enforcement> PutEnforcement(Enforcement enforcement);
  std::optional<Enforcement> GetEnforcement(std::string_view name) const;
  std::vector<Enforcement> Enforcements() const;
  Status DeleteEnforcement(std::string_view name);

  // The enforcements that apply to a login through a mount by an entity in
  // these groups (empty: no MFA needed).
  std::vector<Constraint> ConstraintsFor(std::string_view mount_accessor,
                                         std::string_view mount_type, std::string_view entity_id,
                                         const std::set<std::string>& group_ids) const;

  // Checks a passcode. kPermissionDenied for a wrong, expired or reused
  // code or an entity without a secret; kRateLimited after too many
  // failures; kNotFound for an unknown method.
  Status ValidateTotp(std::string_view method_id, std::string_view entity_id,
                      std::string_view passcode);

 private:
  struct Snapshot {
    std::unordered_map<std::string, TotpMethod> methods;
    std::unordered_map<std::string, Enforcement> enforcements;
  };
  struct Attempts {
    int failures = 0;
    std::chrono::steady_clock::time_point last_failure;
  };
  std::shared_ptr<const Snapshot> Current() const;
  void SwapIn(std::shared_ptr<Snapshot> next);
  std::shared_ptr<std::mutex> PairLock(const std::string& key);

  storage::Backend& storage_;
  Clock& clock_;
  std::mutex writer_mu_;
  mutable std::mutex snap_mu_;
  std::shared_ptr<const Snapshot> snapshot_;  // guarded by snap_mu_
  std::mutex attempts_mu_;
  std::unordered_map<std::string, Attempts> attempts_;                // guarded by attempts_mu_
  std::unordered_map<std::string, std::weak_ptr<std::mutex>> pairs_;  // guarded by attempts_mu_
};

}  // namespace coffer::identity::mfa
