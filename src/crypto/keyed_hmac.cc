#include "crypto/keyed_hmac.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <mutex>
#include <vector>

#include "crypto/hmac.h"

namespace coffer::crypto {

struct KeyedHmac::Impl {
  EVP_MAC* mac = nullptr;
  EVP_MAC_CTX* keyed = nullptr;  // never used directly: the template for copies
  std::mutex mu;
  std::vector<EVP_MAC_CTX*> pool;  // guarded by mu

  ~Impl() {
    for (EVP_MAC_CTX* c : pool) EVP_MAC_CTX_free(c);
    EVP_MAC_CTX_free(keyed);
    EVP_MAC_free(mac);
  }
  EVP_MAC_CTX* Acquire() {
    {
      std::scoped_lock lock(mu);
      if (!pool.empty()) {
        EVP_MAC_CTX* c = pool.back();
        pool.pop_back();
        return c;
      }
    }
    return EVP_MAC_CTX_dup(keyed);
  }
  void Release(EVP_MAC_CTX* c) {
    {
      std::scoped_lock lock(mu);
      if (pool.size() < 64) {
        pool.push_back(c);
        return;
      }
    }
    EVP_MAC_CTX_free(c);
  }
};

KeyedHmac::KeyedHmac() : impl_(std::make_unique<Impl>()) {}
KeyedHmac::~KeyedHmac() = default;

Result<std::unique_ptr<KeyedHmac>> KeyedHmac::Create(std::string_view key) {
  std::unique_ptr<KeyedHmac> hmac(new KeyedHmac());
  Impl& impl = *hmac->impl_;
  impl.mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  if (impl.mac == nullptr) return Err(Internal("HMAC is not available"));
  impl.keyed = EVP_MAC_CTX_new(impl.mac);
  char digest[] = "SHA256";
  OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                         OSSL_PARAM_construct_end()};
  // An empty key is legal for HMAC; give OpenSSL a valid pointer anyway.
  static const unsigned char kEmpty = 0;
  const auto* key_ptr = key.empty() ? &kEmpty : reinterpret_cast<const unsigned char*>(key.data());
  if (impl.keyed == nullptr || EVP_MAC_init(impl.keyed, key_ptr, key.size(), params) != 1) {
    return Err(Internal("cannot set up HMAC-SHA256"));
  }
  return hmac;
}

Result<std::string> KeyedHmac::Mac(std::string_view data) const {
  std::string out(kHmacSha256Size, '\0');
  EVP_MAC_CTX* ctx = impl_->Acquire();
  if (ctx == nullptr) return Err(Internal("HMAC-SHA256 failed"));
  std::size_t len = 0;
  // init with no key re-uses the key already set: OpenSSL restores the saved
  // inner/outer states.
  const bool ok =
      EVP_MAC_init(ctx, nullptr, 0, nullptr) == 1 &&
      EVP_MAC_update(ctx, reinterpret_cast<const unsigned char*>(data.data()), data.size()) == 1 &&
      EVP_MAC_final(ctx, reinterpret_cast<unsigned char*>(out.data()), &len, out.size()) == 1 &&
      len == out.size();
  impl_->Release(ctx);
  if (!ok) return Err(Internal("HMAC-SHA256 failed"));
  return out;
}

}  // namespace coffer::crypto
