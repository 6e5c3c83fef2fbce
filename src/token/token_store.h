#pragma once
// The token store: issues tokens and answers "who is this caller?".
//
// Storage (under the barrier, in the "sys/token/" view) holds only a salted
// HMAC of each token id, never the id itself:
//   id/<hmac>                   → entry JSON
//   accessor/<accessor>         → hmac
//   parent/<parent hmac>/<hmac> → "" (the child index; revoking a token walks
//                                 it iteratively, so depth is unlimited and
//                                 it survives restarts)
//   role/<name>                 → role JSON
//   salt
// Lookups go through an in-memory cache keyed by the HMAC, holding a
// monotonic deadline so expired tokens are refused even before the
// expiration manager's thread revokes them.
//
// Batch tokens (TokenRequest::batch, ids "hvb.", token/batch_token.h) are
// not stored at all: the id is the entry sealed under a key kept at
// "batch-key" in this view. Creating one writes nothing; looking one up opens
// it (one AES-GCM decrypt) and, unless it is an orphan, checks that its
// parent still resolves — so revoking or expiring the parent invalidates it.
// They have no accessor and cannot be renewed, revoked, be root, have
// num_uses, a period or an explicit max TTL. A small in-memory map keyed by
// their HMAC lets LookupByHmac() find batch tokens that were recently looked
// up by id (the request pipeline only carries the HMAC); it is bounded and
// only a cache.
//
// Tokens with a TTL are registered as kToken leases in the
// ExpirationManager attached with AttachExpiration(); revoking a token
// (explicitly, by expiry, or on its last use) revokes its whole subtree and
// every lease each of those tokens created (ExpirationManager::RevokeByToken).
//
// Thread-safe. Errors: kSealed before Load(); kInternal/kUnavailable from
// storage; kNotFound for unknown tokens/accessors/roles where noted. Lookup of
// an unknown, expired or used-up token answers nullptr, not an error.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "common/background_job.h"
#include "common/clock.h"
#include "common/secret_bytes.h"
#include "common/sharded_hash_map.h"
#include "common/status.h"
#include "crypto/keyed_hmac.h"
#include "storage/backend.h"

namespace coffer::expiration {
class ExpirationManager;
}

namespace coffer::token {

struct TokenEntry {
  std::string id_hmac;  // hex HMAC of the token id
  std::string accessor;
  std::vector<std::string> policies;
  std::string parent_hmac;  // empty for orphans and root tokens
  std::string path = "auth/token/create";
  std::string display_name = "token";
  std::map<std::string, std::string> meta;
  // What its auth method kept at login for its renewals
  // (logical::LoginResult::internal); stored, never reported.
  std::map<std::string, std::string> internal;
  std::int64_t creation_time = 0;  // unix seconds (wall clock, for reporting)
  std::int64_t ttl = 0;            // creation TTL, seconds; 0 = no expiry (root tokens)
  std::int64_t num_uses = 0;       // uses left; 0 = unlimited; -1 = revocation pending
  std::int64_t expire_time = 0;    // unix seconds; 0 = never
  std::int64_t last_renewal = 0;   // unix seconds; 0 = never
  std::int64_t explicit_max_ttl = 0;
  // A login's cap on the token's life with renewals (its role's or user's
  // token_max_ttl, within the mount's max); 0: the system's max. Unlike
  // explicit_max_ttl it is not reported, as in Vault, where it is the
  // lease's max rather than the token's.
  std::int64_t max_ttl = 0;
  std::int64_t period = 0;
  bool renewable = true;
  std::string role;
  std::string entity_id;
  bool batch = false;  // a batch token: never stored, no accessor
  // CIDR blocks the token may be used from (token_bound_cidrs); empty =
  // anywhere. Never set on a token that does not expire.
  std::vector<std::string> bound_cidrs;

