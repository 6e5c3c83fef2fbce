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
    "and which token settings a login gets. Clients write a role and a JWT to\n"
    "login. Only roles of type \"jwt\" are served: the interactive OIDC\n"
    "browser flow is not.";

constexpr logical::RouteHelp kRoutes[] = {
    {"config", "Configure how tokens are verified.",
     "Write (POST) sets exactly one key source: jwt_validation_pubkeys,\n"
     "jwks_url (with jwks_ca_pem) or oidc_discovery_url (with\n"
     "oidc_discovery_ca_pem), plus bound_issuer, default_role and\n"
     "jwt_supported_algs. Every write replaces the whole configuration, and\n"
     "fetched keys are loaded at once so a bad URL is reported. Read returns\n"
     "the configuration."},
    {"login", "Log in with a signed JWT.",
     "Write (POST) jwt and role (default_role when left out) to log in; no\n"
     "client token is needed. The token's signature, expiry and not-before\n"
     "times, issuer, audience, subject and bound claims are checked against\n"
     "the configuration and the role. On success the response carries a token\n"
     "with the role's settings and metadata mapped from the claims."},
    {"role", "List the roles configured on this mount.",
     "LIST returns the names of the roles of this mount."},
    {"role/{name}", "Create, read, update or delete a role.",
     "Write (POST) creates the role or updates it: role_type, user_claim\n"
     "(required), bound_audiences, bound_subject, bound_claims,\n"
     "bound_claims_type, claim_mappings, groups_claim, the leeways\n"
     "clock_skew_leeway, expiration_leeway and not_before_leeway, and the\n"
     "token_* settings. A role needs at least one binding. Read returns the\n"
     "role; delete removes it."},
};

}  // namespace

logical::EngineHelp JwtBackend::Help() const { return {kDescription, kRoutes}; }

}  // namespace coffer::auth::jwt
