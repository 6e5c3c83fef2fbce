#pragma once
// ShamirSeal: the root key is kept in storage encrypted under an unseal key
// that exists only as Shamir shares held by operators.
//
// Storage layout (written straight to the physical backend, not through the
// barrier, because they are needed before the barrier can be opened):
//   core/seal-config  plaintext JSON {"type":"shamir","secret_shares":N,"secret_threshold":T}
//   core/root-key     the 32-byte root key in the barrier's ciphertext format,
//                     term 0, under the unseal key, AAD "core/root-key"
//
// Unsealing collects `threshold` distinct shares, combines them, decrypts the
// root key and unseals the barrier. Shares are held in memory (SecretBytes)
// only until that attempt ends, succeeds or is reset.
//
// Thread-safety: every method may be called concurrently; one mutex
// serialises them (it is held across the storage reads of an unseal attempt
// and across a rekey's read and commit, which must not interleave anyway; a
// seal-status probe waits for them). Initialize must not race with another
// process initialising the same storage.
//
// Rekey (Vault's sys/rekey) replaces the unseal key and its shares while the
// barrier is unsealed: a threshold of the CURRENT shares must open the stored
// root key, then a new random unseal key is split into the new N/T shares and
// core/root-key (re-encrypted under it) and core/seal-config are written in
// one storage Transact, so a crash leaves either the old or the new shares
// working, never neither. With verification, the new shares are only handed
// out by RekeyUpdate and become active once RekeyVerifyUpdate has received a
// threshold of them. One attempt at a time; shares are held only in
// SecretBytes for the attempt's life; sealing cancels the attempt.
//
// Errors: kInvalidArgument for bad parameters, a share of the wrong length,
// a duplicate share, a failed unseal or rekey (generic message), a wrong
// nonce, no attempt under way, or when not initialised; kAlreadyExists from
// Initialize on initialised storage; kSealed for rekey calls while sealed;
// kConflict when the root key changed in storage under a rekey; storage
// errors are passed through.

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "barrier/aes_gcm_barrier.h"
#include "common/secret_bytes.h"
#include "common/status.h"
#include "storage/backend.h"

namespace coffer::seal {

struct SealConfig {
  int secret_shares = 0;
  int secret_threshold = 0;
};

struct UnsealProgress {
  bool sealed = true;
  int threshold = 0;  // Vault's "t"
  int shares = 0;     // Vault's "n"
  int progress = 0;
  std::string nonce;  // a UUID per unseal attempt; "" when no attempt is under way
};

// The state of a rekey attempt (Vault's GET sys/rekey/init).
struct RekeyStatus {
  bool started = false;
  std::string nonce;  // a UUID per attempt; "" when none
  int threshold = 0;  // the NEW threshold ("t")
  int shares = 0;     // the NEW number of shares ("n")
  int progress = 0;   // current shares provided so far
  int required = 0;   // the CURRENT threshold
  bool verification_required = false;
  std::string verification_nonce;  // set once new shares await verification
};

struct RekeyUpdateResult {
  bool complete = false;            // the threshold was reached and keys made
  RekeyStatus status;               // the attempt as it stands (or stood)
  std::vector<SecretBytes> shares;  // the new shares when complete
};

// Vault's GET sys/rekey/verify.
struct RekeyVerifyStatus {
  bool started = false;
  std::string nonce;  // the verification nonce
  int threshold = 0;  // the new threshold
  int shares = 0;     // the new number of shares
  int progress = 0;   // new shares provided so far
};

struct RekeyVerifyResult {
  bool complete = false;  // the new shares are now the active ones
  RekeyVerifyStatus status;
};

// Vault's GET sys/generate-root/attempt, as far as the seal knows it.
struct GenerateRootStatus {
  bool started = false;
  std::string nonce;  // a UUID per attempt; "" when none
  int progress = 0;   // current shares provided so far
  int required = 0;   // the current threshold
};

struct GenerateRootUpdateResult {
  bool complete = false;  // the shares opened the root key; the attempt ended
  GenerateRootStatus status;
  SecretBytes otp;  // when complete: the attempt's one-time pad, to encode the new token
};

struct InitResult {
  // The unseal key shares: 33 bytes each (32 + the x coordinate), or the
  // 32-byte unseal key itself when there is a single share.
  std::vector<SecretBytes> shares;
};

class ShamirSeal {
 public:
  static constexpr std::string_view kConfigPath = "core/seal-config";
  static constexpr std::string_view kRootKeyPath = "core/root-key";
  static constexpr std::size_t kKeySize = 32;

  // Both must outlive the seal.
  ShamirSeal(storage::Backend& physical, barrier::AesGcmBarrier& barrier);

  // Whether the barrier's keyring exists (the last step of Initialize).
  Result<bool> Initialized();

  // The stored configuration, nullopt before Initialize.
  Result<std::optional<SealConfig>> Config();

  // Validates like Vault (1 <= threshold <= shares <= 255; threshold > 1 when
  // shares > 1), generates the unseal key and the root key, stores the
  // encrypted root key and the config, then initialises the barrier. The
  // barrier stays sealed.
  Result<InitResult> Initialize(int shares, int threshold);

