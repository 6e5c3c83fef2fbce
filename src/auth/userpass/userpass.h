#pragma once
// The userpass auth method (Vault's auth/userpass API), mounted at
// "auth/<path>/":
//   users/:name           POST {password, token_*} (create or update) · GET · DELETE
//   users/:name/password  POST {password}
//   users/:name/policies  POST {token_policies | policies}
//   users (LIST)          → {keys}
//   login/:name           POST {password} (no token needed) → a login for the core
//
// Usernames are canonical: lower-cased and trimmed ("  Alice " is "alice").
// Passwords are stored only as Argon2id hashes (password.h). A login for an
// unknown user verifies against a real dummy hash, so both cost the same;
// a wrong password and an unknown user get the same 400 "invalid username or
// password". Lockout after repeated failures is the core's (core/login.h),
// keyed by LoginAlias().
//
// Storage (the mount's view): user/<canonical name> → JSON
//   {password_hash, token_*}.
//
// Thread-safe: reads are lock-free; writes to one mount are serialised.

#include <memory>
#include <mutex>

#include "logical/backend.h"

namespace coffer::auth::userpass {

class UserpassBackend final : public logical::Backend {
 public:
  explicit UserpassBackend(const logical::BackendConfig& config) : storage_(config.storage) {}

  Result<logical::Response> HandleRequest(const logical::Request& request) override;
  // A token renews only while its user exists.
  Result<std::optional<logical::LoginRenewal>> CheckLoginRenewal(
      const logical::LoginRenewalRequest& renewal) override;
  // users/:name: whether the user exists (creating one needs "create").
  Result<bool> ExistenceCheck(const logical::Request& request) override;
  Status Initialize() override;
  bool IsUnauthenticated(std::string_view relative_path) const override;
  std::string LoginAlias(const logical::Request& request) const override;
  // Names are canonical here (lower case, trimmed): the ACL checks the
  // canonical path too.
  std::string AclPath(std::string_view relative_path) const override;
  // Path help for the routes above (userpass_help.cc).
  logical::EngineHelp Help() const override;

 private:
  Result<logical::Response> User(const logical::Request& request, const std::string& name);
  Result<logical::Response> Password(const logical::Request& request, const std::string& name);
  Result<logical::Response> Policies(const logical::Request& request, const std::string& name);
  Result<logical::Response> Login(const logical::Request& request, const std::string& name);
  Result<logical::Response> List(const logical::Request& request);

  storage::Backend& storage_;
  std::mutex write_mu_;  // serialises read-modify-write of user entries
};

// Registers the "userpass" auth method type. Idempotent.
void RegisterUserpass();

}  // namespace coffer::auth::userpass
