// Path help of the database engine: its overview and one entry per route
// that DatabaseBackend::HandleRequest serves.

#include <string_view>

#include "engines/database/backend.h"

namespace coffer::engines::database {
namespace {

constexpr std::string_view kDescription =
    "The database engine hands out PostgreSQL credentials. A dynamic role\n"
    "creates a new database user for each request, under a lease: the user is\n"
    "dropped when the lease is revoked or expires. A static role manages an\n"
    "existing user whose password Coffer rotates on a period or a cron\n"
    "schedule.\n"
    "\n"
    "Enable it with `coffer secrets enable database`, POST a connection to\n"
    "config/<name> (connection_url, username, password, allowed_roles), POST a\n"
    "role to roles/<role> with its creation_statements, then GET creds/<role>.";

constexpr logical::RouteHelp kRoutes[] = {
    {"config", "List the database connections.",
     "LIST answers the names of the configured connections, or 404 when there\n"
     "are none."},
    {"config/{name}", "Configure, read or delete a database connection.",
     "POST sets plugin_name (postgresql-database-plugin), connection_url,\n"
     "username, password, allowed_roles (role names, \"*\" for any),\n"
     "password_policy, max_open_connections, root_rotation_statements and\n"
     "verify_connection (default true: connect once before storing). GET\n"
     "answers the settings without the password. DELETE removes the connection\n"
     "and closes its pool."},
    {"reset/{name}", "Reset a connection: close its pooled database sessions.",
     "POST closes the pooled sessions of the named connection; the next request\n"
     "that needs the database connects again with the stored settings."},
    {"rotate-root/{name}", "Rotate the password of the connection's own user.",
     "POST sets a newly generated password on the username of the connection,\n"
     "with root_rotation_statements (default: ALTER ROLE ... WITH PASSWORD),\n"
     "and stores it. Afterwards only Coffer knows that password."},
    {"roles", "List the dynamic roles.",
     "LIST answers the names of the dynamic roles, or 404 when there are none."},
    {"roles/{name}", "Manage a dynamic role.",
     "POST sets db_name (the connection), creation_statements (required),\n"
     "revocation_statements, renew_statements, rollback_statements,\n"
     "default_ttl and max_ttl. The statements may use {{name}}, {{password}}\n"
     "and {{expiration}}. GET answers the role; DELETE removes it (issued\n"
     "credentials stay until their leases end)."},
    {"creds/{name}", "Create credentials from a dynamic role.",
     "GET creates a new database user with the role's creation_statements and\n"
     "answers its username and password, under a renewable lease of the role's\n"
     "default_ttl (bounded by max_ttl). Revoking the lease runs the role's\n"
     "revocation_statements, or by default drops the user."},
    {"static-roles", "List the static roles.",
     "LIST answers the names of the static roles, or 404 when there are none."},
    {"static-roles/{name}", "Manage a static role.",
     "POST sets db_name, username (an existing database user, fixed once set),\n"
     "rotation_period or rotation_schedule (a cron expression), and\n"
     "rotation_statements. Creating the role rotates the user's password at\n"
     "once. GET answers the role; DELETE removes it, leaving the user as is."},
    {"static-creds/{name}", "Read the current credentials of a static role.",
     "GET answers username and password, last_vault_rotation, ttl (seconds\n"
     "until the next rotation) and rotation_period or rotation_schedule."},
    {"rotate-role/{name}", "Rotate the password of a static role now.",
     "POST sets a new generated password on the static role's user at once\n"
     "and schedules its next rotation from now."},
};

}  // namespace

logical::EngineHelp DatabaseBackend::Help() const { return {kDescription, kRoutes}; }

}  // namespace coffer::engines::database
