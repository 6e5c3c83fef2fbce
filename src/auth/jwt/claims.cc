#include "auth/jwt/claims.h"

#include <cmath>

namespace coffer::auth::jwt {

using Json = nlohmann::json;

Result<std::optional<std::int64_t>> NumericDate(const Json& claims, const char* name) {
  auto it = claims.find(name);
  if (it == claims.end() || it->is_null()) return std::optional<std::int64_t>();
  if (!it->is_number()) {
    return Err(InvalidArgument(std::string("claim \"") + name + "\" is not a number"));
  }
  double v = it->get<double>();
  if (!std::isfinite(v) || std::fabs(v) > 1e15) {
    return Err(InvalidArgument(std::string("claim \"") + name + "\" is out of range"));
  }
  return std::optional<std::int64_t>(static_cast<std::int64_t>(std::floor(v)));
}

namespace {

std::vector<std::string> Values(const Json& v) {
  std::vector<std::string> out;
  if (v.is_array()) {
    for (const Json& e : v) {
      if (auto s = ScalarString(e)) out.push_back(*s);
    }
  } else if (auto s = ScalarString(v)) {
    out.push_back(*s);
  }
  return out;
}

}  // namespace

std::optional<std::string> ScalarString(const Json& value) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_boolean()) return value.get<bool>() ? "true" : "false";
  if (value.is_number_integer()) return value.dump();
  if (value.is_number_float()) {
    double d = value.get<double>();
    if (d == std::floor(d) && std::fabs(d) < 1e15) {
      return std::to_string(static_cast<std::int64_t>(d));
    }
    return value.dump();
  }
  return std::nullopt;
}

Status CheckTimes(const Json& claims, std::int64_t now, const Leeways& leeways) {
  ASSIGN_OR_RETURN(auto exp, NumericDate(claims, "exp"));
  ASSIGN_OR_RETURN(auto nbf, NumericDate(claims, "nbf"));
  ASSIGN_OR_RETURN(auto iat, NumericDate(claims, "iat"));
  if (!exp) return InvalidArgument("token has no exp claim");
  if (now > *exp + leeways.expiration + leeways.clock_skew) {
    return InvalidArgument("token is expired");
  }
  if (nbf && now < *nbf - leeways.not_before - leeways.clock_skew) {
    return InvalidArgument("token is not yet valid (nbf)");
  }
  if (iat && now < *iat - leeways.clock_skew) {
    return InvalidArgument("token was issued in the future (iat)");
  }
  return Status::Ok();
}

Status CheckAudience(const Json& claims, const std::vector<std::string>& bound) {
  auto it = claims.find("aud");
  std::vector<std::string> aud;
  if (it != claims.end()) aud = Values(*it);
  if (bound.empty()) {
    if (!aud.empty()) {
      return InvalidArgument("audience claim found in JWT but no audiences bound to the role");
    }
    return Status::Ok();
  }
  for (const auto& a : aud) {
    for (const auto& b : bound) {
      if (a == b) return Status::Ok();
    }
  }
  return InvalidArgument("aud claim does not match any bound audience");
}

const Json* FindClaim(const Json& claims, std::string_view name) {
  if (name.starts_with("/")) {
    try {
      Json::json_pointer ptr{std::string(name)};
      if (!claims.contains(ptr)) return nullptr;
      return &claims.at(ptr);
    } catch (const Json::exception&) {
      return nullptr;
    }
  }
  auto it = claims.find(name);
  return it == claims.end() ? nullptr : &*it;
}

Status CheckBoundClaims(const Json& claims, const Json& bound, bool glob) {
  if (!bound.is_object()) return Status::Ok();
  for (const auto& [name, expected] : bound.items()) {
    const Json* actual = FindClaim(claims, name);
    if (actual == nullptr) return InvalidArgument("claim \"" + name + "\" is missing");
    std::vector<std::string> want = Values(expected);
    bool matched = false;
    for (const auto& have : Values(*actual)) {
      for (const auto& w : want) {
        if (glob ? GlobMatch(w, have) : have == w) matched = true;
      }
    }
    if (!matched) {
      return InvalidArgument("claim \"" + name +
                             "\" does not match any associated bound claim values");
    }
  }
  return Status::Ok();
}

}  // namespace coffer::auth::jwt
