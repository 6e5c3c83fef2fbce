#include "token/token_store.h"

#include <openssl/crypto.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <nlohmann/json.hpp>
#include <set>

#include "common/duration.h"
#include "common/encoding.h"
#include "common/fiber.h"
#include "common/time_bounds.h"
#include "crypto/aead.h"
#include "crypto/hmac.h"
#include "crypto/keyed_hmac.h"
#include "crypto/random.h"
#include "expiration/expiration_manager.h"
#include "policy/policy.h"
#include "token/batch_token.h"

namespace coffer::token {
namespace {

using Json = nlohmann::json;
using std::chrono::duration_cast;
using std::chrono::nanoseconds;
using std::chrono::seconds;

constexpr std::string_view kSaltKey = "salt";
constexpr std::string_view kBatchKeyKey = "batch-key";
// A service token id is "hvs.", 8 characters of its creation time and 32
// random base62 characters (190 bits); an accessor is the same 8 characters
// and 24 random ones. Vault's clients take any "hvs." string.
//
// The time characters are there for the storage layout. A token's records
// (its entry, accessor, parent index and lease) are keyed by its salted
// hash, which is random, so each new token wrote into five random places of
// a B-tree: ~11 of SQLite's 4 KB pages through the WAL per token. Keys that
// begin with the creation time append instead, and a commit of many tokens
// touches a few pages at the end of each range. The time needs no secrecy:
// a token's lookup reports it, and the random part stays as long as before.
constexpr std::size_t kTimeChars = 8;
constexpr std::size_t kIdChars = 32;
constexpr std::size_t kAccessorChars = 24;
static_assert(4 + kTimeChars + kIdChars == kServiceTokenLength);

// Milliseconds since 1970 in kTimeChars base62 digits, most significant
// first: text order is time order (62^8 ms is ~6,900 years).
std::string TimeChars(std::chrono::system_clock::time_point now) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  auto value = static_cast<std::uint64_t>(std::max<std::int64_t>(ms, 0));
  std::string out(kTimeChars, '0');
  for (std::size_t i = kTimeChars; i-- > 0; value /= 62) out[i] = crypto::kBase62Digits[value % 62];
  return out;
}

// The time characters of a token id of the shape above, else "" (older ids
// of 32 random characters, requested ids such as dev mode's, batch tokens).
// Only the id's shape counts, so creating and looking up a token agree.
std::string_view TimeCharsOf(std::string_view id) {
  if (id.size() != kServiceTokenLength || !id.starts_with("hvs.")) return {};
  const std::string_view rest = id.substr(4);
  // Every lookup by token passes here: ranges, not a search of the digits.
  const bool base62 = std::all_of(rest.begin(), rest.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
  });
  return base62 ? rest.substr(0, kTimeChars) : std::string_view();
}

}  // namespace

Result<TokenEntry> DecodeTokenEntry(std::string_view text) {
  try {
    Json j = Json::parse(text);
    TokenEntry e;
    e.id_hmac = j.at("id_hmac").get<std::string>();
    e.accessor = j.at("accessor").get<std::string>();
    e.policies = j.at("policies").get<std::vector<std::string>>();
    e.parent_hmac = j.value("parent_hmac", "");
    e.path = j.value("path", "");
    e.display_name = j.value("display_name", "");
    e.meta = j.value("meta", std::map<std::string, std::string>{});
    e.internal = j.value("internal", std::map<std::string, std::string>{});
    e.creation_time = j.value("creation_time", std::int64_t{0});
    e.ttl = j.value("ttl", std::int64_t{0});
    e.num_uses = j.value("num_uses", std::int64_t{0});
    e.expire_time = j.value("expire_time", std::int64_t{0});
    e.last_renewal = j.value("last_renewal", std::int64_t{0});
    e.explicit_max_ttl = j.value("explicit_max_ttl", std::int64_t{0});
    e.max_ttl = j.value("max_ttl", std::int64_t{0});
    e.period = j.value("period", std::int64_t{0});
    e.renewable = j.value("renewable", e.ttl > 0);
    e.role = j.value("role", "");
    e.entity_id = j.value("entity_id", "");
    e.bound_cidrs = j.value("bound_cidrs", std::vector<std::string>{});
    return e;
  } catch (const Json::exception& ex) {
    return Err(Internal(std::string("corrupt token entry: ") + ex.what()));
  }
}

