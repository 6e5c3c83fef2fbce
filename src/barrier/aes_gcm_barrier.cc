#include "barrier/aes_gcm_barrier.h"

#include <spdlog/spdlog.h>

#include <limits>
#include <utility>
#include <vector>

#include "barrier/ciphertext.h"
#include "common/fiber.h"
#include "common/log.h"
#include "crypto/aead.h"
#include "crypto/random.h"
#include "metrics/telemetry.h"

namespace coffer::barrier {
namespace {

// Past this many encryptions under one term, random 96-bit nonces are no
// longer safe; writes fail rather than go on if rotation keeps failing.
constexpr std::uint64_t kHardEncryptionLimit = std::uint64_t{1} << 32;

// coffer_barrier_operations_total (a relaxed add on this thread's shard).
void CountOp(metrics::BarrierOp op) { metrics::Telemetry::Global().RecordBarrier(op); }

Status SealedError() { return ::coffer::Sealed(); }

Status ReservedKey() {
  return InvalidArgument("storage key core/keyring is reserved for the barrier");
}

}  // namespace

AesGcmBarrier::AesGcmBarrier(storage::Backend& physical, Clock& clock)
    : physical_(physical), clock_(clock) {}

AesGcmBarrier::~AesGcmBarrier() = default;

Result<bool> AesGcmBarrier::Initialized() {
  ASSIGN_OR_RETURN(auto entry, physical_.Get(kKeyringPath));
  return entry.has_value();
}

Status AesGcmBarrier::Initialize(const SecretBytes& root_key) {
  if (root_key.size() != kRootKeySize) return InvalidArgument("root key must be 32 bytes");
  std::scoped_lock lock(rotation_mu_);
  ASSIGN_OR_RETURN(bool initialized, Initialized());
  if (initialized) return AlreadyExists("barrier is already initialized");

  Keyring keyring;
  ASSIGN_OR_RETURN(SecretBytes data_key, crypto::RandomSecret(32));
  keyring.terms.push_back({1, std::move(data_key), clock_.Wall()});
  keyring.active_term = 1;
  SecretBytes plain = keyring.Serialize();
  ASSIGN_OR_RETURN(std::string sealed, EncryptValue(0, root_key, plain.view(), kKeyringPath));
  // Create-only, so two racing initialisations cannot both succeed.
  storage::Compare absent{std::string(kKeyringPath), 0};
  storage::Op put{storage::Op::Kind::kPut, std::string(kKeyringPath), std::move(sealed)};
  NoSuspend holding_lock;  // rotation_mu_: the commit is awaited on the thread
  Status st = physical_.Transact({&absent, 1}, {&put, 1});
  if (st.code() == Code::kConflict) return AlreadyExists("barrier is already initialized");
  return st;
}

Status AesGcmBarrier::Unseal(const SecretBytes& root_key) {
  if (root_key.size() != kRootKeySize) return InvalidArgument("root key must be 32 bytes");
  std::scoped_lock lock(rotation_mu_);
  if (keyring_.load() != nullptr) return Status::Ok();
  ASSIGN_OR_RETURN(auto entry, physical_.Get(kKeyringPath));
  if (!entry.has_value()) return InvalidArgument("barrier is not initialized");
  auto term = CiphertextTerm(entry->value);
  if (!term.has_value() || *term != 0) return Internal("keyring is corrupt");
  auto plain = DecryptSecret(root_key, entry->value, kKeyringPath);
  if (!plain.has_value()) return PermissionDenied("failed to decrypt keyring");
  ASSIGN_OR_RETURN(std::unique_ptr<Keyring> keyring,
                   Keyring::Parse(plain->span(), root_key.Clone()));
  keyring_.store(std::shared_ptr<const Keyring>(std::move(keyring)));
  return Status::Ok();
}

void AesGcmBarrier::Seal() {
  std::scoped_lock lock(rotation_mu_);
  std::shared_ptr<const Keyring> current = keyring_.load();
  if (current == nullptr) return;
  Status st = PersistLocked(*current);
  if (!st.ok())
    Log(LogModule::kBarrier).warn("saving the encryption count at seal failed: {}", st.ToString());
  keyring_.store(nullptr);
}

bool AesGcmBarrier::Sealed() const { return keyring_.load() == nullptr; }

Status AesGcmBarrier::Rotate() {
  std::scoped_lock lock(rotation_mu_);
  std::shared_ptr<const Keyring> current = keyring_.load();
  if (current == nullptr) return SealedError();
  return RotateLocked(*current);
}

Result<KeyStatus> AesGcmBarrier::GetKeyStatus() {
  std::shared_ptr<const Keyring> current = keyring_.load();
  if (current == nullptr) return Err(SealedError());
  const KeyTerm& active = current->Active();
  return KeyStatus{active.term, active.install_time, current->encryptions.load()};
}

Result<RotationConfig> AesGcmBarrier::GetRotationConfig() {
  std::shared_ptr<const Keyring> current = keyring_.load();
  if (current == nullptr) return Err(SealedError());
  return current->rotation;
}

Status AesGcmBarrier::SetRotationConfig(const RotationConfig& config) {
  if (config.max_operations == 0) return InvalidArgument("max_operations must be at least 1");
  if (config.interval.count() < 0) return InvalidArgument("interval must not be negative");
  std::scoped_lock lock(rotation_mu_);
  std::shared_ptr<const Keyring> current = keyring_.load();
  if (current == nullptr) return SealedError();
  std::unique_ptr<Keyring> next = current->Clone();
  next->rotation = config;
  TRY(PersistLocked(*next));
  keyring_.store(std::shared_ptr<const Keyring>(std::move(next)));
  return Status::Ok();
}

Result<std::optional<storage::Entry>> AesGcmBarrier::Get(std::string_view key) {
  std::shared_ptr<const Keyring> keyring = keyring_.load();
  if (keyring == nullptr) return Err(SealedError());
  CountOp(metrics::BarrierOp::kGet);
  ASSIGN_OR_RETURN(std::optional<storage::Entry> entry, physical_.Get(key));
  if (!entry.has_value()) return entry;
  ASSIGN_OR_RETURN(std::uint32_t term, CiphertextTerm(entry->value));
  const KeyTerm* key_term = keyring->Find(term);
  if (key_term == nullptr) {
    return Err(Internal("no encryption key for term " + std::to_string(term)));
  }
  ASSIGN_OR_RETURN(entry->value,
                   DecryptValue(key_term->key, entry->value, key, key_term->Prepared()));
  return entry;
}

Status AesGcmBarrier::Put(std::string_view key, std::string_view value) {
  if (Sealed()) return SealedError();
  if (key == kKeyringPath) return ReservedKey();
  CountOp(metrics::BarrierOp::kPut);
  ASSIGN_OR_RETURN(std::string sealed, Encrypt(key, value));
  return physical_.Put(key, sealed);
}

Status AesGcmBarrier::Delete(std::string_view key) {
  if (Sealed()) return SealedError();
  if (key == kKeyringPath) return ReservedKey();
  CountOp(metrics::BarrierOp::kDelete);
  return physical_.Delete(key);
}

Result<std::vector<std::string>> AesGcmBarrier::List(std::string_view prefix) {
  if (Sealed()) return Err(SealedError());
  CountOp(metrics::BarrierOp::kList);
  return physical_.List(prefix);
}

Status AesGcmBarrier::Transact(std::span<const storage::Compare> compares,
                               std::span<const storage::Op> ops) {
  if (Sealed()) return SealedError();
  // The nonces of all the values come from one DRBG call (each is ~1 µs of
  // OpenSSL's DRBG bookkeeping, five of them in a token creation). Drawn
  // here, per transaction: a failing DRBG still fails this write at once.
  std::size_t puts = 0;
  for (const storage::Op& op : ops) {
    if (op.key == kKeyringPath) return ReservedKey();
    if (op.kind == storage::Op::Kind::kPut) ++puts;
  }
  constexpr std::size_t kNonce = crypto::kGcmNonceSize;
  std::vector<std::uint8_t> nonces(puts * kNonce);
  TRY(crypto::RandomFill(nonces));
  std::vector<storage::Op> sealed_ops;
  sealed_ops.reserve(ops.size());
  std::size_t next = 0;
  for (const storage::Op& op : ops) {
    storage::Op out{op.kind, op.key, {}};
    if (op.kind == storage::Op::Kind::kPut) {
      std::span<const std::uint8_t> nonce(nonces.data() + next * kNonce, kNonce);
      ++next;
      ASSIGN_OR_RETURN(out.value, Encrypt(op.key, op.value, nonce));
    }
    sealed_ops.push_back(std::move(out));
  }
  for (const storage::Op& op : ops) {
    CountOp(op.kind == storage::Op::Kind::kPut ? metrics::BarrierOp::kPut
                                               : metrics::BarrierOp::kDelete);
  }
  return physical_.Transact(compares, sealed_ops);
}

bool AesGcmBarrier::RotationDue(const Keyring& keyring, std::uint64_t count) const {
  if (keyring.rotation.disabled) return false;
  if (count > keyring.rotation.max_operations) return true;
  if (keyring.rotation.interval.count() > 0 &&
      clock_.Wall() - keyring.Active().install_time >= keyring.rotation.interval) {
    return true;
  }
  return false;
}

Result<std::string> AesGcmBarrier::Encrypt(std::string_view key, std::string_view plaintext,
                                           std::span<const std::uint8_t> fresh_nonce) {
  // Under heavy concurrency the new term may fill up before this writer gets
  // to use it, so retry a few times; past that (or if rotation fails) go on
  // with the current term, which stays below the hard limit.
  constexpr int kMaxRotationAttempts = 8;
  for (int attempt = 0;; ++attempt) {
    std::shared_ptr<const Keyring> keyring = keyring_.load();
    if (keyring == nullptr) return Err(SealedError());
    const std::uint64_t count = keyring->encryptions.fetch_add(1) + 1;
    if (attempt < kMaxRotationAttempts && RotationDue(*keyring, count)) {
      Status st = RotateIfActive(keyring->active_term);
      if (st.ok()) continue;
      Log(LogModule::kBarrier).error("automatic key rotation failed: {}", st.ToString());
    }
    if (count >= kHardEncryptionLimit) {
      return Err(Internal("encryption limit of the active key term reached; rotate the key"));
    }
    const KeyTerm& active = keyring->Active();
    ASSIGN_OR_RETURN(std::string sealed, EncryptValue(active.term, active.key, plaintext, key,
                                                      fresh_nonce, active.Prepared()));
    if (count % kPersistEvery == 0) {
      Status st = PersistCurrent();
      if (!st.ok())
        Log(LogModule::kBarrier).warn("saving the encryption count failed: {}", st.ToString());
    }
    return sealed;
  }
}

Status AesGcmBarrier::RotateIfActive(std::uint32_t term) {
  std::scoped_lock lock(rotation_mu_);
  std::shared_ptr<const Keyring> current = keyring_.load();
  if (current == nullptr) return SealedError();
  // Another writer rotated while this one waited for the lock.
  if (current->active_term != term) return Status::Ok();
  return RotateLocked(*current);
}

Status AesGcmBarrier::PersistCurrent() {
  std::scoped_lock lock(rotation_mu_);
  std::shared_ptr<const Keyring> current = keyring_.load();
  if (current == nullptr) return Status::Ok();
  return PersistLocked(*current);
}

Status AesGcmBarrier::RotateLocked(const Keyring& current) {
  const std::uint32_t term = current.MaxTerm();
  if (term == std::numeric_limits<std::uint32_t>::max()) return Internal("key term overflow");
  std::unique_ptr<Keyring> next = current.Clone();
  ASSIGN_OR_RETURN(SecretBytes data_key, crypto::RandomSecret(32));
  next->terms.push_back({term + 1, std::move(data_key), clock_.Wall()});
  next->active_term = term + 1;
  next->encryptions.store(0);
  TRY(PersistLocked(*next));
  keyring_.store(std::shared_ptr<const Keyring>(std::move(next)));
  Log(LogModule::kBarrier).info("installed key term {}", term + 1);
  return Status::Ok();
}

Status AesGcmBarrier::PersistLocked(const Keyring& keyring) {
  SecretBytes plain = keyring.Serialize();
  ASSIGN_OR_RETURN(std::string sealed,
                   EncryptValue(0, keyring.root_key, plain.view(), kKeyringPath));
  // The caller holds rotation_mu_, which a suspended fiber must not hold
  // (common/fiber.h): the commit is awaited on the thread.
  NoSuspend holding_lock;
  return physical_.Put(kKeyringPath, sealed);
}

}  // namespace coffer::barrier
