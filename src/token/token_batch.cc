// Batch tokens in the token store: issue (no storage), look up (open the
// sealed entry, check expiry and the parent), and the lease owner rule.
#include "crypto/hmac.h"
#include "token/batch_token.h"
#include "token/token_store.h"

namespace coffer::token {
namespace {

// Upper bound of the HMAC → entry map of recently used batch tokens. When it
// is full, expired entries go first, then an arbitrary eighth: it is a cache,
// a batch token is never lost with it (its id still opens).
constexpr std::size_t kBatchCacheMax = 16384;

}  // namespace

Result<CreatedToken> TokenStore::CreateBatch(const TokenRequest& request, TokenEntry e) {
  if (e.IsRoot()) return Err(InvalidArgument("batch tokens cannot be root tokens"));
  if (request.num_uses != 0)
    return Err(InvalidArgument("batch tokens cannot have \"num_uses\" set"));
  if (request.period.count() != 0) {
    return Err(InvalidArgument("batch tokens cannot have \"period\" set"));
  }
  if (!request.requested_id.empty()) {
    return Err(InvalidArgument("batch tokens cannot have a custom \"id\""));
  }
  // The TTL computed by CreateToken (explicit_max_ttl already folded in) is
  // final: no renewals, so nothing else to remember.
  e.batch = true;
  e.renewable = false;
  e.num_uses = 0;
  e.period = 0;
  e.explicit_max_ttl = 0;
  e.max_ttl = 0;
  e.accessor.clear();
  CreatedToken out;
  {
    std::shared_lock lock(salt_mu_);
    if (salt_hmac_ == nullptr || batch_key_.empty()) return Err(Sealed());
    ASSIGN_OR_RETURN(out.id, SealBatchToken(batch_key_, e));
    ASSIGN_OR_RETURN(std::string mac, salt_hmac_->Mac(out.id.view()));
    e.id_hmac = crypto::ToHex(mac);
  }
  out.entry = std::make_shared<const TokenEntry>(std::move(e));
  return out;
}

Result<bool> TokenStore::BatchStillValid(const Cached& cached) {
  if (cached.deadline_ns != 0 && MonoNs() >= cached.deadline_ns) return false;
  if (cached.entry->parent_hmac.empty()) return true;
  // Served from the cache of service tokens in the common case. A revoked
  // or expired parent takes its batch children with it.
  ASSIGN_OR_RETURN(auto parent, LookupByHmac(cached.entry->parent_hmac));
  return parent != nullptr && !parent->batch;
}

Result<std::shared_ptr<const TokenEntry>> TokenStore::LookupBatch(std::string_view token_id) {
  using Ptr = std::shared_ptr<const TokenEntry>;
  ASSIGN_OR_RETURN(std::string hmac, Hmac(token_id));
  std::optional<Cached> hit;
  {
    std::scoped_lock lock(mu_);
    auto it = batch_cache_.find(hmac);
    if (it != batch_cache_.end()) hit = it->second;
  }
  if (!hit) {
    Result<TokenEntry> opened = Err(PermissionDenied());
    {
      std::shared_lock lock(salt_mu_);
      if (batch_key_.empty()) return Err(Sealed());
      opened = OpenBatchToken(batch_key_, token_id);
    }
    if (!opened) return Ptr();  // tampered, truncated, another key: unknown
    opened->id_hmac = hmac;
    hit = MakeCached(std::make_shared<const TokenEntry>(*std::move(opened)));
  }
  ASSIGN_OR_RETURN(bool valid, BatchStillValid(*hit));
  std::scoped_lock lock(mu_);
  if (!valid) {
    batch_cache_.erase(hmac);
    return Ptr();
  }
  if (!batch_cache_.contains(hmac)) {
    if (batch_cache_.size() >= kBatchCacheMax) {
      const std::int64_t now = MonoNs();
      std::erase_if(batch_cache_, [&](const auto& kv) {
        return kv.second.deadline_ns != 0 && now >= kv.second.deadline_ns;
      });
      for (auto it = batch_cache_.begin();
           batch_cache_.size() > kBatchCacheMax - kBatchCacheMax / 8;) {
        it = batch_cache_.erase(it);
      }
    }
    batch_cache_.emplace(hmac, *hit);
  }
  return hit->entry;
}

Result<LeaseOwner> TokenStore::LeaseOwnerOf(std::string_view hmac, std::string_view token_id,
                                            bool batch) {
  if (!batch) return LeaseOwner{std::string(hmac), 0};
  ASSIGN_OR_RETURN(auto entry, Lookup(token_id));
  if (entry == nullptr || !entry->batch || entry->id_hmac != hmac) return Err(PermissionDenied());
  return LeaseOwner{entry->parent_hmac, entry->expire_time};
}

}  // namespace coffer::token