std::string EncodeTokenEntry(const TokenEntry& e) {
  std::string out;
  out.reserve(512);
  JsonObjectWriter w(out);
  w.String("accessor", e.accessor);
  if (!e.bound_cidrs.empty()) w.StringArray("bound_cidrs", e.bound_cidrs);
  w.Int("creation_time", e.creation_time);
  w.String("display_name", e.display_name);
  w.String("entity_id", e.entity_id);
  w.Int("expire_time", e.expire_time);
  w.Int("explicit_max_ttl", e.explicit_max_ttl);
  w.String("id_hmac", e.id_hmac);
  if (!e.internal.empty()) w.StringMap("internal", e.internal);
  w.Int("last_renewal", e.last_renewal);
  if (e.max_ttl != 0) w.Int("max_ttl", e.max_ttl);
  w.StringMap("meta", e.meta);
  w.Int("num_uses", e.num_uses);
  w.String("parent_hmac", e.parent_hmac);
  w.String("path", e.path);
  w.Int("period", e.period);
  w.StringArray("policies", e.policies);
  w.Bool("renewable", e.renewable);
  w.String("role", e.role);
  w.Int("ttl", e.ttl);
  w.Close();
  return out;
}

bool TokenEntry::IsRoot() const {
  return std::find(policies.begin(), policies.end(), "root") != policies.end();
}

std::vector<std::string> CanonicalPolicies(const std::vector<std::string>& in, bool add_default) {
  // The ACL's own canonical form, so that a name the ACL reads as "root"
  // (" Root\v") is "root" to every check made here too.
  std::set<std::string> out;
  for (const auto& p : in) {
    std::string name = policy::CanonicalPolicyName(p);
    if (!name.empty()) out.insert(std::move(name));
  }
  if (add_default && !out.contains("root")) out.insert("default");
  return {out.begin(), out.end()};
}

TokenStore::TokenStore(storage::Backend& view, Clock& clock, Options options)
    : view_(view),
      clock_(clock),
      options_(options),
      default_ttl_(options.default_ttl.count()),
      max_ttl_(options.max_ttl.count()) {}

void TokenStore::SetMountTtls(seconds default_ttl, seconds max_ttl) {
  default_ttl_ = default_ttl.count();
  max_ttl_ = max_ttl.count();
}

std::pair<std::int64_t, std::int64_t> TokenStore::TtlsFor(bool system) const {
  if (system) return {options_.default_ttl.count(), options_.max_ttl.count()};
  return {default_ttl_.load(), max_ttl_.load()};
}

void TokenStore::AttachExpiration(expiration::ExpirationManager* manager, SharedStorage shared) {
  expiration_ = manager;
  shared_ = std::move(shared);
}

std::int64_t TokenStore::NowUnix() const { return UnixSeconds(clock_.Wall()); }

std::int64_t TokenStore::NowUnixUp() const { return UnixSecondsUp(clock_.Wall()); }

std::int64_t TokenStore::MonoNs() const {
  return duration_cast<nanoseconds>(clock_.Monotonic().time_since_epoch()).count();
}

Result<SecretBytes> TokenStore::LoadOrCreateKey(std::string_view key) {
  ASSIGN_OR_RETURN(auto existing, view_.Get(key));
  if (existing) {
    SecretBytes out = SecretBytes::FromString(existing->value);
    WipeString(existing->value);
    return out;
  }
  ASSIGN_OR_RETURN(SecretBytes fresh, crypto::RandomSecret(32));
  // Create-if-absent, so two nodes loading at once agree on one value.
  storage::Compare absent{std::string(key), 0};
  storage::Op put{storage::Op::Kind::kPut, std::string(key), std::string(fresh.view())};
  Status s = view_.Transact({&absent, 1}, {&put, 1});
  WipeString(put.value);
  if (s.code() == Code::kConflict) {
    ASSIGN_OR_RETURN(auto now, view_.Get(key));
    if (!now) return Err(Internal("token store key vanished"));
    SecretBytes out = SecretBytes::FromString(now->value);
    WipeString(now->value);
    return out;
  }
  TRY(s);
  return fresh;
}

