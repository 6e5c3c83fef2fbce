// Path help for the userpass auth method (logical/help.h).
#include <string_view>

#include "auth/userpass/userpass.h"

namespace coffer::auth::userpass {
namespace {

constexpr std::string_view kDescription =
    "The userpass auth method lets people log in to Coffer with a username and\n"
    "a password. An operator first creates each user by writing a password and\n"
    "token settings (policies, TTLs) to users/<username>; the user then writes\n"
    "the password to login/<username> and receives a token carrying those\n"
    "settings. Usernames are case-insensitive, and passwords are kept only as\n"
    "Argon2id hashes. Enable it with `coffer auth enable userpass`.";

constexpr logical::RouteHelp kRoutes[] = {
    {"login/{username}", "Log in with a username and password.",
     "Write (POST) the password field to log in as the named user; no client\n"
     "token is needed. On success the response carries a new token with the\n"
     "policies, TTLs and other token settings stored on the user. A wrong\n"
     "password and an unknown username are refused with the same error."},
    {"users", "List the users configured on this mount.",
     "LIST returns the usernames of this mount, in their canonical lower-case\n"
     "form."},
    {"users/{username}/password", "Change the password of an existing user.",
     "Write (POST) the password field to replace the user's password. The\n"
     "user's other settings are kept, and the old password stops working at\n"
     "once. The user must already exist."},
    {"users/{username}/policies", "Change the policies of an existing user.",
     "Write (POST) token_policies (a list or a comma-separated string; the\n"
     "older name policies is accepted too) to replace the policies attached to\n"
     "the tokens the user logs in with. The user's other settings are kept."},
    {"users/{username}", "Create, read, update or delete a user.",
     "Write (POST) creates the user or updates it: password (required when\n"
     "the user is new) and the token settings token_policies, token_ttl,\n"
     "token_max_ttl, token_explicit_max_ttl, token_period, token_num_uses,\n"
     "token_no_default_policy, token_bound_cidrs and token_type. Fields left\n"
     "out keep their value. Read returns the token settings, never the\n"
     "password; delete removes the user."},
};

}  // namespace

logical::EngineHelp UserpassBackend::Help() const { return {kDescription, kRoutes}; }

}  // namespace coffer::auth::userpass
