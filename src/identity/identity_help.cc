// The path help of IdentityBackend (logical/help.h): what identity/ is for
// and the routes its handlers serve, in the order they are matched.
#include <string_view>

#include "identity/backend.h"

namespace coffer::identity {

namespace {

constexpr std::string_view kDescription =
    "The identity store keeps one record for each client of Coffer, an entity,\n"
    "whichever auth method it logs in with. Aliases tie an entity to its\n"
    "accounts in auth methods (at most one per auth mount), so that every login\n"
    "of the same client resolves to the same entity. Groups gather entities and\n"
    "other groups; an external group follows a group of an auth method through\n"
    "its group alias. Policies set on an entity and on the groups it belongs to\n"
    "apply to every token of the entity, on top of the token's own policies.\n"
    "The store also holds login MFA: TOTP methods, the secrets entities enrol\n"
    "with them, and the login enforcements that require them.";

// A more specific pattern comes before a more general one that would also
// match its paths (the first match answers).
constexpr logical::RouteHelp kRoutes[] = {
    // Entities.
    {"entity", "Create an entity, or update one given by ID or name.",
     "A write creates or updates an entity. With \"id\" it updates that entity\n"
     "(an unknown ID is an error); otherwise the entity named \"name\" is updated,\n"
     "or created when there is none (a name is generated when \"name\" is empty).\n"
     "Fields: \"name\", \"policies\", \"metadata\" (a string map) and \"disabled\"\n"
     "(the entity's tokens are refused while set). The ID and name of a new\n"
     "entity are returned."},
    {"entity/id", "List the entities by ID.",
     "A list returns the IDs of all entities, with each one's name and aliases\n"
     "in \"key_info\"."},
    {"entity/id/{id}", "Read, update or delete an entity by its ID.",
     "A read returns the entity: its policies, metadata, aliases and the groups\n"
     "it belongs to, directly or through a parent group. A write updates\n"
     "\"name\", \"policies\", \"metadata\" or \"disabled\" of an existing entity. A\n"
     "delete removes the entity together with its aliases, and takes it out of\n"
     "every group."},
    {"entity/name", "List the entities by name.",
     "A list returns the names of all entities, sorted."},
    {"entity/name/{name}", "Create, read, update or delete an entity by its name.",
     "A read returns the entity of that name. A write updates its \"policies\",\n"
     "\"metadata\" or \"disabled\", creating the entity when no entity has the\n"
     "name yet. A delete removes the entity together with its aliases, and\n"
     "takes it out of every group."},
    {"entity/merge", "Merge entities into one.",
     "A write with \"to_entity_id\" and \"from_entity_ids\" moves the aliases of the\n"
     "entities to merge to the target, puts the target in their groups, lists\n"
     "them in its \"merged_entity_ids\" and deletes them; the target keeps its own\n"
     "policies and metadata. Two aliases on one mount are refused unless\n"
     "\"conflicting_alias_ids_to_keep\" names the one to keep (one entity to merge\n"
     "at a time then). TOTP secrets move to the target; one the target already\n"
     "has for the method is refused unless \"force\" is true."},

    // Entity aliases.
    {"entity-alias", "Create an entity alias, or update one given by ID.",
     "A write ties an account of an auth method to an entity: \"name\" is the\n"
     "login name in the auth method, \"mount_accessor\" the accessor of its auth\n"
     "mount and \"canonical_id\" the ID of the entity; \"custom_metadata\" is an\n"
     "optional string map. A mount and name pair belongs to one alias only.\n"
     "With \"id\" the existing alias of that ID is updated instead. The alias ID\n"
     "and its entity's ID are returned."},
    {"entity-alias/id", "List the entity aliases by ID.",
     "A list returns the IDs of all entity aliases, with each one's name, entity\n"
     "(\"canonical_id\") and auth mount in \"key_info\"."},
    {"entity-alias/id/{id}", "Read, update or delete an entity alias by its ID.",
     "A read returns the alias with its entity and auth mount. A write changes\n"
     "its \"name\", \"canonical_id\", \"mount_accessor\" or \"custom_metadata\".\n"
     "A delete removes the alias; its entity stays."},

    // Groups.
    {"group", "Create a group, or update one given by ID or name.",
     "A write creates or updates a group. With \"id\" it updates that group and\n"
     "\"name\" renames it; otherwise the group named \"name\" is updated, or\n"
     "created when there is none. Fields: \"type\" (\"internal\", the default, or\n"
     "\"external\"; fixed once created), \"policies\", \"metadata\",\n"
     "\"member_entity_ids\" and \"member_group_ids\". An external group takes no\n"
     "members by hand: its group alias's logins decide them."},
    {"group/id", "List the groups by ID.",
     "A list returns the IDs of all groups, with each one's name and its number\n"
     "of member entities and of parent groups in \"key_info\"."},
    {"group/id/{id}", "Read, update or delete a group by its ID.",
     "A read returns the group: its policies, metadata, members, parent groups\n"
     "and alias. A write updates the fields accepted by \"group\" on an existing\n"
     "group (\"name\" renames it). A delete removes the group from its parents\n"
     "and deletes its alias."},
    {"group/name", "List the groups by name.", "A list returns the names of all groups, sorted."},
    {"group/name/{name}", "Create, read, update or delete a group by its name.",
     "A read returns the group of that name. A write updates its \"type\",\n"
     "\"policies\", \"metadata\" or members, creating the group when no group has\n"
     "the name yet. A delete removes the group from its parents and deletes its\n"
     "alias."},

    // Group aliases.
    {"group-alias", "Create a group alias, or update one given by ID.",
     "A write ties a group of an auth method to an external group: \"name\" is\n"
     "the group's name in the auth method, \"mount_accessor\" the accessor of its\n"
     "auth mount and \"canonical_id\" the ID of the external group, which can\n"
     "have one alias only. With \"id\" the existing alias of that ID is updated\n"
     "instead. The alias ID and its group's ID are returned."},
    {"group-alias/id", "List the group aliases by ID.",
     "A list returns the IDs of all group aliases, with each one's name, group\n"
     "(\"canonical_id\") and auth mount in \"key_info\"."},
    {"group-alias/id/{id}", "Read, update or delete a group alias by its ID.",
     "A read returns the alias with its group and auth mount. A write changes\n"
     "its \"name\", \"canonical_id\" or \"mount_accessor\". A delete removes the\n"
     "alias; its group stays."},

    // Lookups.
    {"lookup/entity", "Find an entity by name, ID or alias.",
     "A write with exactly one of \"name\", \"id\", \"alias_id\" or \"alias_name\"\n"
     "(with \"alias_mount_accessor\", the accessor of the alias's auth mount)\n"
     "returns the matching entity as a read of it would, or an empty answer\n"
     "when there is none."},
    {"lookup/group", "Find a group by name, ID or alias.",
     "A write with exactly one of \"name\", \"id\", \"alias_id\" or \"alias_name\"\n"
     "(with \"alias_mount_accessor\", the accessor of the alias's auth mount)\n"
     "returns the matching group as a read of it would, or an empty answer when\n"
     "there is none."},

    // Login MFA.
    {"mfa/method", "List the MFA methods of every type.",
     "A list returns the IDs of all MFA methods, with each one's configuration\n"
     "in \"key_info\". TOTP is the only type of method."},
    {"mfa/method/totp", "Create a TOTP MFA method, or list the TOTP methods.",
     "A list returns the IDs of the TOTP methods with their configuration. A\n"
     "write creates a method from \"issuer\", \"method_name\", \"period\" (seconds\n"
     "or a duration), \"digits\", \"algorithm\", \"skew\", \"key_size\", \"qr_size\"\n"
     "and \"max_validation_attempts\", and returns its \"method_id\"."},
    {"mfa/method/totp/generate", "Enrol the caller's entity in a TOTP method.",
     "A write with \"method_id\" generates a TOTP secret for the entity of the\n"
     "calling token and returns it once, as an otpauth:// \"url\" and a QR code\n"
     "\"barcode\" (a base64 PNG). An entity that already has a secret for the\n"
     "method gets a warning and no new secret."},
    {"mfa/method/totp/admin-generate", "Enrol an entity in a TOTP method.",
     "A write with \"method_id\" and \"entity_id\" generates a TOTP secret for that\n"
     "entity and returns it once, as an otpauth:// \"url\" and a QR code\n"
     "\"barcode\" (a base64 PNG). An entity that already has a secret for the\n"
     "method gets a warning and no new secret."},
    {"mfa/method/totp/admin-destroy", "Remove an entity's secret for a TOTP method.",
     "A write with \"method_id\" and \"entity_id\" deletes the TOTP secret the\n"
     "entity holds for the method, so that a new one can be generated."},
    {"mfa/method/totp/{method_id}", "Read, update or delete a TOTP MFA method.",
     "A read returns the method's configuration (never its secrets). A write\n"
     "changes the fields accepted by \"mfa/method/totp\". A delete removes the\n"
     "method; a method that a login enforcement uses cannot be deleted."},
    {"mfa/method/{method_id}", "Read an MFA method of any type.",
     "A read returns the configuration of the method of that ID, whatever its\n"
     "type. Writes and deletes go through the route of the method's type."},
    {"mfa/login-enforcement", "List the MFA login enforcements.",
     "A list returns the names of all login enforcements, with each one's\n"
     "configuration in \"key_info\"."},
    {"mfa/login-enforcement/{name}", "Create, read, update or delete an MFA login enforcement.",
     "An enforcement requires one of its MFA methods (\"mfa_method_ids\") on the\n"
     "logins it targets: through the auth mounts in \"auth_method_accessors\" or\n"
     "of the types in \"auth_method_types\", or by the entities in\n"
     "\"identity_entity_ids\" or members of \"identity_group_ids\". A write sets\n"
     "these fields, a read returns them, a delete removes the enforcement."},
    // Identity tokens.
    {"oidc/config", "Read or set the issuer of identity tokens.",
     "\"issuer\" is a scheme, a host and an optional port; tokens name it, followed\n"
     "by /v1/identity/oidc, as their issuer. Empty: the server's api_addr."},
    {"oidc/key", "List the named keys that sign identity tokens.",
     "A list returns the names of the keys."},
    {"oidc/key/{name}/rotate", "Rotate a named key now.",
     "The next key starts signing; the one it replaces stays published for\n"
     "\"verification_ttl\" (the key's own unless given)."},
    {"oidc/key/{name}", "Create, read, update or delete a named key.",
     "Fields: \"algorithm\" (RS256, RS384, RS512, ES256, ES384, ES512 or EdDSA),\n"
     "\"rotation_period\" and \"verification_ttl\" (24h each by default) and\n"
     "\"allowed_client_ids\" (the roles' client IDs that may sign with it; \"*\" for\n"
     "all). A key that a role uses, and the key \"default\", are not deleted."},
    {"oidc/role", "List the roles that issue identity tokens.",
     "A list returns the names of the roles."},
    {"oidc/role/{name}", "Create, read, update or delete a role.",
     "Fields: \"key\" (required; \"default\" makes Vault's default key), \"template\"\n"
     "(extra claims as a JSON object, with {{identity.entity...}} and {{time...}}\n"
     "parameters; base64 is accepted), \"ttl\" (24h) and \"client_id\" (the tokens'\n"
     "audience; generated when not given)."},
    {"oidc/token/{name}", "Issue an identity token of a role for the caller's entity.",
     "Returns \"token\" (a signed JWT whose subject is the entity), \"client_id\" and\n"
     "\"ttl\". The caller's token must belong to an entity."},
    {"oidc/introspect", "Check an identity token.",
     "Answers {\"active\": true} when \"token\" was signed by a published key, has\n"
     "this issuer, has not expired, names \"client_id\" (when given) as its audience,\n"
     "and its entity exists and is enabled; otherwise active is false, with the\n"
     "reason in \"error\"."},
    {"oidc/.well-known/openid-configuration", "The issuer's OIDC discovery document.",
     "Needs no token."},
    {"oidc/.well-known/keys", "The public keys that verify identity tokens (a JWKS).",
     "Needs no token."},
};

}  // namespace

logical::EngineHelp IdentityBackend::Help() const { return {kDescription, kRoutes}; }

}  // namespace coffer::identity
