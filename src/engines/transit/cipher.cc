#include "engines/transit/cipher.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include <climits>
#include <cstring>
#include <memory>
#include <optional>
#include <span>

#include "crypto/hmac.h"
#include "crypto/random.h"

namespace coffer::engines::transit {
namespace {

using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)>;
using PkeyCtx = std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)>;

const EVP_CIPHER* CipherFor(KeyType type) {
  switch (type) {
    case KeyType::kAes128Gcm96:
      return EVP_aes_128_gcm();
    case KeyType::kAes256Gcm96:
      return EVP_aes_256_gcm();
    case KeyType::kChaCha20Poly1305:
      return EVP_chacha20_poly1305();
    default:
      return nullptr;
  }
}

const unsigned char* U(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

// One cipher context per thread, re-initialised for every call (saves an
// allocation per item on the hot path). The guard resets it when the call
// ends, which wipes the expanded key instead of leaving it in the context —
// except inside a SealScope (one batch), where encryptions with the same
// cipher and key only set a new nonce and the scope wipes the context when
// the batch is done.
struct SealState {
  CipherCtx ctx{EVP_CIPHER_CTX_new(), &EVP_CIPHER_CTX_free};
  int scopes = 0;                      // SealScopes alive on this thread
  const EVP_CIPHER* cipher = nullptr;  // what ctx is keyed with, inside a scope
  SecretBytes key;
};
SealState& ThreadSeal() {
  thread_local SealState state;
  return state;
}

struct ThreadCipherCtx {
  ThreadCipherCtx() {
    thread_local CipherCtx ctx(EVP_CIPHER_CTX_new(), &EVP_CIPHER_CTX_free);
    ptr = ctx.get();
  }
  ~ThreadCipherCtx() {
    if (ptr != nullptr) EVP_CIPHER_CTX_reset(ptr);
  }
  ThreadCipherCtx(const ThreadCipherCtx&) = delete;
  ThreadCipherCtx& operator=(const ThreadCipherCtx&) = delete;
  EVP_CIPHER_CTX* ptr = nullptr;
};

// Random nonces from the per-thread buffer of crypto::RandomNonce.
Result<std::string> NextNonce() {
  std::string nonce(kAeadNonceSize, '\0');
  TRY(crypto::RandomNonce(
      std::span<std::uint8_t>(reinterpret_cast<std::uint8_t*>(nonce.data()), nonce.size())));
  return nonce;
}

Status AuthFailed() { return InvalidArgument("cipher: message authentication failed"); }

Result<std::string> RsaEncrypt(const KeyVersion& v, std::string_view plaintext) {
  PkeyCtx ctx(EVP_PKEY_CTX_new(v.pkey.get(), nullptr), &EVP_PKEY_CTX_free);
  std::size_t len = 0;
  bool ok = ctx && EVP_PKEY_encrypt_init(ctx.get()) == 1 &&
            EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_OAEP_PADDING) == 1 &&
            EVP_PKEY_CTX_set_rsa_oaep_md(ctx.get(), EVP_sha256()) == 1 &&
            EVP_PKEY_CTX_set_rsa_mgf1_md(ctx.get(), EVP_sha256()) == 1 &&
            EVP_PKEY_encrypt(ctx.get(), nullptr, &len, U(plaintext), plaintext.size()) == 1;
  if (!ok) return Err(InvalidArgument("RSA encryption failed: plaintext too long for the key"));
  std::string out(len, '\0');
  if (EVP_PKEY_encrypt(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &len, U(plaintext),
                       plaintext.size()) != 1) {
    return Err(InvalidArgument("RSA encryption failed: plaintext too long for the key"));
  }
  out.resize(len);
  return out;
}

Result<SecretBytes> RsaDecrypt(const KeyVersion& v, std::string_view payload) {
  PkeyCtx ctx(EVP_PKEY_CTX_new(v.pkey.get(), nullptr), &EVP_PKEY_CTX_free);
  std::size_t len = 0;
  bool ok = ctx && EVP_PKEY_decrypt_init(ctx.get()) == 1 &&
            EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_OAEP_PADDING) == 1 &&
            EVP_PKEY_CTX_set_rsa_oaep_md(ctx.get(), EVP_sha256()) == 1 &&
            EVP_PKEY_CTX_set_rsa_mgf1_md(ctx.get(), EVP_sha256()) == 1 &&
            EVP_PKEY_decrypt(ctx.get(), nullptr, &len, U(payload), payload.size()) == 1;
  if (!ok) return Err(InvalidArgument("RSA decryption failed"));
  SecretBytes out(len);
  if (EVP_PKEY_decrypt(ctx.get(), out.data(), &len, U(payload), payload.size()) != 1) {
    return Err(InvalidArgument("RSA decryption failed"));
  }
  SecretBytes exact(out.data(), len);
  return exact;
}

}  // namespace