  // Adds one share to the current attempt. At the threshold, unseals or
  // fails with kInvalidArgument "unseal failed: the key shares are invalid"
  // and a reset progress. When already unsealed, returns that state.
  Result<UnsealProgress> SubmitShare(const SecretBytes& share);

  // Forgets the shares of the current attempt.
  void ResetProgress();

  UnsealProgress Progress();

  // Seals the barrier and resets progress.
  Status Seal();

  bool Sealed() const { return barrier_.Sealed(); }

  // Rekey (shamir_rekey.cc). Starts an attempt for `shares`/`threshold`
  // (validated like Initialize); kInvalidArgument when one is under way.
  Result<RekeyStatus> RekeyInit(int shares, int threshold, bool require_verification);
  Result<RekeyStatus> RekeyProgress();
  // Forgets the attempt, its shares and any unverified new key. No error
  // when none is under way.
  Status RekeyCancel();
  // Adds one CURRENT share to the attempt with `nonce`. At the threshold,
  // either completes (new shares returned; active unless verification is
  // required) or fails with kInvalidArgument and the progress reset (the
  // attempt and its nonce stay).
  Result<RekeyUpdateResult> RekeyUpdate(const SecretBytes& share, std::string_view nonce);
  Result<RekeyVerifyStatus> RekeyVerifyProgress();
  // Resets the verification progress under a new verification nonce.
  Result<RekeyVerifyStatus> RekeyVerifyCancel();
  // Adds one NEW share; at the new threshold they must rebuild the new
  // unseal key, which is then committed and the attempt ends.
  Result<RekeyVerifyResult> RekeyVerifyUpdate(const SecretBytes& share, std::string_view nonce);

  // Generate-root (shamir_rekey.cc; Vault's sys/generate-root): a threshold
  // of the current shares authorises a new root token, which the caller
  // makes and encodes with the attempt's one-time pad `otp`. One attempt at
  // a time (kInvalidArgument when one is under way); kSealed while sealed;
  // sealing cancels it.
  Result<GenerateRootStatus> GenerateRootInit(SecretBytes otp);
  Result<GenerateRootStatus> GenerateRootProgress();
  // No error when none is under way.
  Status GenerateRootCancel();
  // Adds one current share. At the threshold the shares must open the stored
  // root key: then the attempt ends and its pad is returned; otherwise
  // kInvalidArgument and the progress resets (the attempt and nonce stay).
  Result<GenerateRootUpdateResult> GenerateRootUpdate(const SecretBytes& share,
                                                      std::string_view nonce);

 private:
  struct GenerateRootAttempt {
    std::string nonce;
    SecretBytes otp;
    std::vector<SecretBytes> submitted;
  };

  struct RekeyAttempt {
    SealConfig config;  // the new one
    bool require_verification = false;
    std::string nonce;
    std::vector<SecretBytes> submitted;  // current shares
    // Set once the current shares opened the root key and, with
    // verification, the new shares were handed out.
    bool pending = false;
    SecretBytes new_unseal_key;
    SecretBytes root_key;
    std::uint64_t root_revision = 0;
    std::string verification_nonce;
    std::vector<SecretBytes> verify_submitted;  // new shares
  };

  // The root key as a threshold of current shares opens it, and its stored
  // entry (for the revision). The shares are spent (moved out and wiped)
  // either way; `failure` when they do not open it.
  struct OpenedRootKey {
    SecretBytes key;
    storage::Entry entry;
  };
  Result<OpenedRootKey> OpenRootKeyLocked(std::vector<SecretBytes>& submitted,
                                          const SealConfig& config, Status failure);

  // kSealed while sealed (rekey and generate-root need the barrier open).
  Status UnsealedCheckLocked();
  RekeyStatus RekeyStatusLocked(const std::optional<SealConfig>& current) const;
  RekeyVerifyStatus RekeyVerifyStatusLocked() const;
  GenerateRootStatus GenerateRootStatusLocked(const std::optional<SealConfig>& current) const;
  // Writes the root key under `unseal_key` and the new config in one
  // Transact conditional on core/root-key still being at `root_revision`.
  Status CommitRekeyLocked(const SecretBytes& unseal_key, const SecretBytes& root_key,
                           std::uint64_t root_revision, const SealConfig& config);

  Result<std::optional<SealConfig>> ConfigLocked();
  Status UnsealLocked(const SealConfig& config);
  UnsealProgress ProgressLocked(const std::optional<SealConfig>& config) const;
  void ResetLocked();

  storage::Backend& physical_;
  barrier::AesGcmBarrier& barrier_;

  std::mutex mu_;
  std::optional<SealConfig> config_;                  // guarded by mu_; cached once read
  std::vector<SecretBytes> submitted_;                // guarded by mu_
  std::string nonce_;                                 // guarded by mu_
  std::optional<RekeyAttempt> rekey_;                 // guarded by mu_
  std::optional<GenerateRootAttempt> generate_root_;  // guarded by mu_
};

// Shared with shamir_rekey.cc.
Status ValidateSealParameters(int shares, int threshold);
std::string SealConfigToJson(const SealConfig& config);

}  // namespace coffer::seal
