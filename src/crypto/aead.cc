#include "crypto/aead.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <sodium.h>

#include <algorithm>
#include <climits>
#include <memory>

#include "crypto/random.h"

namespace coffer::crypto {
namespace {

struct CtxDeleter {
  void operator()(EVP_CIPHER_CTX* ctx) const { EVP_CIPHER_CTX_free(ctx); }
};
using CtxPtr = std::unique_ptr<EVP_CIPHER_CTX, CtxDeleter>;

const unsigned char* Bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

Status CheckKey(const SecretBytes& key) {
  if (key.size() != kAes256KeySize) return InvalidArgument("AES-256-GCM key must be 32 bytes");
  return Status::Ok();
}

Status AuthFailed() { return PermissionDenied("message authentication failed"); }

// Checks a seal's sizes and nonce, grows `out` by nonce | ciphertext | tag
// and writes the nonce; the caller fills in the rest (or shrinks `out` back
// to its old size on failure). Answers the nonce's position in `out`.
Result<std::size_t> StartSealed(std::string_view plaintext, std::string_view aad, std::string& out,
                                std::span<const std::uint8_t> fresh_nonce) {
  if (fresh_nonce.size() != kGcmNonceSize) {
    return Err(InvalidArgument("AES-GCM nonce must be 12 bytes"));
  }
  if (plaintext.size() > INT_MAX - kGcmOverhead || aad.size() > INT_MAX) {
    return Err(InvalidArgument("value too large to encrypt"));
  }
  const std::size_t start = out.size();
  out.resize(start + kGcmNonceSize + plaintext.size() + kGcmTagSize);
  std::copy(fresh_nonce.begin(), fresh_nonce.end(), out.begin() + start);
  return start;
}

// The cipher fetched once: EVP_aes_256_gcm() makes OpenSSL 3 look the
// implementation up in its provider store on every init (~3% of a KV read).
// Null only if the default provider lacks AES-GCM; inits then fail cleanly.
const EVP_CIPHER* Aes256Gcm() {
  static EVP_CIPHER* cipher = EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr);
  return cipher;
}

// Decrypts into out[0 .. sealed.size() - kGcmOverhead). On failure the output
// is wiped so no unauthenticated plaintext survives.
Status OpenInto(const SecretBytes& key, std::string_view sealed, std::string_view aad,
                unsigned char* out) {
  TRY(CheckKey(key));
  if (sealed.size() < kGcmOverhead || sealed.size() - kGcmOverhead > INT_MAX ||
      aad.size() > INT_MAX) {
    return AuthFailed();
  }
  const std::size_t ct_len = sealed.size() - kGcmOverhead;
  std::string_view nonce = sealed.substr(0, kGcmNonceSize);
  std::string_view ct = sealed.substr(kGcmNonceSize, ct_len);
  std::string_view tag = sealed.substr(kGcmNonceSize + ct_len);

  CtxPtr ctx(EVP_CIPHER_CTX_new());
  if (!ctx) return Internal("EVP_CIPHER_CTX_new failed");
  int len = 0;
  bool ok = Aes256Gcm() != nullptr &&
            EVP_DecryptInit_ex(ctx.get(), Aes256Gcm(), nullptr, key.data(), Bytes(nonce)) == 1;
  ok = ok && (aad.empty() || EVP_DecryptUpdate(ctx.get(), nullptr, &len, Bytes(aad),
                                               static_cast<int>(aad.size())) == 1);
  ok = ok && (ct_len == 0 ||
              EVP_DecryptUpdate(ctx.get(), out, &len, Bytes(ct), static_cast<int>(ct_len)) == 1);
  // EVP_CTRL_GCM_SET_TAG takes a non-const pointer but only reads it.
  unsigned char tag_copy[kGcmTagSize];
  std::copy(tag.begin(), tag.end(), tag_copy);
  ok = ok && EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kGcmTagSize, tag_copy) == 1;
  int final_len = 0;
  unsigned char empty_out[1];
  unsigned char* final_out = ct_len == 0 ? empty_out : out + len;
  ok = ok && EVP_DecryptFinal_ex(ctx.get(), final_out, &final_len) == 1;
  if (!ok) {
    if (ct_len > 0) OPENSSL_cleanse(out, ct_len);
    return AuthFailed();
  }
  return Status::Ok();
}

}  // namespace

Status AesGcmSealAppend(const SecretBytes& key, std::string_view plaintext, std::string_view aad,
                        std::string& out) {
  std::uint8_t nonce[kGcmNonceSize];
  TRY(RandomFill(nonce));
  return AesGcmSealAppend(key, plaintext, aad, out, nonce);
}

