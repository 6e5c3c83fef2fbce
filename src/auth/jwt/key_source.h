#pragma once
// The method's configuration (auth/<mount>/config) and the keys it yields.
//
// Exactly one key source: jwt_validation_pubkeys (PEM, parsed once),
// jwks_url (fetched, cached), or oidc_discovery_url (fetches
// <url>/.well-known/openid-configuration, checks its issuer, then its
// jwks_uri). Fetched keys are cached for an hour and refetched early when a
// token names a kid the cache does not hold; refetches are rate-limited
// (one per min_refetch_interval) so unknown-kid tokens cannot make the
// server hammer the JWKS endpoint. Concurrent logins share one in-flight
// fetch; no lock is held while fetching.
//
// Thread-safe. Errors: kInvalidArgument for bad config fields, for tokens
// that fail verification ("signature verification failed", "unknown key
// id", ...) and for a JWKS that cannot be fetched or parsed.

#include <chrono>
#include <future>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "auth/jwt/http_fetch.h"
#include "auth/jwt/keys.h"
#include "auth/jwt/token.h"
#include "common/clock.h"
#include "common/status.h"
#include "logical/request.h"

namespace coffer::auth::jwt {

struct Config {
  std::vector<std::string> jwt_validation_pubkeys;
  std::string jwks_url;
  std::string jwks_ca_pem;
  std::string oidc_discovery_url;
  std::string oidc_discovery_ca_pem;
  // The browser login (oidc_flow.h): this method's client at the provider.
  // The secret is stored under the barrier, never read back, and wiped
  // with the config.
  std::string oidc_client_id;
  std::string oidc_client_secret;
  std::string oidc_response_mode;                // "", "query" or "form_post"
  std::vector<std::string> oidc_response_types;  // "code" (default) or "id_token"
  std::string bound_issuer;
  std::string default_role;
  std::vector<std::string> jwt_supported_algs;  // empty: all supported

  Config() = default;
  Config(const Config&) = default;
  Config(Config&&) = default;
  Config& operator=(const Config&) = default;
  Config& operator=(Config&&) = default;
  ~Config();

  // Applies a config write (every field replaced, as Vault does). Checks
  // exactly one key source, that PEM keys and the supported algs parse, and
  // the OIDC client's fields (both id and secret or neither, a discovery
  // URL, Vault's response mode and types).
  static Result<Config> FromRequest(const logical::Request& request);
  nlohmann::json ToStored() const;
  // What a config read answers: the stored fields without the client secret.
  nlohmann::json ToRead() const;
  static Config FromJson(const nlohmann::json& j);

  // Vault's "OIDC flow": a discovery URL and a client; auth_url and the
  // callback need it.
  bool OidcFlow() const {
    return !oidc_discovery_url.empty() && !oidc_client_id.empty() && !oidc_client_secret.empty();
  }
  // Whether the provider is asked for this response type ("code" when none
  // is configured).
  bool HasResponseType(std::string_view type) const;
};

// What the discovery document names besides the keys, for the browser login.
struct ProviderEndpoints {
  std::string issuer;
  std::string authorization_endpoint;
  std::string token_endpoint;
  std::string userinfo_endpoint;  // "" when the provider has none
};

class KeySource {
 public:
  KeySource(Config config, Fetcher fetcher, Clock& clock,
            std::chrono::milliseconds min_refetch_interval = std::chrono::seconds(1));

  const Config& config() const { return config_; }

  // Fetches (or parses) the keys now; config writes call it so a wrong URL
  // is reported at once.
  Status Prime();

  // Verifies the token's signature against the configured keys, refetching
  // once (rate-limited) when its kid is unknown.
  Status Verify(const Jwt& jwt);

  // The issuer tokens must carry: bound_issuer, or else the discovery
  // document's issuer ("" when neither applies).
  std::string ExpectedIssuer();

  // The discovery document's endpoints, fetching it first when no keys are
  // held yet. kInvalidArgument when the config has no discovery URL.
  Result<ProviderEndpoints> Endpoints();

 private:
  using Keys = std::shared_ptr<const KeySet>;
  Result<Keys> CurrentKeys(bool force_refresh);
  Result<Keys> Fetch();

  const Config config_;
  const Fetcher fetcher_;
  Clock& clock_;
  const std::chrono::milliseconds min_refetch_interval_;

  std::mutex mu_;  // guards the members below; never held while fetching
  Keys keys_;
  ProviderEndpoints discovered_;
  std::chrono::steady_clock::time_point fetched_at_{};
  std::chrono::steady_clock::time_point last_attempt_{};
  bool attempted_ = false;
  std::shared_future<Result<Keys>> inflight_;
};

}  // namespace coffer::auth::jwt
