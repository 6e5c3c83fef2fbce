// Path help for the AppRole auth method (logical/help.h).
#include <string_view>

#include "auth/approle/approle.h"

namespace coffer::auth::approle {
namespace {

constexpr std::string_view kDescription =
    "The AppRole auth method lets machines and services log in to Coffer. An\n"
    "operator creates a role under role/<role_name> with the constraints and\n"
    "token settings its logins get, reads the role's role ID from\n"
    "role/<role_name>/role-id and issues secret IDs from\n"
    "role/<role_name>/secret-id. The application then writes its role ID and\n"
    "a secret ID to login and receives a token. Secret IDs are stored only as\n"
    "HMACs; each carries an accessor for looking it up or revoking it. Enable\n"
    "it with `coffer auth enable approle`.";

constexpr logical::RouteHelp kRoutes[] = {
    {"login", "Log in with a role ID and a secret ID.",
     "Write (POST) role_id and, when the role binds secret IDs, secret_id to\n"
     "log in; no client token is needed. The secret ID must be known, unexpired\n"
     "and not used up (a login spends one use), and the client address must\n"
     "pass the role's and the secret ID's CIDR limits. On success the response\n"
     "carries a token with the role's token settings."},
    {"role", "List the roles configured on this mount.",
     "LIST returns the names of the roles of this mount."},
    {"role/{role_name}/secret-id/lookup", "Read the properties of a secret ID.",
     "Write (POST) the secret_id field to read what the role's entry for that\n"
     "secret ID holds: its accessor, metadata, CIDR lists, uses left, TTL and\n"
     "creation, expiry and update times. An unknown secret ID gives an empty\n"
     "response."},
    {"role/{role_name}/secret-id/destroy", "Revoke a secret ID.",
     "Write (POST) or delete with the secret_id field to remove that secret ID\n"
     "of the role, together with its accessor. Logins with it fail from then\n"
     "on. Removing a secret ID that does not exist is not an error."},
    {"role/{role_name}/secret-id-accessor/lookup",
     "Read the properties of a secret ID by its accessor.",
     "Write (POST) the secret_id_accessor field to read the properties of the\n"
     "secret ID it belongs to, as secret-id/lookup shows them, without knowing\n"
     "the secret ID itself. The accessor must belong to this role."},
    {"role/{role_name}/secret-id-accessor/destroy", "Revoke a secret ID by its accessor.",
     "Write (POST) or delete with the secret_id_accessor field to remove the\n"
     "secret ID it belongs to, and the accessor with it. The accessor must\n"
     "belong to this role; an unknown one is an error."},
    {"role/{role_name}/secret-id", "Issue a new secret ID, or list the issued ones.",
     "Write (POST) generates a secret ID for the role and returns it with its\n"
     "accessor, TTL and number of uses. Optional fields: metadata (string\n"
     "pairs given to the token), cidr_list, token_bound_cidrs, num_uses and\n"
     "ttl, which may narrow the role's limits but not widen them. LIST returns\n"
     "the accessors of the role's secret IDs."},
    {"role/{role_name}/custom-secret-id", "Register a secret ID chosen by the caller.",
     "Write (POST) secret_id with the value to register for the role, plus the\n"
     "optional metadata, cidr_list, token_bound_cidrs, num_uses and ttl fields\n"
     "that secret-id takes. Returns the accessor, TTL and number of uses. A\n"
     "secret ID already registered for the role is refused."},
    {"role/{role_name}/role-id", "Read or set the role ID of a role.",
     "Read returns the role_id applications log in with. Write (POST) role_id\n"
     "to replace it with a value of your choice; a role ID already used by\n"
     "another role is refused."},
    {"role/{role_name}", "Create, read, update or delete a role.",
     "Write (POST) creates the role or updates it: bind_secret_id,\n"
     "secret_id_bound_cidrs, secret_id_num_uses, secret_id_ttl, role_id,\n"
     "local_secret_ids (at creation only) and the token_* settings\n"
     "(token_policies, token_ttl, token_bound_cidrs, ...). A role needs at\n"
     "least one constraint. Read returns the settings; delete removes the\n"
     "role with all its secret IDs."},
    {"tidy/secret-id", "Remove expired and orphaned secret IDs.",
     "Write (POST) starts a background clean-up that deletes expired secret\n"
     "IDs, those of deleted roles and accessor entries left without a secret\n"
     "ID. It answers at once; a second request while one runs is told so."},
};

}  // namespace

logical::EngineHelp AppRoleBackend::Help() const { return {kDescription, kRoutes}; }

}  // namespace coffer::auth::approle
