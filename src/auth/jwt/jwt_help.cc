// Path help for the JWT auth method (logical/help.h), mounted as "jwt" or
// "oidc".
#include <string_view>

#include "auth/jwt/jwt_backend.h"

namespace coffer::auth::jwt {
namespace {

constexpr std::string_view kDescription =
    "The JWT auth method lets clients log in to Coffer with a signed JSON Web\n"
    "Token, such as the OIDC tokens CI/CD systems hand their jobs. Enable it\n"
    "with `coffer auth enable jwt` (or oidc), set where the signing keys come\n"
    "from at config (fixed PEM keys, a JWKS URL or an OIDC discovery URL),\n"
    "then create roles under role/<name> that say which tokens they accept\n"
    "and which token settings a login gets. Clients of a \"jwt\" role write\n"
    "the role and a JWT to login. People log in through an \"oidc\" role in a\n"
    "browser: oidc/auth_url sends them to the identity provider, which sends\n"
    "them back to oidc/callback with a code that Coffer exchanges for their ID\n"
    "token (`coffer login -method=oidc` does both).";

constexpr logical::RouteHelp kRoutes[] = {
    {"config", "Configure how tokens are verified.",
     "Write (POST) sets exactly one key source: jwt_validation_pubkeys,\n"
     "jwks_url (with jwks_ca_pem) or oidc_discovery_url (with\n"
     "oidc_discovery_ca_pem), plus bound_issuer, default_role and\n"
     "jwt_supported_algs. The browser login needs oidc_discovery_url with\n"
     "oidc_client_id and oidc_client_secret, and takes oidc_response_mode\n"
     "(query or form_post) and oidc_response_types (code or id_token). Every\n"
     "write replaces the whole configuration, and fetched keys are loaded at\n"
     "once so a bad URL is reported. Read returns the configuration without\n"
     "the client secret."},
    {"login", "Log in with a signed JWT.",
     "Write (POST) jwt and role (default_role when left out) to log in; no\n"
     "client token is needed. The token's signature, expiry and not-before\n"
     "times, issuer, audience, subject and bound claims are checked against\n"
     "the configuration and the role. On success the response carries a token\n"
     "with the role's settings and metadata mapped from the claims."},
    {"oidc/auth_url", "Start a browser login: the provider's authorization URL.",
     "Write (POST) role (default_role when left out), redirect_uri (one of the\n"
     "role's allowed_redirect_uris; a loopback one on any port) and\n"
     "client_nonce (optional) to get auth_url, where the browser goes to sign\n"
     "in. No client token is needed. An empty auth_url means the redirect URI\n"
     "or the role does not allow the login; the server's log says why."},
    {"oidc/callback", "Complete a browser login.",
     "Read (GET) with the state and code the provider sent back (and the\n"
     "client_nonce given to auth_url) exchanges the code, checks the ID token\n"
     "and the role's rules, and answers a login. Each state is used once, for\n"
     "ten minutes at most. In form_post mode the provider's POST of state and\n"
     "code (or id_token) is kept for the GET that follows."},
    {"role", "List the roles configured on this mount.",
     "LIST returns the names of the roles of this mount."},
    {"role/{name}", "Create, read, update or delete a role.",
     "Write (POST) creates the role or updates it: role_type, user_claim\n"
     "(required), bound_audiences, bound_subject, bound_claims,\n"
     "bound_claims_type, claim_mappings, groups_claim, the leeways\n"
     "clock_skew_leeway, expiration_leeway and not_before_leeway, the browser\n"
     "login's allowed_redirect_uris, oidc_scopes, max_age and\n"
     "verbose_oidc_logging, and the token_* settings. A new role is of type\n"
     "oidc unless it says jwt; an oidc role needs allowed_redirect_uris, a jwt\n"
     "role at least one binding. Read returns the role; delete removes it."},
};

}  // namespace

logical::EngineHelp JwtBackend::Help() const { return {kDescription, kRoutes}; }

}  // namespace coffer::auth::jwt
