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
// serialises them (it is held across the storage reads of an unseal attempt,
// which must not interleave anyway). Initialize must not race with another
// process initialising the same storage.
//
// Errors: kInvalidArgument for bad parameters, a share of the wrong length,
// a duplicate share, a failed unseal (generic message), or when not
// initialised; kAlreadyExists from Initialize on initialised storage;
// storage errors are passed through.

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

 private:
  Result<std::optional<SealConfig>> ConfigLocked();
  Status UnsealLocked(const SealConfig& config);
  UnsealProgress ProgressLocked(const std::optional<SealConfig>& config) const;
  void ResetLocked();

  storage::Backend& physical_;
  barrier::AesGcmBarrier& barrier_;

  std::mutex mu_;
  std::optional<SealConfig> config_;    // guarded by mu_; cached once read
  std::vector<SecretBytes> submitted_;  // guarded by mu_
  std::string nonce_;                   // guarded by mu_
};

}  // namespace coffer::seal
