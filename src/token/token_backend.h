#pragma once
// TokenBackend: Vault's token auth method API, mounted at "auth/token/".
// request.relative_path is the part after "auth/token/"; request.auth is the
// caller (required: every route here is authenticated), and auth->sudo says
// whether the ACL grants sudo on the request path.
//
// Routes (Vault's shapes; see docs/tokens.md):
//   POST create, create-orphan, create/:role      → 200 auth{...}
//   POST lookup {token} | GET lookup-self | POST lookup-accessor {accessor}
//                                                 → 200 data{...}
//   POST renew {token,increment} | renew-self | renew-accessor → 200 auth{...}
//   POST revoke {token} | revoke-self | revoke-accessor {accessor}
//        | revoke-orphan {token} (sudo)           → 204
//   LIST accessors (sudo)                         → 200 {keys}
//   roles/:name POST/GET/DELETE, LIST roles       → 204 / 200 / 204 / 200
//   POST tidy                                     → 202 + warning
//
// Thread-safe (stateless besides the store).

#include <functional>
#include <string_view>

#include "logical/backend.h"
#include "token/token_store.h"

namespace coffer::token {

class TokenBackend final : public logical::Backend {
 public:
  // Whether a policy of that name exists (for Vault's warning on a token
  // given a policy that does not); unset: no warnings.
  using PolicyExists = std::function<bool(std::string_view name)>;
  explicit TokenBackend(TokenStore& store, PolicyExists policy_exists = nullptr)
      : store_(store), policy_exists_(std::move(policy_exists)) {}

  // The entity behind an alias of the token auth method, created with the
  // alias when there is none (create/:role with entity_alias); errors as
  // IdentityStore::EntityForLogin's. Unset: entity_alias is refused.
  using EntityForAlias = std::function<Result<std::string>(std::string_view alias_name)>;
  void SetEntityForAlias(EntityForAlias lookup) { entity_for_alias_ = std::move(lookup); }

  Result<logical::Response> HandleRequest(const logical::Request& request) override;
  Result<bool> ExistenceCheck(const logical::Request& request) override;
  logical::EngineHelp Help() const override;  // token_help.cc

 private:
  Result<logical::Response> Create(const logical::Request& request, std::string_view role_name,
                                   bool orphan_endpoint);
  Result<logical::Response> LookupRoute(const logical::Request& request, std::string_view verb);
  Result<logical::Response> RenewRoute(const logical::Request& request, std::string_view verb);
  Result<logical::Response> RevokeRoute(const logical::Request& request, std::string_view verb);
  Result<logical::Response> Roles(const logical::Request& request, std::string_view name);

  TokenStore& store_;
  PolicyExists policy_exists_;
  EntityForAlias entity_for_alias_;
};

// Vault's "auth" block for a token (create, login, renew). client_token may
// be empty (renew-accessor).
logical::Json AuthJson(const TokenEntry& entry, std::string_view client_token);
// The same block as JSON text, members in the same (sorted) order.
std::string AuthText(const TokenEntry& entry, std::string_view client_token);
// Puts the block in `r`: as text when the request lets the answer come as
// text (Request::data_text_ok), else as a tree.
void SetAuth(logical::Response& r, const logical::Request& request, const TokenEntry& entry,
             std::string_view client_token);
// Vault's lookup "data" for a token; id is "" for lookup-accessor.
// now_unix: the second the time left counts from (TokenStore::NowUnixUp).
logical::Json LookupJson(const TokenEntry& entry, std::string_view id, std::int64_t now_unix);

}  // namespace coffer::token
