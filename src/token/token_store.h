#pragma once
// The token store: issues tokens and answers "who is this caller?".
//
// Storage (under the barrier, in the view given at construction) holds only a
// salted HMAC of each token id, never the id itself: "id/<hmac-hex>" → entry
// JSON, "accessor/<accessor>" → hmac-hex. Lookups go through an in-memory
// cache keyed by the HMAC. The salt is created on first Load() and stored
// encrypted like everything else.
//
// Thread-safe. Errors: kSealed/kInternal from storage; Lookup of an unknown
// or expired token answers nullopt, not an error.

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/clock.h"
#include "common/secret_bytes.h"
#include "common/status.h"
#include "storage/backend.h"

namespace coffer::token {

struct TokenEntry {
  std::string id_hmac;  // hex HMAC of the token id
  std::string accessor;
  std::vector<std::string> policies;
  std::string parent_hmac;  // empty for orphans and root tokens
  std::string path = "auth/token/create";
  std::string display_name = "token";
  std::map<std::string, std::string> meta;
  std::int64_t creation_time = 0;  // unix seconds (wall clock, for reporting)
  std::int64_t ttl = 0;            // seconds; 0 = no expiry (root tokens)
  std::int64_t num_uses = 0;       // 0 = unlimited

  bool IsRoot() const;
};

class TokenStore {
 public:
  TokenStore(storage::Backend& view, Clock& clock);

  // After unseal: reads (or creates) the salt and clears the cache.
  Status Load();
  // At seal: forgets the salt and every cached entry.
  void Unload();

  // Creates a root token. `requested_id` (dev mode's -dev-root-token-id) is
  // used as the token id when non-empty. Returns the token id, which is
  // shown once and never stored.
  Result<SecretBytes> CreateRoot(std::string_view requested_id = {});

  // The entry for a token id, or nullptr when unknown.
  Result<std::shared_ptr<const TokenEntry>> Lookup(std::string_view token_id);

  // Removes a token (and its accessor record).
  Status Revoke(std::string_view token_id);

 private:
  Result<std::string> Hmac(std::string_view token_id);
  Status Store(const TokenEntry& entry);

  storage::Backend& view_;
  Clock& clock_;
  std::mutex mu_;
  SecretBytes salt_;                                                          // guarded by mu_
  std::unordered_map<std::string, std::shared_ptr<const TokenEntry>> cache_;  // guarded by mu_
};

// A new random token id: "hvs." followed by 32 base62 characters (190 bits),
// the shape Vault's clients expect of a service token.
SecretBytes NewTokenId();
// A random base62 string of `n` characters (accessors, ids).
std::string RandomBase62(std::size_t n);

}  // namespace coffer::token