Status TokenStore::Load() {
  ASSIGN_OR_RETURN(SecretBytes salt, LoadOrCreateKey(kSaltKey));
  ASSIGN_OR_RETURN(SecretBytes batch_key, LoadOrCreateKey(kBatchKeyKey));
  if (batch_key.size() != crypto::kAes256KeySize) return Internal("corrupt batch token key");
  ASSIGN_OR_RETURN(auto salt_hmac, crypto::KeyedHmac::Create(salt.view()));
  std::scoped_lock lock(mu_, salt_mu_);
  cache_.Clear();
  batch_cache_.clear();
  salt_ = std::move(salt);
  salt_hmac_ = std::move(salt_hmac);
  batch_key_ = std::move(batch_key);
  return Status::Ok();
}

void TokenStore::Unload() {
  tidy_job_.Stop();  // the core stopped it already; a tidy must not see the salt go
  std::scoped_lock lock(mu_, salt_mu_);
  salt_.Clear();
  salt_hmac_.reset();
  batch_key_.Clear();
  cache_.Clear();
  batch_cache_.clear();
}

Result<std::string> TokenStore::Hmac(std::string_view token_id) {
  std::shared_lock lock(salt_mu_);
  if (salt_hmac_ == nullptr) return Err(Sealed());
  ASSIGN_OR_RETURN(std::string mac, salt_hmac_->Mac(token_id));
  // Keyed by this, a token's records sort by creation time (see kTimeChars).
  std::string out(TimeCharsOf(token_id));
  out += crypto::ToHex(mac);
  return out;
}

Result<std::string> TokenStore::HmacOf(std::string_view token_id) { return Hmac(token_id); }

TokenStore::Cached TokenStore::MakeCached(std::shared_ptr<const TokenEntry> entry) const {
  Cached c;
  if (entry->expire_time > 0) {
    std::int64_t wall_ns = duration_cast<nanoseconds>(clock_.Wall().time_since_epoch()).count();
    c.deadline_ns = entry->expire_time * 1'000'000'000 + (MonoNs() - wall_ns);
  }
  c.entry = std::move(entry);
  return c;
}

TokenStore::CacheMap::node_type TokenStore::CacheLocked(std::shared_ptr<const TokenEntry> entry) {
  std::string key = entry->id_hmac;
  CacheMap::node_type evicted;
  if (cache_.size() >= options_.max_cached_entries && cache_.Find(key) == nullptr) {
    // A victim at random (a bucket chosen by a multiplicative hash of the
    // count): no recency list to keep up on every lookup. A token in use
    // is read back on its next request and cached again.
    ++cache_evictions_;
    evicted = cache_.ExtractAnyBut(key, cache_evictions_ * 0x9E3779B97F4A7C15ULL);
  }
  cache_.InsertOrAssign(std::move(key), MakeCached(std::move(entry)));
  return evicted;
}

std::size_t TokenStore::CachedEntries() {
  std::scoped_lock lock(mu_);
  return cache_.size();
}

std::uint64_t TokenStore::CacheEvictions() {
  std::scoped_lock lock(mu_);
  return cache_evictions_;
}

namespace {

// The records of a token entry (keys under `prefix`); a new one also gets
// its accessor and parent index and must not exist yet.
void EntryOps(const TokenEntry& entry, bool is_new, std::string_view prefix,
              std::vector<storage::Op>& ops, std::vector<storage::Compare>& compares) {
  const std::string p(prefix);
  ops.push_back({storage::Op::Kind::kPut, p + "id/" + entry.id_hmac, EncodeTokenEntry(entry)});
  if (is_new) {
    compares.push_back({p + "id/" + entry.id_hmac, 0});
    ops.push_back({storage::Op::Kind::kPut, p + "accessor/" + entry.accessor, entry.id_hmac});
    if (!entry.parent_hmac.empty()) {
      ops.push_back(
          {storage::Op::Kind::kPut, p + "parent/" + entry.parent_hmac + "/" + entry.id_hmac, ""});
    }
  }
}

}  // namespace

Status TokenStore::Store(const TokenEntry& entry, bool is_new) {
  return Store(std::make_shared<const TokenEntry>(entry), is_new);
}

