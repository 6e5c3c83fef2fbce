#pragma once
// The LDAP auth method (Vault's auth/ldap API), mounted at "auth/<path>/":
//   config            POST {url, userdn, userattr, userfilter, upndomain,
//                           discoverdn, binddn, bindpass, groupdn, groupfilter,
//                           groupattr, anonymous_group_search, deny_null_bind,
//                           case_sensitive_names, username_as_alias, starttls,
//                           insecure_tls, certificate, tls_min_version,
//                           tls_max_version, request_timeout, connection_timeout,
//                           dereference_aliases, token_*} (fields not sent keep
//                           their value) · GET (no bindpass)
//   groups/:name      POST {policies} · GET · DELETE;  groups (LIST)
//   users/:name       POST {groups, policies} · GET · DELETE;  users (LIST)
//   login/:username   POST {password} (no token needed) → a login
//
// A login, as Vault's: find the user's DN (a search as binddn, or with
// discoverdn anonymously; else userattr=<name>,userdn or <name>@upndomain),
// bind as it with the password, bind back as binddn, search the user's
// groups (groupfilter under groupdn; their groupattr values or their DNs'
// CNs), then add the local user's groups, and take the policies of every
// local group named and of the local user, plus the config's
// token_policies. The LDAP groups become the login's group aliases
// (external groups, identity.md). Usernames are folded to lower case unless
// case_sensitive_names. A refused bind is "ldap operation failed: failed to
// bind as user", whatever the reason, and counts for the lockout.
//
// Storage (the mount's view): config, group/<name>, user/<name> → JSON.
// The bind password is stored under the barrier, never read back, and wiped
// after use. Thread-safe: logins run concurrently, each on a connection of
// its own (directory.h); writes are serialised per mount.

#include <mutex>

#include "auth/ldap/directory.h"
#include "logical/backend.h"

namespace coffer::auth::ldap {

class LdapBackend final : public logical::Backend {
 public:
  LdapBackend(const logical::BackendConfig& config, Dialer dialer = DialLdap)
      : storage_(config.storage), dialer_(std::move(dialer)) {}

  Result<logical::Response> HandleRequest(const logical::Request& request) override;
  // A token renews on the config's token_* terms while the method is
  // configured (the directory is asked again at the next login).
  Result<std::optional<logical::LoginRenewal>> CheckLoginRenewal(
      const logical::LoginRenewalRequest& renewal) override;
  bool IsUnauthenticated(std::string_view relative_path) const override;
  std::string LoginAlias(const logical::Request& request) const override;
  // Names are canonical here (lower case, trimmed): the ACL checks the
  // canonical path too.
  std::string AclPath(std::string_view relative_path) const override;
  // Path help for the routes above (ldap_help.cc).
  logical::EngineHelp Help() const override;

 private:
  Result<logical::Response> ConfigPath(const logical::Request& request);
  Result<logical::Response> Named(const logical::Request& request, std::string_view kind,
                                  const std::string& name);
  Result<logical::Response> Login(const logical::Request& request, const std::string& username);

  storage::Backend& storage_;
  const Dialer dialer_;
  std::mutex write_mu_;
};

// Registers the "ldap" auth method type. Idempotent.
void RegisterLdap();

}  // namespace coffer::auth::ldap
