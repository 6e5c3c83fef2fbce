#pragma once
// AesGcmBarrier: the encryption layer between Coffer and physical storage.
//
// It is itself a storage::Backend that decorates the physical backend: every
// value is encrypted with AES-256-GCM under the keyring's active term, in the
// format of barrier/ciphertext.h, with the storage key as AAD (so a value
// copied to another key does not decrypt). Keys and List/Delete pass through
// unchanged; Transact compares revisions as the physical backend does.
//
// The keyring (every term's data key, the active term, its encryption count
// and the rotation settings) is stored at "core/keyring", encrypted under the
// root key with term 0 and AAD "core/keyring". It lives in memory only while
// unsealed, as an immutable snapshot swapped atomically; Seal() drops it, which
// wipes every key once in-flight calls finish.
//
// Rotation: Rotate() adds a term; new writes use it, old terms still decrypt.
// The barrier also rotates by itself on the write path, before a term exceeds
// RotationConfig::max_operations encryptions or (if interval > 0) once the
// term is older than interval. The encryption count is persisted with the
// keyring every kPersistEvery encryptions and at Rotate/Seal, so after a crash
// it may be under-counted by at most kPersistEvery.
//
// Thread-safety: every method may be called concurrently. Reads and writes
// take no lock; changes to the keyring are serialised by one mutex, which is
// held across the keyring write so that a stale keyring can never overwrite a
// newer one.
//
// Errors: kSealed from Get/Put/Delete/List/Transact/Rotate/GetKeyStatus/
// Get/SetRotationConfig while sealed; kInternal "failed to decrypt" for a
// tampered value and kInternal for a value whose term is not in the keyring;
// kInvalidArgument for a write to "core/keyring" (reserved) or a bad root key
// length; physical backend errors are passed through.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>

#include "barrier/keyring.h"
#include "common/clock.h"
#include "common/secret_bytes.h"
#include "storage/backend.h"

namespace coffer::barrier {

struct KeyStatus {
  std::uint32_t term = 0;
  std::chrono::system_clock::time_point install_time;
  std::uint64_t encryptions = 0;
};

class AesGcmBarrier final : public storage::Backend {
 public:
  static constexpr std::string_view kKeyringPath = "core/keyring";
  static constexpr std::size_t kRootKeySize = 32;
  // How often (in encryptions) the count is written back with the keyring.
  static constexpr std::uint64_t kPersistEvery = 1000;

  explicit AesGcmBarrier(storage::Backend& physical, Clock& clock = SystemClock::Instance());
  ~AesGcmBarrier() override;

  AesGcmBarrier(const AesGcmBarrier&) = delete;
  AesGcmBarrier& operator=(const AesGcmBarrier&) = delete;

  // Whether a keyring exists in storage.
  Result<bool> Initialized();

  // Creates the keyring with term 1 under `root_key` (32 bytes). Leaves the
  // barrier sealed. kAlreadyExists if a keyring is already stored.
  Status Initialize(const SecretBytes& root_key);

  // Decrypts the keyring with `root_key`. A wrong key gives kPermissionDenied
  // "failed to decrypt keyring" and changes nothing. kInvalidArgument when not
  // initialised. Unsealing an unsealed barrier is a no-op.
  Status Unseal(const SecretBytes& root_key);

  // Persists the encryption count (best effort), then forgets every key.
  void Seal();
  // Writes the keyring with the active term's encryption count, which is
  // otherwise written every kPersistEvery encryptions (a clean shutdown
  // calls it, so only a crash loses up to kPersistEvery - 1 of the count).
  // Ok while sealed (nothing to write).
  Status SaveEncryptionCount() { return PersistCurrent(); }
  bool Sealed() const;

  // Adds a new term and makes it active; persists the keyring first.
  Status Rotate();

  Result<KeyStatus> GetKeyStatus();
  Result<RotationConfig> GetRotationConfig();
  // Persisted with the keyring. kInvalidArgument if max_operations is 0 or
  // interval is negative (range policy such as Vault's minimums belongs to
  // the API layer).
  Status SetRotationConfig(const RotationConfig& config);

  // storage::Backend
  Result<std::optional<storage::Entry>> Get(std::string_view key) override;
  Status Put(std::string_view key, std::string_view value) override;
  Status Delete(std::string_view key) override;
  Result<std::vector<std::string>> List(std::string_view prefix) override;
  Status Transact(std::span<const storage::Compare> compares,
                  std::span<const storage::Op> ops) override;
  std::string_view Type() const override { return "barrier"; }

 private:
  // With `fresh_nonce` (12 bytes drawn for this value alone) or a nonce of
  // its own from the DRBG.
  Result<std::string> Encrypt(std::string_view key, std::string_view plaintext,
                              std::span<const std::uint8_t> fresh_nonce = {});
  bool RotationDue(const Keyring& keyring, std::uint64_t count) const;
  Status RotateIfActive(std::uint32_t term);
  Status PersistCurrent();
  // The callers hold rotation_mu_.
  Status RotateLocked(const Keyring& current);
  Status PersistLocked(const Keyring& keyring);

  storage::Backend& physical_;
  Clock& clock_;
  // Serialises every change and every write of the keyring.
  std::mutex rotation_mu_;
  // Null while sealed.
  std::atomic<std::shared_ptr<const Keyring>> keyring_;
};

}  // namespace coffer::barrier