  bool IsRoot() const;
};

// A stored token entry (under sys/token/id/): a JSON object, keys sorted.
std::string EncodeTokenEntry(const TokenEntry& entry);
Result<TokenEntry> DecodeTokenEntry(std::string_view text);

// The terms a login token renews on, from its role or user and its mount
// as they are at the renewal (TokenStore::SetLoginRenewalCheck).
struct LoginTerms {
  std::int64_t ttl = 0;      // seconds: the TTL a renewal without an increment grants
  std::int64_t max_ttl = 0;  // seconds from creation: the cap on its life
  std::int64_t period = 0;   // seconds; 0 = not periodic
};

struct TokenRole {
  std::string name;
  std::vector<std::string> allowed_policies;
  std::vector<std::string> disallowed_policies;
  std::vector<std::string> allowed_policies_glob;  // '*' anywhere, as Vault's globs
  std::vector<std::string> disallowed_policies_glob;
  bool orphan = false;
  std::int64_t period = 0;
  bool renewable = true;
  std::int64_t explicit_max_ttl = 0;
  std::string path_suffix;
  std::string token_type = "default-service";
  std::vector<std::string> token_bound_cidrs;  // given to its tokens
  bool token_no_default_policy = false;        // its tokens never get "default"
  std::int64_t token_num_uses = 0;             // a use limit for its tokens; 0: none
  // The entity aliases its tokens may be created for (create/:role's
  // entity_alias), lower-cased, sorted; '*' anywhere, as Vault's globs.
  std::vector<std::string> allowed_entity_aliases;
  // What was set through Vault's deprecated names (`period`,
  // `explicit_max_ttl`, `bound_cidrs`), which a role read reports apart from
  // the token_* values in force; setting the token_* name clears them.
  std::int64_t legacy_period = 0;
  std::int64_t legacy_explicit_max_ttl = 0;
  std::vector<std::string> legacy_bound_cidrs;
};

// What to create. No permission checks happen here: the caller (the token
// backend's create rules, or a login method) decided these values.
// The length of a service token's id ("hvs.", 8 characters of its creation
// time and 32 random base62 characters), and so of sys/generate-root's
// one-time pad. Ids of 36 characters, from before the time characters, stay
// valid.
inline constexpr std::size_t kServiceTokenLength = 44;

struct TokenRequest {
  std::vector<std::string> policies;  // canonicalised by CreateToken
  bool no_default_policy = false;
  std::map<std::string, std::string> meta;
  std::map<std::string, std::string> internal;  // TokenEntry::internal
  std::string parent_hmac;                      // "" = orphan
  std::string path = "auth/token/create";
  std::string display_name = "token";
  std::string requested_id;     // "" = random "hvs." id
  std::chrono::seconds ttl{0};  // 0 = the default TTL (root-policy tokens: none)
  // The token auth method's tuned TTLs (SetMountTtls) apply to the tokens
  // it creates; logins' and wrapping tokens set this and get the system's,
  // as in Vault (a login's own mount has capped its TTL already).
  bool system_ttls = false;
  std::chrono::seconds explicit_max_ttl{0};
  std::chrono::seconds max_ttl{0};  // TokenEntry::max_ttl
  std::chrono::seconds period{0};
  std::int64_t num_uses = 0;
  bool renewable = true;
  std::string role;
  std::string entity_id;
  std::vector<std::string> bound_cidrs;  // dropped for a token that never expires
  // The creating token expires: a token that would never expire (root
  // policy, no TTL) is refused, as in Vault.
  bool parent_expires = false;
  // A batch token: kInvalidArgument with root policies, num_uses, period,
  // explicit_max_ttl or requested_id. The TTL is computed as for a service
  // token and is final.
  bool batch = false;
};

// Who owns the leases a token creates (Vault: "dynamic secrets lease
// assignment"): a service token itself; a batch token's parent, or nobody
// for an orphan batch token. expire_time (unix seconds, 0 = no limit) caps
// such a lease: a batch token's leases do not outlive it.
struct LeaseOwner {
  std::string token_hmac;
  std::int64_t expire_time = 0;
};

// Vault's role names: word characters, with '-' and '.' inside.
bool ValidRoleName(std::string_view name);

struct CreatedToken {
  SecretBytes id;  // shown once, never stored
  std::shared_ptr<const TokenEntry> entry;
  std::vector<std::string> warnings;  // a TTL or period capped, as Vault warns
};

struct TidyStats {
  std::size_t accessors_removed = 0;
  std::size_t parent_links_removed = 0;
  std::size_t tokens_revoked = 0;
};

struct Options {
  std::chrono::seconds default_ttl{768 * 3600};
  std::chrono::seconds max_ttl{768 * 3600};
  // How many service tokens' entries the store keeps decoded in memory;
  // past it, caching one more drops another at random, which the next
  // lookup of that token reads back from storage. (Unbounded, the cache
  // grew with every live token, ~1 KB each.)
  std::size_t max_cached_entries = 32768;
};

// "root", "default" and friends: lower-cased, trimmed, empty dropped,
// deduplicated, sorted; "default" added when add_default and "root" absent.
std::vector<std::string> CanonicalPolicies(const std::vector<std::string>& in, bool add_default);
// Policies the server uses internally, never given to a token by a create
// or a login (a token holding only "response-wrapping" is a wrapping token).
// `name` in canonical form.
inline bool IsInternalPolicy(std::string_view name) {
  return name == "response-wrapping" || name == "control-group";
}

class TokenStore {
 public:
  TokenStore(storage::Backend& view, Clock& clock, Options options = {});

