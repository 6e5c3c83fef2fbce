#include "crypto/hmac.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <climits>

#include "common/encoding.h"

namespace coffer::crypto {

Result<std::string> HmacSha256(std::string_view key, std::string_view data) {
  if (key.size() > INT_MAX) return Err(InvalidArgument("HMAC key too large"));
  std::string out(kHmacSha256Size, '\0');
  unsigned int len = 0;
  // An empty key is legal for HMAC; give OpenSSL a valid pointer anyway.
  static const unsigned char kEmpty = 0;
  const void* key_ptr = key.empty() ? static_cast<const void*>(&kEmpty) : key.data();
  unsigned char* res =
      HMAC(EVP_sha256(), key_ptr, static_cast<int>(key.size()),
           data.empty() ? &kEmpty : reinterpret_cast<const unsigned char*>(data.data()),
           data.size(), reinterpret_cast<unsigned char*>(out.data()), &len);
  if (res == nullptr || len != kHmacSha256Size) return Err(Internal("HMAC-SHA256 failed"));
  return out;
}

Result<std::string> HmacSha256(const SecretBytes& key, std::string_view data) {
  return HmacSha256(key.view(), data);
}

bool HmacSha256Verify(const SecretBytes& key, std::string_view data, std::string_view mac) {
  auto expected = HmacSha256(key, data);
  if (!expected.has_value()) return false;
  return ConstantTimeEquals(*expected, mac);
}

std::string ToHex(std::string_view bytes) { return HexEncode(bytes); }

}  // namespace coffer::crypto
