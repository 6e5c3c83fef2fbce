#include "auth/jwt/key_source.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "common/log.h"
#include "common/secret_bytes.h"
#include "token/token_params.h"

namespace coffer::auth::jwt {
namespace {

using Json = nlohmann::json;
namespace params = token::params;

constexpr std::chrono::hours kMaxKeyAge{1};

std::string TrimSlash(std::string s) {
  while (!s.empty() && s.back() == '/') s.pop_back();
  return s;
}

Result<std::string> OptString(const logical::Request& r, std::string_view name) {
  ASSIGN_OR_RETURN(auto v, params::String(r, name));
  return v.value_or("");
}

}  // namespace

Result<Config> Config::FromRequest(const logical::Request& r) {
  Config c;
  ASSIGN_OR_RETURN(auto pubkeys, params::List(r, "jwt_validation_pubkeys"));
  if (pubkeys) c.jwt_validation_pubkeys = *pubkeys;
  ASSIGN_OR_RETURN(c.jwks_url, OptString(r, "jwks_url"));
  ASSIGN_OR_RETURN(c.jwks_ca_pem, OptString(r, "jwks_ca_pem"));
  ASSIGN_OR_RETURN(c.oidc_discovery_url, OptString(r, "oidc_discovery_url"));
  ASSIGN_OR_RETURN(c.oidc_discovery_ca_pem, OptString(r, "oidc_discovery_ca_pem"));
  ASSIGN_OR_RETURN(c.oidc_client_id, OptString(r, "oidc_client_id"));
  ASSIGN_OR_RETURN(c.oidc_client_secret, OptString(r, "oidc_client_secret"));
  ASSIGN_OR_RETURN(c.oidc_response_mode, OptString(r, "oidc_response_mode"));
  ASSIGN_OR_RETURN(auto types, params::List(r, "oidc_response_types"));
  if (types) c.oidc_response_types = *types;
  ASSIGN_OR_RETURN(c.bound_issuer, OptString(r, "bound_issuer"));
  ASSIGN_OR_RETURN(c.default_role, OptString(r, "default_role"));
  ASSIGN_OR_RETURN(auto algs, params::List(r, "jwt_supported_algs"));
  if (algs) c.jwt_supported_algs = *algs;

  int sources = (c.jwt_validation_pubkeys.empty() ? 0 : 1) + (c.jwks_url.empty() ? 0 : 1) +
                (c.oidc_discovery_url.empty() ? 0 : 1);
  if (sources != 1) {
    return Err(InvalidArgument(
        "exactly one of 'jwt_validation_pubkeys', 'jwks_url' or 'oidc_discovery_url' must be "
        "set"));
  }
  // Vault's checks and words, in its order.
  if (c.oidc_client_id.empty() != c.oidc_client_secret.empty()) {
    return Err(
        InvalidArgument("both 'oidc_client_id' and 'oidc_client_secret' must be set for OIDC"));
  }
  if (c.oidc_discovery_url.find(".well-known/openid-configuration") != std::string::npos) {
    return Err(InvalidArgument("'oidc_discovery_url' contains '.well-known' component"));
  }
  if (!c.oidc_client_id.empty() && c.oidc_discovery_url.empty()) {
    return Err(InvalidArgument("'oidc_discovery_url' must be set for OIDC"));
  }
  for (const auto& t : c.oidc_response_types) {
    if (t != "code" && t != "id_token") {
      return Err(InvalidArgument("invalid response_types: 'code' and 'id_token' are allowed"));
    }
  }
  if (c.oidc_response_mode.empty() || c.oidc_response_mode == "query") {
    if (c.HasResponseType("id_token")) {
      return Err(
          InvalidArgument("query response_mode may not be used with an id_token response_type"));
    }
  } else if (c.oidc_response_mode != "form_post") {
    return Err(InvalidArgument("invalid response_mode: \"" + c.oidc_response_mode + "\""));
  }
  for (const auto& pem : c.jwt_validation_pubkeys) {
    auto key = ParsePemPublicKey(pem);
    if (!key) return Err(key.error());
  }
  for (const auto& alg : c.jwt_supported_algs) {
    if (alg != "RS256" && alg != "RS384" && alg != "RS512" && alg != "ES256" && alg != "ES384" &&
        alg != "ES512" && alg != "EdDSA") {
      return Err(InvalidArgument("unsupported signing algorithm: " + alg));
    }
  }
  for (const std::string* url : {&c.jwks_url, &c.oidc_discovery_url}) {
    if (!url->empty() && !url->starts_with("http://") && !url->starts_with("https://")) {
      return Err(InvalidArgument("URLs must start with http:// or https://"));
    }
  }
  return c;
}

Config::~Config() { WipeString(oidc_client_secret); }

bool Config::HasResponseType(std::string_view type) const {
  if (oidc_response_types.empty()) return type == "code";
  return std::find(oidc_response_types.begin(), oidc_response_types.end(), type) !=
         oidc_response_types.end();
}

Json Config::ToRead() const {
  return Json{{"jwt_validation_pubkeys", jwt_validation_pubkeys},
              {"jwks_url", jwks_url},
              {"jwks_ca_pem", jwks_ca_pem},
              {"oidc_discovery_url", oidc_discovery_url},
              {"oidc_discovery_ca_pem", oidc_discovery_ca_pem},
              {"oidc_client_id", oidc_client_id},
              {"oidc_response_mode", oidc_response_mode},
              {"oidc_response_types", oidc_response_types},
              {"bound_issuer", bound_issuer},
              {"default_role", default_role},
              {"jwt_supported_algs", jwt_supported_algs}};
}

Json Config::ToStored() const {
  Json j = ToRead();
  j["oidc_client_secret"] = oidc_client_secret;
  return j;
}

Config Config::FromJson(const Json& j) {
  Config c;
  if (!j.is_object()) return c;
  c.jwt_validation_pubkeys = j.value("jwt_validation_pubkeys", std::vector<std::string>{});
  c.jwks_url = j.value("jwks_url", "");
  c.jwks_ca_pem = j.value("jwks_ca_pem", "");
  c.oidc_discovery_url = j.value("oidc_discovery_url", "");
  c.oidc_discovery_ca_pem = j.value("oidc_discovery_ca_pem", "");
  c.oidc_client_id = j.value("oidc_client_id", "");
  c.oidc_client_secret = j.value("oidc_client_secret", "");
  c.oidc_response_mode = j.value("oidc_response_mode", "");
  c.oidc_response_types = j.value("oidc_response_types", std::vector<std::string>{});
  c.bound_issuer = j.value("bound_issuer", "");
  c.default_role = j.value("default_role", "");
  c.jwt_supported_algs = j.value("jwt_supported_algs", std::vector<std::string>{});
  return c;
}

KeySource::KeySource(Config config, Fetcher fetcher, Clock& clock,
                     std::chrono::milliseconds min_refetch_interval)
    : config_(std::move(config)),
      fetcher_(std::move(fetcher)),
      clock_(clock),
      min_refetch_interval_(min_refetch_interval) {}

Result<KeySource::Keys> KeySource::Fetch() {
  if (!config_.jwt_validation_pubkeys.empty()) {
    KeySet set;
    for (const auto& pem : config_.jwt_validation_pubkeys) {
      ASSIGN_OR_RETURN(PublicKey k, ParsePemPublicKey(pem));
      set.push_back(std::move(k));
    }
    return std::make_shared<const KeySet>(std::move(set));
  }
  std::string jwks_url = config_.jwks_url;
  std::string ca = config_.jwks_ca_pem;
  if (!config_.oidc_discovery_url.empty()) {
    std::string base = TrimSlash(config_.oidc_discovery_url);
    auto doc_text =
        fetcher_(base + "/.well-known/openid-configuration", config_.oidc_discovery_ca_pem);
    if (!doc_text) {
      return Err(InvalidArgument("error fetching the OIDC discovery document: " +
                                 doc_text.error().message()));
    }
    Json doc = Json::parse(*doc_text, nullptr, /*allow_exceptions=*/false);
    if (doc.is_discarded() || !doc.is_object() || !doc.contains("jwks_uri") ||
        !doc["jwks_uri"].is_string() || !doc.contains("issuer") || !doc["issuer"].is_string()) {
      return Err(InvalidArgument("the OIDC discovery document has no issuer or jwks_uri"));
    }
    std::string issuer = doc["issuer"].get<std::string>();
    if (TrimSlash(issuer) != base) {
      return Err(
          InvalidArgument("the OIDC discovery document's issuer does not match "
                          "oidc_discovery_url"));
    }
    {
      auto endpoint = [&](const char* name) {
        auto it = doc.find(name);
        return it != doc.end() && it->is_string() ? it->get<std::string>() : std::string();
      };
      std::scoped_lock lock(mu_);
      discovered_ = {.issuer = issuer,
                     .authorization_endpoint = endpoint("authorization_endpoint"),
                     .token_endpoint = endpoint("token_endpoint"),
                     .userinfo_endpoint = endpoint("userinfo_endpoint")};
    }
    jwks_url = doc["jwks_uri"].get<std::string>();
    ca = config_.oidc_discovery_ca_pem;
  }
  auto text = fetcher_(jwks_url, ca);
  if (!text) return Err(InvalidArgument("error fetching the JWKS: " + text.error().message()));
  // A JWKS without a usable key yet is accepted, as Vault accepts it (an
  // issuer such as identity/oidc publishes none before its first key);
  // tokens are refused until one appears, and a refetch finds it.
  auto set = ParseJwks(*text, /*allow_empty=*/true);
  if (!set) return Err(InvalidArgument("error parsing the JWKS: " + set.error().message()));
  return std::make_shared<const KeySet>(std::move(*set));
}

Result<KeySource::Keys> KeySource::CurrentKeys(bool force_refresh) {
  std::shared_future<Result<Keys>> wait_for;
  std::promise<Result<Keys>> promise;
  {
    std::scoped_lock lock(mu_);
    auto now = clock_.Monotonic();
    bool stale = keys_ == nullptr || now - fetched_at_ > kMaxKeyAge;
    if (!stale && !force_refresh) return keys_;
    if (inflight_.valid()) {
      wait_for = inflight_;
    } else if (attempted_ && now - last_attempt_ < min_refetch_interval_) {
      // Rate-limited: answer with what we have.
      if (keys_ != nullptr) return keys_;
      return Err(InvalidArgument("JWKS fetch is rate-limited after a failure; retry shortly"));
    } else {
      attempted_ = true;
      last_attempt_ = now;
      inflight_ = promise.get_future().share();
    }
  }
  if (wait_for.valid()) return wait_for.get();

  Result<Keys> fetched = Fetch();
  {
    std::scoped_lock lock(mu_);
    if (fetched) {
      keys_ = *fetched;
      fetched_at_ = clock_.Monotonic();
    } else if (keys_ != nullptr) {
      // Keep verifying with the keys we had; the fetch is retried later.
      Log(LogModule::kJwt).warn("{}; keeping the cached keys", fetched.error().message());
      fetched = keys_;
    }
    inflight_ = {};
  }
  promise.set_value(fetched);
  return fetched;
}

Status KeySource::Prime() {
  auto keys = CurrentKeys(false);
  return keys ? Status::Ok() : keys.error();
}

Status KeySource::Verify(const Jwt& jwt) {
  const auto& algs = config_.jwt_supported_algs;
  if (!algs.empty() && std::find(algs.begin(), algs.end(), jwt.alg) == algs.end()) {
    return InvalidArgument("unsupported algorithm " + jwt.alg);
  }
  ASSIGN_OR_RETURN(Keys keys, CurrentKeys(false));
  Status s = VerifyWithKeySet(jwt, *keys);
  if (s.code() != Code::kNotFound) return s;
  if (!config_.jwt_validation_pubkeys.empty()) return InvalidArgument(s.message());
  // A kid we don't know: the issuer may have rotated its keys.
  ASSIGN_OR_RETURN(Keys fresh, CurrentKeys(true));
  if (fresh != keys) s = VerifyWithKeySet(jwt, *fresh);
  if (s.code() == Code::kNotFound) return InvalidArgument(s.message());
  return s;
}

std::string KeySource::ExpectedIssuer() {
  if (!config_.bound_issuer.empty()) return config_.bound_issuer;
  std::scoped_lock lock(mu_);
  return discovered_.issuer;
}

Result<ProviderEndpoints> KeySource::Endpoints() {
  if (config_.oidc_discovery_url.empty()) {
    return Err(InvalidArgument("the method has no oidc_discovery_url"));
  }
  // Fetched with the keys: the first call after a restart fetches both.
  ASSIGN_OR_RETURN(Keys keys, CurrentKeys(false));
  (void)keys;
  std::scoped_lock lock(mu_);
  return discovered_;
}

}  // namespace coffer::auth::jwt
