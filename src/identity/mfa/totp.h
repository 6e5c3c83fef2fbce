#pragma once
// TOTP (RFC 6238) codes through liboath, and the otpauth:// enrolment URL.
//
// Codes are produced by liboath (oath_totp_generate2: HMAC-SHA1/256/512,
// 6 or 8 digits); comparing a submitted code is ours, in constant time
// (liboath's own validator compares with strcmp). Stateless; thread-safe.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/secret_bytes.h"
#include "common/status.h"

namespace coffer::identity::mfa {

struct TotpParams {
  std::int64_t period = 30;        // seconds
  int digits = 6;                  // 6 or 8
  std::string algorithm = "SHA1";  // SHA1, SHA256, SHA512
  int skew = 1;                    // periods accepted either side: 0 or 1
};

// The code for one counter (time step). kInvalidArgument for bad params,
// kInternal when liboath fails.
Result<SecretBytes> TotpCode(const SecretBytes& key, const TotpParams& params,
                             std::int64_t counter);

// The counter in [now-skew, now+skew] whose code equals `passcode`, checking
// every candidate without stopping early; nullopt when none does (or the
// passcode has the wrong length).
std::optional<std::int64_t> MatchTotp(const SecretBytes& key, const TotpParams& params,
                                      std::int64_t now_unix, std::string_view passcode);

// RFC 4648 base32 without padding, as authenticator apps expect.
std::string Base32(const SecretBytes& key);

// otpauth://totp/<issuer>:<account>?secret=...&issuer=...&algorithm=...&digits=...&period=...
std::string OtpauthUrl(const SecretBytes& key, const TotpParams& params, std::string_view issuer,
                       std::string_view account);

}  // namespace coffer::identity::mfa
