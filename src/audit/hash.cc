#include "audit/hash.h"

#include <openssl/crypto.h>

#include <algorithm>
#include <array>
#include <functional>
#include <mutex>

#include "common/encoding.h"
#include "crypto/keyed_hmac.h"

namespace coffer::audit {

// The keyed HMAC (crypto::KeyedHmac: no key schedule per value) and a small
// cache of the hashes of recent short values, because every entry hashes the
// caller's token and accessor. The hashes of "", "true" and "false" are made
// once: responses carry them on every read (KV v2's metadata has
// `deletion_time: ""` and `destroyed: false`).
struct Salt::Impl {
  std::unique_ptr<crypto::KeyedHmac> hmac;
  std::string empty_hash, true_hash, false_hash;
  std::mutex mu;
  static constexpr std::size_t kCacheSlots = 64;
  static constexpr std::size_t kCacheableBytes = 128;
  // A slot keeps its value (a token, an accessor) inline, so that it lives
  // where the Impl does: in the secure heap (below), never in the ordinary
  // one that a core dump or swap would carry.
  struct Slot {
    std::array<char, kCacheableBytes> value{};
    std::size_t size = 0;
    std::string hash;  // "hmac-sha256:..." (not secret)
  };
  std::array<Slot, kCacheSlots> cache;  // guarded by mu; direct-mapped

  ~Impl() {
    for (auto& slot : cache) OPENSSL_cleanse(slot.value.data(), slot.value.size());
  }
  static void* operator new(std::size_t n) { return AllocateSecret(n); }
  static void operator delete(void* p, std::size_t n) { FreeSecret(p, n); }
};

Salt::Salt(SecretBytes key) : key_(std::move(key)), impl_(std::make_unique<Impl>()) {}
Salt::~Salt() = default;

Result<std::shared_ptr<const Salt>> Salt::Create(SecretBytes key) {
  std::shared_ptr<Salt> salt(new Salt(std::move(key)));
  Impl& impl = *salt->impl_;
  ASSIGN_OR_RETURN(impl.hmac, crypto::KeyedHmac::Create(salt->key_.view()));
  salt->AppendMacHex(impl.empty_hash, "");
  salt->AppendMacHex(impl.true_hash, "true");
  salt->AppendMacHex(impl.false_hash, "false");
  return std::shared_ptr<const Salt>(std::move(salt));
}

bool Salt::InSecureMemory() const {
  return CRYPTO_secure_allocated(impl_.get()) == 1 && impl_->hmac->InSecureMemory();
}

std::string Salt::Mac(std::string_view value) const {
  std::array<unsigned char, crypto::KeyedHmac::kSize> mac;
  impl_->hmac->MacInto(value, mac);
  return std::string(reinterpret_cast<const char*>(mac.data()), mac.size());
}

void Salt::AppendHash(std::string& out, std::string_view value) const {
  if (value.empty()) {
    out += impl_->empty_hash;
  } else {
    AppendMacHex(out, value);
  }
}

void Salt::AppendMacHex(std::string& out, std::string_view value) const {
  std::array<unsigned char, crypto::KeyedHmac::kSize> mac;
  impl_->hmac->MacInto(value, mac);
  out += "hmac-sha256:";
  AppendHex(out, std::string_view(reinterpret_cast<const char*>(mac.data()), mac.size()));
}

std::string Salt::Hash(std::string_view value) const {
  std::string out;
  out.reserve(12 + 2 * crypto::KeyedHmac::kSize);
  AppendHash(out, value);
  return out;
}

void Salt::AppendHashOfBool(std::string& out, bool value) const {
  out += value ? impl_->true_hash : impl_->false_hash;
}

void Salt::AppendHashCached(std::string& out, std::string_view value) const {
  // Tokens and accessors are short and repeat on every request of a client.
  const bool cacheable = value.size() <= Impl::kCacheableBytes;
  std::size_t slot = std::hash<std::string_view>()(value) % Impl::kCacheSlots;
  if (cacheable) {
    std::scoped_lock lock(impl_->mu);
    const Impl::Slot& s = impl_->cache[slot];
    if (!s.hash.empty() && s.size == value.size() &&
        CRYPTO_memcmp(s.value.data(), value.data(), value.size()) == 0) {
      out += s.hash;
      return;
    }
  }
  const std::size_t start = out.size();
  AppendHash(out, value);
  if (cacheable) {
    std::scoped_lock lock(impl_->mu);
    Impl::Slot& s = impl_->cache[slot];
    OPENSSL_cleanse(s.value.data(), s.value.size());
    std::copy(value.begin(), value.end(), s.value.begin());
    s.size = value.size();
    s.hash.assign(out, start, std::string::npos);
  }
}

}  // namespace coffer::audit
