// The identity/mfa/ routes of IdentityBackend: TOTP methods, enrolment and
// login enforcements.
#include "common/duration.h"
#include "identity/backend.h"

namespace coffer::identity {

using logical::DataResponse;
using logical::Operation;
using logical::Request;
using logical::Response;
using namespace detail;  // NOLINT

namespace {

// An integer field given as a number or a numeric string; a duration string
// ("30s") when `duration`. nullopt when absent.
Result<std::optional<std::int64_t>> IntField(const Request& request, const char* name,
                                             bool duration = false) {
  const Json* v = request.Field(name);
  if (v == nullptr || v->is_null()) return std::optional<std::int64_t>();
  if (v->is_number_integer()) return std::optional<std::int64_t>(v->get<std::int64_t>());
  if (v->is_string() && !v->get_ref<const std::string&>().empty()) {
    const std::string& s = v->get_ref<const std::string&>();
    if (s.find_first_not_of("0123456789") == std::string::npos && s.size() < 12) {
      return std::optional<std::int64_t>(std::stoll(s));
    }
    if (duration) {
      auto d = ParseDuration(s);
      if (d) return std::optional<std::int64_t>(d->count());
    }
  }
  return Err(InvalidArgument(std::string("invalid ") + name));
}

Result<mfa::TotpMethod> ApplyMethodFields(const Request& request, mfa::TotpMethod m) {
  if (const Json* v = request.Field("method_name"); v && v->is_string())
    m.name = v->get<std::string>();
  if (const Json* v = request.Field("issuer"); v && v->is_string())
    m.issuer = v->get<std::string>();
  if (const Json* v = request.Field("algorithm"); v && v->is_string()) {
    m.params.algorithm = v->get<std::string>();
  }
  ASSIGN_OR_RETURN(auto period, IntField(request, "period", true));
  if (period) m.params.period = *period;
  ASSIGN_OR_RETURN(auto digits, IntField(request, "digits"));
  if (digits) m.params.digits = static_cast<int>(*digits);
  ASSIGN_OR_RETURN(auto skew, IntField(request, "skew"));
  if (skew) m.params.skew = static_cast<int>(*skew);
  ASSIGN_OR_RETURN(auto key_size, IntField(request, "key_size"));
  if (key_size) m.key_size = static_cast<int>(*key_size);
  ASSIGN_OR_RETURN(auto qr_size, IntField(request, "qr_size"));
  if (qr_size) m.qr_size = static_cast<int>(*qr_size);
  ASSIGN_OR_RETURN(auto attempts, IntField(request, "max_validation_attempts"));
  if (attempts) m.max_validation_attempts = static_cast<int>(*attempts);
  return m;
}

Json MethodList(const std::vector<mfa::TotpMethod>& methods) {
  Json keys = Json::array();
  Json info = Json::object();
  for (const auto& m : methods) {
    keys.push_back(m.id);
    info[m.id] = m.ToJson();
  }
  return Json{{"keys", keys}, {"key_info", info}};
}

}  // namespace

Result<Response> IdentityBackend::Mfa(const Request& request, std::string_view rel) {
  if (rel.starts_with("mfa/method")) return MfaMethods(request, rel);
  if (rel.starts_with("mfa/login-enforcement")) return Enforcements(request, rel);
  return Err(NotFound("unsupported path"));
}

Result<Response> IdentityBackend::MfaMethods(const Request& request, std::string_view rel) {
  const Operation op = request.operation;
  if (rel == "mfa/method/totp/generate" || rel == "mfa/method/totp/admin-generate" ||
      rel == "mfa/method/totp/admin-destroy") {
    if (!IsWrite(op)) return Err(MethodNotAllowed());
    const std::string method_id = Str(request, "method_id");
    if (method_id.empty()) return Err(InvalidArgument("missing method ID"));
    std::string entity_id;
    if (rel == "mfa/method/totp/generate") {
      if (!request.auth || request.auth->entity_id.empty()) {
        return Err(InvalidArgument("entity ID is empty"));
      }
      entity_id = request.auth->entity_id;
    } else {
      entity_id = Str(request, "entity_id");
      if (entity_id.empty()) return Err(InvalidArgument("missing entity ID"));
    }
    auto entity = store_.EntityById(entity_id);
    if (!entity) return Err(InvalidArgument("entity not found"));
    if (!mfa_.Method(method_id)) return Err(InvalidArgument("MFA method not found"));
    if (rel == "mfa/method/totp/admin-destroy") {
      TRY(mfa_.Destroy(method_id, entity_id));
      return logical::NoContent();
    }
    ASSIGN_OR_RETURN(auto enrolment, mfa_.Generate(method_id, entity_id, entity->name));
    if (!enrolment) {
      Response r;
      r.warnings =
          Json::array({"Entity already has a secret for MFA method \"" + method_id + "\""});
      return r;
    }
    return DataResponse(Json{{"barcode", enrolment->barcode}, {"url", enrolment->url}});
  }
  if (rel == "mfa/method" || rel == "mfa/method/" || rel == "mfa/method/totp/" ||
      (rel == "mfa/method/totp" && op == Operation::kList)) {
    if (op != Operation::kList) return Err(MethodNotAllowed());
    auto methods = mfa_.Methods();
    if (methods.empty()) return logical::NotFoundResponse();
    return DataResponse(MethodList(methods));
  }
  if (rel == "mfa/method/totp") {
    if (!IsWrite(op)) return Err(MethodNotAllowed());
    ASSIGN_OR_RETURN(mfa::TotpMethod m, ApplyMethodFields(request, mfa::TotpMethod{}));
    ASSIGN_OR_RETURN(mfa::TotpMethod stored, mfa_.PutMethod(std::move(m)));
    return DataResponse(Json{{"method_id", stored.id}});
  }
  std::string id;
  bool typed = rel.starts_with("mfa/method/totp/");
  if (typed) {
    id = std::string(rel.substr(16));
  } else if (rel.starts_with("mfa/method/")) {
    id = std::string(rel.substr(11));
  }
  if (id.empty() || id.find('/') != std::string::npos) return Err(NotFound("unsupported path"));
  auto method = mfa_.Method(id);
  switch (op) {
    case Operation::kRead:
      if (!method) return logical::NotFoundResponse();
      return DataResponse(method->ToJson());
    case Operation::kCreate:
    case Operation::kUpdate: {
      if (!typed) return Err(MethodNotAllowed());
      if (!method) return Err(InvalidArgument("MFA method not found"));
      ASSIGN_OR_RETURN(mfa::TotpMethod m, ApplyMethodFields(request, *method));
      ASSIGN_OR_RETURN(mfa::TotpMethod stored, mfa_.PutMethod(std::move(m)));
      return DataResponse(Json{{"method_id", stored.id}});
    }
    case Operation::kDelete:
      if (!typed) return Err(MethodNotAllowed());
      if (method) TRY(mfa_.DeleteMethod(method->id));
      return logical::NoContent();
    default:
      return Err(MethodNotAllowed());
  }
}

Result<Response> IdentityBackend::Enforcements(const Request& request, std::string_view rel) {
  const Operation op = request.operation;
  if (rel == "mfa/login-enforcement" || rel == "mfa/login-enforcement/") {
    if (op != Operation::kList) return Err(MethodNotAllowed());
    Json keys = Json::array();
    Json info = Json::object();
    for (const auto& e : mfa_.Enforcements()) {
      keys.push_back(e.name);
      info[e.name] = e.ToJson();
    }
    if (keys.empty()) return logical::NotFoundResponse();
    return DataResponse(Json{{"keys", keys}, {"key_info", info}});
  }
  if (!rel.starts_with("mfa/login-enforcement/")) return Err(NotFound("unsupported path"));
  std::string name(rel.substr(22));
  if (name.empty() || name.find('/') != std::string::npos) return Err(NotFound("unsupported path"));
  auto existing = mfa_.GetEnforcement(name);
  switch (op) {
    case Operation::kRead:
      if (!existing) return logical::NotFoundResponse();
      return DataResponse(existing->ToJson());
    case Operation::kCreate:
    case Operation::kUpdate: {
      mfa::Enforcement e = existing ? *existing : mfa::Enforcement{};
      e.name = name;
      auto list = [&](const char* field, std::vector<std::string>& out) -> Status {
        if (const Json* v = request.Field(field)) {
          ASSIGN_OR_RETURN(out, StringList(*v, field));
        }
        return Status::Ok();
      };
      TRY(list("mfa_method_ids", e.mfa_method_ids));
      TRY(list("auth_method_accessors", e.auth_method_accessors));
      TRY(list("auth_method_types", e.auth_method_types));
      TRY(list("identity_group_ids", e.identity_group_ids));
      TRY(list("identity_entity_ids", e.identity_entity_ids));
      for (const auto& a : e.auth_method_accessors) {
        if (!store_.LookupMount(a)) {
          return Err(InvalidArgument("auth mount accessor \"" + a + "\" not found"));
        }
      }
      for (const auto& g : e.identity_group_ids) {
        if (!store_.GroupById(g)) return Err(InvalidArgument("group \"" + g + "\" not found"));
      }
      for (const auto& id : e.identity_entity_ids) {
        if (!store_.EntityById(id)) return Err(InvalidArgument("entity \"" + id + "\" not found"));
      }
      ASSIGN_OR_RETURN(auto stored, mfa_.PutEnforcement(std::move(e)));
      (void)stored;
      return logical::NoContent();
    }
    case Operation::kDelete:
      TRY(mfa_.DeleteEnforcement(name));
      return logical::NoContent();
    default:
      return Err(MethodNotAllowed());
  }
}

}  // namespace coffer::identity