Result<std::string> AeadSeal(KeyType type, const SecretBytes& key, std::string_view nonce,
                             std::string_view plaintext, std::string_view aad,
                             const crypto::LazyPreparedAesGcm* prepared) {
  const EVP_CIPHER* cipher = CipherFor(type);
  if (cipher == nullptr) return Err(Internal("transit: not an AEAD key type"));
  if (nonce.size() != kAeadNonceSize) return Err(Internal("transit: bad nonce size"));
  if (plaintext.size() > INT_MAX - 64 || aad.size() > INT_MAX) {
    return Err(InvalidArgument("plaintext is too large"));
  }
  SealState& seal = ThreadSeal();
  // One item: the key prepared once rather than keyed per call. A batch
  // (SealScope) keys the thread's context once and then only sets each
  // nonce, which measured faster per 32-byte item.
  const crypto::PreparedAesGcm* ready = nullptr;
  if (prepared != nullptr && type == KeyType::kAes256Gcm96 && seal.scopes == 0) {
    ready = prepared->Get(key);
  }
  if (ready != nullptr) {
    std::string sealed;
    if (!ready->SealAppend(plaintext, aad, sealed, std::span(U(nonce), nonce.size())).ok()) {
      return Err(Internal("transit: encryption failed"));
    }
    return sealed;
  }
  std::string out(kAeadNonceSize + plaintext.size() + kAeadTagSize, '\0');
  auto* base = reinterpret_cast<unsigned char*>(out.data());
  std::copy(nonce.begin(), nonce.end(), base);
  std::optional<ThreadCipherCtx> guard;
  EVP_CIPHER_CTX* ctx = nullptr;
  bool ok = true;
  if (seal.scopes > 0 && seal.ctx != nullptr) {
    // Inside a batch: key the context once, then only set each nonce.
    ctx = seal.ctx.get();
    bool keyed = seal.cipher == cipher && seal.key.size() == key.size() &&
                 CRYPTO_memcmp(seal.key.data(), key.data(), key.size()) == 0;
    if (!keyed) {
      ok = EVP_EncryptInit_ex(ctx, cipher, nullptr, key.data(), base) == 1;
      seal.cipher = ok ? cipher : nullptr;
      seal.key = key.Clone();
    } else {
      ok = EVP_EncryptInit_ex(ctx, nullptr, nullptr, nullptr, base) == 1;
    }
  } else {
    guard.emplace();
    ctx = guard->ptr;
    ok = ctx != nullptr && EVP_EncryptInit_ex(ctx, cipher, nullptr, key.data(), base) == 1;
  }
  int len = 0, final_len = 0;
  ok = ok && (aad.empty() ||
              EVP_EncryptUpdate(ctx, nullptr, &len, U(aad), static_cast<int>(aad.size())) == 1);
  ok = ok && (plaintext.empty() || EVP_EncryptUpdate(ctx, base + kAeadNonceSize, &len, U(plaintext),
                                                     static_cast<int>(plaintext.size())) == 1);
  ok = ok && EVP_EncryptFinal_ex(ctx, base + kAeadNonceSize + len, &final_len) == 1;
  ok = ok && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, kAeadTagSize,
                                 base + kAeadNonceSize + plaintext.size()) == 1;
  if (!ok && seal.scopes > 0) seal.cipher = nullptr;  // re-key on the next item
  if (!ok) return Err(Internal("transit: encryption failed"));
  return out;
}

Result<SecretBytes> AeadOpen(KeyType type, const SecretBytes& key, std::string_view payload,
                             std::string_view aad) {
  const EVP_CIPHER* cipher = CipherFor(type);
  if (cipher == nullptr) return Err(Internal("transit: not an AEAD key type"));
  if (payload.size() < kAeadNonceSize + kAeadTagSize) {
    return Err(InvalidArgument("invalid ciphertext: too short"));
  }
  if (payload.size() > INT_MAX || aad.size() > INT_MAX) return Err(AuthFailed());
  const std::size_t ct_len = payload.size() - kAeadNonceSize - kAeadTagSize;
  std::string_view ct = payload.substr(kAeadNonceSize, ct_len);
  unsigned char tag[kAeadTagSize];
  std::copy_n(payload.data() + kAeadNonceSize + ct_len, kAeadTagSize, tag);
  SecretBytes out(ct_len);
  unsigned char scratch[1];
  unsigned char* dst = ct_len == 0 ? scratch : out.data();
  ThreadCipherCtx guard;
  EVP_CIPHER_CTX* ctx = guard.ptr;
  int len = 0, final_len = 0;
  bool ok = ctx != nullptr && EVP_DecryptInit_ex(ctx, cipher, nullptr, key.data(), U(payload)) == 1;
  ok = ok && (aad.empty() ||
              EVP_DecryptUpdate(ctx, nullptr, &len, U(aad), static_cast<int>(aad.size())) == 1);
  len = 0;
  ok = ok &&
       (ct_len == 0 || EVP_DecryptUpdate(ctx, dst, &len, U(ct), static_cast<int>(ct_len)) == 1);
  ok = ok && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, kAeadTagSize, tag) == 1;
  ok = ok && EVP_DecryptFinal_ex(ctx, dst + len, &final_len) == 1;
  if (!ok) {
    out.Clear();
    return Err(AuthFailed());
  }
  return out;
}

