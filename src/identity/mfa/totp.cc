#include "identity/mfa/totp.h"

#include <liboath/oath.h>
#include <openssl/crypto.h>

#include <array>
#include <mutex>

namespace coffer::identity::mfa {
namespace {

bool OathReady() {
  static std::once_flag once;
  static bool ok = false;
  std::call_once(once, [] { ok = oath_init() == OATH_OK; });
  return ok;
}

std::optional<int> Flags(std::string_view algorithm) {
  if (algorithm == "SHA1") return 0;
  if (algorithm == "SHA256") return static_cast<int>(OATH_TOTP_HMAC_SHA256);
  if (algorithm == "SHA512") return static_cast<int>(OATH_TOTP_HMAC_SHA512);
  return std::nullopt;
}

std::string UrlEscape(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

}  // namespace

Result<SecretBytes> TotpCode(const SecretBytes& key, const TotpParams& params,
                             std::int64_t counter) {
  auto flags = Flags(params.algorithm);
  if (!flags || (params.digits != 6 && params.digits != 8) || params.period <= 0 || counter < 0) {
    return Err(InvalidArgument("invalid TOTP parameters"));
  }
  if (!OathReady()) return Err(Internal("liboath failed to initialise"));
  std::array<char, 16> out{};
  // liboath derives the counter as (now - start_offset) / step.
  int rc = oath_totp_generate2(reinterpret_cast<const char*>(key.data()), key.size(),
                               static_cast<time_t>(counter * params.period),
                               static_cast<unsigned>(params.period), 0,
                               static_cast<unsigned>(params.digits), *flags, out.data());
  if (rc != OATH_OK) return Err(Internal("liboath failed to compute a TOTP code"));
  SecretBytes code(reinterpret_cast<const std::uint8_t*>(out.data()),
                   static_cast<std::size_t>(params.digits));
  OPENSSL_cleanse(out.data(), out.size());
  return code;
}

std::optional<std::int64_t> MatchTotp(const SecretBytes& key, const TotpParams& params,
                                      std::int64_t now_unix, std::string_view passcode) {
  if (passcode.size() != static_cast<std::size_t>(params.digits) || params.period <= 0) {
    return std::nullopt;
  }
  const std::int64_t now = now_unix / params.period;
  std::optional<std::int64_t> matched;
  for (std::int64_t c = now - params.skew; c <= now + params.skew; ++c) {
    auto code = TotpCode(key, params, c);
    if (!code) return std::nullopt;
    // Every candidate is computed and compared; no early exit on a match.
    if (CRYPTO_memcmp(code->data(), passcode.data(), passcode.size()) == 0 && !matched) {
      matched = c;
    }
  }
  return matched;
}

std::string Base32(const SecretBytes& key) {
  char* out = nullptr;
  std::size_t len = 0;
  if (oath_base32_encode(reinterpret_cast<const char*>(key.data()), key.size(), &out, &len) !=
      OATH_OK) {
    return "";
  }
  std::string s(out, len);
  OPENSSL_cleanse(out, len);
  free(out);  // NOLINT: allocated by liboath with malloc
  while (!s.empty() && s.back() == '=') s.pop_back();
  return s;
}

std::string OtpauthUrl(const SecretBytes& key, const TotpParams& params, std::string_view issuer,
                       std::string_view account) {
  return "otpauth://totp/" + UrlEscape(issuer) + ":" + UrlEscape(account) +
         "?algorithm=" + params.algorithm + "&digits=" + std::to_string(params.digits) +
         "&issuer=" + UrlEscape(issuer) + "&period=" + std::to_string(params.period) +
         "&secret=" + Base32(key);
}

}  // namespace coffer::identity::mfa
