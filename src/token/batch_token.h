#pragma once
// Batch tokens: the token IS its entry, sealed. Nothing is written to
// storage when one is issued; the server reads one back by opening it.
//
//   "hvb." base64url( version (1 B) | nonce (12 B) | AES-256-GCM(entry) | tag (16 B) )
//
// The entry is a compact CBOR map (policies, parent HMAC, times, TTL,
// display name, meta, entity, path, role); the AAD binds the format name and
// the version byte. The key is the token store's batch key (32 random bytes
// kept under the barrier, see TokenStore::Load).
//
// Stateless and thread-safe. Errors: SealBatchToken → kInternal if OpenSSL
// fails; OpenBatchToken → kPermissionDenied for anything that is not a token
// this key sealed (wrong prefix, bad base64, flipped bit, truncated, other
// key, unknown version, malformed entry) — the caller treats it as an
// unknown token, never as a server error.

#include <string>
#include <string_view>

#include "common/secret_bytes.h"
#include "common/status.h"
#include "token/token_store.h"

namespace coffer::token {

inline constexpr std::string_view kBatchTokenPrefix = "hvb.";

// Whether a token id has the batch prefix (says nothing about validity).
inline bool IsBatchTokenId(std::string_view id) { return id.starts_with(kBatchTokenPrefix); }

// The token id for `entry` (its id_hmac and accessor are not sealed: the
// HMAC is derived from the id, and batch tokens have no accessor).
Result<SecretBytes> SealBatchToken(const SecretBytes& key, const TokenEntry& entry);

// The entry sealed in `token_id` (batch = true, accessor and id_hmac empty).
Result<TokenEntry> OpenBatchToken(const SecretBytes& key, std::string_view token_id);

}  // namespace coffer::token
