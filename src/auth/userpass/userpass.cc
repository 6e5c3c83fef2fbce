#include "auth/userpass/userpass.h"

#include "auth/token_fields.h"
#include "auth/userpass/password.h"
#include "auth/util.h"
#include "token/token_params.h"

namespace coffer::auth::userpass {
namespace {

using logical::Json;
using logical::Operation;
using logical::Request;
using logical::Response;

constexpr std::string_view kInvalidCredentials = "invalid username or password";

std::string UserKey(const std::string& name) { return "user/" + name; }

Status ValidName(const std::string& name) {
  if (name.empty()) return InvalidArgument("missing username");
  if (name.find('/') != std::string::npos) return InvalidArgument("invalid username");
  return Status::Ok();
}

// The password field, never echoed anywhere.
Result<std::string> PasswordField(const Request& request) {
  const Json* f = request.Field("password");
  if (f == nullptr || f->is_null()) return Err(InvalidArgument("missing password"));
  // A number keeps its digits, as Vault decodes a string field weakly.
  std::optional<std::string> text = logical::WeakString(*f);
  if (!text || f->is_boolean()) return Err(InvalidArgument("password must be a string"));
  return std::move(*text);
}

}  // namespace

Status UserpassBackend::Initialize() {
  PrepareDummyHash();
  return Status::Ok();
}

bool UserpassBackend::IsUnauthenticated(std::string_view relative_path) const {
  return relative_path.starts_with("login/");
}

std::string UserpassBackend::AclPath(std::string_view relative_path) const {
  if (!relative_path.starts_with("users/")) return std::string(relative_path);
  return WithCanonicalSegment(relative_path, 1);
}

std::string UserpassBackend::LoginAlias(const Request& request) const {
  return LoginPathName(request.relative_path);
}

Result<bool> UserpassBackend::ExistenceCheck(const Request& request) {
  std::vector<std::string_view> seg = Segments(request.relative_path);
  if (seg.size() != 2 || seg[0] != "users" || seg[1].empty()) return true;
  ASSIGN_OR_RETURN(auto stored, storage_.Get(UserKey(Canonical(seg[1]))));
  return stored.has_value();
}

Result<std::optional<logical::LoginRenewal>> UserpassBackend::CheckLoginRenewal(
    const logical::LoginRenewalRequest& renewal) {
  auto it = renewal.meta->find("username");
  if (it == renewal.meta->end()) return std::optional<logical::LoginRenewal>();
  ASSIGN_OR_RETURN(auto stored, storage_.Get(UserKey(it->second)));
  if (!stored) {
    return Err(InvalidArgument("user \"" + it->second + "\" no longer exists, not renewing"));
  }
  ASSIGN_OR_RETURN(Json j, ParseStored(stored->value, "userpass user"));
  TokenFields fields = TokenFields::FromStored(j);
  if (!fields.SamePolicies(*renewal.policies)) {
    return Err(InvalidArgument("policies have changed, not renewing"));
  }
  return std::optional<logical::LoginRenewal>(fields.ToRenewal());
}

Result<Response> UserpassBackend::HandleRequest(const Request& request) {
  // LIST requests arrive as "users/" or "role/x/secret-id/".
  std::string_view rel = request.relative_path;
  while (!rel.empty() && rel.back() == '/') rel.remove_suffix(1);
  std::vector<std::string_view> seg = Segments(rel);
  if (seg.size() == 1 && (seg[0] == "users" || seg[0].empty())) {
    if (seg[0] == "users" && request.operation == Operation::kList) return List(request);
    return Err(NotFound("unsupported path"));
  }
  if (seg[0] == "users" && seg.size() == 2 && !seg[1].empty()) {
    return User(request, Canonical(seg[1]));
  }
  if (seg[0] == "users" && seg.size() == 3 && seg[2] == "password") {
    return Password(request, Canonical(seg[1]));
  }
  if (seg[0] == "users" && seg.size() == 3 && seg[2] == "policies") {
    return Policies(request, Canonical(seg[1]));
  }
  if (seg[0] == "login" && seg.size() == 2) return Login(request, Canonical(seg[1]));
  return Err(NotFound("unsupported path"));
}

Result<Response> UserpassBackend::List(const Request& request) {
  (void)request;
  ASSIGN_OR_RETURN(auto keys, storage_.List("user/"));
  return KeysResponse(std::move(keys));
}

Result<Response> UserpassBackend::User(const Request& request, const std::string& name) {
  TRY(ValidName(name));
  switch (request.operation) {
    case Operation::kRead: {
      ASSIGN_OR_RETURN(auto stored, storage_.Get(UserKey(name)));
      if (!stored) return NotFoundResponse();
      ASSIGN_OR_RETURN(Json j, ParseStored(stored->value, "userpass user"));
      Json data = Json::object();
      TokenFields::FromStored(j).AddTo(data);
      Response r;
      r.data = std::move(data);
      return r;
    }
    case Operation::kCreate:
    case Operation::kUpdate: {
      std::scoped_lock lock(write_mu_);
      ASSIGN_OR_RETURN(EntryUpdate u,
                       BeginEntryUpdate(storage_, UserKey(name), "userpass user", request,
                                        {.ttl = true, .max_ttl = true, .bound_cidrs = true}));
      const Json& j = u.stored;
      Json out = u.fields.ToStored();
      out["password_hash"] = j.value("password_hash", "");
      const Json* pw = request.Field("password");
      if (pw != nullptr && !pw->is_null()) {
        ASSIGN_OR_RETURN(std::string password, PasswordField(request));
        auto hash = HashPassword(password);
        WipeString(password);
        if (!hash) return Err(hash.error());
        out["password_hash"] = *hash;
      }
      if (out["password_hash"].get_ref<const std::string&>().empty()) {
        return Err(InvalidArgument("missing password"));
      }
      TRY(storage_.Put(UserKey(name), out.dump()));
      return NoContent();
    }
    case Operation::kDelete:
      TRY(storage_.Delete(UserKey(name)));
      return NoContent();
    default:
      return Err(MethodNotAllowed());
  }
}

Result<Response> UserpassBackend::Password(const Request& request, const std::string& name) {
  TRY(ValidName(name));
  if (!IsWrite(request.operation)) return Err(MethodNotAllowed());
  ASSIGN_OR_RETURN(std::string password, PasswordField(request));
  auto hash = HashPassword(password);
  WipeString(password);
  if (!hash) return Err(hash.error());
  std::scoped_lock lock(write_mu_);
  ASSIGN_OR_RETURN(auto stored, storage_.Get(UserKey(name)));
  if (!stored) return Err(InvalidArgument("username does not exist"));
  ASSIGN_OR_RETURN(Json j, ParseStored(stored->value, "userpass user"));
  j["password_hash"] = *hash;
  TRY(storage_.Put(UserKey(name), j.dump()));
  return NoContent();
}

Result<Response> UserpassBackend::Policies(const Request& request, const std::string& name) {
  TRY(ValidName(name));
  if (!IsWrite(request.operation)) return Err(MethodNotAllowed());
  ASSIGN_OR_RETURN(auto policies, token::params::List(request, "token_policies"));
  if (!policies) {
    ASSIGN_OR_RETURN(policies, token::params::List(request, "policies"));
  }
  if (!policies) return Err(InvalidArgument("missing token_policies"));
  std::scoped_lock lock(write_mu_);
  ASSIGN_OR_RETURN(auto stored, storage_.Get(UserKey(name)));
  if (!stored) return Err(InvalidArgument("username does not exist"));
  ASSIGN_OR_RETURN(Json j, ParseStored(stored->value, "userpass user"));
  j["token_policies"] = *policies;
  TRY(storage_.Put(UserKey(name), j.dump()));
  return NoContent();
}

Result<Response> UserpassBackend::Login(const Request& request, const std::string& name) {
  if (!IsWrite(request.operation)) return Err(MethodNotAllowed());
  ASSIGN_OR_RETURN(std::string password, PasswordField(request));
  // Same work whether or not the user exists: one storage read, one
  // Argon2id verification (against the dummy hash for unknown names).
  std::optional<storage::Entry> stored;
  if (ValidName(name).ok()) {
    ASSIGN_OR_RETURN(stored, storage_.Get(UserKey(name)));
  }
  Json j;
  bool ok = false;
  if (stored) {
    ASSIGN_OR_RETURN(j, ParseStored(stored->value, "userpass user"));
    ok = VerifyPassword(j.value("password_hash", ""), password);
  } else {
    ok = VerifyAgainstDummy(password);
  }
  WipeString(password);
  if (!ok) return Err(InvalidArgument(std::string(kInvalidCredentials)));

  TokenFields fields = TokenFields::FromStored(j);
  if (!AddressAllowed(request.remote_address, fields.bound_cidrs)) {
    return Err(PermissionDenied("login request originated from invalid CIDR"));
  }
  logical::LoginResult login = fields.ToLogin();
  login.metadata["username"] = name;
  login.display_name = name;
  login.alias_name = name;
  return LoginResponse(std::move(login));
}

void RegisterUserpass() { RegisterMethod<UserpassBackend>("userpass"); }

}  // namespace coffer::auth::userpass
