// Logins: identity and login MFA (see login.h, AttachIdentity).
#include <algorithm>

#include "common/text.h"
#include "core/login.h"
#include "crypto/random.h"

namespace coffer::core {

using logical::Json;

namespace {

// Vault's answer to a login that needs MFA: an auth block without a token.
logical::Response MfaRequirement(const std::string& request_id,
                                 const std::vector<identity::mfa::Constraint>& constraints,
                                 const identity::mfa::MfaStore& mfa) {
  Json by_name = Json::object();
  for (const auto& c : constraints) {
    Json any = Json::array();
    for (const auto& id : c.method_ids) {
      auto m = mfa.Method(id);
      any.push_back(
          Json{{"type", "totp"}, {"id", id}, {"name", m ? m->name : ""}, {"uses_passcode", true}});
    }
    by_name[c.enforcement] = Json{{"any", std::move(any)}};
  }
  logical::Response r;
  r.auth = Json{{"client_token", ""},
                {"accessor", ""},
                {"policies", nullptr},
                {"token_policies", nullptr},
                {"metadata", nullptr},
                {"lease_duration", 0},
                {"renewable", false},
                {"entity_id", ""},
                {"token_type", ""},
                {"orphan", false},
                {"num_uses", 0},
                {"mfa_requirement",
                 Json{{"mfa_request_id", request_id}, {"mfa_constraints", std::move(by_name)}}}};
  r.warnings = Json::array(
      {"A login request was issued that is subject to MFA validation. Please make sure to "
       "validate the login by sending another request to mfa/validate endpoint."});
  return r;
}

// X-Vault-MFA, one field per line (http/request_builder.h): each
// "method:passcode" (a method id or name) adds the passcode to the method's
// list, as Vault's ParseMFAHeaders reads them; a field without ':' names a
// method with no passcode (a push method's).
Result<Json> PayloadFromHeader(std::string_view header) {
  Json payload = Json::object();
  std::size_t pos = 0;
  while (pos <= header.size()) {
    std::size_t end = header.find('\n', pos);
    if (end == std::string_view::npos) end = header.size();
    const std::string_view field = Trim(header.substr(pos, end - pos));
    pos = end + 1;
    if (field.empty()) continue;
    const std::size_t colon = field.find(':');
    if (colon == std::string_view::npos) {
      payload.emplace(std::string(field), Json::array());
      continue;
    }
    if (colon == 0) {
      return Err(
          InvalidArgument("invalid data in header \"X-Vault-MFA\"; missing method name or ID"));
    }
    if (colon + 1 == field.size()) {
      return Err(InvalidArgument("invalid data in header \"X-Vault-MFA\"; missing method value"));
    }
    Json& codes = payload[std::string(field.substr(0, colon))];
    if (!codes.is_array()) codes = Json::array();
    codes.push_back(std::string(field.substr(colon + 1)));
  }
  return payload;
}

}  // namespace

Status Logins::CheckMfaPayload(const PendingMfa& pending, const Json& payload) {
  if (!payload.is_object() || payload.empty()) return InvalidArgument("missing mfa_payload");
  // Every enforcement needs one of its methods satisfied. A payload key is a
  // method id or name.
  for (const auto& c : pending.constraints) {
    Status last = PermissionDenied("login MFA validation failed: no passcode for enforcement \"" +
                                   c.enforcement + "\"");
    bool satisfied = false;
    for (const auto& [key, value] : payload.items()) {
      auto method = mfa_->Method(key);
      if (!method ||
          std::find(c.method_ids.begin(), c.method_ids.end(), method->id) == c.method_ids.end()) {
        continue;
      }
      std::string passcode;
      if (value.is_string()) passcode = value.get<std::string>();
      if (value.is_array() && !value.empty() && value[0].is_string()) {
        passcode = value[0].get<std::string>();
      }
      last = mfa_->ValidateTotp(method->id, pending.entity_id, passcode);
      WipeString(passcode);
      if (last.ok()) {
        satisfied = true;
        break;
      }
      if (last.code() == Code::kRateLimited) return last;
    }
    if (!satisfied) return last;
  }
  return Status::Ok();
}

Result<logical::Response> Logins::FinishLogin(const logical::Request& request,
                                              const router::MountEntry& mount,
                                              logical::LoginResult login) {
  // Before anything is created for the login (entity, MFA request).
  TRY(CheckLoginPolicies(login.policies));
  std::string entity_id;
  if (identity_ != nullptr && !login.alias_name.empty()) {
    ASSIGN_OR_RETURN(
        entity_id, identity_->EntityForLogin(
                       mount.accessor, identity::MountRef{mount.path, mount.type}, login.alias_name,
                       login.alias_metadata ? &*login.alias_metadata : nullptr));
    // The groups the provider reports decide the external group
    // memberships on this mount before MFA (whose enforcement may name
    // those groups) and before the token's policies are looked up.
    if (login.group_aliases) {
      TRY(identity_->SyncExternalGroups(entity_id, mount.accessor, *login.group_aliases));
    }
  }
  std::vector<identity::mfa::Constraint> constraints;
  if (mfa_ != nullptr) {
    std::set<std::string> groups;
    if (identity_ != nullptr && !entity_id.empty()) groups = identity_->AllGroupIds(entity_id);
    constraints = mfa_->ConstraintsFor(mount.accessor, mount.type, entity_id, groups);
  }
  if (constraints.empty()) return Mint(request, mount, std::move(login), std::move(entity_id));
  if (entity_id.empty()) return Err(PermissionDenied("login MFA requires an identity"));

  PendingMfa pending{std::move(login),       mount,
                     request.path,           entity_id,
                     std::move(constraints), clock_.Monotonic() + kMfaRequestTtl};
  if (!request.mfa.empty()) {
    // One step: the passcode came with the login.
    ASSIGN_OR_RETURN(Json payload, PayloadFromHeader(request.mfa));
    TRY(CheckMfaPayload(pending, payload));
    return Mint(request, mount, std::move(pending.login), std::move(pending.entity_id));
  }
  ASSIGN_OR_RETURN(std::string id, crypto::NewUuid());
  logical::Response r = MfaRequirement(id, pending.constraints, *mfa_);
  std::scoped_lock lock(mfa_mu_);
  auto now = clock_.Monotonic();
  std::erase_if(pending_mfa_, [&](const auto& kv) { return kv.second.expires <= now; });
  pending_mfa_.emplace(std::move(id), std::move(pending));
  return r;
}

Result<logical::Response> Logins::ValidateMfa(const logical::Request& request) {
  if (request.operation != logical::Operation::kUpdate &&
      request.operation != logical::Operation::kCreate) {
    return Err(Status(Code::kMethodNotAllowed, "unsupported operation"));
  }
  if (mfa_ == nullptr) return Err(Unsupported("login MFA is not available"));
  const Json* id_field = request.Field("mfa_request_id");
  if (id_field == nullptr || !id_field->is_string() ||
      id_field->get_ref<const std::string&>().empty()) {
    return Err(InvalidArgument("missing request ID"));
  }
  const Json* payload = request.Field("mfa_payload");
  if (payload == nullptr || !payload->is_object()) {
    return Err(InvalidArgument("missing mfa payload"));
  }
  const std::string id = id_field->get<std::string>();
  // Taken out while it is checked, so two validations cannot both mint.
  PendingMfa pending;
  {
    std::scoped_lock lock(mfa_mu_);
    auto it = pending_mfa_.find(id);
    if (it == pending_mfa_.end() || it->second.expires <= clock_.Monotonic()) {
      if (it != pending_mfa_.end()) pending_mfa_.erase(it);
      return Err(InvalidArgument("MFA request ID not found or expired"));
    }
    pending = std::move(it->second);
    pending_mfa_.erase(it);
  }
  Status checked = CheckMfaPayload(pending, *payload);
  if (!checked.ok()) {
    // A wrong passcode may be corrected while the request lives.
    std::scoped_lock lock(mfa_mu_);
    pending_mfa_.emplace(id, std::move(pending));
    return Err(std::move(checked));
  }
  logical::Request original;
  original.path = pending.path;
  ASSIGN_OR_RETURN(logical::Response minted, Mint(original, pending.mount, std::move(pending.login),
                                                  std::move(pending.entity_id)));
  minted.mount_type = pending.mount.type;
  return minted;
}

}  // namespace coffer::core
