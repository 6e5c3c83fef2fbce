#pragma once
// Claim checks for a verified JWT: exp/nbf/iat with leeways, aud, and a
// role's bound_claims (exact or glob). A claim name starting with "/" is a
// JSON pointer into nested claims ("/repository/owner"), as in Vault.
//
// Errors are kInvalidArgument with a message naming the failed check (and
// the claim name, never its value). Pure functions; thread-safe.

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/glob.h"
#include "common/status.h"

namespace coffer::auth::jwt {

struct Leeways {
  std::int64_t clock_skew = 60;   // seconds, applies to exp, nbf and iat
  std::int64_t expiration = 150;  // extra seconds after exp
  std::int64_t not_before = 150;  // extra seconds before nbf
};

// A NumericDate claim (seconds, possibly fractional, floored); nullopt when
// absent or null. kInvalidArgument when present but not a number, or
// further than 10^15 s from 1970.
Result<std::optional<std::int64_t>> NumericDate(const nlohmann::json& claims, const char* name);

// exp is required: "token is expired" once now > exp + expiration +
// clock_skew; "token is not yet valid" when now < nbf - not_before -
// clock_skew; "token was issued in the future" when now < iat - clock_skew.
Status CheckTimes(const nlohmann::json& claims, std::int64_t now, const Leeways& leeways);

// With bound audiences, aud (a string or a list) must hold one of them;
// without any, a token carrying an aud is refused (as Vault does).
Status CheckAudience(const nlohmann::json& claims, const std::vector<std::string>& bound);

// Every key of `bound` (an object: claim → value or list of values) must be
// present, and one of the token's values (a scalar or a list) must equal (or
// glob-match, with `glob`) one of the bound values.
Status CheckBoundClaims(const nlohmann::json& claims, const nlohmann::json& bound, bool glob);

// The claim named `name` (a top-level key, or a JSON pointer when it starts
// with "/"), or nullptr.
const nlohmann::json* FindClaim(const nlohmann::json& claims, std::string_view name);

// A scalar claim as a string: strings as they are, numbers and booleans
// printed; nullopt for objects, arrays and null.
std::optional<std::string> ScalarString(const nlohmann::json& value);

}  // namespace coffer::auth::jwt