Status TokenStore::Store(std::shared_ptr<const TokenEntry> entry, bool is_new) {
  std::vector<storage::Op> ops;
  std::vector<storage::Compare> compares;
  EntryOps(*entry, is_new, "", ops, compares);
  Status s = view_.Transact(compares, ops);
  if (s.code() == Code::kConflict)
    return AlreadyExists("cannot create a token with a duplicate ID");
  TRY(s);
  CacheMap::node_type evicted;  // destroyed after the lock is released
  std::scoped_lock lock(mu_);
  if (!is_new) ++changes_;
  evicted = CacheLocked(std::move(entry));
  return Status::Ok();
}

Status TokenStore::StoreWithLease(std::shared_ptr<const TokenEntry> shared, std::int64_t ttl) {
  const TokenEntry& entry = *shared;
  std::vector<storage::Op> ops;
  std::vector<storage::Compare> compares;
  EntryOps(entry, /*is_new=*/true, shared_.token_prefix, ops, compares);
  const std::size_t entry_ops = ops.size();
  // On a fiber (a token creation on the I/O thread, core.cc) the wait for
  // the commit suspends it: nothing here holds a lock across the write but
  // the lease index's bucket locks, which other writers of new leases only
  // try to take (ExpirationManager::Write).
  SuspendScope suspendable;
  Status s = expiration_->RegisterTokenWith(
      entry.id_hmac, entry.path, seconds(ttl), entry.renewable,
      [&](std::span<const storage::Op> lease_ops) {
        ops.resize(entry_ops);
        for (const auto& op : lease_ops) {
          ops.push_back({op.kind, shared_.expire_prefix + op.key, op.value});
        }
        return shared_.root->Transact(compares, ops);
      });
  if (s.code() == Code::kConflict)
    return AlreadyExists("cannot create a token with a duplicate ID");
  TRY(s);
  CacheMap::node_type evicted;  // destroyed after the lock is released
  std::scoped_lock lock(mu_);
  evicted = CacheLocked(std::move(shared));
  return Status::Ok();
}

Result<std::optional<TokenEntry>> TokenStore::ReadEntry(std::string_view hmac) {
  if (hmac.empty() || hmac.find('/') != std::string_view::npos) return std::optional<TokenEntry>();
  ASSIGN_OR_RETURN(auto stored, view_.Get("id/" + std::string(hmac)));
  if (!stored) return std::optional<TokenEntry>();
  ASSIGN_OR_RETURN(TokenEntry entry, DecodeTokenEntry(stored->value));
  return std::optional<TokenEntry>(std::move(entry));
}

Result<SecretBytes> TokenStore::CreateRoot(std::string_view requested_id) {
  TokenRequest r;
  r.policies = {"root"};
  r.path = "auth/token/root";
  r.display_name = "root";
  r.requested_id = std::string(requested_id);
  ASSIGN_OR_RETURN(CreatedToken created, CreateToken(r));
  return std::move(created.id);
}

