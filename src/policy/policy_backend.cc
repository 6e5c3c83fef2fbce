#include "policy/policy_backend.h"

#include <charconv>

#include "common/clock.h"
#include "common/duration.h"
#include "common/encoding.h"
#include "common/time_bounds.h"

namespace coffer::policy {
namespace {

using logical::Json;
using logical::NoContent;
using logical::NotFoundResponse;
using logical::Operation;
using logical::Response;

bool IsWrite(Operation op) { return op == Operation::kCreate || op == Operation::kUpdate; }

std::optional<std::int64_t> ParseInt(std::string_view text) {
  std::int64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return v;
}

// `cas`: an integer, as a JSON number or a string of digits.
Result<std::optional<std::int64_t>> CasField(const logical::Request& request) {
  const Json* v = request.Field("cas");
  if (v == nullptr || v->is_null()) return std::optional<std::int64_t>();
  if (v->is_number_integer()) return std::optional<std::int64_t>(v->get<std::int64_t>());
  if (v->is_string()) {
    if (auto n = ParseInt(v->get_ref<const std::string&>())) return std::optional(*n);
  }
  return Err(InvalidArgument("'cas' must be an integer (the current version, or -1)"));
}

// `expiration` (an RFC 3339 time, or seconds since the epoch) or `ttl` (a
// duration from now); at most one of them. nullopt when neither is given.
Result<std::optional<std::chrono::system_clock::time_point>> ExpirationField(
    const logical::Request& request, const Clock& clock) {
  const Json* at = request.Field("expiration");
  const Json* ttl = request.Field("ttl");
  if (at != nullptr && at->is_null()) at = nullptr;
  if (ttl != nullptr && ttl->is_null()) ttl = nullptr;
  using TimePoint = std::chrono::system_clock::time_point;
  if (at != nullptr && ttl != nullptr) {
    return Err(InvalidArgument("cannot supply both 'expiration' and 'ttl' for policies"));
  }
  if (at != nullptr) {
    std::optional<std::int64_t> unix;
    if (at->is_number_integer()) unix = at->get<std::int64_t>();
    if (at->is_string()) {
      const std::string& text = at->get_ref<const std::string&>();
      if (auto t = ParseRfc3339(text)) return std::optional<TimePoint>(*t);
      unix = ParseInt(text);
    }
    if (!unix) {
      return Err(InvalidArgument(
          "'expiration' must be an RFC 3339 time (\"2026-12-31T23:59:59Z\") or seconds since "
          "the epoch"));
    }
    if (*unix > kMaxClockSeconds || *unix < -kMaxClockSeconds) {
      return Err(InvalidArgument("'expiration' must be between the years 1678 and 2262"));
    }
    return std::optional<TimePoint>(TimePoint(std::chrono::seconds(*unix)));
  }
  if (ttl != nullptr) {
    std::string text = ttl->is_number_integer() ? std::to_string(ttl->get<std::int64_t>())
                       : ttl->is_string()       ? ttl->get<std::string>()
                                                : std::string();
    Result<std::chrono::seconds> d = ParseDuration(text);
    if (!d) return Err(InvalidArgument("'ttl' must be a duration (\"1h\") or seconds"));
    const TimePoint now = clock.Wall();
    if (d->count() >
        kMaxClockSeconds -
            std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count()) {
      return Err(InvalidArgument("'ttl' reaches past the year 2262"));
    }
    return std::optional<TimePoint>(now + *d);
  }
  return std::optional<TimePoint>();
}

// The policy text of a write: `policy` (or, on the legacy endpoint,
// `rules`), base64-decoded when it is base64. Empty when absent.
Result<std::string> TextField(const logical::Request& request, bool legacy) {
  std::string text;
  const Json* policy = request.Field("policy");
  if (legacy && (policy == nullptr ||
                 (policy->is_string() && policy->get_ref<const std::string&>().empty()))) {
    if (const Json* rules = request.Field("rules"); rules != nullptr) policy = rules;
  }
  if (policy != nullptr && !policy->is_null() && !policy->is_string()) {
    return Err(InvalidArgument("'policy' parameter must be a string"));
  }
  if (policy != nullptr && policy->is_string()) text = policy->get<std::string>();
  // Vault accepts base64 to spare clients the escaping; policy text itself is
  // never valid base64 (it has quotes, braces and spaces).
  if (auto decoded = Base64Decode(text); decoded.has_value()) text.assign(decoded->view());
  return text;
}

constexpr const char* kAllowWildcards = "allow_wildcards_in_identity_templates";
constexpr const char* kAllowSlashes = "allow_slashes_in_identity_templates";

}  // namespace

Json PolicyBackend::Describe(const Policy& policy, bool legacy) {
  Json out{{"name", policy.name},
           {legacy ? "rules" : "policy", policy.raw},
           {"version", policy.version},
           {"cas_required", policy.cas_required},
           {kAllowWildcards, policy.template_values.wildcards},
           {kAllowSlashes, policy.template_values.slashes}};
  if (policy.modified) out["modified"] = FormatRfc3339(*policy.modified);
  if (policy.expiration) out["expiration"] = FormatRfc3339(*policy.expiration);
  return out;
}

Result<Response> PolicyBackend::HandleRequest(const logical::Request& request) {
  const std::string_view path = request.relative_path;
  const Operation op = request.operation;

  std::string_view collection = path;
  while (collection.ends_with('/')) collection.remove_suffix(1);
  bool legacy = false;
  std::string_view name;
  if (collection == "policy" || collection == "policies/acl" ||
      collection == "policies/detailed/acl") {
    legacy = collection == "policy";
    if (op == Operation::kList || (legacy && op == Operation::kRead)) {
      return ListPolicies("", legacy, collection == "policies/detailed/acl");
    }
    return Err(Status(Code::kMethodNotAllowed, "unsupported operation"));
  } else if (path.starts_with("policies/detailed/acl/")) {
    if (op != Operation::kList)
      return Err(Status(Code::kMethodNotAllowed, "unsupported operation"));
    return ListPolicies(collection.substr(22), false, true);
  } else if (path.starts_with("policy/")) {
    legacy = true;
    name = path.substr(7);
  } else if (path.starts_with("policies/acl/")) {
    name = path.substr(13);
  } else {
    return Err(NotFound("unsupported path"));
  }
  // OpenBao lists the policies whose names start with what follows the
  // collection. A list's path always ends in '/' (the core adds it), so
  // that one says nothing and is dropped.
  if (op == Operation::kList) {
    while (name.ends_with('/')) name.remove_suffix(1);
    return ListPolicies(name, legacy, false);
  }
  // The ACL checked the path as sent: "policies/acl/admin/" must not reach
  // "admin", which a policy may deny while allowing "policies/acl/*".
  if (name.ends_with('/')) return Err(InvalidArgument("policy name may not end with '/'"));

  if (op == Operation::kRead) return ReadPolicy(name, legacy);
  if (IsWrite(op)) return WritePolicy(name, request, legacy);
  if (op == Operation::kPatch) return PatchPolicy(name, request, legacy);
  if (op == Operation::kDelete) return DeletePolicy(name);
  return Err(Status(Code::kMethodNotAllowed, "unsupported operation"));
}

Result<Response> PolicyBackend::ListPolicies(std::string_view prefix, bool legacy, bool detailed) {
  const std::string canonical = CanonicalPolicyName(prefix);
  ASSIGN_OR_RETURN(std::vector<std::string> names, store_.List(canonical));
  Response r;
  if (detailed) {
    Json info = Json::object();
    std::vector<std::string> kept;
    for (std::string& n : names) {
      ASSIGN_OR_RETURN(std::shared_ptr<const Policy> policy, store_.Get(n));
      if (!policy) continue;  // expired or deleted since the list
      info[n] = Describe(*policy, false);
      kept.push_back(std::move(n));
    }
    r.data = Json{{"keys", std::move(kept)}, {"key_info", std::move(info)}};
    return r;
  }
  r.data = Json{{"keys", names}};
  if (legacy) r.data["policies"] = names;
  return r;
}

Result<Response> PolicyBackend::ReadPolicy(std::string_view name, bool legacy) {
  ASSIGN_OR_RETURN(std::shared_ptr<const Policy> policy, store_.Get(name));
  if (!policy) return NotFoundResponse();
  Response r;
  r.data = Describe(*policy, legacy);
  return r;
}

Result<Response> PolicyBackend::WritePolicy(std::string_view name, const logical::Request& request,
                                            bool legacy) {
  ASSIGN_OR_RETURN(std::string text, TextField(request, legacy));
  if (text.empty()) return Err(InvalidArgument("'policy' parameter not supplied or empty"));
  PolicyStore::WriteOptions options;
  ASSIGN_OR_RETURN(options.cas, CasField(request));
  ASSIGN_OR_RETURN(options.cas_required, request.BoolField("cas_required", false));
  ASSIGN_OR_RETURN(options.expiration, ExpirationField(request, clock_));
  ASSIGN_OR_RETURN(options.template_values.wildcards, request.BoolField(kAllowWildcards, false));
  ASSIGN_OR_RETURN(options.template_values.slashes, request.BoolField(kAllowSlashes, false));
  TRY(store_.Set(name, text, options));
  return NoContent();
}

// OpenBao's PATCH: what the request leaves out keeps its value, and the
// write is checked against the version read (or the `cas` given), so a
// change made meanwhile is not overwritten.
Result<Response> PolicyBackend::PatchPolicy(std::string_view name, const logical::Request& request,
                                            bool legacy) {
  ASSIGN_OR_RETURN(std::shared_ptr<const Policy> old, store_.Get(name));
  if (!old) return Err(NotFound("policy not found"));
  ASSIGN_OR_RETURN(std::string text, TextField(request, legacy));
  if (text.empty()) text = old->raw;
  PolicyStore::WriteOptions options;
  ASSIGN_OR_RETURN(options.cas, CasField(request));
  // The fields left out come from the version read: a `cas` naming another
  // version would write that one's fields over a newer one's.
  if (options.cas && *options.cas != -1 && *options.cas != old->version) {
    return Err(InvalidArgument("check-and-set parameter did not match the current version"));
  }
  if (!options.cas) options.cas = old->version;
  ASSIGN_OR_RETURN(options.cas_required, request.BoolField("cas_required", old->cas_required));
  ASSIGN_OR_RETURN(options.expiration, ExpirationField(request, clock_));
  if (!options.expiration) options.expiration = old->expiration;
  ASSIGN_OR_RETURN(options.template_values.wildcards,
                   request.BoolField(kAllowWildcards, old->template_values.wildcards));
  ASSIGN_OR_RETURN(options.template_values.slashes,
                   request.BoolField(kAllowSlashes, old->template_values.slashes));
  TRY(store_.Set(name, text, options));
  return NoContent();
}

Result<Response> PolicyBackend::DeletePolicy(std::string_view name) {
  TRY(store_.Delete(name));
  return NoContent();
}

}  // namespace coffer::policy
