// ShamirSeal's rekey: replaces the unseal key and its shares (Vault's
// sys/rekey/init, update and verify); and generate-root, which checks a
// threshold of the current shares for a new root token (sys/generate-root).

#include <utility>

#include "barrier/ciphertext.h"
#include "crypto/random.h"
#include "crypto/shamir.h"
#include "seal/shamir_seal.h"

namespace coffer::seal {
namespace {

Status RekeyFailed() { return InvalidArgument("rekey failed: the key shares are invalid"); }

std::size_t ShareSize(const SealConfig& config) {
  return config.secret_shares == 1 ? ShamirSeal::kKeySize : ShamirSeal::kKeySize + 1;
}

// The nonce is not secret, but comparing it in constant time costs nothing.
bool NonceMatches(const std::string& expected, std::string_view given) {
  return !expected.empty() && ConstantTimeEquals(expected, given);
}

// Rebuilds a key from `threshold` shares of a config with `shares` shares.
Result<SecretBytes> Rebuild(const std::vector<SecretBytes>& parts, int shares) {
  if (shares == 1) return parts.front().Clone();
  auto combined = crypto::shamir::Combine(parts);
  if (!combined.has_value()) return Err(InvalidArgument("invalid shares"));
  return std::move(*combined);
}

Result<std::vector<SecretBytes>> SplitKey(const SecretBytes& key, const SealConfig& config) {
  if (config.secret_shares == 1) {
    std::vector<SecretBytes> out;
    out.push_back(key.Clone());
    return out;
  }
  return crypto::shamir::Split(key, config.secret_shares, config.secret_threshold);
}

Status AddShare(std::vector<SecretBytes>& submitted, const SecretBytes& share,
                std::size_t expected_size, const char* operation = "rekey") {
  if (share.size() != expected_size) return InvalidArgument("invalid key: wrong length");
  for (const SecretBytes& seen : submitted) {
    if (seen.Equals(share)) {
      return InvalidArgument(std::string("given key has already been provided during this ") +
                             operation + " operation");
    }
  }
  submitted.push_back(share.Clone());
  return Status::Ok();
}

}  // namespace

Status ShamirSeal::UnsealedCheckLocked() {
  if (barrier_.Sealed()) return ::coffer::Sealed("Coffer is sealed");
  return Status::Ok();
}

RekeyStatus ShamirSeal::RekeyStatusLocked(const std::optional<SealConfig>& current) const {
  RekeyStatus s;
  if (current.has_value()) s.required = current->secret_threshold;
  if (!rekey_.has_value()) return s;
  s.started = true;
  s.nonce = rekey_->nonce;
  s.threshold = rekey_->config.secret_threshold;
  s.shares = rekey_->config.secret_shares;
  s.progress = static_cast<int>(rekey_->submitted.size());
  s.verification_required = rekey_->require_verification;
  if (rekey_->pending) s.verification_nonce = rekey_->verification_nonce;
  return s;
}

RekeyVerifyStatus ShamirSeal::RekeyVerifyStatusLocked() const {
  RekeyVerifyStatus s;
  if (!rekey_.has_value() || !rekey_->pending) return s;
  s.started = true;
  s.nonce = rekey_->verification_nonce;
  s.threshold = rekey_->config.secret_threshold;
  s.shares = rekey_->config.secret_shares;
  s.progress = static_cast<int>(rekey_->verify_submitted.size());
  return s;
}

Result<RekeyStatus> ShamirSeal::RekeyInit(int shares, int threshold, bool require_verification) {
  std::scoped_lock lock(mu_);
  TRY(UnsealedCheckLocked());
  ASSIGN_OR_RETURN(std::optional<SealConfig> current, ConfigLocked());
  if (!current.has_value()) return Err(InvalidArgument("Coffer is not initialized"));
  if (rekey_.has_value()) return Err(InvalidArgument("rekey already in progress"));
  TRY(ValidateSealParameters(shares, threshold));
  RekeyAttempt attempt;
  attempt.config = SealConfig{shares, threshold};
  attempt.require_verification = require_verification;
  ASSIGN_OR_RETURN(attempt.nonce, crypto::NewUuid());
  rekey_ = std::move(attempt);
  return RekeyStatusLocked(current);
}

Result<ShamirSeal::OpenedRootKey> ShamirSeal::OpenRootKeyLocked(std::vector<SecretBytes>& submitted,
                                                                const SealConfig& config,
                                                                Status failure) {
  std::vector<SecretBytes> shares = std::move(submitted);
  submitted.clear();
  auto unseal_key = Rebuild(shares, config.secret_shares);
  shares.clear();
  if (!unseal_key.has_value()) return Err(std::move(failure));
  ASSIGN_OR_RETURN(std::optional<storage::Entry> entry, physical_.Get(kRootKeyPath));
  if (!entry.has_value()) return Err(Internal("root key is missing from storage"));
  auto root_key = barrier::DecryptSecret(*unseal_key, entry->value, kRootKeyPath);
  unseal_key->Clear();
  if (!root_key.has_value()) return Err(std::move(failure));
  return OpenedRootKey{std::move(*root_key), std::move(*entry)};
}

Result<RekeyStatus> ShamirSeal::RekeyProgress() {
  std::scoped_lock lock(mu_);
  TRY(UnsealedCheckLocked());
  ASSIGN_OR_RETURN(std::optional<SealConfig> current, ConfigLocked());
  return RekeyStatusLocked(current);
}

Status ShamirSeal::RekeyCancel() {
  std::scoped_lock lock(mu_);
  TRY(UnsealedCheckLocked());
  rekey_.reset();
  return Status::Ok();
}

Result<RekeyUpdateResult> ShamirSeal::RekeyUpdate(const SecretBytes& share,
                                                  std::string_view nonce) {
  std::scoped_lock lock(mu_);
  TRY(UnsealedCheckLocked());
  ASSIGN_OR_RETURN(std::optional<SealConfig> current, ConfigLocked());
  if (!current.has_value()) return Err(InvalidArgument("Coffer is not initialized"));
  if (!rekey_.has_value()) return Err(InvalidArgument("no rekey in progress"));
  RekeyAttempt& attempt = *rekey_;
  if (attempt.pending) {
    return Err(InvalidArgument(
        "rekey already finished; the new shares must be verified (sys/rekey/verify) with "
        "verification nonce " +
        attempt.verification_nonce));
  }
  if (!NonceMatches(attempt.nonce, nonce)) return Err(InvalidArgument("incorrect nonce"));
  TRY(AddShare(attempt.submitted, share, ShareSize(*current)));
  RekeyUpdateResult result;
  if (static_cast<int>(attempt.submitted.size()) < current->secret_threshold) {
    result.status = RekeyStatusLocked(current);
    return result;
  }

  // The threshold is reached: whatever happens next, these shares are spent.
  ASSIGN_OR_RETURN(OpenedRootKey opened,
                   OpenRootKeyLocked(attempt.submitted, *current, RekeyFailed()));

  ASSIGN_OR_RETURN(SecretBytes new_key, crypto::RandomSecret(kKeySize));
  ASSIGN_OR_RETURN(result.shares, SplitKey(new_key, attempt.config));
  result.complete = true;
  if (attempt.require_verification) {
    // Drawn first: on failure the attempt is not left pending with shares
    // nobody was given.
    ASSIGN_OR_RETURN(std::string verification_nonce, crypto::NewUuid());
    attempt.pending = true;
    attempt.new_unseal_key = std::move(new_key);
    attempt.root_key = std::move(opened.key);
    attempt.root_revision = opened.entry.revision;
    attempt.verification_nonce = std::move(verification_nonce);
    result.status = RekeyStatusLocked(current);
    return result;
  }
  result.status = RekeyStatusLocked(current);
  Status committed = CommitRekeyLocked(new_key, opened.key, opened.entry.revision, attempt.config);
  if (!committed.ok()) {
    result.shares.clear();  // never handed out: the old shares stay active
    return Err(std::move(committed));
  }
  rekey_.reset();
  return result;
}

Result<RekeyVerifyStatus> ShamirSeal::RekeyVerifyProgress() {
  std::scoped_lock lock(mu_);
  TRY(UnsealedCheckLocked());
  return RekeyVerifyStatusLocked();
}

Result<RekeyVerifyStatus> ShamirSeal::RekeyVerifyCancel() {
  std::scoped_lock lock(mu_);
  TRY(UnsealedCheckLocked());
  if (!rekey_.has_value() || !rekey_->pending) {
    return Err(InvalidArgument("no rekey verification in progress"));
  }
  ASSIGN_OR_RETURN(std::string verification_nonce, crypto::NewUuid());
  rekey_->verify_submitted.clear();
  rekey_->verification_nonce = std::move(verification_nonce);
  return RekeyVerifyStatusLocked();
}

Result<RekeyVerifyResult> ShamirSeal::RekeyVerifyUpdate(const SecretBytes& share,
                                                        std::string_view nonce) {
  std::scoped_lock lock(mu_);
  TRY(UnsealedCheckLocked());
  if (!rekey_.has_value() || !rekey_->pending) {
    return Err(InvalidArgument("no rekey verification in progress"));
  }
  RekeyAttempt& attempt = *rekey_;
  if (!NonceMatches(attempt.verification_nonce, nonce)) {
    return Err(InvalidArgument("incorrect nonce"));
  }
  TRY(AddShare(attempt.verify_submitted, share, ShareSize(attempt.config)));
  RekeyVerifyResult result;
  if (static_cast<int>(attempt.verify_submitted.size()) < attempt.config.secret_threshold) {
    result.status = RekeyVerifyStatusLocked();
    return result;
  }
  std::vector<SecretBytes> submitted = std::move(attempt.verify_submitted);
  attempt.verify_submitted.clear();
  auto rebuilt = Rebuild(submitted, attempt.config.secret_shares);
  submitted.clear();
  if (!rebuilt.has_value() || !rebuilt->Equals(attempt.new_unseal_key)) {
    // As Vault does, a failed verification draws a new nonce: the holders
    // start over deliberately, and shares sent with the old nonce (a retry
    // of the same mistake) are refused.
    ASSIGN_OR_RETURN(attempt.verification_nonce, crypto::NewUuid());
    return Err(InvalidArgument("rekey verification failed: the key shares are invalid"));
  }
  rebuilt->Clear();
  result.status = RekeyVerifyStatusLocked();
  TRY(CommitRekeyLocked(attempt.new_unseal_key, attempt.root_key, attempt.root_revision,
                        attempt.config));
  result.complete = true;
  rekey_.reset();
  return result;
}

Status ShamirSeal::CommitRekeyLocked(const SecretBytes& unseal_key, const SecretBytes& root_key,
                                     std::uint64_t root_revision, const SealConfig& config) {
  ASSIGN_OR_RETURN(std::string sealed_root,
                   barrier::EncryptValue(0, unseal_key, root_key.view(), kRootKeyPath));
  // One Transact: a crash leaves the old pair or the new one, never a root
  // key under one unseal key with the other's share count. The compare
  // refuses to overwrite a root key another rekey replaced meanwhile.
  const storage::Compare compares[] = {{std::string(kRootKeyPath), root_revision}};
  const storage::Op ops[] = {
      {storage::Op::Kind::kPut, std::string(kRootKeyPath), std::move(sealed_root)},
      {storage::Op::Kind::kPut, std::string(kConfigPath), SealConfigToJson(config)},
  };
  Status st = physical_.Transact(compares, ops);
  if (!st.ok() && st.code() == Code::kConflict) {
    return Conflict("the root key changed in storage during the rekey; start again");
  }
  TRY(st);
  config_ = config;
  return Status::Ok();
}

Result<GenerateRootStatus> ShamirSeal::GenerateRootInit(SecretBytes otp) {
  std::scoped_lock lock(mu_);
  TRY(UnsealedCheckLocked());
  ASSIGN_OR_RETURN(std::optional<SealConfig> current, ConfigLocked());
  if (!current.has_value()) return Err(InvalidArgument("Coffer is not initialized"));
  if (generate_root_.has_value()) {
    return Err(InvalidArgument("root generation already in progress"));
  }
  ASSIGN_OR_RETURN(std::string nonce, crypto::NewUuid());
  generate_root_.emplace();
  generate_root_->nonce = std::move(nonce);
  generate_root_->otp = std::move(otp);
  return GenerateRootStatusLocked(current);
}

GenerateRootStatus ShamirSeal::GenerateRootStatusLocked(
    const std::optional<SealConfig>& current) const {
  GenerateRootStatus s;
  if (current.has_value()) s.required = current->secret_threshold;
  if (!generate_root_.has_value()) return s;
  s.started = true;
  s.nonce = generate_root_->nonce;
  s.progress = static_cast<int>(generate_root_->submitted.size());
  return s;
}

Result<GenerateRootStatus> ShamirSeal::GenerateRootProgress() {
  std::scoped_lock lock(mu_);
  TRY(UnsealedCheckLocked());
  ASSIGN_OR_RETURN(std::optional<SealConfig> current, ConfigLocked());
  return GenerateRootStatusLocked(current);
}

Status ShamirSeal::GenerateRootCancel() {
  std::scoped_lock lock(mu_);
  TRY(UnsealedCheckLocked());
  generate_root_.reset();
  return Status::Ok();
}

Result<GenerateRootUpdateResult> ShamirSeal::GenerateRootUpdate(const SecretBytes& share,
                                                                std::string_view nonce) {
  std::scoped_lock lock(mu_);
  TRY(UnsealedCheckLocked());
  ASSIGN_OR_RETURN(std::optional<SealConfig> current, ConfigLocked());
  if (!current.has_value()) return Err(InvalidArgument("Coffer is not initialized"));
  if (!generate_root_.has_value()) return Err(InvalidArgument("no root generation in progress"));
  GenerateRootAttempt& attempt = *generate_root_;
  if (!NonceMatches(attempt.nonce, nonce)) return Err(InvalidArgument("incorrect nonce"));
  TRY(AddShare(attempt.submitted, share, ShareSize(*current), "root generation"));
  GenerateRootUpdateResult result;
  result.status = GenerateRootStatusLocked(current);
  if (static_cast<int>(attempt.submitted.size()) < current->secret_threshold) return result;

  // The threshold is reached: whatever happens next, these shares are spent.
  ASSIGN_OR_RETURN(
      OpenedRootKey opened,
      OpenRootKeyLocked(attempt.submitted, *current,
                        InvalidArgument("root generation failed: the key shares are invalid")));
  opened.key.Clear();
  result.complete = true;
  result.status.progress = current->secret_threshold;
  result.otp = std::move(attempt.otp);
  generate_root_.reset();
  return result;
}

}  // namespace coffer::seal
