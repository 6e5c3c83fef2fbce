#pragma once
// The JWT/OIDC auth method (Vault's auth/jwt API), mounted at
// "auth/<path>/": role_type "jwt" for CI/CD systems that hand their jobs a
// signed OIDC token (GitHub Actions, GitLab CI), role_type "oidc" for people
// who log in through their identity provider in a browser:
//   config          POST {jwt_validation_pubkeys | jwks_url [+ jwks_ca_pem] |
//                         oidc_discovery_url [+ oidc_discovery_ca_pem],
//                         oidc_client_id, oidc_client_secret, oidc_response_mode,
//                         oidc_response_types, bound_issuer, default_role,
//                         jwt_supported_algs} · GET (no client secret)
//   role/:name      POST {role_type, bound_audiences, bound_subject, bound_claims,
//                         bound_claims_type, claim_mappings, user_claim, groups_claim,
//                         clock_skew_leeway, expiration_leeway, not_before_leeway,
//                         allowed_redirect_uris, oidc_scopes, max_age,
//                         verbose_oidc_logging, token_*} · GET · DELETE
//   role (LIST)     → {keys}
//   login           POST {role, jwt} (no token needed; jwt roles) → a login
//   oidc/auth_url   POST {role, redirect_uri, client_nonce} (no token; oidc
//                   roles) → {auth_url} at the provider (oidc_flow.h)
//   oidc/callback   GET {state, code, client_nonce} (no token) → a login;
//                   POST {state, code, id_token} in form_post mode → 204, and
//                   the GET that follows completes the login
//
// A JWT login verifies the signature (key_source.h, token.h), then exp/nbf/iat
// with the role's leeways, iss, aud, sub and bound_claims (claims.h). A
// callback exchanges the code and checks the ID token the same way, its
// audience being the client and its nonce the login's. Every refusal is a
// 400 whose message names the failed check, never the token.
// The token gets the role's token_* settings and metadata {role, <mapped
// claims>}; its display name is the user_claim's value.
//
// Storage (the mount's view): config → JSON; role/<name> → JSON. Logins in
// progress are held in memory (oidc_flow.h).
// Thread-safe: logins run concurrently; config and role writes are
// serialised per mount. A login may fetch the JWKS over the network (when
// none is cached or its kid is unknown), off the lock; a callback makes its
// requests to the provider on the request's thread.

#include <chrono>
#include <memory>
#include <mutex>

#include "auth/jwt/http_fetch.h"
#include "auth/jwt/key_source.h"
#include "auth/jwt/oidc_flow.h"
#include "auth/jwt/role.h"
#include "logical/backend.h"

namespace coffer::auth::jwt {

class JwtBackend final : public logical::Backend {
 public:
  JwtBackend(const logical::BackendConfig& config, Fetcher fetcher,
             std::chrono::milliseconds min_refetch_interval = std::chrono::seconds(1),
             HttpDo http = net::Exchange);

  Result<logical::Response> HandleRequest(const logical::Request& request) override;
  // A token renews only while its role exists (Vault's words).
  Result<std::optional<logical::LoginRenewal>> CheckLoginRenewal(
      const logical::LoginRenewalRequest& renewal) override;
  Status Initialize() override;
  bool IsUnauthenticated(std::string_view relative_path) const override;
  // The body's role, or the mount's default_role that a login without one
  // uses: a role quota on the default role applies to such logins too.
  std::string LoginRole(const logical::Request& request) override;
  // Path help for the routes above (jwt_help.cc).
  logical::EngineHelp Help() const override;

  // How many browser logins are in progress (auth_url given, callback
  // not yet taken), expired ones not yet swept included.
  std::size_t PendingLoginCount() { return pending_.Size(); }

 private:
  Result<logical::Response> ConfigPath(const logical::Request& request);
  Result<logical::Response> RolePath(const logical::Request& request, const std::string& name);
  Result<logical::Response> Login(const logical::Request& request);
  // What a JWT login and an OIDC callback share once the token is valid:
  // bound_claims, user_claim, groups_claim, bound CIDRs and claim_mappings.
  Result<logical::Response> LoginFromClaims(const logical::Request& request,
                                            const std::string& role_name, const Role& role,
                                            const nlohmann::json& claims) const;
  // The browser login (oidc_login.cc).
  Result<logical::Response> AuthUrl(const logical::Request& request);
  Result<logical::Response> Callback(const logical::Request& request);
  Result<logical::Response> CallbackPost(const logical::Request& request);
  // An ID token from the provider: CheckToken with the client (or the
  // role's bound_audiences) as audience, then azp, nonce and max_age.
  Result<nlohmann::json> ValidateIdToken(KeySource& source, const Role& role,
                                         const PendingLogin& login, const std::string& text) const;
  // The token's form, signature, times (the role's leeways), issuer, one
  // of `audiences` (when there are any) and the role's bound subject.
  Result<Jwt> CheckToken(KeySource& source, const Role& role, const std::string& text,
                         const std::vector<std::string>& audiences) const;
  // CheckToken with the role's bound audiences; a refusal says "error
  // validating token: ...".
  Result<Jwt> ValidateToken(KeySource& source, const Role& role, const std::string& text) const;
  std::int64_t NowSeconds() const;  // the wall clock, for claims
  // The key source for the stored config, built on first use; nullptr when
  // the method is not configured.
  Result<std::shared_ptr<KeySource>> Source();

  storage::Backend& storage_;
  Clock& clock_;
  const Fetcher fetcher_;
  const std::chrono::milliseconds min_refetch_interval_;
  const HttpDo http_;
  PendingLogins pending_;
  std::mutex write_mu_;  // serialises config and role writes
  std::mutex source_mu_;
  std::shared_ptr<KeySource> source_;  // guarded by source_mu_
  bool source_loaded_ = false;         // guarded by source_mu_
};

// Registers the "jwt" auth method type (and "oidc" as the same type, as
// Vault mounts both). Idempotent.
void RegisterJwt();

}  // namespace coffer::auth::jwt
