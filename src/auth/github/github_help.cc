// Path help for the GitHub auth method (logical/help.h).
#include <string_view>

#include "auth/github/github.h"

namespace coffer::auth::github {
namespace {

constexpr std::string_view kDescription =
    "The GitHub auth method lets members of a GitHub organization log in with\n"
    "a personal access token (scope read:org). Coffer asks the GitHub API who\n"
    "the token's owner is, checks that they belong to the configured\n"
    "organization, and gives the policies mapped to their teams and to them.";

constexpr logical::RouteHelp kRoutes[] = {
    {"config", "Configure the organization.",
     "Write (POST) organization (required), organization_id (read from GitHub\n"
     "when left out), base_url (GitHub Enterprise's API) and the token_*\n"
     "settings. Read returns them."},
    {"map/teams", "List the teams mapped to policies.", "LIST returns the team names."},
    {"map/teams/{key}", "Map a team to policies.",
     "Write (POST) value: the policies, comma-separated. Read returns key and\n"
     "value; delete removes the mapping."},
    {"map/users", "List the users mapped to policies.", "LIST returns the user names."},
    {"map/users/{key}", "Map a user to policies.",
     "Write (POST) value: the policies, comma-separated. Read returns key and\n"
     "value; delete removes the mapping."},
    {"login", "Log in with a GitHub personal access token.",
     "Write (POST) token; no client token is needed. On success the response\n"
     "carries a token with the policies of the user's teams and of the user."},
};

}  // namespace

logical::EngineHelp GithubBackend::Help() const { return {kDescription, kRoutes}; }

}  // namespace coffer::auth::github
