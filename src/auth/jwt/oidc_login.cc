// The browser login's routes of the JWT/OIDC auth method (jwt_backend.h):
// oidc/auth_url and oidc/callback, with the pieces of oidc_flow.h.

#include <openssl/crypto.h>

#include "auth/jwt/claims.h"
#include "auth/jwt/jwt_backend.h"
#include "auth/jwt/token.h"
#include "auth/util.h"
#include "common/log.h"
#include "common/secret_bytes.h"
#include "token/token_params.h"

namespace coffer::auth::jwt {
namespace {

using logical::Json;
using logical::Request;
using logical::Response;

// Vault's prefix for what a browser login answers when it fails ("Vault
// login failed."), in the project's words.
constexpr std::string_view kLoginFailed = "Coffer login failed. ";

// The longest redirect_uri and client_nonce an auth_url keeps.
constexpr std::size_t kMaxRedirectUri = 2048;
constexpr std::size_t kMaxClientNonce = 256;

// The ID token's claims that say what the token is and whom it is for: the
// userinfo endpoint's answer adds claims but never changes these.
bool IdTokenOnlyClaim(std::string_view name) {
  for (std::string_view c :
       {"iss", "sub", "aud", "azp", "exp", "iat", "nbf", "nonce", "auth_time", "jti"}) {
    if (name == c) return true;
  }
  return false;
}

Status LoginFailed(std::string_view why) {
  return InvalidArgument(std::string(kLoginFailed) + std::string(why));
}

Result<std::string> Field(const Request& request, std::string_view name) {
  ASSIGN_OR_RETURN(auto v, token::params::String(request, name));
  return v.value_or("");
}

// The errors of RFC 6749 §4.1.2.1 a provider may send back instead of a code.
bool KnownOAuthError(std::string_view e) {
  for (std::string_view known :
       {"invalid_request", "unauthorized_client", "access_denied", "unsupported_response_type",
        "invalid_scope", "server_error", "temporarily_unavailable"}) {
    if (e == known) return true;
  }
  return false;
}

bool SameText(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

Response AuthUrlAnswer(std::string url) {
  Response r;
  r.data = Json{{"auth_url", std::move(url)}};
  return r;
}

}  // namespace

Result<Response> JwtBackend::AuthUrl(const Request& request) {
  ASSIGN_OR_RETURN(std::shared_ptr<KeySource> source, Source());
  if (source == nullptr) return Err(InvalidArgument("could not load configuration"));
  const Config& config = source->config();
  if (!config.OidcFlow()) {
    return Err(InvalidArgument("OIDC login is not configured for this mount"));
  }
  ASSIGN_OR_RETURN(std::string name, Field(request, "role"));
  if (name.empty()) name = config.default_role;
  if (name.empty()) return Err(InvalidArgument("missing role"));
  if (!ValidRoleName(name).ok()) return Err(InvalidArgument("invalid role name"));
  ASSIGN_OR_RETURN(std::string redirect_uri, Field(request, "redirect_uri"));
  ASSIGN_OR_RETURN(auto role, ReadRole(storage_, name));
  if (!role) return Err(InvalidArgument("role \"" + name + "\" could not be found"));
  ASSIGN_OR_RETURN(std::string client_nonce, Field(request, "client_nonce"));
  if (redirect_uri.empty()) return Err(InvalidArgument("missing redirect_uri"));
  // A pending login is kept in memory for a caller without a token: what it
  // holds is bounded (Vault's CLI sends a 20-character client_nonce).
  if (redirect_uri.size() > kMaxRedirectUri) {
    return Err(InvalidArgument("redirect_uri is longer than " + std::to_string(kMaxRedirectUri) +
                               " characters"));
  }
  if (client_nonce.size() > kMaxClientNonce) {
    return Err(InvalidArgument("client_nonce is longer than " + std::to_string(kMaxClientNonce) +
                               " characters"));
  }

  // As in Vault, a caller without a token learns nothing more than an empty
  // URL from what follows; the reason goes to the log.
  auto& log = Log(LogModule::kJwt);
  if (role->role_type != "oidc") {
    log.warn("auth_url for role {}, whose role_type is not oidc", name);
    return AuthUrlAnswer("");
  }
  if (!RedirectAllowed(redirect_uri, role->allowed_redirect_uris)) {
    // Quoted as JSON: the caller's text cannot start a line of its own.
    log.warn("unauthorized redirect_uri {} for role {}", Json(redirect_uri).dump(), name);
    return AuthUrlAnswer("");
  }
  auto endpoints = source->Endpoints();
  if (!endpoints) {
    log.warn("OIDC discovery for an auth_url failed: {}", endpoints.error().message());
    return AuthUrlAnswer("");
  }

  PendingLogin login;
  login.role = name;
  login.redirect_uri = redirect_uri;
  login.client_nonce = client_nonce;
  ASSIGN_OR_RETURN(login.nonce, NewCodeVerifier());  // random, of the same form
  const bool implicit = config.HasResponseType("id_token");
  if (!implicit) {
    ASSIGN_OR_RETURN(login.code_verifier, NewCodeVerifier());
  }
  std::map<std::string, std::string> params{{"client_id", config.oidc_client_id},
                                            {"nonce", login.nonce},
                                            {"redirect_uri", redirect_uri},
                                            {"response_type", implicit ? "id_token" : "code"}};
  std::string scope = "openid";
  for (const auto& s : role->oidc_scopes) {
    if (s != "openid") scope += " " + s;
  }
  params["scope"] = scope;
  if (!implicit) {
    params["code_challenge"] = CodeChallenge(login.code_verifier);
    params["code_challenge_method"] = "S256";
  }
  if (role->max_age > 0) params["max_age"] = std::to_string(role->max_age);
  if (config.oidc_response_mode == "form_post") params["response_mode"] = "form_post";
  auto state = pending_.Add(std::move(login));
  if (!state) {
    log.warn("auth_url refused: {}", state.error().message());
    return AuthUrlAnswer("");
  }
  params["state"] = *state;
  return AuthUrlAnswer(WithQuery(endpoints->authorization_endpoint, params));
}

Result<Response> JwtBackend::CallbackPost(const Request& request) {
  ASSIGN_OR_RETURN(std::shared_ptr<KeySource> source, Source());
  if (source == nullptr) return Err(LoginFailed("Could not load configuration."));
  if (source->config().oidc_response_mode != "form_post") return Err(MethodNotAllowed());
  ASSIGN_OR_RETURN(std::string state, Field(request, "state"));
  ASSIGN_OR_RETURN(std::string code, Field(request, "code"));
  ASSIGN_OR_RETURN(std::string id_token, Field(request, "id_token"));
  if (!pending_.Attach(state, std::move(code), std::move(id_token))) {
    return Err(LoginFailed("Expired or missing OAuth state."));
  }
  // Vault answers a page for its web UI here; the GET that follows (the
  // CLI's) completes the login.
  return logical::NoContent();
}

Result<Response> JwtBackend::Callback(const Request& request) {
  ASSIGN_OR_RETURN(std::shared_ptr<KeySource> source, Source());
  if (source == nullptr) return Err(LoginFailed("Could not load configuration."));
  const Config& config = source->config();
  ASSIGN_OR_RETURN(std::string state, Field(request, "state"));
  std::optional<PendingLogin> login = pending_.Take(state);
  if (!login) return Err(LoginFailed("Expired or missing OAuth state."));
  ASSIGN_OR_RETURN(auto role, ReadRole(storage_, login->role));
  if (!role) return Err(LoginFailed("Role could not be found."));

  auto& log = Log(LogModule::kJwt);
  ASSIGN_OR_RETURN(std::string oauth_error, Field(request, "error"));
  if (!oauth_error.empty()) {
    ASSIGN_OR_RETURN(std::string description, Field(request, "error_description"));
    log.warn("OIDC callback for role {}: the provider answered {} ({})", login->role,
             Json(oauth_error).dump(), Json(description).dump());
    if (KnownOAuthError(oauth_error)) return Err(LoginFailed(oauth_error));
    return Err(LoginFailed(
        "An unknown error occurred during OIDC authentication. Check server logs for details."));
  }
  ASSIGN_OR_RETURN(std::string client_nonce, Field(request, "client_nonce"));
  if (!login->client_nonce.empty() && !SameText(client_nonce, login->client_nonce)) {
    return Err(InvalidArgument("invalid client_nonce"));
  }
  if (!AddressAllowed(request.remote_address, role->token.bound_cidrs)) {
    return Err(PermissionDenied("login request originated from invalid CIDR"));
  }

  ASSIGN_OR_RETURN(std::string code, Field(request, "code"));
  if (code.empty() || code == "no_code") code = login->code;
  Json claims;
  ProviderTokens tokens;
  if (code.empty()) {
    if (login->id_token.empty()) return Err(LoginFailed("No code or id_token received."));
    auto checked = ValidateIdToken(*source, *role, *login, login->id_token);
    if (!checked)
      return Err(InvalidArgument("Token verification failed. " + checked.error().message()));
    claims = std::move(*checked);
  } else {
    auto endpoints = source->Endpoints();
    Result<ProviderTokens> exchanged =
        endpoints ? ExchangeCode(http_, config, endpoints->token_endpoint, *login, code)
                  : Result<ProviderTokens>(Err(endpoints.error()));
    WipeString(code);
    Result<Json> checked = exchanged ? ValidateIdToken(*source, *role, *login, exchanged->id_token)
                                     : Result<Json>(Err(exchanged.error()));
    if (!checked) {
      return Err(LoginFailed(
          "Error exchanging oidc code: " + Json(checked.error().message()).dump() + "."));
    }
    claims = std::move(*checked);
    tokens = std::move(*exchanged);
    // Claims from the userinfo endpoint join the ID token's; a failure
    // there does not fail the login (Vault's rule).
    if (!tokens.access_token.empty() && !endpoints->userinfo_endpoint.empty()) {
      const Json* sub = FindClaim(claims, "sub");
      auto info = FetchUserInfo(http_, config, endpoints->userinfo_endpoint, tokens.access_token,
                                sub != nullptr && sub->is_string() ? sub->get<std::string>() : "");
      if (info) {
        for (auto& [k, v] : info->items()) {
          if (!IdTokenOnlyClaim(k)) claims[k] = std::move(v);
        }
      } else {
        log.warn("error reading the userinfo endpoint: {}", info.error().message());
      }
    }
  }
  if (role->verbose_oidc_logging) {
    log.debug("OIDC login for role {}: claims {}", login->role, claims.dump());
  }
  return LoginFromClaims(request, login->role, *role, claims);
}

Result<Json> JwtBackend::ValidateIdToken(KeySource& source, const Role& role,
                                         const PendingLogin& login, const std::string& text) const {
  const Config& config = source.config();
  // The client is the audience, or one of the role's bound audiences.
  ASSIGN_OR_RETURN(Jwt jwt, CheckToken(source, role, text,
                                       role.bound_audiences.empty()
                                           ? std::vector<std::string>{config.oidc_client_id}
                                           : role.bound_audiences));
  Json& claims = jwt.claims;
  // OpenID Connect Core §3.1.3.7: a token for several audiences names the
  // client as its authorized party; any azp must be the client.
  auto azp = claims.find("azp");
  if (auto aud = claims.find("aud");
      azp == claims.end() && aud != claims.end() && aud->is_array() && aud->size() > 1) {
    return Err(InvalidArgument("the ID token has several audiences and no azp claim"));
  }
  if (azp != claims.end()) {
    if (!azp->is_string() || azp->get_ref<const std::string&>() != config.oidc_client_id) {
      return Err(InvalidArgument("azp claim does not name the client"));
    }
  }
  auto nonce = claims.find("nonce");
  if (nonce == claims.end() || !nonce->is_string() ||
      !SameText(nonce->get_ref<const std::string&>(), login.nonce)) {
    return Err(InvalidArgument("invalid ID token nonce"));
  }
  claims.erase(nonce);
  if (role.max_age > 0) {
    ASSIGN_OR_RETURN(auto auth_time, NumericDate(claims, "auth_time"));
    if (!auth_time) {
      return Err(InvalidArgument("auth_time claim is required when the role sets max_age"));
    }
    if (NowSeconds() > *auth_time + role.max_age + role.EffectiveLeeways().clock_skew) {
      return Err(InvalidArgument("auth_time claim is older than the role's max_age"));
    }
  }
  return std::move(claims);
}

}  // namespace coffer::auth::jwt
