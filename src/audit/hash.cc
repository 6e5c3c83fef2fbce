#include "audit/hash.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <array>
#include <functional>
#include <mutex>
#include <vector>

#include "crypto/hmac.h"

namespace coffer::audit {

// A keyed HMAC context set up once. Hashing takes a context from a small
// pool (or duplicates the keyed one) and re-initialises it with the same key,
// which OpenSSL does from its saved inner and outer states: no allocation and
// no key schedule per value. A small cache remembers the hashes of recent
// short values, because every entry hashes the caller's token and accessor.
struct Salt::Impl {
  EVP_MAC* mac = nullptr;
  EVP_MAC_CTX* keyed = nullptr;
  std::mutex mu;
  std::vector<EVP_MAC_CTX*> pool;  // guarded by mu
  static constexpr std::size_t kCacheSlots = 64;
  struct Slot {
    std::string value;
    std::string hash;
  };
  std::array<Slot, kCacheSlots> cache;  // guarded by mu; direct-mapped
  ~Impl() {
    for (EVP_MAC_CTX* c : pool) EVP_MAC_CTX_free(c);
    for (auto& slot : cache) OPENSSL_cleanse(slot.value.data(), slot.value.size());
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
    std::scoped_lock lock(mu);
    if (pool.size() < 16) {
      pool.push_back(c);
    } else {
      EVP_MAC_CTX_free(c);
    }
  }
};

Salt::Salt(SecretBytes key) : key_(std::move(key)), impl_(std::make_unique<Impl>()) {}
Salt::~Salt() = default;

Result<std::shared_ptr<const Salt>> Salt::Create(SecretBytes key) {
  std::shared_ptr<Salt> salt(new Salt(std::move(key)));
  Impl& impl = *salt->impl_;
  impl.mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  if (impl.mac == nullptr) return Err(Internal("HMAC is not available"));
  impl.keyed = EVP_MAC_CTX_new(impl.mac);
  char digest[] = "SHA256";
  OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                         OSSL_PARAM_construct_end()};
  const SecretBytes& k = salt->key_;
  if (impl.keyed == nullptr ||
      EVP_MAC_init(impl.keyed, reinterpret_cast<const unsigned char*>(k.data()), k.size(),
                   params) != 1) {
    return Err(Internal("cannot set up the audit HMAC"));
  }
  return std::shared_ptr<const Salt>(std::move(salt));
}

std::string Salt::Mac(std::string_view value) const {
  std::string out(crypto::kHmacSha256Size, '\0');
  EVP_MAC_CTX* ctx = impl_->Acquire();
  std::size_t len = 0;
  bool ok =
      ctx != nullptr && EVP_MAC_init(ctx, nullptr, 0, nullptr) == 1 &&
      EVP_MAC_update(ctx, reinterpret_cast<const unsigned char*>(value.data()), value.size()) ==
          1 &&
      EVP_MAC_final(ctx, reinterpret_cast<unsigned char*>(out.data()), &len, out.size()) == 1 &&
      len == out.size();
  if (ctx != nullptr) impl_->Release(ctx);
  if (!ok) {
    // Fall back to the one-shot function; it fails only on allocation
    // failure, where an empty MAC still hides the value.
    auto one_shot = crypto::HmacSha256(key_, value);
    return one_shot ? *one_shot : std::string(crypto::kHmacSha256Size, '\0');
  }
  return out;
}

std::string Salt::Hash(std::string_view value) const {
  return "hmac-sha256:" + crypto::ToHex(Mac(value));
}

std::string Salt::HashCached(std::string_view value) const {
  // Tokens and accessors are short and repeat on every request of a client.
  const bool cacheable = value.size() <= 128;
  std::size_t slot = std::hash<std::string_view>()(value) % Impl::kCacheSlots;
  if (cacheable) {
    std::scoped_lock lock(impl_->mu);
    const Impl::Slot& s = impl_->cache[slot];
    if (!s.hash.empty() && s.value.size() == value.size() &&
        CRYPTO_memcmp(s.value.data(), value.data(), value.size()) == 0) {
      return s.hash;
    }
  }
  std::string hash = "hmac-sha256:" + crypto::ToHex(Mac(value));
  if (cacheable) {
    std::scoped_lock lock(impl_->mu);
    Impl::Slot& s = impl_->cache[slot];
    OPENSSL_cleanse(s.value.data(), s.value.size());
    s.value.assign(value);
    s.hash = hash;
  }
  return hash;
}

}  // namespace coffer::audit