Result<CreatedToken> TokenStore::CreateToken(const TokenRequest& request) {
  if (request.num_uses < 0) return Err(InvalidArgument("number of uses cannot be negative"));
  TokenEntry e;
  e.policies = CanonicalPolicies(request.policies, !request.no_default_policy);
  // A root token holds root alone, as Vault's policy sanitising leaves it.
  if (e.IsRoot()) e.policies = {"root"};
  e.parent_hmac = request.parent_hmac;
  e.path = request.path;
  e.display_name = request.display_name;
  e.meta = request.meta;
  e.internal = request.internal;
  e.creation_time = NowUnixUp();
  e.num_uses = request.num_uses;
  e.explicit_max_ttl = request.explicit_max_ttl.count();
  e.max_ttl = request.max_ttl.count();
  e.period = request.period.count();
  e.role = request.role;
  e.entity_id = request.entity_id;
  // Vault's CalculateTTL: the effective max is the mount's max, lowered by
  // an explicit max; a period above it is capped, and so is a TTL.
  std::vector<std::string> warnings;
  auto [default_ttl, max_ttl] = TtlsFor(request.system_ttls);
  if (e.max_ttl > 0 && e.max_ttl < max_ttl) max_ttl = e.max_ttl;
  if (e.explicit_max_ttl > 0 && e.explicit_max_ttl < max_ttl) max_ttl = e.explicit_max_ttl;
  std::int64_t ttl = 0;
  if (e.period > 0) {
    ttl = e.period;
    if (ttl > max_ttl) {
      warnings.push_back(CappedTtlWarning("period", seconds(ttl), seconds(max_ttl)));
      ttl = max_ttl;
    }
  } else {
    ttl = request.ttl.count();
    // Root-policy tokens without a TTL never expire, as in Vault (unless
    // an explicit max TTL bounds them, below).
    if (ttl == 0 && !e.IsRoot()) ttl = default_ttl;
    if (ttl > max_ttl) {
      warnings.push_back(CappedTtlWarning("TTL", seconds(ttl), seconds(max_ttl)));
      ttl = max_ttl;
    }
  }
  if (ttl == 0 && e.explicit_max_ttl > 0) ttl = e.explicit_max_ttl;
  if (ttl == 0 && request.parent_expires) {
    return Err(InvalidArgument("expiring root tokens cannot create non-expiring root tokens"));
  }
  // The expiry is a time point of the clock, which ends in 2262 (a root
  // token's explicit max TTL becomes its TTL uncapped, as in Vault).
  if (ttl > kMaxClockSeconds - e.creation_time) {
    return Err(InvalidArgument("the token's TTL reaches past the year 2262"));
  }
  e.ttl = ttl;
  // As in Vault, a token that never expires is not bound to addresses.
  if (ttl > 0) e.bound_cidrs = request.bound_cidrs;
  // A period does not make a token renewable: renewable=false holds (Vault).
  e.renewable = ttl > 0 && request.renewable;
  e.expire_time = ttl > 0 ? e.creation_time + ttl : 0;
  if (request.batch) {
    auto batch = CreateBatch(request, std::move(e));
    if (batch) batch->warnings = std::move(warnings);
    return batch;
  }

  // The id's 32 random characters and the accessor's 24 from one DRBG call.
  ASSIGN_OR_RETURN(std::string chars, crypto::RandomBase62(kIdChars + kAccessorChars));
  const std::string time_chars = TimeChars(clock_.Wall());
  SecretBytes id;
  if (request.requested_id.empty()) {
    std::string text;
    text.reserve(kServiceTokenLength);
    text.append("hvs.").append(time_chars).append(chars, 0, kIdChars);
    id = SecretBytes::FromString(text);
    WipeString(text);
  } else {
    id = SecretBytes::FromString(request.requested_id);
  }
  e.accessor = time_chars + chars.substr(kIdChars);
  WipeString(chars);
  ASSIGN_OR_RETURN(std::string hmac, Hmac(id.view()));
  e.id_hmac = hmac;
  // The entry is stored, cached and answered as this one object.
  auto entry = std::make_shared<const TokenEntry>(std::move(e));
  if (ttl > 0 && expiration_ != nullptr && shared_.root != nullptr) {
    TRY(StoreWithLease(entry, ttl));
  } else {
    TRY(Store(entry, /*is_new=*/true));
  }
  if (ttl > 0 && expiration_ != nullptr && shared_.root == nullptr) {
    Status s = expiration_->RegisterToken(hmac, entry->path, seconds(ttl), entry->renewable);
    if (!s.ok()) {
      RevokeOne(hmac).IgnoreError();
      return Err(s);
    }
  }
  if (!entry->parent_hmac.empty()) {
    // The parent may have been revoked while this request ran: a child
    // stored after its tree revocation listed the parent's children would
    // outlive it.
    Result<bool> gone = ParentGone(entry->parent_hmac);
    if (!gone || *gone) {
      RevokeTree(hmac).IgnoreError();
      if (!gone) return Err(gone.error());
      return Err(PermissionDenied("permission denied"));
    }
  }
  CreatedToken out;
  out.id = std::move(id);
  out.entry = std::move(entry);
  out.warnings = std::move(warnings);
  return out;
}

