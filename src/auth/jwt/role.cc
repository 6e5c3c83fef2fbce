#include "auth/jwt/role.h"

#include <set>

#include "auth/util.h"
#include "token/token_params.h"

namespace coffer::auth::jwt {
namespace {

using Json = nlohmann::json;
namespace params = token::params;

// A leeway: integer seconds (negative allowed: no leeway) or a duration
// string such as "2m".
Result<std::optional<std::int64_t>> Leeway(const logical::Request& r, std::string_view name) {
  const Json* f = r.Field(name);
  if (f != nullptr && f->is_number_integer()) {
    return std::optional<std::int64_t>(f->get<std::int64_t>());
  }
  ASSIGN_OR_RETURN(auto d, params::Duration(r, name));
  if (!d) return std::optional<std::int64_t>();
  return std::optional<std::int64_t>(d->count());
}

Result<Json> ObjectField(const logical::Request& r, std::string_view name) {
  const Json* f = r.Field(name);
  if (f == nullptr || f->is_null()) return Json();
  if (f->is_string()) {
    // Form posts and the CLI send objects as JSON strings.
    Json parsed = Json::parse(f->get<std::string>(), nullptr, /*allow_exceptions=*/false);
    if (!parsed.is_discarded() && parsed.is_object()) return parsed;
  }
  if (!f->is_object()) return Err(InvalidArgument(std::string(name) + " must be an object"));
  return *f;
}

bool IsScalar(const Json& v) { return v.is_string() || v.is_boolean() || v.is_number(); }

std::int64_t Effective(std::int64_t v) { return v < 0 ? 0 : v; }

}  // namespace

Status Role::Update(const logical::Request& r) {
  ASSIGN_OR_RETURN(auto type, params::String(r, "role_type"));
  if (type) {
    if (*type != "jwt" && *type != "oidc") return InvalidArgument("invalid 'role_type': " + *type);
    role_type = *type;
  }
  ASSIGN_OR_RETURN(auto aud, params::List(r, "bound_audiences"));
  if (aud) bound_audiences = *aud;
  ASSIGN_OR_RETURN(auto sub, params::String(r, "bound_subject"));
  if (sub) bound_subject = *sub;
  ASSIGN_OR_RETURN(Json claims, ObjectField(r, "bound_claims"));
  if (!claims.is_null()) {
    for (const auto& [k, v] : claims.items()) {
      bool ok = IsScalar(v);
      if (v.is_array()) {
        ok = true;
        for (const Json& e : v) ok = ok && IsScalar(e);
      }
      if (!ok) return InvalidArgument("bound_claims[\"" + k + "\"] must be a value or a list");
    }
    bound_claims = std::move(claims);
  }
  ASSIGN_OR_RETURN(auto ctype, params::String(r, "bound_claims_type"));
  if (ctype) {
    if (*ctype != "string" && *ctype != "glob") {
      return InvalidArgument("invalid bound_claims_type: must be \"string\" or \"glob\"");
    }
    bound_claims_type = *ctype;
  }
  ASSIGN_OR_RETURN(Json mappings, ObjectField(r, "claim_mappings"));
  if (!mappings.is_null()) {
    std::set<std::string> targets;
    for (const auto& [k, v] : mappings.items()) {
      if (!v.is_string()) return InvalidArgument("claim_mappings values must be strings");
      const auto& target = v.get_ref<const std::string&>();
      if (target == "role") return InvalidArgument("metadata key \"role\" is reserved");
      if (!targets.insert(target).second) {
        return InvalidArgument("multiple keys are mapped to metadata key \"" + target + "\"");
      }
    }
    claim_mappings = std::move(mappings);
  }
  ASSIGN_OR_RETURN(auto user, params::String(r, "user_claim"));
  if (user) user_claim = *user;
  ASSIGN_OR_RETURN(auto groups, params::String(r, "groups_claim"));
  if (groups) groups_claim = *groups;
  ASSIGN_OR_RETURN(auto skew, Leeway(r, "clock_skew_leeway"));
  if (skew) clock_skew_leeway = *skew;
  ASSIGN_OR_RETURN(auto exp, Leeway(r, "expiration_leeway"));
  if (exp) expiration_leeway = *exp;
  ASSIGN_OR_RETURN(auto nbf, Leeway(r, "not_before_leeway"));
  if (nbf) not_before_leeway = *nbf;
  ASSIGN_OR_RETURN(auto pointer, params::Bool(r, "user_claim_json_pointer"));
  if (pointer) user_claim_json_pointer = *pointer;
  ASSIGN_OR_RETURN(auto redirects, params::List(r, "allowed_redirect_uris"));
  if (redirects) allowed_redirect_uris = *redirects;
  ASSIGN_OR_RETURN(auto scopes, params::List(r, "oidc_scopes"));
  if (scopes) oidc_scopes = *scopes;
  ASSIGN_OR_RETURN(auto age, params::Duration(r, "max_age"));
  if (age) {
    if (age->count() < 0) return InvalidArgument("max_age must be zero or positive");
    max_age = age->count();
  }
  ASSIGN_OR_RETURN(auto verbose, params::Bool(r, "verbose_oidc_logging"));
  if (verbose) verbose_oidc_logging = *verbose;
  TRY(token.Update(r, {.ttl = true, .max_ttl = true, .num_uses = true, .bound_cidrs = true}));

  if (user_claim.empty()) return InvalidArgument("a user_claim is required");
  if (role_type == "oidc" && allowed_redirect_uris.empty()) {
    return InvalidArgument(
        "'allowed_redirect_uris' must be set if 'role_type' is 'oidc' or unspecified.");
  }
  // An oidc role's tokens must name the method's client as their audience;
  // a jwt role needs a binding of its own (Vault's rule).
  if (role_type == "jwt" && bound_audiences.empty() && bound_subject.empty() &&
      bound_claims.empty() && token.bound_cidrs.empty()) {
    return InvalidArgument("must have at least one bound constraint when creating/updating a role");
  }
  return Status::Ok();
}

Leeways Role::EffectiveLeeways() const {
  Leeways l;
  l.clock_skew = Effective(clock_skew_leeway);
  l.expiration = Effective(expiration_leeway);
  l.not_before = Effective(not_before_leeway);
  return l;
}

Json Role::ToJson() const {
  Json j = token.ToStored();
  j["role_type"] = role_type;
  j["bound_audiences"] = bound_audiences;
  j["bound_subject"] = bound_subject;
  j["bound_claims"] = bound_claims.empty() ? Json() : bound_claims;
  j["bound_claims_type"] = bound_claims_type;
  j["claim_mappings"] = claim_mappings.empty() ? Json() : claim_mappings;
  j["user_claim"] = user_claim;
  j["groups_claim"] = groups_claim;
  j["clock_skew_leeway"] = clock_skew_leeway;
  j["expiration_leeway"] = expiration_leeway;
  j["not_before_leeway"] = not_before_leeway;
  j["user_claim_json_pointer"] = user_claim_json_pointer;
  j["allowed_redirect_uris"] = allowed_redirect_uris;
  j["oidc_scopes"] = oidc_scopes;
  j["max_age"] = max_age;
  j["verbose_oidc_logging"] = verbose_oidc_logging;
  return j;
}

Result<Role> Role::FromJson(const Json& j) {
  try {
    Role r;
    r.role_type = j.value("role_type", "jwt");
    r.bound_audiences = j.value("bound_audiences", std::vector<std::string>{});
    r.bound_subject = j.value("bound_subject", "");
    if (j.contains("bound_claims") && j["bound_claims"].is_object()) {
      r.bound_claims = j["bound_claims"];
    }
    r.bound_claims_type = j.value("bound_claims_type", "string");
    if (j.contains("claim_mappings") && j["claim_mappings"].is_object()) {
      r.claim_mappings = j["claim_mappings"];
    }
    r.user_claim = j.value("user_claim", "");
    r.groups_claim = j.value("groups_claim", "");
    r.clock_skew_leeway = j.value("clock_skew_leeway", std::int64_t{60});
    r.expiration_leeway = j.value("expiration_leeway", std::int64_t{150});
    r.not_before_leeway = j.value("not_before_leeway", std::int64_t{150});
    r.user_claim_json_pointer = j.value("user_claim_json_pointer", false);
    r.allowed_redirect_uris = j.value("allowed_redirect_uris", std::vector<std::string>{});
    r.oidc_scopes = j.value("oidc_scopes", std::vector<std::string>{});
    r.max_age = j.value("max_age", std::int64_t{0});
    r.verbose_oidc_logging = j.value("verbose_oidc_logging", false);
    r.token = TokenFields::FromStored(j);
    return r;
  } catch (const Json::exception&) {
    return Err(Internal("corrupt jwt role entry"));
  }
}

Status ValidRoleName(const std::string& name) {
  if (name.empty()) return InvalidArgument("missing role name");
  if (name.find('/') != std::string::npos) return InvalidArgument("invalid role name");
  return Status::Ok();
}

Result<std::optional<Role>> ReadRole(storage::Backend& storage, const std::string& name) {
  ASSIGN_OR_RETURN(auto stored, storage.Get("role/" + name));
  if (!stored) return std::optional<Role>();
  ASSIGN_OR_RETURN(Json j, ParseStored(stored->value, "jwt role"));
  ASSIGN_OR_RETURN(Role role, Role::FromJson(j));
  role.name = name;
  return std::optional<Role>(std::move(role));
}

}  // namespace coffer::auth::jwt
