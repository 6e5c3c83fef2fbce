#include "core/cors.h"

#include <algorithm>

namespace coffer::core {
namespace {

using logical::Json;

constexpr std::string_view kCorsKey = "core/cors";

// The methods the API takes (LIST is Vault's own, SCAN OpenBao's recursive
// list; PATCH is KV v2's patch).
constexpr std::string_view kMethods[] = {"DELETE", "GET",  "LIST", "OPTIONS",
                                         "PATCH",  "POST", "PUT",  "SCAN"};
constexpr std::string_view kAllowedMethods = "DELETE,GET,LIST,OPTIONS,PATCH,POST,PUT,SCAN";

std::string Join(const std::vector<std::string>& values) {
  std::string out;
  for (const auto& v : values) out += (out.empty() ? "" : ",") + v;
  return out;
}

}  // namespace

const std::vector<std::string>& Cors::StandardHeaders() {
  static const std::vector<std::string> headers = {
      "Content-Type",
      "Authorization",
      "X-Vault-Token",
      "X-Vault-MFA",
      "X-Vault-No-Request-Forwarding",
      "X-Vault-Wrap-Format",
      "X-Vault-Wrap-TTL",
      "X-Requested-With",
      "X-Vault-AWS-IAM-Server-ID",
      "X-Vault-Policy-Override",
  };
  return headers;
}

Status Cors::Load(storage::Backend& barrier) {
  ASSIGN_OR_RETURN(auto stored, barrier.Get(kCorsKey));
  Settings s;
  if (stored) {
    Json j = Json::parse(stored->value, nullptr, false);
    try {
      if (!j.is_object()) throw std::runtime_error("not an object");
      s.enabled = j.value("enabled", false);
      s.allowed_origins = j.value("allowed_origins", std::vector<std::string>{});
      s.allowed_headers = j.value("allowed_headers", std::vector<std::string>{});
      s.allow_credentials = j.value("allow_credentials", false);
    } catch (const std::exception&) {
      return Internal("the stored CORS configuration is corrupt");
    }
  }
  std::scoped_lock lock(mu_);
  settings_ = std::move(s);
  enabled_ = settings_.enabled;
  return Status::Ok();
}

Status Cors::Store(storage::Backend& barrier, const Settings& s) {
  Json j{{"enabled", s.enabled},
         {"allowed_origins", s.allowed_origins},
         {"allowed_headers", s.allowed_headers},
         {"allow_credentials", s.allow_credentials}};
  TRY(barrier.Put(kCorsKey, j.dump()));
  std::scoped_lock lock(mu_);
  settings_ = s;
  enabled_ = s.enabled;
  return Status::Ok();
}

Status Cors::Enable(storage::Backend& barrier, std::vector<std::string> origins,
                    std::vector<std::string> extra_headers, bool allow_credentials) {
  std::erase(origins, "");
  if (origins.empty()) {
    return InvalidArgument("at least one origin or the wildcard must be provided");
  }
  if (origins.size() > 1 && std::find(origins.begin(), origins.end(), "*") != origins.end()) {
    return InvalidArgument(
        "to allow all origins the '*' must be the only value for allowed_origins");
  }
  // Browsers refuse "*" with credentials; echoing each origin instead would
  // let any page send the user's credentials (a TLS client certificate to
  // auth/cert/login, say) and read the answer. Nor is "null" (sandboxed
  // frames, file:// pages) an origin to trust with them.
  if (allow_credentials) {
    for (const auto& o : origins) {
      if (o == "*" || o == "null") {
        return InvalidArgument("allow_credentials needs the origins named: not \"" + o + "\"");
      }
    }
  }
  for (const auto& o : origins) {
    // An origin is what a browser sends: no spaces, commas or line breaks
    // (those would also end up in a response header).
    if (o.find_first_of(" ,\r\n\t") != std::string::npos) {
      return InvalidArgument("invalid origin \"" + o + "\"");
    }
  }
  Settings s;
  s.enabled = true;
  s.allowed_origins = std::move(origins);
  s.allowed_headers = StandardHeaders();
  for (auto& h : extra_headers) {
    if (h.empty()) continue;
    if (h.find_first_of(" ,:\r\n\t") != std::string::npos) {
      return InvalidArgument("invalid header name \"" + h + "\"");
    }
    s.allowed_headers.push_back(std::move(h));
  }
  s.allow_credentials = allow_credentials;
  return Store(barrier, s);
}

Status Cors::Disable(storage::Backend& barrier) { return Store(barrier, Settings{}); }

Cors::Settings Cors::Current() const {
  std::scoped_lock lock(mu_);
  return settings_;
}

std::optional<logical::Response> Cors::Check(std::string_view origin, std::string_view method,
                                             std::string_view preflight_method,
                                             std::map<std::string, std::string>* headers) const {
  std::scoped_lock lock(mu_);
  if (!settings_.enabled || origin.empty()) return std::nullopt;
  const auto& origins = settings_.allowed_origins;
  const bool any = origins.size() == 1 && origins[0] == "*";
  if (!any && std::find(origins.begin(), origins.end(), origin) == origins.end()) {
    return logical::ErrorResponse(403, "origin not allowed");
  }
  std::map<std::string, std::string> out;
  out["Access-Control-Allow-Origin"] = std::string(origin);
  out["Vary"] = "Origin";
  if (settings_.allow_credentials) out["Access-Control-Allow-Credentials"] = "true";
  if (method == "OPTIONS") {
    if (std::find(std::begin(kMethods), std::end(kMethods), preflight_method) ==
        std::end(kMethods)) {
      logical::Response refused =
          logical::ErrorResponse(405, "the preflight asks for a method the API does not take");
      refused.headers = std::move(out);
      return refused;
    }
    logical::Response r;
    r.http_status = 204;
    r.headers = std::move(out);
    r.headers["Access-Control-Allow-Methods"] = std::string(kAllowedMethods);
    r.headers["Access-Control-Allow-Headers"] = Join(settings_.allowed_headers);
    r.headers["Access-Control-Max-Age"] = "300";
    return r;
  }
  headers->insert(out.begin(), out.end());
  return std::nullopt;
}

}  // namespace coffer::core