  // The backend both the token view and the expiration manager's view are
  // prefixes of (the barrier), with those prefixes. When given, a new token
  // with a TTL and its lease are written in ONE Transact on `root` (atomic:
  // after a crash there is either both or neither); otherwise in two.
  struct SharedStorage {
    storage::Backend* root = nullptr;
    std::string token_prefix;   // e.g. "sys/token/"
    std::string expire_prefix;  // e.g. "sys/expire/"
  };

  // Wires the expiration manager (may be null: tokens then only expire via
  // Lookup's check). Call before Load(); the manager (and shared.root) must
  // outlive their use.
  void AttachExpiration(expiration::ExpirationManager* manager, SharedStorage shared);
  void AttachExpiration(expiration::ExpirationManager* manager) {
    AttachExpiration(manager, SharedStorage{});
  }

  // The token auth method's TTLs in effect (sys/auth/token/tune, the
  // system's where it has none): the TTL a token gets when it asks for none,
  // and the max that caps TTLs, periods and renewals.
  void SetMountTtls(std::chrono::seconds default_ttl, std::chrono::seconds max_ttl);

  // Called for every revoked token before its entry goes (the core destroys
  // the token's cubbyhole there). Set before Load(); must be thread-safe. An
  // error fails the revocation and keeps the entry (unusable) for a retry.
  void SetRevokeHook(std::function<Status(std::string_view hmac)> hook) {
    revoke_hook_ = std::move(hook);
  }

  // Called before a login token (one whose path is under auth/ but not
  // auth/token/) is renewed: an error refuses the renewal; LoginTerms
  // replace the token's own (its role's or user's as they are now);
  // nullopt keeps them. The core asks the auth method that minted it
  // (logical::Backend::CheckLoginRenewal). Set before Load(); must be
  // thread-safe.
  // `peer_certificates`: the renewing client's TLS chain (DER, leaf
  // first), null without one.
  using LoginRenewalCheck = std::function<Result<std::optional<LoginTerms>>(
      const TokenEntry&, const std::vector<std::string>* peer_certificates)>;
  void SetLoginRenewalCheck(LoginRenewalCheck check) { login_renewal_check_ = std::move(check); }

  // After unseal: reads (or creates) the salt and the batch-token key, and
  // clears the caches.
  Status Load();
  // At seal: wipes the salt and the batch key and forgets every cached entry.
  void Unload();

  // Creates a root token. `requested_id` (dev mode's -dev-root-token-id) is
  // used as the token id when non-empty. Returns the token id.
  Result<SecretBytes> CreateRoot(std::string_view requested_id = {});
  // Creates a service token (for auth/token/create, logins, wrapping), or a
  // batch token when request.batch (no storage is touched then).
  // kAlreadyExists when requested_id is taken.
  Result<CreatedToken> CreateToken(const TokenRequest& request);

  // The entry for a token id / its HMAC / its accessor, or nullptr.
  Result<std::shared_ptr<const TokenEntry>> Lookup(std::string_view token_id);
  Result<std::shared_ptr<const TokenEntry>> LookupByHmac(std::string_view hmac);
  Result<std::shared_ptr<const TokenEntry>> LookupAccessor(std::string_view accessor);
  Result<std::string> HmacOf(std::string_view token_id);

