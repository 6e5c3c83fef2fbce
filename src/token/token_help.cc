// Path help for the token store, auth/token/ (logical/help.h).

#include "token/token_backend.h"

namespace coffer::token {

namespace {

constexpr std::string_view kDescription =
    "The token store is the auth method every other one ends in: each request\n"
    "carries a token, which names its policies, expires after its TTL, and is\n"
    "revoked with every token and lease created under it. It is mounted at\n"
    "auth/token/ and cannot be moved or disabled. Create child tokens with\n"
    "create, tokens without a parent with create-orphan, and tokens of a\n"
    "preset shape with a role (roles/ and create/<role>).";

constexpr logical::RouteHelp kRoutes[] = {
    {"create-orphan", "Create a token without a parent.",
     "POST with the fields of create. The new token is not revoked with the\n"
     "caller's. Needs sudo or the root policy."},
    {"create/{role_name}", "Create a token with the settings of a role.",
     "POST with the fields of create; the role's allowed_policies, TTLs,\n"
     "orphan and period settings apply."},
    {"create", "Create a token as a child of the caller's.",
     "POST with policies (a subset of the caller's unless root), ttl,\n"
     "explicit_max_ttl, period, num_uses, renewable, no_parent (sudo),\n"
     "no_default_policy, display_name, meta, type (service or batch) and\n"
     "entity_alias. The answer's auth block holds the new token."},
    {"lookup-self", "Look up the caller's token.",
     "GET or POST answers the token's policies, TTL, uses, metadata and\n"
     "accessor."},
    {"lookup-accessor", "Look up a token by its accessor.",
     "POST with accessor. The answer never includes the token itself."},
    {"lookup", "Look up a token.", "POST with token (GET without one: the caller's)."},
    {"renew-self", "Renew the caller's token.",
     "POST with an optional increment: the new TTL, bounded by the token's\n"
     "maximum."},
    {"renew-accessor", "Renew a token by its accessor.", "POST with accessor and increment."},
    {"renew", "Renew a token.", "POST with token and an optional increment."},
    {"revoke-self", "Revoke the caller's token and its children.", ""},
    {"revoke-accessor", "Revoke a token and its children by the token's accessor.",
     "POST with accessor."},
    {"revoke-orphan", "Revoke a token, leaving its children as orphans.",
     "POST with token. Needs sudo."},
    {"revoke", "Revoke a token and every token and lease created under it.", "POST with token."},
    {"accessors", "List the accessors of every token.", "LIST. Needs sudo."},
    {"roles/{role_name}", "Read, write or delete a token role.",
     "POST with allowed_policies, disallowed_policies, orphan, renewable,\n"
     "token_explicit_max_ttl, token_period, token_type, path_suffix and\n"
     "token_bound_cidrs writes the role; GET reads it; DELETE removes it."},
    {"roles", "List the token roles.", ""},
    {"tidy", "Clean up the token store's indexes.",
     "POST starts a tidy in the background: entries of tokens that no longer\n"
     "exist, and leases of revoked tokens, are removed."},
};

}  // namespace

logical::EngineHelp TokenBackend::Help() const { return {kDescription, kRoutes}; }

}  // namespace coffer::token
