#include "barrier/ciphertext.h"

#include "crypto/aead.h"
#include "crypto/random.h"

namespace coffer::barrier {
namespace {

Status DecryptFailed() { return Internal("failed to decrypt"); }

Status CheckHeader(std::string_view ciphertext) {
  if (ciphertext.size() < kCiphertextOverhead) return DecryptFailed();
  if (static_cast<std::uint8_t>(ciphertext[kTermSize]) != kCiphertextVersion) {
    return Internal("unsupported ciphertext version");
  }
  return Status::Ok();
}

}  // namespace

Result<std::string> EncryptValue(std::uint32_t term, const SecretBytes& key,
                                 std::string_view plaintext, std::string_view aad,
                                 std::span<const std::uint8_t> fresh_nonce,
                                 const crypto::PreparedAesGcm* prepared) {
  std::string out;
  out.reserve(kCiphertextOverhead + plaintext.size());
  out.push_back(static_cast<char>(term >> 24));
  out.push_back(static_cast<char>(term >> 16));
  out.push_back(static_cast<char>(term >> 8));
  out.push_back(static_cast<char>(term));
  out.push_back(static_cast<char>(kCiphertextVersion));
  if (prepared != nullptr) {
    std::uint8_t nonce[crypto::kGcmNonceSize];
    if (fresh_nonce.empty()) {
      TRY(crypto::RandomFill(nonce));
      fresh_nonce = nonce;
    }
    TRY(prepared->SealAppend(plaintext, aad, out, fresh_nonce));
  } else if (fresh_nonce.empty()) {
    TRY(crypto::AesGcmSealAppend(key, plaintext, aad, out));
  } else {
    TRY(crypto::AesGcmSealAppend(key, plaintext, aad, out, fresh_nonce));
  }
  return out;
}

Result<std::uint32_t> CiphertextTerm(std::string_view ciphertext) {
  TRY(CheckHeader(ciphertext));
  auto b = [&](std::size_t i) {
    return static_cast<std::uint32_t>(static_cast<std::uint8_t>(ciphertext[i]));
  };
  return (b(0) << 24) | (b(1) << 16) | (b(2) << 8) | b(3);
}

Result<std::string> DecryptValue(const SecretBytes& key, std::string_view ciphertext,
                                 std::string_view aad, const crypto::PreparedAesGcm* prepared) {
  TRY(CheckHeader(ciphertext));
  auto plain = prepared != nullptr ? prepared->Open(ciphertext.substr(kHeaderSize), aad)
                                   : crypto::AesGcmOpen(key, ciphertext.substr(kHeaderSize), aad);
  if (!plain.has_value()) return Err(DecryptFailed());
  return std::move(*plain);
}

Result<SecretBytes> DecryptSecret(const SecretBytes& key, std::string_view ciphertext,
                                  std::string_view aad) {
  TRY(CheckHeader(ciphertext));
  auto plain = crypto::AesGcmOpenSecret(key, ciphertext.substr(kHeaderSize), aad);
  if (!plain.has_value()) return Err(DecryptFailed());
  return std::move(*plain);
}

}  // namespace coffer::barrier
