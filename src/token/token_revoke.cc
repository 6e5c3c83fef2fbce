// Revocation: whole subtrees (iteratively, post-order, so an interrupted
// revocation leaves a consistent tree that a retry or Tidy() finishes),
// orphaning revocation, and tidy.
#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>
#include <unordered_set>

#include "common/log.h"
#include "expiration/expiration_manager.h"
#include "token/token_store.h"

namespace coffer::token {

Status TokenStore::Revoke(std::string_view token_id) {
  ASSIGN_OR_RETURN(std::string hmac, Hmac(token_id));
  return RevokeTree(hmac);
}

Status TokenStore::RevokeOne(std::string_view hmac) {
  {
    ASSIGN_OR_RETURN(auto entry, ReadEntry(hmac));
    // Leases first: if this fails, the token still exists and a retry can
    // find them again.
    if (expiration_ != nullptr) {
      TRY(expiration_->RevokeByToken(hmac, entry ? std::string_view(entry->path) : ""));
    }
  }
  // The token's cubbyhole goes before the token: a failure here leaves the
  // token (unusable once marked) for a retry or Tidy() to finish, where a
  // token deleted first would leave its cubbyhole with nothing to find it.
  if (revoke_hook_) TRY(revoke_hook_(hmac));
  {
    // Under use_mu_, as renewals and uses read-modify-write the entry: one of
    // those either finishes first or finds the token gone; it cannot write
    // a revoked token back.
    std::scoped_lock use_lock(use_mu_);
    ASSIGN_OR_RETURN(auto entry, ReadEntry(hmac));
    std::vector<storage::Op> ops;
    ops.push_back({storage::Op::Kind::kDelete, "id/" + std::string(hmac), {}});
    if (entry) {
      ops.push_back({storage::Op::Kind::kDelete, "accessor/" + entry->accessor, {}});
      if (!entry->parent_hmac.empty()) {
        ops.push_back({storage::Op::Kind::kDelete,
                       "parent/" + entry->parent_hmac + "/" + std::string(hmac),
                       {}});
      }
    }
    TRY(view_.Transact({}, ops));
    std::scoped_lock lock(mu_);
    cache_.Erase(std::string(hmac));
    ++changes_;
  }
  return Status::Ok();
}

Status TokenStore::MarkRevoking(std::string_view hmac) {
  std::scoped_lock lock(use_mu_);
  ASSIGN_OR_RETURN(auto entry, ReadEntry(hmac));
  if (entry && entry->num_uses >= 0) {
    entry->num_uses = -1;
    TRY(Store(*entry, /*is_new=*/false));
  }
  return Status::Ok();
}

Result<bool> TokenStore::ParentGone(std::string_view parent_hmac) {
  {
    // The mark updates storage and then the cache, under mu_, before the
    // revocation lists the children; a cached entry read here is either
    // the mark or from before it.
    std::scoped_lock lock(mu_);
    if (const Cached* cached = cache_.Find(std::string(parent_hmac))) {
      return cached->entry->num_uses < 0;
    }
  }
  ASSIGN_OR_RETURN(auto entry, ReadEntry(parent_hmac));
  return !entry || entry->num_uses < 0;
}

Status TokenStore::RevokeTree(std::string_view root) {
  if (root.empty() || root.find('/') != std::string_view::npos) return Status::Ok();
  // Each token is made unusable before its children are listed (the root
  // at once), and goes after them. A child stored after the mark finds it
  // and revokes itself (CreateToken), so none outlives its parent.
  std::vector<std::string> stack{std::string(root)};
  std::unordered_set<std::string> marked;
  while (!stack.empty()) {
    const std::string h = stack.back();
    if (marked.insert(h).second) TRY(MarkRevoking(h));
    ASSIGN_OR_RETURN(auto children, view_.List("parent/" + h + "/"));
    bool pushed = false;
    for (auto& c : children) {
      if (c.empty() || c.back() == '/') continue;
      stack.push_back(std::move(c));
      pushed = true;
    }
    if (pushed) continue;
    TRY(RevokeOne(h));
    stack.pop_back();
  }
  return Status::Ok();
}

Status TokenStore::RevokeOrphan(std::string_view hmac) {
  if (hmac.empty() || hmac.find('/') != std::string_view::npos) return Status::Ok();
  const std::string folder = "parent/" + std::string(hmac) + "/";
  ASSIGN_OR_RETURN(auto children, view_.List(folder));
  for (const auto& c : children) {
    std::scoped_lock lock(use_mu_);
    ASSIGN_OR_RETURN(auto child, ReadEntry(c));
    if (child) {
      child->parent_hmac.clear();
      TRY(Store(*child, /*is_new=*/false));
      TRY(view_.Delete(folder + c));
    } else {
      TRY(view_.Delete(folder + c));
    }
  }
  return RevokeOne(hmac);
}

Result<TidyStats> TokenStore::Tidy(const std::atomic<bool>* stop) {
  TidyStats stats;
  auto stopped = [stop] { return stop != nullptr && stop->load(); };
  const Status kStopped = Unavailable("token tidy stopped before it finished");
  ASSIGN_OR_RETURN(auto accessors, view_.List("accessor/"));
  for (const auto& a : accessors) {
    if (stopped()) return Err(kStopped);
    ASSIGN_OR_RETURN(auto target, view_.Get("accessor/" + a));
    if (!target) continue;
    ASSIGN_OR_RETURN(auto entry, ReadEntry(target->value));
    if (!entry) {
      TRY(view_.Delete("accessor/" + a));
      ++stats.accessors_removed;
    }
  }
  ASSIGN_OR_RETURN(auto parents, view_.List("parent/"));
  for (const auto& p : parents) {
    if (stopped()) return Err(kStopped);
    if (p.empty() || p.back() != '/') continue;
    const std::string parent = p.substr(0, p.size() - 1);
    ASSIGN_OR_RETURN(auto parent_entry, ReadEntry(parent));
    ASSIGN_OR_RETURN(auto children, view_.List("parent/" + p));
    for (const auto& c : children) {
      ASSIGN_OR_RETURN(auto child, ReadEntry(c));
      if (child && !parent_entry) {
        // The parent was revoked but this child survived: finish the job.
        TRY(RevokeTree(c));
        ++stats.tokens_revoked;
      }
      if (!child || !parent_entry) {
        TRY(view_.Delete("parent/" + p + c));
        ++stats.parent_links_removed;
      }
    }
  }
  ASSIGN_OR_RETURN(auto ids, view_.List("id/"));
  const std::int64_t now = NowUnix();
  for (const auto& h : ids) {
    if (stopped()) return Err(kStopped);
    ASSIGN_OR_RETURN(auto entry, ReadEntry(h));
    if (entry && ((entry->expire_time > 0 && entry->expire_time <= now) || entry->num_uses < 0)) {
      TRY(RevokeTree(h));
      ++stats.tokens_revoked;
    }
  }
  return stats;
}

bool TokenStore::StartTidy() {
  return tidy_job_.Start([this](const std::atomic<bool>& stop) {
    Log(LogModule::kToken).info("tidy started");
    Result<TidyStats> stats = Tidy(&stop);
    if (!stats) {
      Log(LogModule::kToken).error("tidy ended early: {}", stats.error().ToString());
      return;
    }
    Log(LogModule::kToken)
        .info(
            "tidy finished: {} accessors without a token removed, {} parent links removed, "
            "{} tokens revoked",
            stats->accessors_removed, stats->parent_links_removed, stats->tokens_revoked);
  });
}

// ---- roles -----------------------------------------------------------------

namespace {

using Json = nlohmann::json;

}  // namespace

// Vault's role names (GenericNameRegex): word characters, with '-' and '.'
// inside but not at either end.
bool ValidRoleName(std::string_view name) {
  auto word = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_'; };
  if (name.empty() || name.size() > 256 || !word(name.front()) || !word(name.back())) return false;
  return std::all_of(name.begin(), name.end(),
                     [&](char c) { return word(c) || c == '-' || c == '.'; });
}

Result<std::optional<TokenRole>> TokenStore::GetRole(std::string_view name) {
  if (!ValidRoleName(name)) return std::optional<TokenRole>();
  ASSIGN_OR_RETURN(auto stored, view_.Get("role/" + std::string(name)));
  if (!stored) return std::optional<TokenRole>();
  Json j = Json::parse(stored->value, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return Err(Internal("corrupt token role"));
  try {
    TokenRole r;
    r.name = j.at("name").get<std::string>();
    r.allowed_policies = j.value("allowed_policies", std::vector<std::string>{});
    r.disallowed_policies = j.value("disallowed_policies", std::vector<std::string>{});
    r.allowed_policies_glob = j.value("allowed_policies_glob", std::vector<std::string>{});
    r.disallowed_policies_glob = j.value("disallowed_policies_glob", std::vector<std::string>{});
    r.orphan = j.value("orphan", false);
    r.period = j.value("period", std::int64_t{0});
    r.renewable = j.value("renewable", true);
    r.explicit_max_ttl = j.value("explicit_max_ttl", std::int64_t{0});
    r.path_suffix = j.value("path_suffix", "");
    r.token_type = j.value("token_type", "default-service");
    r.token_bound_cidrs = j.value("token_bound_cidrs", std::vector<std::string>{});
    r.token_no_default_policy = j.value("token_no_default_policy", false);
    r.token_num_uses = j.value("token_num_uses", std::int64_t{0});
    r.allowed_entity_aliases = j.value("allowed_entity_aliases", std::vector<std::string>{});
    // Roles stored before the deprecated names were kept apart report their
    // values under both names, as they did.
    r.legacy_period = j.value("legacy_period", r.period);
    r.legacy_explicit_max_ttl = j.value("legacy_explicit_max_ttl", r.explicit_max_ttl);
    r.legacy_bound_cidrs = j.value("legacy_bound_cidrs", r.token_bound_cidrs);
    return std::optional<TokenRole>(std::move(r));
  } catch (const Json::exception&) {
    return Err(Internal("corrupt token role"));
  }
}

Status TokenStore::PutRole(const TokenRole& r) {
  if (!ValidRoleName(r.name)) return InvalidArgument("invalid role name");
  Json j{{"name", r.name},
         {"allowed_policies", r.allowed_policies},
         {"disallowed_policies", r.disallowed_policies},
         {"orphan", r.orphan},
         {"period", r.period},
         {"renewable", r.renewable},
         {"explicit_max_ttl", r.explicit_max_ttl},
         {"path_suffix", r.path_suffix},
         {"token_type", r.token_type}};
  if (!r.allowed_policies_glob.empty()) j["allowed_policies_glob"] = r.allowed_policies_glob;
  if (!r.disallowed_policies_glob.empty()) {
    j["disallowed_policies_glob"] = r.disallowed_policies_glob;
  }
  if (!r.token_bound_cidrs.empty()) j["token_bound_cidrs"] = r.token_bound_cidrs;
  if (r.token_no_default_policy) j["token_no_default_policy"] = true;
  if (r.token_num_uses != 0) j["token_num_uses"] = r.token_num_uses;
  if (!r.allowed_entity_aliases.empty()) j["allowed_entity_aliases"] = r.allowed_entity_aliases;
  j["legacy_period"] = r.legacy_period;
  j["legacy_explicit_max_ttl"] = r.legacy_explicit_max_ttl;
  j["legacy_bound_cidrs"] = r.legacy_bound_cidrs;
  return view_.Put("role/" + r.name, j.dump());
}

Status TokenStore::DeleteRole(std::string_view name) {
  if (!ValidRoleName(name)) return Status::Ok();
  return view_.Delete("role/" + std::string(name));
}

Result<std::vector<std::string>> TokenStore::ListRoles() { return view_.List("role/"); }

}  // namespace coffer::token