Status AesGcmSealAppend(const SecretBytes& key, std::string_view plaintext, std::string_view aad,
                        std::string& out, std::span<const std::uint8_t> fresh_nonce) {
  TRY(CheckKey(key));
  ASSIGN_OR_RETURN(const std::size_t start, StartSealed(plaintext, aad, out, fresh_nonce));
  unsigned char* nonce = reinterpret_cast<unsigned char*>(out.data()) + start;
  unsigned char* ct = nonce + kGcmNonceSize;
  unsigned char* tag = ct + plaintext.size();

  CtxPtr ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  bool ok = ctx != nullptr;
  ok = ok && Aes256Gcm() != nullptr &&
       EVP_EncryptInit_ex(ctx.get(), Aes256Gcm(), nullptr, key.data(), nonce) == 1;
  ok = ok && (aad.empty() || EVP_EncryptUpdate(ctx.get(), nullptr, &len, Bytes(aad),
                                               static_cast<int>(aad.size())) == 1);
  ok = ok && (plaintext.empty() || EVP_EncryptUpdate(ctx.get(), ct, &len, Bytes(plaintext),
                                                     static_cast<int>(plaintext.size())) == 1);
  int final_len = 0;
  ok = ok && EVP_EncryptFinal_ex(ctx.get(), ct + (plaintext.empty() ? 0 : len), &final_len) == 1;
  ok = ok && EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kGcmTagSize, tag) == 1;
  if (!ok) {
    out.resize(start);
    return Internal("AES-GCM encryption failed");
  }
  return Status::Ok();
}

Result<std::string> AesGcmSeal(const SecretBytes& key, std::string_view plaintext,
                               std::string_view aad) {
  std::string out;
  TRY(AesGcmSealAppend(key, plaintext, aad, out));
  return out;
}

Result<std::string> AesGcmOpen(const SecretBytes& key, std::string_view sealed,
                               std::string_view aad) {
  if (sealed.size() < kGcmOverhead) return Err(AuthFailed());
  std::string out(sealed.size() - kGcmOverhead, '\0');
  TRY(OpenInto(key, sealed, aad, reinterpret_cast<unsigned char*>(out.data())));
  return out;
}

Result<SecretBytes> AesGcmOpenSecret(const SecretBytes& key, std::string_view sealed,
                                     std::string_view aad) {
  if (sealed.size() < kGcmOverhead) return Err(AuthFailed());
  SecretBytes out(sealed.size() - kGcmOverhead);
  TRY(OpenInto(key, sealed, aad, out.data()));
  return out;
}

std::unique_ptr<PreparedAesGcm> PreparedAesGcm::Create(const SecretBytes& key) {
  if (key.size() != kAes256KeySize) return nullptr;
  // sodium_init detects the CPU's features; it is idempotent and thread-safe.
  if (sodium_init() < 0 || crypto_aead_aes256gcm_is_available() == 0) return nullptr;
  static_assert(crypto_aead_aes256gcm_NPUBBYTES == kGcmNonceSize);
  static_assert(crypto_aead_aes256gcm_ABYTES == kGcmTagSize);
  SecretBytes state(sizeof(crypto_aead_aes256gcm_state));
  // The state's alignment is 16; both of SecretBytes' heaps give at least that.
  if (reinterpret_cast<std::uintptr_t>(state.data()) % alignof(crypto_aead_aes256gcm_state) != 0) {
    return nullptr;
  }
  auto* st = reinterpret_cast<crypto_aead_aes256gcm_state*>(state.data());
  if (crypto_aead_aes256gcm_beforenm(st, key.data()) != 0) return nullptr;
  return std::unique_ptr<PreparedAesGcm>(new PreparedAesGcm(std::move(state)));
}

Status PreparedAesGcm::SealAppend(std::string_view plaintext, std::string_view aad,
                                  std::string& out,
                                  std::span<const std::uint8_t> fresh_nonce) const {
  ASSIGN_OR_RETURN(const std::size_t start, StartSealed(plaintext, aad, out, fresh_nonce));
  unsigned char* nonce = reinterpret_cast<unsigned char*>(out.data()) + start;
  unsigned char* ct = nonce + kGcmNonceSize;
  unsigned long long mac_len = 0;
  auto* st = reinterpret_cast<const crypto_aead_aes256gcm_state*>(state_.data());
  if (crypto_aead_aes256gcm_encrypt_detached_afternm(ct, ct + plaintext.size(), &mac_len,
                                                     Bytes(plaintext), plaintext.size(), Bytes(aad),
                                                     aad.size(), nullptr, nonce, st) != 0 ||
      mac_len != kGcmTagSize) {
    out.resize(start);
    return Internal("AES-GCM encryption failed");
  }
  return Status::Ok();
}

Result<std::string> PreparedAesGcm::Open(std::string_view sealed, std::string_view aad) const {
  if (sealed.size() < kGcmOverhead || sealed.size() - kGcmOverhead > INT_MAX ||
      aad.size() > INT_MAX) {
    return Err(AuthFailed());
  }
  const std::size_t ct_len = sealed.size() - kGcmOverhead;
  std::string out(ct_len, '\0');
  auto* m = reinterpret_cast<unsigned char*>(out.data());
  const unsigned char* nonce = Bytes(sealed);
  const unsigned char* ct = nonce + kGcmNonceSize;
  auto* st = reinterpret_cast<const crypto_aead_aes256gcm_state*>(state_.data());
  if (crypto_aead_aes256gcm_decrypt_detached_afternm(m, nullptr, ct, ct_len, ct + ct_len,
                                                     Bytes(aad), aad.size(), nonce, st) != 0) {
    // No unauthenticated plaintext survives a failed open.
    if (ct_len > 0) OPENSSL_cleanse(m, ct_len);
    return Err(AuthFailed());
  }
  return out;
}

}  // namespace coffer::crypto
