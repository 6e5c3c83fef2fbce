// Path help for the LDAP auth method (logical/help.h).
#include <string_view>

#include "auth/ldap/ldap_backend.h"

namespace coffer::auth::ldap {
namespace {

constexpr std::string_view kDescription =
    "The LDAP auth method lets users log in with their directory username and\n"
    "password (OpenLDAP, Active Directory, FreeIPA...). Coffer binds to the\n"
    "directory as the user to check the password, then finds the user's\n"
    "groups; policies come from groups/<name> and users/<name> entries here\n"
    "and from the config's token_policies, and the directory's groups are the\n"
    "login's group aliases for external identity groups.";

constexpr logical::RouteHelp kRoutes[] = {
    {"config", "Configure the directory.",
     "Write (POST) url (comma-separated for fallbacks), how the user is found\n"
     "(userdn with userattr, userfilter, upndomain, discoverdn, binddn and\n"
     "bindpass), how groups are found (groupdn, groupfilter, groupattr,\n"
     "anonymous_group_search), TLS (starttls, certificate, insecure_tls,\n"
     "tls_min_version, tls_max_version), deny_null_bind,\n"
     "case_sensitive_names, username_as_alias, request_timeout,\n"
     "connection_timeout, dereference_aliases and the token_* settings.\n"
     "Fields left out keep their value. Read returns the configuration\n"
     "without bindpass."},
    {"groups", "List the groups configured on this mount.", "LIST returns their names."},
    {"groups/{name}", "Map a directory group to policies.",
     "Write (POST) policies; read returns them; delete removes the mapping."},
    {"users", "List the users configured on this mount.", "LIST returns their names."},
    {"users/{name}", "Give a user local groups and policies.",
     "Write (POST) groups (local group names whose policies the user gets)\n"
     "and policies; read returns them; delete removes the entry."},
    {"login/{username}", "Log in with a directory username and password.",
     "Write (POST) password; no client token is needed. On success the\n"
     "response carries a token with the policies of the user's groups."},
};

}  // namespace

logical::EngineHelp LdapBackend::Help() const { return {kDescription, kRoutes}; }

}  // namespace coffer::auth::ldap
