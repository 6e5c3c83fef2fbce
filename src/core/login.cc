#include "core/login.h"

#include <algorithm>
#include <tuple>

#include "common/duration.h"
#include "common/encoding.h"
#include "token/token_backend.h"
#include "token/token_type.h"

namespace coffer::core {
namespace {

using logical::Json;
using std::chrono::seconds;

// Above this many counters, stale ones are swept before adding another, so
// a flood of invented usernames cannot grow the table without bound.
constexpr std::size_t kSweepAbove = 100'000;

// Seconds from a number or a duration string; nullopt when absent.
Result<std::optional<seconds>> DurationValue(const Json& obj, const char* name) {
  auto it = obj.find(name);
  if (it == obj.end() || it->is_null()) return std::optional<seconds>();
  if (it->is_number_integer() && it->get<std::int64_t>() >= 0) {
    return std::optional<seconds>(seconds(it->get<std::int64_t>()));
  }
  if (it->is_string()) {
    if (it->get_ref<const std::string&>().empty()) return std::optional<seconds>();
    auto d = ParseDuration(it->get<std::string>());
    if (d) return std::optional<seconds>(*d);
  }
  return Err(InvalidArgument(std::string("invalid ") + name));
}

std::int64_t ConfigSeconds(const Json& config, const char* name) {
  auto it = config.find(name);
  if (it == config.end() || !it->is_number_integer()) return 0;
  return std::max<std::int64_t>(0, it->get<std::int64_t>());
}

// "auth/userpass/" + "alice" → "userpass-alice" (Vault's display names).
std::string DisplayName(std::string_view mount_path, std::string_view name) {
  std::string_view p = mount_path;
  if (p.starts_with("auth/")) p.remove_prefix(5);
  std::string out;
  for (char c : p) out.push_back(c == '/' ? '-' : c);
  while (!out.empty() && out.back() == '-') out.pop_back();
  if (!name.empty()) out += "-" + std::string(name);
  return out;
}

bool IsCredentialFailure(const Status& s) {
  return s.code() == Code::kInvalidArgument || s.code() == Code::kPermissionDenied;
}

}  // namespace

LockoutConfig LockoutConfigOf(const Json& mount_config) {
  LockoutConfig c;
  auto it = mount_config.find("user_lockout_config");
  if (it == mount_config.end() || !it->is_object()) return c;
  const Json& j = *it;
  if (auto t = j.find("lockout_threshold"); t != j.end() && t->is_number_integer()) {
    c.threshold = t->get<std::int64_t>();
  }
  if (auto d = j.find("lockout_duration"); d != j.end() && d->is_number_integer()) {
    c.duration = seconds(d->get<std::int64_t>());
  }
  if (auto r = j.find("lockout_counter_reset"); r != j.end() && r->is_number_integer()) {
    c.counter_reset = seconds(r->get<std::int64_t>());
  }
  c.disabled = j.value("lockout_disable", false) || c.threshold <= 0;
  return c;
}

Result<Json> ParseLockoutConfig(const Json& in) {
  if (!in.is_object()) return Err(InvalidArgument("user_lockout_config must be an object"));
  Json out = Json::object();
  if (auto t = in.find("lockout_threshold"); t != in.end() && !t->is_null()) {
    std::int64_t v = -1;
    if (t->is_number_integer()) {
      v = t->get<std::int64_t>();
    } else if (t->is_string()) {
      // The whole string must be the number: "5abc" or " 5" is refused.
      v = ParseInt64(t->get_ref<const std::string&>()).value_or(-1);
    }
    if (v < 0) return Err(InvalidArgument("invalid lockout_threshold"));
    out["lockout_threshold"] = v;
  }
  // Vault's API names the reset lockout_counter_reset_duration (stored as
  // lockout_counter_reset, which is also taken).
  for (const char* name :
       {"lockout_duration", "lockout_counter_reset", "lockout_counter_reset_duration"}) {
    ASSIGN_OR_RETURN(auto d, DurationValue(in, name));
    const bool reset = std::string_view(name).starts_with("lockout_counter");
    if (d) out[reset ? "lockout_counter_reset" : name] = d->count();
  }
  if (auto b = in.find("lockout_disable"); b != in.end() && !b->is_null()) {
    if (b->is_boolean()) {
      out["lockout_disable"] = b->get<bool>();
    } else if (b->is_string() && (*b == "true" || *b == "false")) {
      out["lockout_disable"] = *b == "true";
    } else {
      return Err(InvalidArgument("invalid lockout_disable"));
    }
  }
  return out;
}

std::optional<router::Router::Match> Logins::MatchLogin(const router::Router& router,
                                                        std::string_view path) {
  if (!path.starts_with("auth/") || path.starts_with("auth/token/")) return std::nullopt;
  auto match = router.Route(path);
  if (!match || !match->mount->engine->IsUnauthenticated(match->relative_path)) {
    return std::nullopt;
  }
  return match;
}

bool Logins::Admit(const std::string& key, const LockoutConfig& config, bool* tracked) {
  *tracked = false;
  std::scoped_lock lock(mu_);
  auto it = counters_.find(key);
  if (it == counters_.end()) return true;
  Counter& c = it->second;
  auto now = clock_.Monotonic();
  if (c.failures >= config.threshold) {
    if (now - c.last_failure < config.duration) return false;  // locked out
    c.failures = 0;                                            // the lockout is over
  } else if (now - c.last_failure >= config.counter_reset) {
    c.failures = 0;
  }
  if (c.failures == 0) return true;
  // Attempts in flight count against the threshold, so parallel guesses
  // cannot overshoot it.
  if (c.failures + c.in_flight >= config.threshold) return false;
  ++c.in_flight;
  *tracked = true;
  return true;
}

void Logins::Record(const std::string& key, const LockoutConfig& config, bool tracked,
                    Outcome outcome) {
  const bool failed = outcome == Outcome::kFailed;
  std::scoped_lock lock(mu_);
  auto it = counters_.find(key);
  if (it == counters_.end()) {
    if (!failed) return;
    if (counters_.size() >= kSweepAbove) {
      auto now = clock_.Monotonic();
      auto keep = std::max(config.duration, config.counter_reset);
      std::erase_if(counters_, [&](const auto& kv) {
        return kv.second.in_flight == 0 && now - kv.second.last_failure >= keep;
      });
      // Still full (a flood of failed logins under new names, which need no
      // token): the counters of names not locked out go, so that memory
      // stays bounded; the names locked out stay locked.
      if (counters_.size() >= kSweepAbove) {
        std::erase_if(counters_, [&](const auto& kv) {
          return kv.second.in_flight == 0 && kv.second.failures < config.threshold;
        });
      }
      if (counters_.size() >= kSweepAbove) return;  // all locked out: no room
    }
    it = counters_.emplace(key, Counter{}).first;
  }
  Counter& c = it->second;
  if (tracked && c.in_flight > 0) --c.in_flight;
  if (failed) {
    ++c.failures;
    c.last_failure = clock_.Monotonic();
  } else if (outcome == Outcome::kNeutral) {
    if (c.failures == 0 && c.in_flight == 0) counters_.erase(it);
  } else if (c.in_flight == 0) {
    counters_.erase(it);
  } else {
    c.failures = 0;
  }
}

std::vector<Logins::LockedAlias> Logins::LockedUsers(
    const std::function<LockoutConfig(std::string_view accessor)>& config_of) {
  std::vector<LockedAlias> out;
  auto now = clock_.Monotonic();
  std::scoped_lock lock(mu_);
  for (const auto& [key, c] : counters_) {
    std::size_t nul = key.find('\0');
    if (nul == std::string::npos) continue;
    std::string_view accessor = std::string_view(key).substr(0, nul);
    LockoutConfig config = config_of(accessor);
    if (config.disabled || c.failures < config.threshold) continue;
    if (now - c.last_failure >= config.duration) continue;
    out.push_back({std::string(accessor), key.substr(nul + 1)});
  }
  std::sort(out.begin(), out.end(), [](const LockedAlias& a, const LockedAlias& b) {
    return std::tie(a.accessor, a.alias) < std::tie(b.accessor, b.alias);
  });
  return out;
}

bool Logins::Unlock(std::string_view accessor, std::string_view alias) {
  std::string key = std::string(accessor) + '\0' + std::string(alias);
  std::scoped_lock lock(mu_);
  auto it = counters_.find(key);
  if (it == counters_.end()) return false;
  // Attempts in flight keep their slot; only the failures are forgotten.
  it->second.failures = 0;
  if (it->second.in_flight == 0) counters_.erase(it);
  return true;
}

void Logins::ForgetMount(std::string_view accessor) {
  std::string prefix = std::string(accessor) + '\0';
  std::scoped_lock lock(mu_);
  std::erase_if(counters_, [&](const auto& kv) { return kv.first.starts_with(prefix); });
}

void Logins::PublishLoginEvent(std::string type, const logical::Request& request,
                               const std::string& mount_path) const {
  if (events_ == nullptr) return;
  events::Event e;
  e.type = std::move(type);
  e.mount_path = mount_path;
  e.metadata = {{"path", request.path}, {"remote_address", request.remote_address}};
  events_->Publish(std::move(e));
}

Result<logical::Response> Logins::Login(logical::Request& request,
                                        const router::Router::Match& match) {
  const router::MountEntry& entry = match.mount->entry;
  request.mount_point = entry.path;
  request.relative_path = match.relative_path;
  const LockoutConfig config = LockoutConfigOf(entry.config);
  std::string key;
  if (!config.disabled) {
    std::string alias = match.mount->engine->LoginAlias(request);
    if (!alias.empty()) key = entry.accessor + '\0' + alias;
  }
  bool tracked = false;
  if (!key.empty() && !Admit(key, config, &tracked)) {
    PublishLoginEvent("coffer/user-lockout", request, entry.path);
    return Err(PermissionDenied());
  }

  Result<logical::Response> result = match.mount->engine->HandleRequest(request);
  if (!key.empty()) {
    Outcome outcome = Outcome::kNeutral;
    if (!result) {
      if (IsCredentialFailure(result.error())) outcome = Outcome::kFailed;
    } else if (result->login) {
      outcome = Outcome::kSucceeded;
    }
    Record(key, config, tracked, outcome);
  }
  if (!result && IsCredentialFailure(result.error())) {
    PublishLoginEvent("coffer/login-failed", request, entry.path);
  }
  if (!result) return result;
  if (result->mount_type.empty()) result->mount_type = entry.type;
  if (!result->login) return result;
  logical::LoginResult login = std::move(*result->login);
  result->login.reset();
  ASSIGN_OR_RETURN(logical::Response minted, FinishLogin(request, entry, std::move(login)));
  minted.mount_type = entry.type;
  return minted;
}

Status Logins::CheckLoginPolicies(const std::vector<std::string>& policies) {
  // Vault's rule: no auth method hands out root, and no token gets an
  // internal policy. Checked on the canonical names, so " ROOT" is root too.
  for (const auto& p : token::CanonicalPolicies(policies, false)) {
    if (p == "root") return InvalidArgument("auth methods cannot create root tokens");
    if (token::IsInternalPolicy(p)) return InvalidArgument("cannot assign policy \"" + p + "\"");
  }
  return Status::Ok();
}

token::LoginTerms Logins::Terms(const router::MountEntry& mount, std::int64_t ttl,
                                std::int64_t max_ttl) const {
  const std::int64_t system_max = max_ttl_.count();
  std::int64_t mount_default = ConfigSeconds(mount.config, "default_lease_ttl");
  std::int64_t mount_max = ConfigSeconds(mount.config, "max_lease_ttl");
  if (mount_max == 0 || mount_max > system_max) mount_max = system_max;
  if (mount_default == 0) mount_default = default_ttl_.count();
  token::LoginTerms terms;
  terms.max_ttl = max_ttl > 0 ? std::min(max_ttl, mount_max) : mount_max;
  terms.ttl = ttl > 0 ? ttl : mount_default;
  return terms;
}

token::LoginTerms Logins::RenewalTerms(const router::MountEntry& mount,
                                       const logical::LoginRenewal& renewal) const {
  token::LoginTerms terms = Terms(mount, renewal.ttl, renewal.max_ttl);
  terms.period = renewal.period;
  return terms;
}

Result<logical::Response> Logins::Mint(const logical::Request& request,
                                       const router::MountEntry& mount, logical::LoginResult login,
                                       std::string entity_id) {
  const std::int64_t system_max = max_ttl_.count();
  const token::LoginTerms terms = Terms(mount, login.ttl, login.max_ttl);
  const std::int64_t max = terms.max_ttl;
  const std::int64_t ttl = std::min(terms.ttl, max);

  token::TokenRequest tr;
  tr.policies = login.policies;
  tr.no_default_policy = login.no_default_policy;
  tr.meta = login.metadata;
  tr.internal = std::move(login.internal);
  tr.parent_hmac = "";  // login tokens are orphans
  tr.entity_id = std::move(entity_id);
  tr.path = request.path;
  tr.display_name = DisplayName(mount.path, login.display_name);
  tr.ttl = seconds(ttl);
  tr.period = seconds(login.period);
  tr.num_uses = login.num_uses;
  tr.bound_cidrs = login.bound_cidrs;
  tr.renewable = true;
  tr.system_ttls = true;
  // The token's lifetime with renewals stays within token_max_ttl and the
  // mount's maximum (TokenEntry::max_ttl); its explicit max is only the
  // role's token_explicit_max_ttl, as a lookup reports it in Vault.
  tr.explicit_max_ttl = seconds(login.explicit_max_ttl);
  if (max < system_max) tr.max_ttl = seconds(max);
  // Batch or service: the role's token_type against the mount's (Vault's rules).
  auto mount_type = mount.config.find("token_type");
  tr.batch = token::ResolveLoginType(
      login.token_type, mount_type != mount.config.end() && mount_type->is_string()
                            ? std::string_view(mount_type->get_ref<const std::string&>())
                            : std::string_view());

  ASSIGN_OR_RETURN(token::CreatedToken created, tokens_.CreateToken(tr));
  logical::Response r;
  token::SetAuth(r, request, *created.entry, created.id.view());
  return r;
}

}  // namespace coffer::core
