#pragma once
// IdentityBackend: the built-in identity/ API (Vault's shapes), served by
// the core like sys/ (not in the mount table):
//   entity, entity/id/:id, entity/name/:name      (LIST entity/id, entity/name)
//   entity-alias, entity-alias/id/:id             (LIST entity-alias/id)
//   group, group/id/:id, group/name/:name         (LIST group/id, group/name)
//   group-alias, group-alias/id/:id               (LIST group-alias/id)
//   lookup/entity, lookup/group
//   mfa/method/totp[/:id], mfa/method[/:id], mfa/method/totp/generate,
//   mfa/method/totp/admin-generate, mfa/method/totp/admin-destroy,
//   mfa/login-enforcement/:name                   (LIST mfa/login-enforcement)
//   oidc/...                                       identity tokens (oidc.h)
// Authorisation is the core's (ACL on the full path); generate acts on the
// caller's own entity (request.auth->entity_id).
//
// Errors: kNotFound for unknown paths, kMethodNotAllowed, kInvalidArgument,
// storage errors. Thread-safe (the stores are).

#include <functional>

#include "identity/mfa/mfa_store.h"
#include "identity/oidc.h"
#include "identity/store.h"
#include "logical/backend.h"

namespace coffer::identity {

class IdentityBackend final : public logical::Backend {
 public:
  IdentityBackend(IdentityStore& store, mfa::MfaStore& mfa) : store_(store), mfa_(mfa) {}

  // request.relative_path is the path below "identity/".
  Result<logical::Response> HandleRequest(const logical::Request& request) override;
  // Serves oidc/ (identity tokens); not owned.
  void SetOidc(OidcTokens* oidc) { oidc_ = oidc; }

  // Path help: what identity/ is for and its routes (identity_help.cc).
  logical::EngineHelp Help() const override;

  // The read answer for an entity (with aliases and group ids), as in Vault.
  logical::Json EntityJson(const Entity& e) const;
  logical::Json GroupJson(const Group& g) const;

 private:
  Result<logical::Response> Entities(const logical::Request& request, std::string_view rel);
  // identity/entity/merge (IdentityStore::MergeEntities).
  Result<logical::Response> Merge(const logical::Request& request);
  Result<logical::Response> EntityAliases(const logical::Request& request, std::string_view rel);
  Result<logical::Response> Groups(const logical::Request& request, std::string_view rel);
  Result<logical::Response> GroupAliases(const logical::Request& request, std::string_view rel);
  Result<logical::Response> Lookup(const logical::Request& request, std::string_view rel);
  Result<logical::Response> Mfa(const logical::Request& request, std::string_view rel);
  Result<logical::Response> MfaMethods(const logical::Request& request, std::string_view rel);
  Result<logical::Response> Enforcements(const logical::Request& request, std::string_view rel);
  Result<logical::Response> WriteEntity(const logical::Request& request, std::string_view id,
                                        std::string_view name, bool by_name);
  Result<logical::Response> WriteGroup(const logical::Request& request, std::string_view id,
                                       std::string_view name);

  IdentityStore& store_;
  mfa::MfaStore& mfa_;
  OidcTokens* oidc_ = nullptr;
};

// Shared by the route files.
namespace detail {
bool IsWrite(logical::Operation op);
std::string Time(std::int64_t unix_seconds);
// The string value of a field, or "" when absent or not a string.
std::string Str(const logical::Request& request, std::string_view name);
// An alias's read answer (times as RFC 3339), for entity and group aliases.
logical::Json AliasJson(const Alias& a);
// The routes of an alias kind: <base> (POST), <base>/id (LIST),
// <base>/id/:id (GET, POST, DELETE), over the store's functions for it.
struct AliasFamily {
  std::string_view base;  // "entity-alias", "group-alias"
  std::string_view noun;  // in "invalid <noun> ID provided"
  bool custom_metadata;   // whether writes take custom_metadata
  std::function<std::optional<Alias>(std::string_view)> by_id;
  std::function<Result<Alias>(Alias)> put;
  std::function<Status(std::string_view)> erase;
  std::function<std::vector<Alias>()> all;
};
Result<logical::Response> AliasRoutes(const logical::Request& request, std::string_view rel,
                                      const AliasFamily& family);
}  // namespace detail

}  // namespace coffer::identity
