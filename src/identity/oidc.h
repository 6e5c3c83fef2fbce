#pragma once
// Identity tokens (Vault's identity/oidc): OIDC ID tokens, signed JWTs that
// say which entity holds a Coffer token, for a workload to show a third
// party that verifies them with the published keys.
//   oidc/config                          issuer (GET, POST)
//   oidc/key/:name                       named signing keys (GET, POST, DELETE; LIST oidc/key)
//   oidc/key/:name/rotate                rotate now (POST)
//   oidc/role/:name                      key, claims template, ttl, client_id (LIST oidc/role)
//   oidc/token/:name                     a token for the caller's entity (GET)
//   oidc/introspect                      is a token valid and its entity active (POST)
//   oidc/.well-known/openid-configuration, oidc/.well-known/keys   (no token needed)
//
// A key rotates when its rotation_period has passed, checked whenever it
// signs a token and whenever the public keys are read (.well-known/keys,
// introspection); Vault rotates from a background job, and whoever looks
// sees the same keys. A rotated-out key's public half is published
// for its verification_ttl more. Shapes and messages are Vault's.
//
// Storage (the identity view, below the barrier): oidc/config,
// oidc/keys/<name> (with the private keys), oidc/roles/<name>.
// Thread-safe: writes and rotations are serialised by one mutex.

#include <functional>
#include <mutex>
#include <string>

#include "common/clock.h"
#include "identity/store.h"
#include "logical/request.h"
#include "storage/backend.h"

namespace coffer::identity {

class OidcTokens {
 public:
  // `api_addr`: the server's advertised address (config api_addr), the
  // issuer when oidc/config sets none.
  OidcTokens(storage::Backend& storage, IdentityStore& store, Clock& clock,
             std::function<std::string()> api_addr)
      : storage_(storage), store_(store), clock_(clock), api_addr_(std::move(api_addr)) {}

  // `rel` below "identity/": whether it needs no token.
  static bool IsUnauthenticated(std::string_view rel);
  // `rel` below "identity/", starting "oidc/".
  Result<logical::Response> Handle(const logical::Request& request, std::string_view rel);

 private:
  Result<logical::Response> Config(const logical::Request& request);
  Result<logical::Response> Keys(const logical::Request& request, std::string_view rest);
  Result<logical::Response> Roles(const logical::Request& request, std::string_view rest);
  Result<logical::Response> Token(const logical::Request& request, std::string_view name);
  Result<logical::Response> Introspect(const logical::Request& request);
  Result<logical::Response> Discovery();
  Result<logical::Response> PublicKeys();

  // oidc/config's issuer ("" when none is set), and the one tokens carry.
  Result<std::string> ConfiguredIssuer();
  Result<std::string> Issuer();
  // The public keys every key publishes now, each key brought up to date.
  Result<logical::Json> PublicKeySet();
  std::int64_t Now() const;

  storage::Backend& storage_;
  IdentityStore& store_;
  Clock& clock_;
  std::function<std::string()> api_addr_;
  std::mutex mu_;  // key and role writes, rotations
};

}  // namespace coffer::identity