  // The owner of the leases a caller creates (see LeaseOwner): a service
  // token itself; a batch token (`batch`, whose id is `token_id`) its
  // parent and its expiry, read from the token itself rather than from a
  // cache that may have dropped it (a lease filed under the batch token
  // would outlive its parent). kPermissionDenied when the batch token no
  // longer opens (expired, parent gone).
  Result<LeaseOwner> LeaseOwnerOf(std::string_view hmac, std::string_view token_id, bool batch);

  // Counts one use of a token (the core calls it once per request, after
  // Lookup). Returns the entry as of this use (num_uses = uses left), or
  // nullptr when the token is unknown/expired/used up. The use that brings
  // num_uses to 0 is allowed and revokes the token (and its subtree and
  // leases) before returning. Atomic across concurrent requests.
  //
  // With `last_use` given, the last use does not revoke at once: the entry
  // comes back (num_uses 1), *last_use is set, no other request may use the
  // token any more, and the caller must call FinishLastUse() once its
  // request is done (Vault's "revoke after the request").
  Result<std::shared_ptr<const TokenEntry>> UseToken(std::string_view hmac,
                                                     bool* last_use = nullptr);
  Status FinishLastUse(std::string_view hmac);

  // Renews: periodic tokens get `period` again; others `increment` (0 = the
  // creation TTL), capped by explicit_max_ttl or Options::max_ttl from
  // creation. A login token takes its period, TTL and cap from the login
  // renewal check's LoginTerms when it gives them; `peer_certificates`
  // (the renewing client's TLS chain, or null) goes to that check. kNotFound for unknown,
  // kInvalidArgument if not renewable (batch tokens: "batch tokens cannot be renewed"), or once the
  // max TTL has passed. A TTL or period that the max cut short adds Vault's warning to *warnings.
  Result<std::shared_ptr<const TokenEntry>> Renew(
      std::string_view hmac, std::chrono::seconds increment,
      std::vector<std::string>* warnings = nullptr,
      const std::vector<std::string>* peer_certificates = nullptr);

  // Revokes the token, its whole subtree and their leases (iterative).
  // Unknown tokens are Ok.
  Status Revoke(std::string_view token_id);
  Status RevokeTree(std::string_view hmac);
  // Revokes only this token (and its leases); its children become orphans.
  Status RevokeOrphan(std::string_view hmac);

  Result<std::vector<std::string>> ListAccessors();
  // Service tokens stored now (sys/internal/counters/tokens): expired ones
  // not yet revoked count too, batch tokens never (nothing is stored).
  Result<std::size_t> CountTokens();

  Result<std::optional<TokenRole>> GetRole(std::string_view name);
  Status PutRole(const TokenRole& role);
  Status DeleteRole(std::string_view name);
  Result<std::vector<std::string>> ListRoles();

  // Removes accessors without a token and parent links without a child,
  // revokes tokens whose parent is gone (an interrupted tree revocation) and
  // tokens past their expiry. Between items it looks at `stop` (when given)
  // and ends with kUnavailable once it is set.
  Result<TidyStats> Tidy(const std::atomic<bool>* stop = nullptr);
  // auth/token/tidy: runs Tidy on a thread of its own and logs what it did.
  // False (nothing started) while an earlier one still runs.
  bool StartTidy();
  // Stops a running tidy and waits for it. The core calls this before it
  // stops the expiration manager (a tidy revokes through it) and before
  // Unload().
  void StopTidy() { tidy_job_.Stop(); }

  // Wall-clock unix seconds from the store's clock, rounded down (has an
  // expiry passed?) and up (the second a token is issued or renewed at, and
  // the one its time left counts from): see UnixSecondsUp in clock.h.
  std::int64_t NowUnix() const;
  std::int64_t NowUnixUp() const;

  // Service token entries cached now, and dropped from the cache so far to
  // keep it within Options::max_cached_entries.
  std::size_t CachedEntries();
  std::uint64_t CacheEvictions();

 private:
  struct Cached {
    std::shared_ptr<const TokenEntry> entry;
    std::int64_t deadline_ns = 0;  // monotonic; 0 = none
  };