SealScope::SealScope() { ++ThreadSeal().scopes; }

SealScope::~SealScope() {
  SealState& seal = ThreadSeal();
  if (--seal.scopes > 0) return;
  if (seal.ctx) EVP_CIPHER_CTX_reset(seal.ctx.get());
  seal.cipher = nullptr;
  seal.key.Clear();
}

Result<SecretBytes> EncryptionKey(const Policy& policy, const KeyVersion& version,
                                  std::string_view context) {
  if (!policy.derived) return version.key.Clone();
  if (context.empty()) {
    return Err(InvalidArgument(
        "missing 'context' for key derivation; the key was created using a derived key, which "
        "means additional, per-request information is required"));
  }
  return Hkdf(version.key, context, version.key.size());
}

Result<std::string> EncryptPayload(const Policy& policy, const KeyVersion& version,
                                   std::string_view plaintext, std::string_view context,
                                   std::string_view aad) {
  if (IsRsa(policy.type)) return RsaEncrypt(version, plaintext);
  if (!IsSymmetricAead(policy.type)) {
    return Err(InvalidArgument("key type " + std::string(KeyTypeName(policy.type)) +
                               " does not support encryption"));
  }
  SecretBytes derived;
  if (policy.derived) {
    ASSIGN_OR_RETURN(derived, EncryptionKey(policy, version, context));
  }
  const SecretBytes& key = policy.derived ? derived : version.key;
  std::string nonce;
  if (policy.convergent) {
    // Deterministic: the nonce is a MAC of the plaintext under a key derived
    // from the (already context-derived) encryption key, so it repeats only
    // when key, context and plaintext all repeat. Associated data is MACed
    // too (length first, then the bytes, then the plaintext): one nonce with
    // two AADs would give two tags over one ciphertext, and from those the
    // GCM/Poly1305 authentication key. Without AAD the input is the plaintext
    // alone, as it always was, so such ciphertexts do not change. With AAD
    // the MAC key is another one: under the same key, the plaintext
    // be64(len(A)) || A || P without AAD would otherwise get the nonce of P
    // with AAD A, and the two tags over it would give the key away again.
    std::string mac;
    if (aad.empty()) {
      ASSIGN_OR_RETURN(SecretBytes nonce_key, Hkdf(key, "transit-convergent-nonce", 32));
      ASSIGN_OR_RETURN(mac, crypto::HmacSha256(nonce_key, plaintext));
    } else {
      ASSIGN_OR_RETURN(SecretBytes nonce_key, Hkdf(key, "transit-convergent-nonce-aad", 32));
      SecretBytes input(8 + aad.size() + plaintext.size());
      std::uint64_t n = aad.size();
      for (int i = 7; i >= 0; --i, n >>= 8) input.data()[i] = static_cast<std::uint8_t>(n & 0xff);
      std::memcpy(input.data() + 8, aad.data(), aad.size());
      if (!plaintext.empty()) {
        std::memcpy(input.data() + 8 + aad.size(), plaintext.data(), plaintext.size());
      }
      ASSIGN_OR_RETURN(mac, crypto::HmacSha256(nonce_key, input.view()));
    }
    nonce = mac.substr(0, kAeadNonceSize);
  } else {
    ASSIGN_OR_RETURN(nonce, NextNonce());
  }
  // A derived key is made per context; only the version's own key is
  // prepared (once, on its first encryption).
  return AeadSeal(policy.type, key, nonce, plaintext, aad,
                  policy.derived ? nullptr : version.prepared.get());
}

Result<SecretBytes> DecryptPayload(const Policy& policy, const KeyVersion& version,
                                   std::string_view payload, std::string_view context,
                                   std::string_view aad) {
  if (IsRsa(policy.type)) return RsaDecrypt(version, payload);
  if (!IsSymmetricAead(policy.type)) {
    return Err(InvalidArgument("key type " + std::string(KeyTypeName(policy.type)) +
                               " does not support decryption"));
  }
  if (!policy.derived) return AeadOpen(policy.type, version.key, payload, aad);
  ASSIGN_OR_RETURN(SecretBytes key, EncryptionKey(policy, version, context));
  return AeadOpen(policy.type, key, payload, aad);
}

}  // namespace coffer::engines::transit
