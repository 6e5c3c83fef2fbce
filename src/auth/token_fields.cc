#include "auth/token_fields.h"

#include <algorithm>
#include <cctype>

#include "auth/util.h"
#include "common/text.h"
#include "token/token_params.h"
#include "token/token_store.h"

namespace coffer::auth {
namespace {

using logical::Json;
namespace params = token::params;

}  // namespace

std::string Canonical(std::string_view name) { return AsciiLower(Trim(name, kWhitespace)); }

std::string WithCanonicalSegment(std::string_view relative_path, std::size_t index) {
  std::string out;
  std::size_t start = 0;
  for (std::size_t i = 0;; ++i) {
    const std::size_t slash = relative_path.find('/', start);
    std::string_view segment = relative_path.substr(start, slash - start);
    if (i > 0) out += '/';
    out += i == index ? Canonical(segment) : std::string(segment);
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return out;
}

std::string LoginPathName(std::string_view relative_path) {
  if (!relative_path.starts_with("login/")) return "";
  std::string_view name = relative_path.substr(6);
  while (!name.empty() && name.back() == '/') name.remove_suffix(1);
  return Canonical(name);
}

Status TokenFields::Update(const logical::Request& request, LegacyTokenNames legacy) {
  ASSIGN_OR_RETURN(auto pol, params::List(request, "token_policies"));
  if (!pol) {
    ASSIGN_OR_RETURN(pol, params::List(request, "policies"));
  }
  if (pol) policies = *pol;
  ASSIGN_OR_RETURN(auto t, params::Duration(request, "token_ttl"));
  if (t) {
    legacy_ttl = 0;
  } else if (legacy.ttl) {
    ASSIGN_OR_RETURN(t, params::Duration(request, "ttl"));
    if (t) legacy_ttl = t->count();
  }
  if (t) ttl = t->count();
  ASSIGN_OR_RETURN(auto mt, params::Duration(request, "token_max_ttl"));
  if (mt) {
    legacy_max_ttl = 0;
  } else if (legacy.max_ttl) {
    ASSIGN_OR_RETURN(mt, params::Duration(request, "max_ttl"));
    if (mt) legacy_max_ttl = mt->count();
  }
  if (mt) max_ttl = mt->count();
  ASSIGN_OR_RETURN(auto emt, params::Duration(request, "token_explicit_max_ttl"));
  if (emt) explicit_max_ttl = emt->count();
  ASSIGN_OR_RETURN(auto per, params::Duration(request, "token_period"));
  if (!per) {
    ASSIGN_OR_RETURN(per, params::Duration(request, "period"));
  }
  if (per) period = per->count();
  ASSIGN_OR_RETURN(auto uses, params::Int(request, "token_num_uses"));
  bool uses_legacy = false;
  if (!uses && legacy.num_uses) {
    ASSIGN_OR_RETURN(uses, params::Int(request, "num_uses"));
    uses_legacy = uses.has_value();
  }
  if (uses) {
    if (*uses < 0) return InvalidArgument("token_num_uses cannot be negative");
    num_uses = *uses;
    legacy_num_uses = uses_legacy ? *uses : 0;
  }
  ASSIGN_OR_RETURN(auto ndp, params::Bool(request, "token_no_default_policy"));
  if (ndp) no_default_policy = *ndp;
  ASSIGN_OR_RETURN(auto cidrs, params::List(request, "token_bound_cidrs"));
  bool cidrs_legacy = false;
  if (!cidrs && legacy.bound_cidrs) {
    ASSIGN_OR_RETURN(cidrs, params::List(request, "bound_cidrs"));
    cidrs_legacy = cidrs.has_value();
  }
  if (cidrs) {
    TRY(ValidateCidrs(*cidrs));
    bound_cidrs = *cidrs;
    legacy_bound_cidrs = cidrs_legacy ? *cidrs : std::vector<std::string>{};
  }
  ASSIGN_OR_RETURN(auto type, params::String(request, "token_type"));
  if (type) {
    if (*type != "service" && *type != "batch" && *type != "default" &&
        *type != "default-service" && *type != "default-batch" && !type->empty()) {
      return InvalidArgument("invalid 'token_type' value \"" + *type + "\"");
    }
    token_type = type->empty() ? "default" : *type;
  }
  // Vault's tokenutil rules: a batch token has neither a period nor a use
  // count (the mount may still turn a "default" role into batch at login,
  // where the period/num_uses then refuse the login).
  if (token_type == "batch" || token_type == "default-batch") {
    if (period > 0) {
      return InvalidArgument(
          "'token_type' cannot be 'batch' or 'default_batch' when set to generate periodic "
          "tokens");
    }
    if (num_uses > 0) {
      return InvalidArgument(
          "'token_type' cannot be 'batch' or 'default_batch' when set to generate tokens with "
          "limited use count");
    }
  }
  if (max_ttl > 0 && ttl > max_ttl) {
    return InvalidArgument("\"token_ttl\" value must be less than \"token_max_ttl\" value");
  }
  return Status::Ok();
}

void TokenFields::AddTo(Json& out) const {
  out["token_policies"] = Json(policies);
  out["policies"] = Json(policies);
  out["token_ttl"] = ttl;
  out["token_max_ttl"] = max_ttl;
  out["token_explicit_max_ttl"] = explicit_max_ttl;
  out["token_period"] = period;
  out["period"] = period;
  out["token_num_uses"] = num_uses;
  out["token_no_default_policy"] = no_default_policy;
  out["token_bound_cidrs"] = Json(bound_cidrs);
  out["token_type"] = token_type;
  if (legacy_ttl > 0) out["ttl"] = legacy_ttl;
  if (legacy_max_ttl > 0) out["max_ttl"] = legacy_max_ttl;
  if (legacy_num_uses > 0) out["num_uses"] = legacy_num_uses;
  if (!legacy_bound_cidrs.empty()) out["bound_cidrs"] = Json(legacy_bound_cidrs);
}

Json TokenFields::ToStored() const {
  Json j = Json::object();
  AddTo(j);
  j.erase("policies");
  j.erase("period");
  return j;
}

TokenFields TokenFields::FromStored(const Json& j) {
  TokenFields f;
  if (!j.is_object()) return f;
  f.policies = j.value("token_policies", std::vector<std::string>{});
  f.ttl = j.value("token_ttl", std::int64_t{0});
  f.max_ttl = j.value("token_max_ttl", std::int64_t{0});
  f.explicit_max_ttl = j.value("token_explicit_max_ttl", std::int64_t{0});
  f.period = j.value("token_period", std::int64_t{0});
  f.num_uses = j.value("token_num_uses", std::int64_t{0});
  f.no_default_policy = j.value("token_no_default_policy", false);
  f.bound_cidrs = j.value("token_bound_cidrs", std::vector<std::string>{});
  f.token_type = j.value("token_type", std::string("default"));
  f.legacy_ttl = j.value("ttl", std::int64_t{0});
  f.legacy_max_ttl = j.value("max_ttl", std::int64_t{0});
  f.legacy_num_uses = j.value("num_uses", std::int64_t{0});
  f.legacy_bound_cidrs = j.value("bound_cidrs", std::vector<std::string>{});
  return f;
}

logical::LoginResult TokenFields::ToLogin() const {
  logical::LoginResult r;
  r.policies = policies;
  r.ttl = ttl;
  r.max_ttl = max_ttl;
  r.explicit_max_ttl = explicit_max_ttl;
  r.period = period;
  r.num_uses = num_uses;
  r.no_default_policy = no_default_policy;
  r.bound_cidrs = bound_cidrs;
  r.token_type = token_type;  // resolved against the mount's token_type at login
  return r;
}

logical::LoginRenewal TokenFields::ToRenewal() const {
  logical::LoginRenewal r;
  r.ttl = ttl;
  r.max_ttl = max_ttl;
  r.period = period;
  return r;
}

bool TokenFields::SamePolicies(const std::vector<std::string>& token_policies) const {
  auto without_default = [](const std::vector<std::string>& in) {
    std::vector<std::string> out = token::CanonicalPolicies(in, /*add_default=*/false);
    std::erase(out, "default");
    return out;
  };
  return without_default(policies) == without_default(token_policies);
}

Result<EntryUpdate> BeginEntryUpdate(storage::Backend& storage, const std::string& key,
                                     std::string_view what, const logical::Request& request,
                                     LegacyTokenNames legacy) {
  EntryUpdate u;
  u.stored = logical::Json::object();
  ASSIGN_OR_RETURN(auto entry, storage.Get(key));
  if (entry) {
    ASSIGN_OR_RETURN(u.stored, ParseStored(entry->value, what));
  }
  u.fields = TokenFields::FromStored(u.stored);
  TRY(u.fields.Update(request, legacy));
  return u;
}

Result<std::optional<logical::LoginRenewal>> RenewWhileRoleExists(
    const logical::LoginRenewalRequest& renewal,
    const std::function<Result<std::optional<TokenFields>>(const std::string& role)>& role_token) {
  auto it = renewal.meta->find("role");
  if (it == renewal.meta->end()) return std::optional<logical::LoginRenewal>();
  ASSIGN_OR_RETURN(std::optional<TokenFields> fields, role_token(it->second));
  if (!fields) return Err(InvalidArgument("role " + it->second + " does not exist during renewal"));
  return std::optional<logical::LoginRenewal>(fields->ToRenewal());
}

}  // namespace coffer::auth
