#include "crypto/aead.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

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
  if (fresh_nonce.size() != kGcmNonceSize) return InvalidArgument("AES-GCM nonce must be 12 bytes");
  if (plaintext.size() > INT_MAX - kGcmOverhead || aad.size() > INT_MAX) {
    return InvalidArgument("value too large to encrypt");
  }
  const std::size_t start = out.size();
  out.resize(start + kGcmNonceSize + plaintext.size() + kGcmTagSize);
  auto* base = reinterpret_cast<unsigned char*>(out.data()) + start;
  unsigned char* nonce = base;
  unsigned char* ct = base + kGcmNonceSize;
  unsigned char* tag = ct + plaintext.size();
  std::copy(fresh_nonce.begin(), fresh_nonce.end(), nonce);

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

}  // namespace coffer::crypto