  Result<std::string> Hmac(std::string_view token_id);
  Status Store(const TokenEntry& entry, bool is_new);
  // Stores `entry` and caches this very object (a new token's: no copy).
  Status Store(std::shared_ptr<const TokenEntry> entry, bool is_new);
  // A new entry and its lease (ttl > 0) in one Transact on shared_.root;
  // caches this very object.
  Status StoreWithLease(std::shared_ptr<const TokenEntry> entry, std::int64_t ttl);
  Cached MakeCached(std::shared_ptr<const TokenEntry> entry) const;
  using CacheMap = ShardedHashMap<std::unordered_map<std::string, Cached>>;
  // Under mu_: caches `entry`, evicting another entry when the cache is
  // full. Returns the evicted node (or an empty one) so that the caller
  // destroys it after releasing mu_.
  [[nodiscard]] CacheMap::node_type CacheLocked(std::shared_ptr<const TokenEntry> entry);
  // Batch tokens (token_batch.cc).
  Result<CreatedToken> CreateBatch(const TokenRequest& request, TokenEntry entry);
  Result<std::shared_ptr<const TokenEntry>> LookupBatch(std::string_view token_id);
  // Whether a cached batch entry is still valid: not expired, parent alive.
  Result<bool> BatchStillValid(const Cached& cached);
  // Reads the value at `key`, creating 32 random bytes there if absent.
  Result<SecretBytes> LoadOrCreateKey(std::string_view key);
  Result<std::optional<TokenEntry>> ReadEntry(std::string_view hmac);
  Status RevokeOne(std::string_view hmac);
  // Marks a stored token unusable (num_uses -1) before its revocation: no
  // request it makes gets in any more, and a child it creates from now on
  // revokes itself (ParentGone). Ok for a token that is gone.
  Status MarkRevoking(std::string_view hmac);
  // After a child's records are stored: whether its parent is gone or being
  // revoked. A tree revocation marks each token before it lists its
  // children, so a child stored before the mark is listed, and one stored
  // after it finds the mark here.
  Result<bool> ParentGone(std::string_view parent_hmac);
  std::int64_t MonoNs() const;
  // The default and max TTL, in seconds, of a token the token auth method
  // makes (SetMountTtls), or else of a login's or a wrapping token (the
  // system's; TokenRequest::system_ttls).
  std::pair<std::int64_t, std::int64_t> TtlsFor(bool system) const;

  storage::Backend& view_;
  Clock& clock_;
  const Options options_;
  std::atomic<std::int64_t> default_ttl_;  // seconds; options_' unless tuned
  std::atomic<std::int64_t> max_ttl_;
  expiration::ExpirationManager* expiration_ = nullptr;
  SharedStorage shared_;
  std::mutex mu_;
  // salt_ is written holding both mu_ and salt_mu_ (exclusive) and read
  // holding either: Hmac() takes only salt_mu_ shared, so the HMAC of every
  // request's token no longer runs inside the cache's mutex.
  std::shared_mutex salt_mu_;
  SecretBytes salt_;
  std::unique_ptr<crypto::KeyedHmac> salt_hmac_;  // salt_, keyed once; same locking
  SecretBytes batch_key_;                         // same locking as salt_
  // guarded by mu_; live tokens, at most options_.max_cached_entries of
  // them (sharded: no rehash of them all at once)
  CacheMap cache_;
  std::uint64_t cache_evictions_ = 0;  // guarded by mu_
  // Bumped by every change to a stored entry (a use, a renewal, a revocation
  // or its mark) as it updates or drops the cached one (guarded by mu_): a
  // lookup that read storage before the change must not cache what it read
  // after it (a use counted twice, a revoked token alive again).
  std::uint64_t changes_ = 0;
  std::unordered_map<std::string, Cached> batch_cache_;  // guarded by mu_; bounded
  std::function<Status(std::string_view)> revoke_hook_;
  LoginRenewalCheck login_renewal_check_;
  std::unordered_set<std::string> pending_last_use_;  // guarded by use_mu_
  std::mutex use_mu_;       // serialises read-modify-write of entries (uses, renewals)
  BackgroundJob tidy_job_;  // last member: stopped before the rest goes
};

}  // namespace coffer::token
