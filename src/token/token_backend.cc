#include "token/token_backend.h"

#include <chrono>
#include <set>

#include "common/cidr.h"
#include "common/encoding.h"
#include "policy/policy.h"
#include "token/batch_token.h"
#include "token/token_params.h"

namespace coffer::token {

using logical::Json;
using logical::NoContent;
using logical::Operation;
using logical::Request;
using logical::Response;

namespace {

bool IsWrite(Operation op) { return op == Operation::kCreate || op == Operation::kUpdate; }
Status BatchNotRenewable() { return InvalidArgument("batch tokens cannot be renewed"); }
Status BatchNotRevocable() { return InvalidArgument("batch tokens cannot be revoked"); }

std::string RfcTime(std::int64_t unix_seconds) {
  return FormatRfc3339(std::chrono::system_clock::time_point(std::chrono::seconds(unix_seconds)));
}

Json MetaJson(const std::map<std::string, std::string>& meta) {
  if (meta.empty()) return nullptr;
  return Json(meta);
}

Result<Response> Keys(Result<std::vector<std::string>> keys) {
  if (!keys) return Err(keys.error());
  if (keys->empty()) return logical::NotFoundResponse();
  Response r;
  r.data = Json{{"keys", *keys}};
  return r;
}

}  // namespace

namespace {

// lease_duration is the TTL granted by the issue or the last renewal.
std::int64_t LeaseDuration(const TokenEntry& e) {
  return e.expire_time > 0 ? e.expire_time - (e.last_renewal ? e.last_renewal : e.creation_time)
                           : 0;
}

}  // namespace

Json AuthJson(const TokenEntry& e, std::string_view client_token) {
  const std::int64_t duration = LeaseDuration(e);
  return Json{{"client_token", std::string(client_token)},
              {"accessor", e.accessor},
              {"policies", e.policies},
              {"token_policies", e.policies},
              {"metadata", MetaJson(e.meta)},
              {"lease_duration", duration},
              {"renewable", e.renewable},
              {"entity_id", e.entity_id},
              {"token_type", e.batch ? "batch" : "service"},
              {"orphan", e.parent_hmac.empty()},
              {"mfa_requirement", nullptr},
              {"num_uses", std::max<std::int64_t>(0, e.num_uses)}};
}

std::string AuthText(const TokenEntry& e, std::string_view client_token) {
  std::string out;
  out.reserve(384);
  JsonObjectWriter w(out);
  w.String("accessor", e.accessor);
  w.String("client_token", client_token);
  w.String("entity_id", e.entity_id);
  w.Int("lease_duration", LeaseDuration(e));
  if (e.meta.empty()) {
    w.Raw("metadata", "null");
  } else {
    w.StringMap("metadata", e.meta);
  }
  w.Raw("mfa_requirement", "null");
  w.Int("num_uses", std::max<std::int64_t>(0, e.num_uses));
  w.Bool("orphan", e.parent_hmac.empty());
  w.StringArray("policies", e.policies);
  w.Bool("renewable", e.renewable);
  w.StringArray("token_policies", e.policies);
  w.String("token_type", e.batch ? "batch" : "service");
  w.Close();
  return out;
}

void SetAuth(Response& r, const Request& request, const TokenEntry& entry,
             std::string_view client_token) {
  if (request.data_text_ok) {
    r.auth_text = AuthText(entry, client_token);
  } else {
    r.auth = AuthJson(entry, client_token);
  }
}

Json LookupJson(const TokenEntry& e, std::string_view id, std::int64_t now) {
  Json j{{"accessor", e.accessor},
         {"creation_time", e.creation_time},
         {"creation_ttl", e.ttl},
         {"display_name", e.display_name},
         {"entity_id", e.entity_id},
         {"expire_time", e.expire_time ? Json(RfcTime(e.expire_time)) : Json()},
         {"explicit_max_ttl", e.explicit_max_ttl},
         {"id", std::string(id)},
         {"issue_time", RfcTime(e.creation_time)},
         {"meta", MetaJson(e.meta)},
         {"num_uses", std::max<std::int64_t>(0, e.num_uses)},
         {"orphan", e.parent_hmac.empty()},
         {"path", e.path},
         {"policies", e.policies},
         {"renewable", e.renewable},
         {"ttl", e.expire_time ? std::max<std::int64_t>(0, e.expire_time - now) : 0},
         {"type", e.batch ? "batch" : "service"}};
  if (e.period > 0) j["period"] = e.period;
  if (!e.role.empty()) j["role"] = e.role;
  if (!e.bound_cidrs.empty()) j["bound_cidrs"] = e.bound_cidrs;
  if (e.last_renewal > 0) {
    j["last_renewal"] = RfcTime(e.last_renewal);
    j["last_renewal_time"] = e.last_renewal;
  }
  return j;
}

Result<bool> TokenBackend::ExistenceCheck(const Request& request) {
  const std::string& p = request.relative_path;
  if (p.starts_with("roles/")) {
    ASSIGN_OR_RETURN(auto role, store_.GetRole(p.substr(6)));
    return role.has_value();
  }
  return true;
}

Result<Response> TokenBackend::HandleRequest(const Request& request) {
  if (!request.auth) return Err(PermissionDenied());
  const std::string& p = request.relative_path;
  if (p == "create" || p == "create-orphan") {
    if (!IsWrite(request.operation)) return Err(MethodNotAllowed());
    return Create(request, "", p == "create-orphan");
  }
  if (p.starts_with("create/")) {
    // Only a role name completes the path (Vault's route), so "create/"
    // cannot stand for a create without the role a policy grants.
    std::string_view role = std::string_view(p).substr(7);
    if (!ValidRoleName(role)) return Err(NotFound("unsupported path"));
    if (!IsWrite(request.operation)) return Err(MethodNotAllowed());
    return Create(request, role, false);
  }
  if (p == "lookup" || p == "lookup-self" || p == "lookup-accessor") return LookupRoute(request, p);
  if (p == "renew" || p == "renew-self" || p == "renew-accessor") return RenewRoute(request, p);
  if (p == "revoke" || p == "revoke-self" || p == "revoke-accessor" || p == "revoke-orphan") {
    return RevokeRoute(request, p);
  }
  if (p == "accessors" || p == "accessors/") {
    if (request.operation != Operation::kList) return Err(MethodNotAllowed());
    if (!request.auth->sudo && !request.auth->root) return Err(PermissionDenied());
    return Keys(store_.ListAccessors());
  }
  if (p == "roles" || p == "roles/") {
    if (request.operation != Operation::kList) return Err(MethodNotAllowed());
    return Keys(store_.ListRoles());
  }
  if (p.starts_with("roles/")) return Roles(request, std::string_view(p).substr(6));
  if (p == "tidy") {
    if (!IsWrite(request.operation)) return Err(MethodNotAllowed());
    if (!store_.StartTidy()) return logical::TidyRunningResponse();
    return logical::TidyStartedResponse();
  }
  return Err(NotFound("unsupported path"));
}

Result<Response> TokenBackend::LookupRoute(const Request& request, std::string_view verb) {
  std::shared_ptr<const TokenEntry> entry;
  std::string id;
  if (verb == "lookup-self") {
    if (request.operation != Operation::kRead && !IsWrite(request.operation)) {
      return Err(MethodNotAllowed());
    }
    // A batch caller is found by its id (the HMAC map is only a cache).
    if (IsBatchTokenId(request.client_token)) {
      ASSIGN_OR_RETURN(entry, store_.Lookup(request.client_token));
    } else {
      ASSIGN_OR_RETURN(entry, store_.LookupByHmac(request.auth->token_hmac));
    }
    if (!entry) return Err(PermissionDenied("bad token"));
    id = request.client_token;
  } else if (verb == "lookup") {
    if (!IsWrite(request.operation) && request.operation != Operation::kRead) {
      return Err(MethodNotAllowed());
    }
    ASSIGN_OR_RETURN(auto token, params::String(request, "token"));
    // Without a token to look up, the caller's own (Vault).
    if (!token || token->empty()) token = request.client_token;
    if (token->empty()) return Err(InvalidArgument("missing token ID"));
    ASSIGN_OR_RETURN(entry, store_.Lookup(*token));
    if (!entry) return Err(PermissionDenied("bad token"));
    id = *token;
  } else {
    if (!IsWrite(request.operation)) return Err(MethodNotAllowed());
    ASSIGN_OR_RETURN(auto accessor, params::String(request, "accessor"));
    if (!accessor || accessor->empty()) return Err(InvalidArgument("missing accessor"));
    ASSIGN_OR_RETURN(entry, store_.LookupAccessor(*accessor));
    if (!entry) return Err(InvalidArgument("invalid accessor"));
  }
  Response r;
  r.data = LookupJson(*entry, id, store_.NowUnixUp());
  return r;
}

Result<Response> TokenBackend::RenewRoute(const Request& request, std::string_view verb) {
  if (!IsWrite(request.operation)) return Err(MethodNotAllowed());
  ASSIGN_OR_RETURN(auto increment, params::Duration(request, "increment"));
  std::string hmac;
  std::string client_token;
  if (verb == "renew-self") {
    if (IsBatchTokenId(request.client_token)) return Err(BatchNotRenewable());
    hmac = request.auth->token_hmac;
    client_token = request.client_token;
  } else if (verb == "renew") {
    ASSIGN_OR_RETURN(auto token, params::String(request, "token"));
    if (!token || token->empty()) return Err(InvalidArgument("missing token"));
    if (IsBatchTokenId(*token)) {
      ASSIGN_OR_RETURN(auto batch, store_.Lookup(*token));
      if (!batch) return Err(InvalidArgument("token not found"));
      return Err(BatchNotRenewable());
    }
    ASSIGN_OR_RETURN(hmac, store_.HmacOf(*token));
    client_token = *token;
  } else {
    ASSIGN_OR_RETURN(auto accessor, params::String(request, "accessor"));
    if (!accessor || accessor->empty()) return Err(InvalidArgument("missing accessor"));
    ASSIGN_OR_RETURN(auto entry, store_.LookupAccessor(*accessor));
    if (!entry) return Err(InvalidArgument("invalid accessor"));
    hmac = entry->id_hmac;
  }
  std::vector<std::string> warnings;
  auto renewed = store_.Renew(hmac, increment.value_or(std::chrono::seconds(0)), &warnings,
                              request.peer_certificates.get());
  if (!renewed) {
    if (renewed.error().code() == Code::kNotFound) {
      return Err(InvalidArgument("token not found"));
    }
    return Err(renewed.error());
  }
  Response r;
  SetAuth(r, request, **renewed, client_token);
  if (!warnings.empty()) r.warnings = Json(warnings);
  return r;
}

Result<Response> TokenBackend::RevokeRoute(const Request& request, std::string_view verb) {
  if (!IsWrite(request.operation)) return Err(MethodNotAllowed());
  if (verb == "revoke-self") {
    if (IsBatchTokenId(request.client_token)) return Err(BatchNotRevocable());
    TRY(store_.RevokeTree(request.auth->token_hmac));
    return NoContent();
  }
  if (verb == "revoke-accessor") {
    ASSIGN_OR_RETURN(auto accessor, params::String(request, "accessor"));
    if (!accessor || accessor->empty()) return Err(InvalidArgument("missing accessor"));
    ASSIGN_OR_RETURN(auto entry, store_.LookupAccessor(*accessor));
    if (!entry) {
      // Nothing to revoke is not an error to Vault: 200 with a warning.
      Response r;
      r.warnings = Json::array({"No token found with this accessor"});
      return r;
    }
    TRY(store_.RevokeTree(entry->id_hmac));
    return NoContent();
  }
  ASSIGN_OR_RETURN(auto token, params::String(request, "token"));
  if (!token || token->empty()) return Err(InvalidArgument("missing token"));
  // Vault answers 400 for a batch token, valid or not: there is nothing
  // stored to revoke; it stops working at its TTL or with its parent.
  if (IsBatchTokenId(*token)) return Err(BatchNotRevocable());
  ASSIGN_OR_RETURN(std::string hmac, store_.HmacOf(*token));
  if (verb == "revoke-orphan") {
    if (!request.auth->sudo && !request.auth->root) {
      return Err(InvalidArgument("root or sudo privileges required to revoke and orphan"));
    }
    ASSIGN_OR_RETURN(auto target, store_.LookupByHmac(hmac));
    if (!target) return Err(InvalidArgument("token to revoke not found"));
    TRY(store_.RevokeOrphan(hmac));
  } else {
    TRY(store_.RevokeTree(hmac));
  }
  return NoContent();
}

Result<Response> TokenBackend::Roles(const Request& request, std::string_view name) {
  if (!ValidRoleName(name)) return Err(NotFound("unsupported path"));
  switch (request.operation) {
    case Operation::kRead: {
      ASSIGN_OR_RETURN(auto role, store_.GetRole(name));
      if (!role) return logical::NotFoundResponse();
      Response r;
      // As Vault: `period` and `explicit_max_ttl` are what was set through
      // those deprecated names (0 when the token_* name was used), the
      // token_* fields are the values in force; CIDRs and a use limit only
      // when set.
      r.data = Json{{"allowed_entity_aliases", role->allowed_entity_aliases.empty()
                                                   ? Json(nullptr)
                                                   : Json(role->allowed_entity_aliases)},
                    {"allowed_policies", role->allowed_policies},
                    {"allowed_policies_glob", role->allowed_policies_glob},
                    {"disallowed_policies", role->disallowed_policies},
                    {"disallowed_policies_glob", role->disallowed_policies_glob},
                    {"explicit_max_ttl", role->legacy_explicit_max_ttl},
                    {"name", role->name},
                    {"orphan", role->orphan},
                    {"path_suffix", role->path_suffix},
                    {"period", role->legacy_period},
                    {"renewable", role->renewable},
                    {"token_explicit_max_ttl", role->explicit_max_ttl},
                    {"token_no_default_policy", role->token_no_default_policy},
                    {"token_period", role->period},
                    {"token_type", role->token_type}};
      if (!role->token_bound_cidrs.empty()) r.data["token_bound_cidrs"] = role->token_bound_cidrs;
      if (!role->legacy_bound_cidrs.empty()) r.data["bound_cidrs"] = role->legacy_bound_cidrs;
      if (role->token_num_uses > 0) r.data["token_num_uses"] = role->token_num_uses;
      return r;
    }
    case Operation::kCreate:
    case Operation::kUpdate: {
      ASSIGN_OR_RETURN(auto existing, store_.GetRole(name));
      TokenRole role = existing.value_or(TokenRole{});
      role.name = std::string(name);
      ASSIGN_OR_RETURN(auto allowed, params::List(request, "allowed_policies"));
      ASSIGN_OR_RETURN(auto disallowed, params::List(request, "disallowed_policies"));
      ASSIGN_OR_RETURN(auto allowed_glob, params::List(request, "allowed_policies_glob"));
      ASSIGN_OR_RETURN(auto disallowed_glob, params::List(request, "disallowed_policies_glob"));
      ASSIGN_OR_RETURN(auto orphan, params::Bool(request, "orphan"));
      ASSIGN_OR_RETURN(auto renewable, params::Bool(request, "renewable"));
      ASSIGN_OR_RETURN(auto period, params::Duration(request, "period"));
      ASSIGN_OR_RETURN(auto token_period, params::Duration(request, "token_period"));
      ASSIGN_OR_RETURN(auto max, params::Duration(request, "explicit_max_ttl"));
      ASSIGN_OR_RETURN(auto token_max, params::Duration(request, "token_explicit_max_ttl"));
      ASSIGN_OR_RETURN(auto suffix, params::String(request, "path_suffix"));
      ASSIGN_OR_RETURN(auto type, params::String(request, "token_type"));
      ASSIGN_OR_RETURN(auto no_default, params::Bool(request, "token_no_default_policy"));
      ASSIGN_OR_RETURN(auto num_uses, params::Int(request, "token_num_uses"));
      ASSIGN_OR_RETURN(auto cidrs, params::List(request, "token_bound_cidrs"));
      ASSIGN_OR_RETURN(auto legacy_cidrs, params::List(request, "bound_cidrs"));
      ASSIGN_OR_RETURN(auto entity_aliases, params::List(request, "allowed_entity_aliases"));
      Json warnings = Json::array();
      // Vault's deprecated names: alone, they set both values; next to the
      // token_* name they are ignored, with a warning.
      auto ignored = [&](std::string_view current, std::string_view deprecated) {
        warnings.push_back("Both '" + std::string(current) + "' and deprecated '" +
                           std::string(deprecated) +
                           "' value supplied, ignoring the deprecated value");
      };
      if (cidrs) {
        TRY(ValidateCidrs(*cidrs));
        role.token_bound_cidrs = std::move(*cidrs);
        role.legacy_bound_cidrs.clear();
        if (legacy_cidrs) ignored("token_bound_cidrs", "bound_cidrs");
      } else if (legacy_cidrs) {
        TRY(ValidateCidrs(*legacy_cidrs));
        role.token_bound_cidrs = *legacy_cidrs;
        role.legacy_bound_cidrs = std::move(*legacy_cidrs);
      }
      if (allowed) role.allowed_policies = CanonicalPolicies(*allowed, false);
      if (disallowed) role.disallowed_policies = CanonicalPolicies(*disallowed, false);
      if (allowed_glob) role.allowed_policies_glob = CanonicalPolicies(*allowed_glob, false);
      if (disallowed_glob) {
        role.disallowed_policies_glob = CanonicalPolicies(*disallowed_glob, false);
      }
      if (orphan) role.orphan = *orphan;
      if (renewable) role.renewable = *renewable;
      if (entity_aliases) {
        // As Vault: trimmed and lower-cased (its sanitizeName, which policy
        // names share), without duplicates or empty names, sorted.
        std::set<std::string> names;
        for (const auto& a : *entity_aliases) {
          std::string name = policy::CanonicalPolicyName(a);
          if (!name.empty()) names.insert(std::move(name));
        }
        role.allowed_entity_aliases.assign(names.begin(), names.end());
      }
      // Sets a value from its token_* name, else from its deprecated one.
      auto seconds = [&](const auto& current, const auto& deprecated, std::string_view name,
                         std::int64_t& value, std::int64_t& legacy) {
        if (current) {
          value = current->count();
          legacy = 0;
          if (deprecated) ignored("token_" + std::string(name), name);
        } else if (deprecated) {
          value = legacy = deprecated->count();
        }
      };
      seconds(token_period, period, "period", role.period, role.legacy_period);
      seconds(token_max, max, "explicit_max_ttl", role.explicit_max_ttl,
              role.legacy_explicit_max_ttl);
      if (suffix) {
        if (suffix->find("..") != std::string::npos) {
          return Err(InvalidArgument("path_suffix cannot contain '..'"));
        }
        role.path_suffix = *suffix;
      }
      if (type) {
        if (*type != "service" && *type != "default-service" && *type != "batch" &&
            *type != "default-batch") {
          return Err(InvalidArgument("invalid 'token_type' value \"" + *type + "\""));
        }
        role.token_type = *type;
      }
      if (no_default) role.token_no_default_policy = *no_default;
      if (num_uses) {
        if (*num_uses < 0) return Err(InvalidArgument("token_num_uses cannot be negative"));
        role.token_num_uses = *num_uses;
      }
      if (role.token_num_uses != 0 &&
          (role.token_type == "batch" || role.token_type == "default-batch")) {
        return Err(
            InvalidArgument("'token_type' cannot be 'batch' or 'default_batch' when set "
                            "to generate tokens with limited use count"));
      }
      // What a batch token cannot be, a batch role cannot hand out (Vault).
      if (role.token_type == "batch") {
        const char* why = !role.orphan                 ? "generate non-orphan tokens"
                          : role.period != 0           ? "generate periodic tokens"
                          : role.renewable             ? "generate renewable tokens"
                          : role.explicit_max_ttl != 0 ? "generate tokens with an explicit max TTL"
                                                       : nullptr;
        if (why != nullptr) {
          return Err(InvalidArgument(
              std::string("'token_type' cannot be 'batch' when role is set to ") + why));
        }
      }
      TRY(store_.PutRole(role));
      if (warnings.empty()) return NoContent();
      Response r;
      r.warnings = std::move(warnings);
      return r;
    }
    case Operation::kDelete:
      TRY(store_.DeleteRole(name));
      return NoContent();
    default:
      return Err(MethodNotAllowed());
  }
}

}  // namespace coffer::token
