// auth/token/create, create-orphan and create/:role: Vault's rules for who
// may create what.
//  - `id`, `no_parent` and a non-role `period` need root or sudo.
//  - Without a role that restricts policies, child policies must be a subset
//    of the parent's unless the caller is root or has sudo; no policies
//    means the parent's.
//  - With a role's allowed/disallowed lists, those decide instead (no
//    policies means the allowed list).
//  - "root" may only go to children of a root token.
//  - Batch tokens (type=batch, or a role's token_type) cannot create tokens,
//    be root, have num_uses, a period or an explicit max TTL; a role's
//    period and explicit max TTL do not apply to them.
#include <algorithm>
#include <set>

#include "common/glob.h"
#include "policy/policy.h"
#include "token/batch_token.h"
#include "token/token_backend.h"
#include "token/token_params.h"
#include "token/token_type.h"

namespace coffer::token {

using logical::Request;
using logical::Response;

namespace {

std::string JoinList(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
  return "[" + out + "]";
}

// The length of the UTF-8 sequence that starts at text[i], or 1 where no
// valid one starts (a stray byte counts as one character, as in Go).
std::size_t Utf8Length(std::string_view text, std::size_t i) {
  const auto c = static_cast<unsigned char>(text[i]);
  std::size_t n = c >= 0xF0 && c <= 0xF4 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 && c < 0xE0 ? 2 : 1;
  if (n == 1 || i + n > text.size()) return 1;
  for (std::size_t k = 1; k < n; ++k) {
    if ((static_cast<unsigned char>(text[i + k]) & 0xC0) != 0x80) return 1;
  }
  return n;
}

// Vault's display name: "token-" + the name, each character that is not
// an ASCII letter, digit or '-' replaced by one '-', one trailing '-' cut.
std::string DisplayName(std::string_view requested) {
  if (requested.empty()) return "token";
  std::string name = "token-";
  for (std::size_t i = 0; i < requested.size(); i += Utf8Length(requested, i)) {
    const auto c = static_cast<unsigned char>(requested[i]);
    const bool keep = (c < 0x80 && std::isalnum(c) != 0) || c == '-';
    name.push_back(keep ? static_cast<char>(c) : '-');
  }
  if (name.ends_with('-')) name.pop_back();
  return name;
}

bool MatchesAny(const std::vector<std::string>& globs, std::string_view name) {
  return std::any_of(globs.begin(), globs.end(),
                     [&](const std::string& g) { return GlobMatch(g, name); });
}

// Vault's warning for body fields a token creation does not know, so that a
// misspelt one ("tll") does not go unnoticed while the token gets the
// default in its place. Empty when there are none.
std::string IgnoredFieldsWarning(const Json& data, bool with_role) {
  static constexpr std::string_view kKnown[] = {
      "display_name", "entity_alias", "explicit_max_ttl",  "id",
      "lease",        "meta",         "no_default_policy", "no_parent",
      "num_uses",     "period",       "policies",          "renewable",
      "ttl",          "type"};
  if (!data.is_object()) return "";
  std::vector<std::string> ignored;
  for (const auto& item : data.items()) {
    const std::string& key = item.key();
    if (with_role && key == "role_name") continue;
    if (std::find(std::begin(kKnown), std::end(kKnown), key) == std::end(kKnown)) {
      ignored.push_back(key);
    }
  }
  if (ignored.empty()) return "";
  std::sort(ignored.begin(), ignored.end());
  std::string warning = "Endpoint ignored these unrecognized parameters: [";
  for (std::size_t i = 0; i < ignored.size(); ++i) {
    if (i > 0) warning += ' ';
    warning += ignored[i];
  }
  return warning + "]";
}

}  // namespace

Result<Response> TokenBackend::Create(const Request& request, std::string_view role_name,
                                      bool orphan_endpoint) {
  if (!request.auth) return Err(PermissionDenied());
  const logical::Auth& caller = *request.auth;
  if (IsBatchTokenId(request.client_token)) {
    return Err(InvalidArgument("batch tokens cannot create more tokens"));
  }
  ASSIGN_OR_RETURN(auto parent, store_.LookupByHmac(caller.token_hmac));
  if (!parent) return Err(PermissionDenied("parent token lookup failed: no parent found"));
  if (parent->batch) return Err(InvalidArgument("batch tokens cannot create more tokens"));
  // A token with a use limit could escape it through children (Vault).
  if (parent->num_uses > 0) {
    return Err(InvalidArgument("restricted use token cannot generate child tokens"));
  }
  const bool is_sudo = caller.sudo || caller.root || parent->IsRoot();

  ASSIGN_OR_RETURN(auto id, params::String(request, "id"));
  ASSIGN_OR_RETURN(auto policies, params::List(request, "policies"));
  ASSIGN_OR_RETURN(auto meta, params::Meta(request, "meta"));
  ASSIGN_OR_RETURN(auto no_parent, params::Bool(request, "no_parent"));
  ASSIGN_OR_RETURN(auto no_default, params::Bool(request, "no_default_policy"));
  ASSIGN_OR_RETURN(auto renewable, params::Bool(request, "renewable"));
  ASSIGN_OR_RETURN(auto ttl, params::Duration(request, "ttl"));
  ASSIGN_OR_RETURN(auto lease, params::Duration(request, "lease"));
  ASSIGN_OR_RETURN(auto explicit_max, params::Duration(request, "explicit_max_ttl"));
  ASSIGN_OR_RETURN(auto period, params::Duration(request, "period"));
  ASSIGN_OR_RETURN(auto display, params::String(request, "display_name"));
  ASSIGN_OR_RETURN(auto num_uses, params::Int(request, "num_uses"));
  ASSIGN_OR_RETURN(auto type, params::String(request, "type"));
  if (id && !id->empty() && !is_sudo) {
    return Err(InvalidArgument("root or sudo privileges required to specify token id"));
  }
  // Vault's rules for a chosen id: it may not pass for a generated one
  // (service "hvs."/"s.", batch "hvb.") or hold a '.'.
  if (id && id->starts_with("hvs.")) {
    return Err(InvalidArgument("custom token ID cannot have the 'hvs.' prefix"));
  }
  if (id && id->starts_with("s.")) {
    return Err(InvalidArgument("custom token ID cannot have the 's.' prefix"));
  }
  if (id && id->find('.') != std::string::npos) {
    return Err(InvalidArgument("custom token ID cannot have a '.' in the value"));
  }
  if (num_uses && *num_uses < 0) return Err(InvalidArgument("number of uses cannot be negative"));

  std::optional<TokenRole> role;
  if (!role_name.empty()) {
    ASSIGN_OR_RETURN(role, store_.GetRole(role_name));
    if (!role) return Err(InvalidArgument("unknown role " + std::string(role_name)));
  }

  // A token for an entity alias needs a role that allows the alias (by
  // name or glob, compared lower-cased); the entity is looked up, or
  // created with the alias, only once everything else was checked, by the
  // same lower-cased name: "SVC-B" is the alias "svc-b" that the role
  // allowed, not a second alias with an entity of its own (which would
  // escape a disabled "svc-b" entity and its groups).
  ASSIGN_OR_RETURN(auto entity_alias, params::String(request, "entity_alias"));
  if (entity_alias && !entity_alias->empty()) {
    if (!role) {
      return Err(InvalidArgument("'entity_alias' is only allowed in combination with token role"));
    }
    std::string key = policy::CanonicalPolicyName(*entity_alias);
    const auto& allowed = role->allowed_entity_aliases;
    if (!entity_for_alias_ || (std::find(allowed.begin(), allowed.end(), key) == allowed.end() &&
                               !MatchesAny(allowed, key))) {
      return Err(InvalidArgument("invalid 'entity_alias' value"));
    }
    entity_alias = std::move(key);
  } else {
    entity_alias.reset();
  }

  ASSIGN_OR_RETURN(const bool batch,
                   ResolveCreateType(type.value_or(""), role ? role->token_type : ""));
  if (batch) {
    // Vault's order and wording.
    if (explicit_max && explicit_max->count() != 0) {
      return Err(InvalidArgument("batch tokens cannot have \"explicit_max_ttl\" set"));
    }
    if (num_uses && *num_uses != 0) {
      return Err(InvalidArgument("batch tokens cannot have \"num_uses\" set"));
    }
    if (period && period->count() != 0) {
      return Err(InvalidArgument("batch tokens cannot have \"period\" set"));
    }
    if (id && !id->empty()) return Err(InvalidArgument("batch tokens cannot have a custom \"id\""));
  }
  // A role's limits hold for its batch tokens too: a use limit, which a
  // batch token cannot carry, refuses one; an explicit max TTL or a period
  // caps its TTL (a batch token is never renewed past it anyway).
  std::chrono::seconds batch_cap{0};
  if (role && batch) {
    if (role->token_num_uses > 0) {
      return Err(InvalidArgument(
          "the role limits the number of uses (token_num_uses), which a batch token cannot have"));
    }
    for (std::int64_t v : {role->explicit_max_ttl, role->period}) {
      if (v > 0 && (batch_cap.count() == 0 || v < batch_cap.count())) {
        batch_cap = std::chrono::seconds(v);
      }
    }
  }

  TokenRequest tr;
  tr.batch = batch;
  // A role with token_no_default_policy leaves "default" out whatever the
  // request says.
  const bool no_default_policy =
      no_default.value_or(false) || (role && role->token_no_default_policy);
  const auto parent_policies = CanonicalPolicies(parent->policies, false);
  auto contains = [](const std::vector<std::string>& v, std::string_view p) {
    return std::find(v.begin(), v.end(), p) != v.end();
  };
  // Whether "default" joins the final set: decided per case as Vault does,
  // and never with no_default_policy.
  bool add_default = false;
  std::vector<std::string> want =
      CanonicalPolicies(policies.value_or(std::vector<std::string>{}), false);
  if (role && (!role->allowed_policies.empty() || !role->disallowed_policies.empty() ||
               !role->allowed_policies_glob.empty() || !role->disallowed_policies_glob.empty())) {
    // The role's lists decide, not the parent's policies; "default" comes
    // along unless the request or the role's disallowed lists say no.
    auto disallowed = CanonicalPolicies(role->disallowed_policies, false);
    const auto& disallowed_glob = role->disallowed_policies_glob;
    const bool role_default = !no_default_policy && !contains(disallowed, "default") &&
                              !MatchesAny(disallowed_glob, "default");
    if (!want.empty()) want = CanonicalPolicies(want, role_default);
    if (!role->allowed_policies.empty() || !role->allowed_policies_glob.empty()) {
      auto allowed = CanonicalPolicies(role->allowed_policies, role_default);
      if (want.empty()) {
        want = allowed;
      } else {
        for (const auto& p : want) {
          if (!contains(allowed, p) && !MatchesAny(role->allowed_policies_glob, p)) {
            return Err(InvalidArgument("token policies (" + JoinList(want) +
                                       ") must be subset of the role's allowed policies (" +
                                       JoinList(allowed) + ") or glob policies (" +
                                       JoinList(role->allowed_policies_glob) + ")"));
          }
        }
      }
    } else if (want.empty()) {
      want = CanonicalPolicies(parent->policies, role_default);
    }
    for (const auto& p : want) {
      if (contains(disallowed, p) || MatchesAny(disallowed_glob, p)) {
        return Err(InvalidArgument("token policy " + p + " is disallowed by this role"));
      }
    }
  } else if (want.empty()) {
    // No policies asked for: the parent's, "default" only if it has it.
    want = parent_policies;
  } else if (!is_sudo) {
    for (const auto& p : want) {
      if (!contains(parent_policies, p)) {
        return Err(InvalidArgument("child policies must be subset of parent"));
      }
    }
    add_default = !no_default_policy && contains(parent_policies, "default");
  } else {
    add_default = !no_default_policy;
  }
  want = CanonicalPolicies(want, add_default);
  if (no_default_policy) std::erase(want, "default");
  for (const auto& p : want) {
    if (IsInternalPolicy(p)) return Err(InvalidArgument("cannot assign policy \"" + p + "\""));
  }
  tr.policies = std::move(want);
  // The final set is decided here; the store must not add "default" again.
  tr.no_default_policy = true;
  if (contains(tr.policies, "root")) {
    if (!parent->IsRoot()) {
      return Err(InvalidArgument("root tokens may not be created without parent token being root"));
    }
    if (batch) return Err(InvalidArgument("batch tokens cannot be root tokens"));
  }
  // With a role, the role alone decides whether its tokens are orphans
  // (Vault ignores no_parent there).
  bool orphan = role ? role->orphan : false;
  if (!role && no_parent.value_or(false)) {
    if (!is_sudo) {
      return Err(InvalidArgument("root or sudo privileges required to create orphan token"));
    }
    orphan = true;
  }
  if (orphan_endpoint) orphan = true;
  tr.parent_hmac = orphan ? "" : caller.token_hmac;
  // A child carries its parent's entity, so disabling the entity stops the
  // children too and they get the entity's group policies (Vault).
  // An entity alias names the token's entity instead (orphan or not).
  if (entity_alias) {
    auto entity = entity_for_alias_(*entity_alias);
    if (!entity && entity.error().code() == Code::kPermissionDenied) {
      return Err(PermissionDenied("entity from given entity alias is disabled"));
    }
    if (!entity) return Err(entity.error());
    tr.entity_id = *std::move(entity);
  } else if (!orphan) {
    tr.entity_id = parent->entity_id;
  }
  // Address bindings: a role's own (which may be wider than the parent's,
  // as in Vault: roles are the sanctioned way to hand out other rights);
  // without a role, a child keeps its parent's.
  if (role) {
    tr.bound_cidrs = role->token_bound_cidrs;
  } else if (!orphan) {
    tr.bound_cidrs = parent->bound_cidrs;
  }
  // An expiring token cannot mint one that never expires (checked by the
  // store once the TTL is final).
  tr.parent_expires = parent->ttl != 0;

  // A period in the request needs sudo even with a role; given by both,
  // the lesser applies, with Vault's warning. So for the explicit max.
  std::vector<std::string> warnings;
  if (period && period->count() > 0) {
    if (!is_sudo) {
      return Err(InvalidArgument("root or sudo privileges required to create periodic token"));
    }
    tr.period = *period;
  }
  tr.explicit_max_ttl = explicit_max.value_or(std::chrono::seconds(0));
  if (role && !batch) {
    auto merge = [&](std::chrono::seconds& value, std::int64_t role_value, std::string_view what) {
      if (role_value <= 0) return;
      const std::chrono::seconds from_role(role_value);
      if (value.count() == 0) {
        value = from_role;
        return;
      }
      value = std::min(value, from_role);
      warnings.push_back(std::string(what) +
                         " specified both during creation call and in role; using the lesser "
                         "value of " +
                         std::to_string(value.count()) + " seconds");
    };
    merge(tr.explicit_max_ttl, role->explicit_max_ttl, "Explicit max TTL");
    merge(tr.period, role->period, "Period");
  }
  tr.ttl = ttl ? *ttl : lease.value_or(std::chrono::seconds(0));
  if (batch_cap.count() > 0 && (tr.ttl.count() == 0 || tr.ttl > batch_cap)) tr.ttl = batch_cap;
  tr.renewable = renewable.value_or(true) && (!role || role->renewable);
  tr.num_uses = num_uses.value_or(0);
  // The role's use limit caps the request's (0 means none on either side).
  if (role && role->token_num_uses > 0 && !batch &&
      (tr.num_uses == 0 || tr.num_uses > role->token_num_uses)) {
    tr.num_uses = role->token_num_uses;
  }
  tr.meta = std::move(meta);
  tr.display_name = DisplayName(display.value_or(""));
  tr.requested_id = id.value_or("");
  if (role) {
    tr.role = role->name;
    tr.path = "auth/token/create/" + role->name;
    if (!role->path_suffix.empty()) tr.path += "/" + role->path_suffix;
  } else {
    tr.path = orphan_endpoint ? "auth/token/create-orphan" : "auth/token/create";
  }

  ASSIGN_OR_RETURN(CreatedToken created, store_.CreateToken(tr));
  Response r;
  SetAuth(r, request, *created.entry, created.id.view());
  warnings.insert(warnings.end(), created.warnings.begin(), created.warnings.end());
  if (policy_exists_) {
    for (const auto& p : created.entry->policies) {
      if (!policy_exists_(p)) warnings.push_back("Policy \"" + p + "\" does not exist");
    }
  }
  if (std::string ignored = IgnoredFieldsWarning(request.data, role.has_value());
      !ignored.empty()) {
    warnings.push_back(std::move(ignored));
  }
  if (!warnings.empty()) r.warnings = warnings;
  return r;
}

}  // namespace coffer::token
