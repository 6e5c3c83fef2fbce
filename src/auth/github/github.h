#pragma once
// The GitHub auth method (Vault's auth/github API), mounted at
// "auth/<path>/", for people who log in with a GitHub personal access token
// (scope read:org):
//   config            POST {organization (required), organization_id, base_url,
//                           token_*} · GET
//   map/teams/:team   POST {value: policies} · GET → {key, value} · DELETE;
//   map/teams (LIST)  → {keys}      (and the same for map/users/:user)
//   login             POST {token} (no token needed) → a login
//
// A login asks the GitHub API (base_url, https://api.github.com/ by
// default), as the token's owner: who the user is (GET user), whether one
// of their organizations has the configured organization's id (GET
// user/orgs), and which of that organization's teams they are in (GET
// user/teams); lists are read in pages of 100. Policies: the config's
// token_policies, every team's mapping (by name and by slug) and the user's.
// The teams are the login's group aliases (external identity groups). When
// organization_id is not given at config, it is read from GET orgs/<name>.
//
// The "default" key of each map applies to every login, as in Vault.
//
// Storage (the mount's view): config, map/teams/<lower-cased name>,
// map/users/<lower-cased name> → JSON. The GitHub token is kept only with
// the Coffer token it logged in (the login's internal data, under the
// barrier, never reported), so that a renewal asks GitHub again and is
// refused when the policies it gives have changed, as Vault does. It is
// never logged or echoed. Thread-safe: logins run concurrently, each making
// its own requests on the request's thread.

#include <mutex>

#include "logical/backend.h"
#include "net/http_exchange.h"

namespace coffer::auth::github {

class GithubBackend final : public logical::Backend {
 public:
  GithubBackend(const logical::BackendConfig& config, net::HttpDo http = net::Exchange)
      : storage_(config.storage), http_(std::move(http)) {}

  Result<logical::Response> HandleRequest(const logical::Request& request) override;
  // A token renews on the config's token_* terms when GitHub, asked again
  // with the login's token, still gives the token's policies.
  Result<std::optional<logical::LoginRenewal>> CheckLoginRenewal(
      const logical::LoginRenewalRequest& renewal) override;
  bool IsUnauthenticated(std::string_view relative_path) const override;
  // Names are canonical here (lower case, trimmed): the ACL checks the
  // canonical path too.
  std::string AclPath(std::string_view relative_path) const override;
  // Path help for the routes above (github_help.cc).
  logical::EngineHelp Help() const override;

 private:
  Result<logical::Response> ConfigPath(const logical::Request& request);
  Result<logical::Response> MapPath(const logical::Request& request, std::string_view kind,
                                    const std::string& name);
  Result<logical::Response> Login(const logical::Request& request);

  storage::Backend& storage_;
  const net::HttpDo http_;
  std::mutex write_mu_;
};

// Registers the "github" auth method type. Idempotent.
void RegisterGithub();

}  // namespace coffer::auth::github
