#include "crypto/keyed_hmac.h"

// SHA256_Init/Update/Final are deprecated in OpenSSL 3 in favour of EVP, but
// they are the only interface that lets a hashing state be saved and copied
// as a plain struct (EVP_MD_CTX_copy allocates); they remain part of
// OpenSSL 3's API and use the same SHA-NI/AVX code.
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <cstring>

#include "common/secret_bytes.h"

namespace coffer::crypto {

struct KeyedHmac::Impl {
  SHA256_CTX inner;  // after absorbing key ^ ipad
  SHA256_CTX outer;  // after absorbing key ^ opad
  ~Impl() {
    OPENSSL_cleanse(&inner, sizeof(inner));
    OPENSSL_cleanse(&outer, sizeof(outer));
  }
  // The states are as good as the key (the token salt, the audit salt):
  // they live where SecretBytes do, in the secure heap when there is one
  // (OpenSSL falls back to the ordinary heap when there is not).
  static void* operator new(std::size_t n) { return AllocateSecret(n); }
  static void operator delete(void* p, std::size_t n) { FreeSecret(p, n); }
};

bool KeyedHmac::InSecureMemory() const { return CRYPTO_secure_allocated(impl_.get()) == 1; }

KeyedHmac::KeyedHmac() : impl_(std::make_unique<Impl>()) {}
KeyedHmac::~KeyedHmac() = default;

Result<std::unique_ptr<KeyedHmac>> KeyedHmac::Create(std::string_view key) {
  std::unique_ptr<KeyedHmac> hmac(new KeyedHmac());
  Impl& impl = *hmac->impl_;
  constexpr std::size_t kBlock = SHA256_CBLOCK;  // 64
  unsigned char block[kBlock] = {};
  if (key.size() > kBlock) {
    // RFC 2104: a key longer than the block is hashed first.
    SHA256(reinterpret_cast<const unsigned char*>(key.data()), key.size(), block);
  } else if (!key.empty()) {
    std::memcpy(block, key.data(), key.size());
  }
  unsigned char pad[kBlock];
  for (std::size_t i = 0; i < kBlock; ++i) pad[i] = block[i] ^ 0x36;
  bool ok = SHA256_Init(&impl.inner) == 1 && SHA256_Update(&impl.inner, pad, kBlock) == 1;
  for (std::size_t i = 0; i < kBlock; ++i) pad[i] = block[i] ^ 0x5c;
  ok = ok && SHA256_Init(&impl.outer) == 1 && SHA256_Update(&impl.outer, pad, kBlock) == 1;
  OPENSSL_cleanse(block, sizeof(block));
  OPENSSL_cleanse(pad, sizeof(pad));
  if (!ok) return Err(Internal("cannot set up HMAC-SHA256"));
  return hmac;
}

void KeyedHmac::MacInto(std::string_view data, std::array<unsigned char, kSize>& out) const {
  SHA256_CTX ctx = impl_->inner;
  unsigned char inner_digest[SHA256_DIGEST_LENGTH];
  SHA256_Update(&ctx, data.data(), data.size());
  SHA256_Final(inner_digest, &ctx);
  ctx = impl_->outer;
  SHA256_Update(&ctx, inner_digest, sizeof(inner_digest));
  SHA256_Final(out.data(), &ctx);
  OPENSSL_cleanse(&ctx, sizeof(ctx));
}

Result<std::string> KeyedHmac::Mac(std::string_view data) const {
  std::array<unsigned char, kSize> mac;
  MacInto(data, mac);
  std::string out(reinterpret_cast<const char*>(mac.data()), mac.size());
  OPENSSL_cleanse(mac.data(), mac.size());
  return out;
}

}  // namespace coffer::crypto
