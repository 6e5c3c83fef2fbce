#include "seal/shamir_seal.h"

#include <nlohmann/json.hpp>
#include <utility>

#include "barrier/ciphertext.h"
#include "crypto/random.h"
#include "crypto/shamir.h"

namespace coffer::seal {

Status ValidateSealParameters(int shares, int threshold) {
  if (shares < 1) return InvalidArgument("secret shares must be at least one");
  if (threshold < 1) return InvalidArgument("secret threshold must be at least one");
  if (shares > 255) return InvalidArgument("secret shares must be less than 256");
  if (threshold > shares)
    return InvalidArgument("secret threshold cannot be larger than secret shares");
  if (shares > 1 && threshold == 1) {
    return InvalidArgument("secret threshold must be greater than one for multiple shares");
  }
  return Status::Ok();
}

std::string SealConfigToJson(const SealConfig& config) {
  nlohmann::json j = {{"type", "shamir"},
                      {"secret_shares", config.secret_shares},
                      {"secret_threshold", config.secret_threshold}};
  return j.dump();
}

namespace {

Result<SealConfig> ConfigFromJson(std::string_view text) {
  try {
    nlohmann::json j = nlohmann::json::parse(text);
    SealConfig config;
    config.secret_shares = j.at("secret_shares").get<int>();
    config.secret_threshold = j.at("secret_threshold").get<int>();
    TRY(ValidateSealParameters(config.secret_shares, config.secret_threshold));
    return config;
  } catch (const nlohmann::json::exception&) {
    return Err(Internal("seal configuration in storage is malformed"));
  }
}

Status UnsealFailed() { return InvalidArgument("unseal failed: the key shares are invalid"); }

}  // namespace

ShamirSeal::ShamirSeal(storage::Backend& physical, barrier::AesGcmBarrier& barrier)
    : physical_(physical), barrier_(barrier) {}

Result<bool> ShamirSeal::Initialized() { return barrier_.Initialized(); }

Result<std::optional<SealConfig>> ShamirSeal::Config() {
  std::scoped_lock lock(mu_);
  return ConfigLocked();
}

Result<std::optional<SealConfig>> ShamirSeal::ConfigLocked() {
  if (config_.has_value()) return config_;
  ASSIGN_OR_RETURN(std::optional<storage::Entry> entry, physical_.Get(kConfigPath));
  if (!entry.has_value()) return std::optional<SealConfig>();
  ASSIGN_OR_RETURN(SealConfig config, ConfigFromJson(entry->value));
  // Only cache a config that belongs to a finished initialisation.
  ASSIGN_OR_RETURN(bool initialized, barrier_.Initialized());
  if (!initialized) return std::optional<SealConfig>();
  config_ = config;
  return config_;
}

Result<InitResult> ShamirSeal::Initialize(int shares, int threshold) {
  TRY(ValidateSealParameters(shares, threshold));
  std::scoped_lock lock(mu_);
  ASSIGN_OR_RETURN(bool initialized, barrier_.Initialized());
  if (initialized) return Err(AlreadyExists("Vault is already initialized"));

  ASSIGN_OR_RETURN(SecretBytes unseal_key, crypto::RandomSecret(kKeySize));
  ASSIGN_OR_RETURN(SecretBytes root_key, crypto::RandomSecret(kKeySize));
  InitResult result;
  if (shares == 1) {
    result.shares.push_back(unseal_key.Clone());
  } else {
    ASSIGN_OR_RETURN(result.shares, crypto::shamir::Split(unseal_key, shares, threshold));
  }

  ASSIGN_OR_RETURN(std::string sealed_root,
                   barrier::EncryptValue(0, unseal_key, root_key.view(), kRootKeyPath));
  const SealConfig config{shares, threshold};
  // The keyring, written last by barrier_.Initialize, is the commit point: a
  // crash before it leaves storage uninitialised and Initialize can run again.
  TRY(physical_.Put(kRootKeyPath, sealed_root));
  TRY(physical_.Put(kConfigPath, SealConfigToJson(config)));
  TRY(barrier_.Initialize(root_key));
  config_ = config;
  ResetLocked();
  rekey_.reset();
  return result;
}

Result<UnsealProgress> ShamirSeal::SubmitShare(const SecretBytes& share) {
  std::scoped_lock lock(mu_);
  // Each attempt reads the configuration afresh: another process sharing the
  // storage may have rekeyed since it was cached.
  if (submitted_.empty() && barrier_.Sealed()) config_.reset();
  ASSIGN_OR_RETURN(std::optional<SealConfig> config, ConfigLocked());
  if (!config.has_value()) return Err(InvalidArgument("Vault is not initialized"));
  if (!barrier_.Sealed()) return ProgressLocked(config);

  const std::size_t expected = config->secret_shares == 1 ? kKeySize : kKeySize + 1;
  if (share.size() != expected) return Err(InvalidArgument("invalid key: wrong length"));
  for (const SecretBytes& seen : submitted_) {
    if (seen.Equals(share)) {
      return Err(
          InvalidArgument("given key has already been provided during this unseal operation"));
    }
  }
  // The nonce first: a share is only counted once the attempt has one.
  if (nonce_.empty()) {
    ASSIGN_OR_RETURN(nonce_, crypto::NewUuid());
  }
  submitted_.push_back(share.Clone());
  if (static_cast<int>(submitted_.size()) < config->secret_threshold) {
    return ProgressLocked(config);
  }

  Status st = UnsealLocked(*config);
  ResetLocked();  // success or failure, this attempt is over
  TRY(st);
  return ProgressLocked(config);
}

Status ShamirSeal::UnsealLocked(const SealConfig& config) {
  SecretBytes unseal_key;
  if (config.secret_shares == 1) {
    unseal_key = submitted_.front().Clone();
  } else {
    auto combined = crypto::shamir::Combine(submitted_);
    if (!combined.has_value()) return UnsealFailed();
    unseal_key = std::move(*combined);
  }
  ASSIGN_OR_RETURN(std::optional<storage::Entry> entry, physical_.Get(kRootKeyPath));
  if (!entry.has_value()) return Internal("root key is missing from storage");
  auto root_key = barrier::DecryptSecret(unseal_key, entry->value, kRootKeyPath);
  if (!root_key.has_value()) return UnsealFailed();
  Status st = barrier_.Unseal(*root_key);
  // The root key opened, so a failure here is the keyring's, not the shares'.
  if (!st.ok() && st.code() == Code::kPermissionDenied) {
    return Internal("root key does not open the keyring");
  }
  return st;
}

void ShamirSeal::ResetProgress() {
  std::scoped_lock lock(mu_);
  ResetLocked();
}

void ShamirSeal::ResetLocked() {
  submitted_.clear();  // SecretBytes wipe themselves
  nonce_.clear();
}

UnsealProgress ShamirSeal::Progress() {
  std::scoped_lock lock(mu_);
  auto config = ConfigLocked();
  return ProgressLocked(config.has_value() ? *config : std::nullopt);
}

UnsealProgress ShamirSeal::ProgressLocked(const std::optional<SealConfig>& config) const {
  UnsealProgress p;
  p.sealed = barrier_.Sealed();
  if (config.has_value()) {
    p.threshold = config->secret_threshold;
    p.shares = config->secret_shares;
  }
  if (p.sealed) {
    p.progress = static_cast<int>(submitted_.size());
    p.nonce = nonce_;
  }
  return p;
}

Status ShamirSeal::Seal() {
  std::scoped_lock lock(mu_);
  barrier_.Seal();
  ResetLocked();
  rekey_.reset();  // SecretBytes wipe themselves
  generate_root_.reset();
  return Status::Ok();
}

}  // namespace coffer::seal