Result<std::shared_ptr<const TokenEntry>> TokenStore::LookupByHmac(std::string_view hmac) {
  using Ptr = std::shared_ptr<const TokenEntry>;
  std::optional<Cached> batch;
  std::uint64_t changes = 0;
  {
    std::scoped_lock lock(mu_);
    if (salt_.empty()) return Err(Sealed());
    changes = changes_;
    const std::string key(hmac);
    if (const Cached* cached = cache_.Find(key)) {
      const Cached& c = *cached;
      if (c.entry->num_uses < 0) return Ptr();
      if (c.deadline_ns != 0 && MonoNs() >= c.deadline_ns) return Ptr();
      return c.entry;
    }
    auto b = batch_cache_.find(key);
    if (b != batch_cache_.end()) batch = b->second;
  }
  if (batch) {
    ASSIGN_OR_RETURN(bool valid, BatchStillValid(*batch));
    return valid ? batch->entry : Ptr();
  }
  ASSIGN_OR_RETURN(auto entry, ReadEntry(hmac));
  if (!entry) return Ptr();
  CacheMap::node_type evicted;  // destroyed after the lock is released
  std::unique_lock lock(mu_);
  if (changes_ != changes) {
    // A token changed since the read, perhaps this one: caching what was
    // read could keep a revoked token alive or give back a spent use. Read
    // again, and cache nothing.
    lock.unlock();
    ASSIGN_OR_RETURN(entry, ReadEntry(hmac));
    if (!entry || entry->num_uses < 0) return Ptr();
    Cached c = MakeCached(std::make_shared<const TokenEntry>(*std::move(entry)));
    if (c.deadline_ns != 0 && MonoNs() >= c.deadline_ns) return Ptr();
    return c.entry;
  }
  auto shared = std::make_shared<const TokenEntry>(*std::move(entry));
  evicted = CacheLocked(shared);
  const Cached& c = *cache_.Find(shared->id_hmac);
  if (shared->num_uses < 0) return Ptr();
  if (c.deadline_ns != 0 && MonoNs() >= c.deadline_ns) return Ptr();
  return shared;
}

Result<std::shared_ptr<const TokenEntry>> TokenStore::Lookup(std::string_view token_id) {
  if (token_id.empty()) return std::shared_ptr<const TokenEntry>();
  if (IsBatchTokenId(token_id)) return LookupBatch(token_id);
  ASSIGN_OR_RETURN(std::string hmac, Hmac(token_id));
  return LookupByHmac(hmac);
}
Result<std::shared_ptr<const TokenEntry>> TokenStore::LookupAccessor(std::string_view accessor) {
  if (accessor.empty() || accessor.find('/') != std::string_view::npos) {
    return std::shared_ptr<const TokenEntry>();
  }
  ASSIGN_OR_RETURN(auto stored, view_.Get("accessor/" + std::string(accessor)));
  if (!stored) return std::shared_ptr<const TokenEntry>();
  return LookupByHmac(stored->value);
}

Result<std::shared_ptr<const TokenEntry>> TokenStore::UseToken(std::string_view hmac,
                                                               bool* last_use) {
  std::unique_lock lock(use_mu_);
  if (last_use != nullptr) *last_use = false;
  if (pending_last_use_.contains(std::string(hmac))) return std::shared_ptr<const TokenEntry>();
  ASSIGN_OR_RETURN(auto entry, LookupByHmac(hmac));
  if (!entry || entry->num_uses == 0) return entry;
  TokenEntry next = *entry;
  --next.num_uses;
  if (next.num_uses > 0) {
    TRY(Store(next, /*is_new=*/false));
    return std::make_shared<const TokenEntry>(std::move(next));
  }
  if (last_use != nullptr) {
    // The caller's request may still use the token (lookup-self, its
    // cubbyhole); no other request can, and FinishLastUse revokes it.
    pending_last_use_.insert(std::string(hmac));
    *last_use = true;
    return entry;
  }
  // Last use: mark pending so no concurrent request gets in, then revoke.
  next.num_uses = -1;
  TRY(Store(next, /*is_new=*/false));
  lock.unlock();
  TRY(RevokeTree(hmac));
  next.num_uses = 0;
  return std::make_shared<const TokenEntry>(std::move(next));
}

Status TokenStore::FinishLastUse(std::string_view hmac) {
  Status s = RevokeTree(hmac);
  std::scoped_lock lock(use_mu_);
  pending_last_use_.erase(std::string(hmac));
  return s;
}

