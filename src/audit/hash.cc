#include "audit/hash.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "crypto/hmac.h"

namespace coffer::audit {

// A keyed HMAC context set up once; each hash duplicates it, so the key
// schedule (two SHA-256 blocks) is not redone per value.
struct Salt::Impl {
  EVP_MAC* mac = nullptr;
  EVP_MAC_CTX* keyed = nullptr;
  ~Impl() {
    EVP_MAC_CTX_free(keyed);
    EVP_MAC_free(mac);
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
  EVP_MAC_CTX* ctx = EVP_MAC_CTX_dup(impl_->keyed);
  std::size_t len = 0;
  bool ok =
      ctx != nullptr &&
      EVP_MAC_update(ctx, reinterpret_cast<const unsigned char*>(value.data()), value.size()) ==
          1 &&
      EVP_MAC_final(ctx, reinterpret_cast<unsigned char*>(out.data()), &len, out.size()) == 1 &&
      len == out.size();
  EVP_MAC_CTX_free(ctx);
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

namespace {

void HashValue(logical::Json& v, const Salt& salt) {
  switch (v.type()) {
    case logical::Json::value_t::object:
      for (auto& [k, child] : v.items()) HashValue(child, salt);
      break;
    case logical::Json::value_t::array:
      for (auto& child : v) HashValue(child, salt);
      break;
    case logical::Json::value_t::string:
      v = salt.Hash(v.get_ref<const std::string&>());
      break;
    case logical::Json::value_t::boolean:
    case logical::Json::value_t::number_integer:
    case logical::Json::value_t::number_unsigned:
    case logical::Json::value_t::number_float:
      v = salt.Hash(v.dump());
      break;
    case logical::Json::value_t::binary: {
      const auto& bin = v.get_binary();
      v = salt.Hash(std::string_view(reinterpret_cast<const char*>(bin.data()), bin.size()));
      break;
    }
    case logical::Json::value_t::null:
    case logical::Json::value_t::discarded:
      break;
  }
}

}  // namespace

void HashLeaves(logical::Json& value, const Salt& salt, const std::set<std::string>* exempt) {
  if (exempt != nullptr && !exempt->empty() && value.is_object()) {
    for (auto& [k, child] : value.items()) {
      if (!exempt->contains(k)) HashValue(child, salt);
    }
    return;
  }
  HashValue(value, salt);
}

}  // namespace coffer::audit
