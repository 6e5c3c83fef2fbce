// sys/policy, sys/policies/acl, sys/capabilities*, sys/wrapping/*.

#include "core/core.h"
#include "core/system_backend.h"
#include "core/wrapping.h"

namespace coffer::core {
namespace {

using logical::Json;

Status NotAList(std::string_view name) {
  return InvalidArgument("'" + std::string(name) + "' must be a list of strings");
}

constexpr std::string_view kSpace = " \t\n\v\f\r";

// One of Vault's comma-string-slice fields: a string is split on ',' and a
// list taken as it is, every item trimmed of spaces.
Result<std::vector<std::string>> CommaList(const logical::Request& request, const char* name) {
  std::vector<std::string> out;
  const Json* f = request.Field(name);
  if (f == nullptr || f->is_null()) return out;
  auto add = [&out](std::string_view item) {
    const std::size_t first = item.find_first_not_of(kSpace);
    const std::size_t last = item.find_last_not_of(kSpace);
    out.emplace_back(first == std::string_view::npos ? std::string_view()
                                                     : item.substr(first, last - first + 1));
  };
  if (f->is_string()) {
    std::string_view s = f->get_ref<const std::string&>();
    if (s.empty()) return out;
    for (std::size_t comma; (comma = s.find(',')) != std::string_view::npos;) {
      add(s.substr(0, comma));
      s.remove_prefix(comma + 1);
    }
    add(s);
  } else if (f->is_array()) {
    for (const auto& p : *f) {
      if (!p.is_string()) return Err(NotAList(name));
      add(p.get_ref<const std::string&>());
    }
  } else {
    return Err(NotAList(name));
  }
  return out;
}

// "paths", or the deprecated "path" when "paths" is empty (Vault).
Result<std::vector<std::string>> PathsField(const logical::Request& request) {
  ASSIGN_OR_RETURN(std::vector<std::string> paths, CommaList(request, "paths"));
  if (paths.empty()) {
    ASSIGN_OR_RETURN(paths, CommaList(request, "path"));
  }
  if (paths.empty()) return Err(InvalidArgument("paths must be supplied"));
  for (const std::string& p : paths) {
    if (p.empty()) return Err(InvalidArgument("missing path"));
  }
  return paths;
}

std::string FieldString(const logical::Request& request, const char* name) {
  const Json* f = request.Field(name);
  return f != nullptr && f->is_string() ? f->get<std::string>() : "";
}

// One merged rule as Vault's resultant ACL shows it: capabilities in Vault's
// order, or ["deny"] alone when denied or empty; bounds and parameter rules
// only when set.
Json ResultantRule(const policy::Acl::Rule& rule) {
  static constexpr std::pair<std::string_view, policy::Capability> kOrder[] = {
      {"create", policy::kCapCreate},      {"delete", policy::kCapDelete},
      {"list", policy::kCapList},          {"read", policy::kCapRead},
      {"sudo", policy::kCapSudo},          {"update", policy::kCapUpdate},
      {"patch", policy::kCapPatch},        {"scan", policy::kCapScan},
      {"subscribe", policy::kCapSubscribe}};
  Json caps = Json::array();
  if ((rule.capabilities & policy::kCapDeny) == 0) {
    for (const auto& [name, bit] : kOrder) {
      if (rule.capabilities & bit) caps.push_back(name);
    }
  }
  if (caps.empty()) caps.push_back("deny");
  Json out{{"capabilities", std::move(caps)}};
  if (rule.min_wrapping_ttl.count() > 0) out["min_wrapping_ttl"] = rule.min_wrapping_ttl.count();
  if (rule.max_wrapping_ttl.count() > 0) out["max_wrapping_ttl"] = rule.max_wrapping_ttl.count();
  if (!rule.allowed_parameters.empty()) out["allowed_parameters"] = rule.allowed_parameters;
  if (!rule.denied_parameters.empty()) out["denied_parameters"] = rule.denied_parameters;
  if (!rule.required_parameters.empty()) out["required_parameters"] = rule.required_parameters;
  if (rule.pagination_limit > 0) out["pagination_limit"] = rule.pagination_limit;
  if (!rule.subscribe_event_types.empty()) {
    out["subscribe_event_types"] = rule.subscribe_event_types;
  }
  if (!rule.keys_filter_path.empty()) {
    out["list_scan_response_keys_filter_path"] = rule.keys_filter_path;
  }
  return out;
}

}  // namespace

Result<logical::Response> SystemBackend::ResultantAcl(const logical::Request& request) {
  if (request.operation != logical::Operation::kRead) {
    return Err(Status(Code::kMethodNotAllowed, "unsupported operation"));
  }
  if (!request.auth) return Err(PermissionDenied());
  ASSIGN_OR_RETURN(auto acl,
                   core_.authorizer().AclFor(request.auth->policies, request.auth->entity_id));
  logical::Response r;
  if (acl->IsRoot()) {
    r.data = Json{{"root", true}};
    return r;
  }
  Json exact = Json::object();
  Json glob = Json::object();
  for (const auto& rule : acl->rules()) {
    std::string_view pattern = rule.pattern;
    // Vault keeps "+" rules apart from its exact and prefix trees, and
    // its resultant ACL leaves them out.
    if (policy::HasSegmentWildcards(pattern)) continue;
    if (pattern.ends_with('*')) {
      pattern.remove_suffix(1);
      glob[std::string(pattern)] = ResultantRule(rule);
    } else {
      exact[std::string(pattern)] = ResultantRule(rule);
    }
  }
  r.data =
      Json{{"root", false}, {"exact_paths", std::move(exact)}, {"glob_paths", std::move(glob)}};
  return r;
}

Result<logical::Response> SystemBackend::Policies(const logical::Request& request) {
  logical::Request sub = request;
  sub.relative_path = request.path.substr(4);  // after "sys/"
  ASSIGN_OR_RETURN(logical::Response r, core_.policy_backend().HandleRequest(sub));
  // Vault repeats "data" at the top of the body for sys/policy only, not for
  // sys/policies/acl.
  const bool legacy = request.path == "sys/policy" || request.path.starts_with("sys/policy/");
  if (legacy && !r.raw && r.data.is_object()) return LegacyResponse(request, std::move(r.data));
  return r;
}

Result<logical::Response> SystemBackend::Capabilities(const logical::Request& request) {
  if (request.operation != logical::Operation::kUpdate &&
      request.operation != logical::Operation::kCreate) {
    return Err(Status(Code::kMethodNotAllowed, "unsupported operation"));
  }
  ASSIGN_OR_RETURN(std::vector<std::string> paths, PathsField(request));
  std::shared_ptr<const token::TokenEntry> entry;
  const bool self = request.path == "sys/capabilities-self";
  if (self) {
    ASSIGN_OR_RETURN(entry, core_.tokens().LookupByHmac(request.auth->token_hmac));
  } else if (request.path == "sys/capabilities-accessor") {
    std::string accessor = FieldString(request, "accessor");
    if (accessor.empty()) return Err(InvalidArgument("missing accessor"));
    ASSIGN_OR_RETURN(entry, core_.tokens().LookupAccessor(accessor));
    if (!entry) return Err(InvalidArgument("invalid accessor"));
  } else {
    std::string token = FieldString(request, "token");
    if (token.empty()) return Err(InvalidArgument("missing token"));
    ASSIGN_OR_RETURN(entry, core_.tokens().Lookup(token));
    WipeString(token);
    if (!entry) return Err(InvalidArgument("invalid token"));
  }
  if (!entry) return Err(PermissionDenied());
  Json data = Json::object();
  Json all = Json::array();
  for (const auto& p : paths) {
    Result<std::vector<std::string>> found = core_.authorizer().Capabilities(*entry, p);
    if (!found) {
      // Another token whose entity is disabled or gone: Vault calls it invalid.
      if (!self && found.error().code() == Code::kPermissionDenied) {
        return Err(InvalidArgument("invalid token"));
      }
      return Err(found.error());
    }
    data[p] = *found;
    for (const auto& c : *found) {
      if (std::find(all.begin(), all.end(), c) == all.end()) all.push_back(c);
    }
  }
  // With one path Vault also answers under "capabilities".
  if (paths.size() == 1) data["capabilities"] = all;
  return LegacyResponse(request, std::move(data));
}

Result<logical::Response> SystemBackend::Wrapping(const logical::Request& request) {
  std::string_view op =
      std::string_view(request.path).substr(std::string_view("sys/wrapping/").size());
  // lookup also answers GET (?token= or the header's token), as Vault's does.
  const bool read_ok = op == "lookup" && request.operation == logical::Operation::kRead;
  if (request.operation != logical::Operation::kUpdate &&
      request.operation != logical::Operation::kCreate && !read_ok) {
    return Err(Status(Code::kMethodNotAllowed, "unsupported operation"));
  }
  if (op == "wrap") {
    // An empty object is wrapped too, as in Vault.
    logical::Response r;
    // Numbers as the client wrote them (common/json_numbers.h).
    const logical::Json& written = request.DataAsWritten();
    r.data = written;
    r.number_text = &written != &request.data;
    // The pipeline wraps it (with the request's X-Vault-Wrap-TTL, or 5m).
    return r;
  }
  // The wrapping token is the body's "token", or else the client token.
  std::string token = FieldString(request, "token");
  if (token.empty()) token = request.client_token;
  Result<logical::Response> result;
  if (op == "unwrap") {
    result = core_.wrapper().Unwrap(token);
  } else if (op == "lookup") {
    result = core_.wrapper().Lookup(token);
  } else if (op == "rewrap") {
    result = core_.wrapper().Rewrap(token);
  } else {
    result = Err(NotFound("unsupported path"));
  }
  // A wrapping token that authenticated the unwrap or rewrap of another
  // has used its single use, as in Vault: it is spent (and what it wraps
  // is gone), whatever became of the other.
  if ((op == "unwrap" || op == "rewrap") && token != request.client_token &&
      request.auth != nullptr && IsWrappingPolicySet(request.auth->policies)) {
    core_.wrapper().Spend(request.auth->token_hmac);
  }
  WipeString(token);
  return result;
}

}  // namespace coffer::core