Result<std::shared_ptr<const TokenEntry>> TokenStore::Renew(
    std::string_view hmac, seconds increment, std::vector<std::string>* warnings,
    const std::vector<std::string>* peer_certificates) {
  std::scoped_lock lock(use_mu_);
  ASSIGN_OR_RETURN(auto entry, LookupByHmac(hmac));
  if (!entry) return Err(NotFound("token not found"));
  if (entry->batch) return Err(InvalidArgument("batch tokens cannot be renewed"));
  // A token that never expires has no lease to renew (Vault: 400, with
  // the answer of a lease that is not there).
  if (entry->expire_time == 0) return Err(InvalidArgument("invalid lease ID"));
  if (!entry->renewable) return Err(InvalidArgument("lease is not renewable"));
  // A login token renews on its role's or user's terms as they are now
  // (Vault's auth methods answer the renewal with them).
  std::optional<LoginTerms> terms;
  if (login_renewal_check_ && entry->path.starts_with("auth/") &&
      !entry->path.starts_with("auth/token/")) {
    ASSIGN_OR_RETURN(terms, login_renewal_check_(*entry, peer_certificates));
  }
  // A role's token renews by the role as it is now, as in Vault: a changed
  // period applies, and a deleted role stops renewals. Its explicit max is
  // the lesser of the token's own (which cannot be changed later, Vault's
  // documentation says) and the role's now.
  std::int64_t period = terms ? terms->period : entry->period;
  std::int64_t explicit_max = entry->explicit_max_ttl;
  if (!entry->role.empty()) {
    ASSIGN_OR_RETURN(auto role, GetRole(entry->role));
    if (!role) {
      return Err(InvalidArgument("original token role \"" + entry->role +
                                 "\" could not be found, not renewing"));
    }
    period = role->period;
    if (role->explicit_max_ttl > 0 &&
        (explicit_max == 0 || role->explicit_max_ttl < explicit_max)) {
      explicit_max = role->explicit_max_ttl;
    }
  }
  // Vault's CalculateTTL from the issue time: the mount's max, lowered by
  // an explicit max, caps both a period and a TTL; a periodic token is
  // otherwise bounded only by its explicit max. The renewal counts from the
  // next whole second, as an issue does.
  const std::int64_t now = NowUnixUp();
  // The token auth method's TTLs for its own tokens, the system's for
  // logins' (TokenRequest::system_ttls).
  auto [default_ttl, max_ttl] = TtlsFor(!entry->path.starts_with("auth/token/"));
  const std::int64_t login_max = terms ? terms->max_ttl : entry->max_ttl;
  if (login_max > 0 && login_max < max_ttl) max_ttl = login_max;
  if (explicit_max > 0 && explicit_max < max_ttl) max_ttl = explicit_max;
  std::int64_t ttl = 0;
  std::int64_t limit = 0;  // the last second the token may live to; 0: none
  std::vector<std::string> capped;
  if (period > 0) {
    ttl = period;
    if (ttl > max_ttl) {
      capped.push_back(CappedTtlWarning("period", seconds(ttl), seconds(max_ttl)));
      ttl = max_ttl;
    }
    if (explicit_max > 0) limit = entry->creation_time + explicit_max;
  } else {
    // Without an increment, the TTL granted last (Vault's lease keeps the
    // renewal's TTL as its own).
    const std::int64_t last_granted =
        entry->last_renewal > 0 ? entry->expire_time - entry->last_renewal : entry->ttl;
    ttl = increment.count() > 0 ? increment.count() : terms ? terms->ttl : last_granted;
    if (ttl == 0) ttl = default_ttl;
    limit = entry->creation_time + max_ttl;
  }
  if (limit != 0) {
    limit = std::min(limit, kMaxClockSeconds);
    const std::int64_t room = limit - now;
    if (room <= 0) return Err(InvalidArgument("past the max TTL, cannot renew"));
    if (ttl > room) {
      capped.push_back(CappedTtlWarning("TTL", seconds(ttl), seconds(room)));
      ttl = room;
    }
  }
  if (warnings != nullptr) *warnings = std::move(capped);
  TokenEntry next = *entry;
  next.expire_time = now + ttl;
  next.last_renewal = now;
  TRY(Store(next, /*is_new=*/false));
  if (expiration_ != nullptr) TRY(expiration_->ExtendToken(hmac, next.path, seconds(ttl)));
  return std::make_shared<const TokenEntry>(std::move(next));
}

Result<std::vector<std::string>> TokenStore::ListAccessors() { return view_.List("accessor/"); }

Result<std::size_t> TokenStore::CountTokens() {
  ASSIGN_OR_RETURN(auto ids, view_.List("id/"));
  return ids.size();
}

}  // namespace coffer::token
