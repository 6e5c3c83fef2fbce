#include "auth/approle/approle.h"

#include "auth/util.h"
#include "crypto/hmac.h"
#include "crypto/random.h"
#include "token/token_params.h"

namespace coffer::auth::approle {
namespace {

using logical::Json;
using logical::Operation;
using logical::Request;
using logical::Response;
namespace params = token::params;

constexpr std::string_view kInvalidCredentials = "invalid role or secret ID";
// The longest role_id a role may have and a login may name: a login's
// role_id keys its lockout counter, which an unauthenticated client must
// not make a megabyte long.
constexpr std::size_t kMaxRoleIdBytes = 4096;
constexpr const char* kRoleIdTooLong = "role_id must be at most 4096 bytes";

Status ValidRoleName(const std::string& name) {
  if (name.empty()) return InvalidArgument("missing role_name");
  if (name.find('/') != std::string::npos) return InvalidArgument("invalid role_name");
  return Status::Ok();
}

}  // namespace

Json RoleToJson(const Role& role) {
  Json j = role.token.ToStored();
  j["name"] = role.name;
  j["role_id"] = role.role_id;
  j["bind_secret_id"] = role.bind_secret_id;
  j["secret_id_bound_cidrs"] = Json(role.secret_id_bound_cidrs);
  j["secret_id_num_uses"] = role.secret_id_num_uses;
  j["secret_id_ttl"] = role.secret_id_ttl;
  j["local_secret_ids"] = role.local_secret_ids;
  j["hmac_key"] = role.hmac_key;
  return j;
}

Result<Role> RoleFromJson(const Json& j) {
  try {
    Role r;
    r.name = j.at("name").get<std::string>();
    r.role_id = j.at("role_id").get<std::string>();
    r.bind_secret_id = j.value("bind_secret_id", true);
    r.secret_id_bound_cidrs = j.value("secret_id_bound_cidrs", std::vector<std::string>{});
    r.secret_id_num_uses = j.value("secret_id_num_uses", std::int64_t{0});
    r.secret_id_ttl = j.value("secret_id_ttl", std::int64_t{0});
    r.local_secret_ids = j.value("local_secret_ids", false);
    r.token = TokenFields::FromStored(j);
    r.hmac_key = j.at("hmac_key").get<std::string>();
    return r;
  } catch (const Json::exception&) {
    return Err(Internal("corrupt approle role entry"));
  }
}

Status AppRoleBackend::Initialize() {
  ASSIGN_OR_RETURN(auto stored, storage_.Get("salt"));
  std::string hex;
  if (stored) {
    hex = stored->value;
  } else {
    ASSIGN_OR_RETURN(std::string raw, crypto::RandomString(32));
    hex = crypto::ToHex(raw);
    TRY(storage_.Put("salt", hex));
  }
  salt_ = SecretBytes::FromString(hex);
  WipeString(hex);
  ClearCache();
  return Status::Ok();
}

bool AppRoleBackend::IsUnauthenticated(std::string_view relative_path) const {
  return relative_path == "login";
}

std::string AppRoleBackend::AclPath(std::string_view relative_path) const {
  if (!relative_path.starts_with("role/")) return std::string(relative_path);
  return WithCanonicalSegment(relative_path, 1);
}

std::string AppRoleBackend::LoginAlias(const Request& request) const {
  if (request.relative_path != "login") return "";
  // Read as Login reads it (a number or a boolean is a role_id too), or a
  // role_id sent as 424242 would escape the lockout of "424242". One longer
  // than any role's is refused by Login before it counts.
  auto role_id = params::String(request, "role_id");
  if (!role_id || !*role_id || (*role_id)->size() > kMaxRoleIdBytes) return "";
  return **role_id;
}

std::string AppRoleBackend::LoginRole(const Request& request) {
  std::string role_id = LoginAlias(request);
  if (role_id.empty()) return "";
  auto role = RoleByRoleId(role_id);
  return role && *role ? (*role)->name : "";
}

std::int64_t AppRoleBackend::Now() const {
  return std::chrono::duration_cast<std::chrono::seconds>(clock_.Wall().time_since_epoch()).count();
}

std::string AppRoleBackend::SaltedHex(std::string_view data) const {
  auto mac = crypto::HmacSha256(salt_, data);
  return mac ? crypto::ToHex(*mac) : std::string();
}

std::string AppRoleBackend::SecretHmac(const Role& role, std::string_view secret_id) const {
  auto mac = crypto::HmacSha256(role.hmac_key, secret_id);
  return mac ? crypto::ToHex(*mac) : std::string();
}

void AppRoleBackend::ClearCache() {
  std::unique_lock lock(cache_mu_);
  by_role_id_.clear();
  ++cache_generation_;
}

Result<std::optional<logical::LoginRenewal>> AppRoleBackend::CheckLoginRenewal(
    const logical::LoginRenewalRequest& renewal) {
  // Vault's approle renews whatever the role's policies became.
  auto it = renewal.meta->find("role_name");
  if (it == renewal.meta->end()) return std::optional<logical::LoginRenewal>();
  ASSIGN_OR_RETURN(auto role, ReadRole(it->second));
  if (!role) {
    return Err(InvalidArgument("role \"" + it->second + "\" does not exist during renewal"));
  }
  return std::optional<logical::LoginRenewal>(role->token.ToRenewal());
}

Result<std::optional<Role>> AppRoleBackend::ReadRole(const std::string& name) {
  ASSIGN_OR_RETURN(auto stored, storage_.Get("role/" + name));
  if (!stored) return std::optional<Role>();
  ASSIGN_OR_RETURN(Json j, ParseStored(stored->value, "approle role"));
  ASSIGN_OR_RETURN(Role role, RoleFromJson(j));
  return std::optional<Role>(std::move(role));
}

Status AppRoleBackend::WriteRole(const Role& role) {
  Status s = storage_.Put("role/" + role.name, RoleToJson(role).dump());
  // After the write (and also when it failed: it may have landed): a login
  // that read the old role before it cannot cache it (RoleByRoleId).
  ClearCache();
  return s;
}

Result<std::shared_ptr<const Role>> AppRoleBackend::RoleByRoleId(std::string_view role_id) {
  std::string key = SaltedHex(role_id);
  if (key.empty()) return Err(Internal("approle: HMAC failed"));
  std::uint64_t generation = 0;
  {
    std::shared_lock lock(cache_mu_);
    auto it = by_role_id_.find(key);
    if (it != by_role_id_.end()) return it->second;
    generation = cache_generation_;
  }
  ASSIGN_OR_RETURN(auto index, storage_.Get("role_id/" + key));
  if (!index) return std::shared_ptr<const Role>();
  ASSIGN_OR_RETURN(Json j, ParseStored(index->value, "approle role_id"));
  ASSIGN_OR_RETURN(auto role, ReadRole(j.value("name", "")));
  if (!role || !ConstantTimeEquals(role->role_id, role_id)) return std::shared_ptr<const Role>();
  auto shared = std::make_shared<const Role>(*std::move(role));
  std::unique_lock lock(cache_mu_);
  // A role write or delete since the read: what was read may be the old
  // role, good for this login (it started before the change) but not to keep.
  if (cache_generation_ == generation) by_role_id_[key] = shared;
  return shared;
}

Result<bool> AppRoleBackend::ExistenceCheck(const Request& request) {
  std::vector<std::string_view> seg = Segments(request.relative_path);
  if (seg.size() != 2 || seg[0] != "role" || seg[1].empty()) return true;
  ASSIGN_OR_RETURN(auto role, ReadRole(Canonical(seg[1])));
  return role.has_value();
}

Result<Response> AppRoleBackend::HandleRequest(const Request& request) {
  // LIST requests arrive as "users/" or "role/x/secret-id/".
  std::string_view rel = request.relative_path;
  while (!rel.empty() && rel.back() == '/') rel.remove_suffix(1);
  std::vector<std::string_view> seg = Segments(rel);
  if (seg[0] == "login" && seg.size() == 1) return Login(request);
  if (seg[0] == "role" && seg.size() == 1) {
    if (request.operation != Operation::kList) return Err(MethodNotAllowed());
    return ListRoles();
  }
  if (seg[0] == "tidy" && seg.size() == 2 && seg[1] == "secret-id") {
    if (!IsWrite(request.operation)) return Err(MethodNotAllowed());
    if (!StartTidy()) return logical::TidyRunningResponse();
    return logical::TidyStartedResponse();
  }
  if (seg[0] != "role" || seg[1].empty()) return Err(NotFound("unsupported path"));
  std::string name = Canonical(seg[1]);
  TRY(ValidRoleName(name));
  if (seg.size() == 2) return RoleRoute(request, name);
  std::string rest(rel.substr(6 + seg[1].size()));  // after "role/x/"
  if (rest == "role-id") return RoleIdRoute(request, name);

  ASSIGN_OR_RETURN(auto role, ReadRole(name));
  if (!role) {
    // Vault: 400 for the secret ID listing, 404 for issuing one (its
    // ErrUnsupportedPath), 500 for looking one up or destroying it (a
    // plain error, which Terraform's provider takes for "gone" as it does
    // a 404). A missing role is not a server fault: 404 here.
    std::string missing = "role \"" + name + "\" does not exist";
    if (rest == "secret-id" && request.operation == Operation::kList) {
      return Err(InvalidArgument(std::move(missing)));
    }
    return Err(NotFound(std::move(missing)));
  }
  if (rest == "secret-id") {
    if (request.operation == Operation::kList) return ListSecretIds(*role);
    if (!IsWrite(request.operation)) return Err(MethodNotAllowed());
    return GenerateSecretId(request, *role, /*custom=*/false);
  }
  if (rest == "custom-secret-id") {
    if (!IsWrite(request.operation)) return Err(MethodNotAllowed());
    return GenerateSecretId(request, *role, /*custom=*/true);
  }
  if (rest == "secret-id/lookup") return SecretIdLookup(request, *role, false);
  if (rest == "secret-id/destroy") return SecretIdLookup(request, *role, true);
  if (rest == "secret-id-accessor/lookup") return AccessorRoute(request, *role, false);
  if (rest == "secret-id-accessor/destroy") return AccessorRoute(request, *role, true);
  return Err(NotFound("unsupported path"));
}

Result<Response> AppRoleBackend::ListRoles() {
  ASSIGN_OR_RETURN(auto keys, storage_.List("role/"));
  return KeysResponse(std::move(keys));
}

Result<Response> AppRoleBackend::RoleRoute(const Request& request, const std::string& name) {
  if (request.operation == Operation::kRead) {
    ASSIGN_OR_RETURN(auto role, ReadRole(name));
    if (!role) return NotFoundResponse();
    Json data = Json::object();
    role->token.AddTo(data);
    data["bind_secret_id"] = role->bind_secret_id;
    data["secret_id_bound_cidrs"] = Json(role->secret_id_bound_cidrs);
    data["secret_id_num_uses"] = role->secret_id_num_uses;
    data["secret_id_ttl"] = role->secret_id_ttl;
    data["local_secret_ids"] = role->local_secret_ids;
    Response r;
    r.data = std::move(data);
    return r;
  }
  if (request.operation == Operation::kDelete) {
    std::scoped_lock lock(write_mu_);
    ASSIGN_OR_RETURN(auto role, ReadRole(name));
    if (role) TRY(DeleteRole(*role));
    return NoContent();
  }
  if (!IsWrite(request.operation)) return Err(MethodNotAllowed());

  std::scoped_lock lock(write_mu_);
  ASSIGN_OR_RETURN(auto existing, ReadRole(name));
  Role role;
  if (existing) {
    role = *existing;
  } else {
    role.name = name;
    ASSIGN_OR_RETURN(role.role_id, crypto::NewUuid());
    ASSIGN_OR_RETURN(std::string key, crypto::RandomString(32));
    role.hmac_key = crypto::ToHex(key);
  }
  const std::string old_role_id = existing ? existing->role_id : "";
  ASSIGN_OR_RETURN(auto role_id, params::String(request, "role_id"));
  if (role_id && !role_id->empty()) {
    if (role_id->size() > kMaxRoleIdBytes) return Err(InvalidArgument(kRoleIdTooLong));
    role.role_id = *role_id;
  }
  ASSIGN_OR_RETURN(auto bind, params::Bool(request, "bind_secret_id"));
  if (bind) role.bind_secret_id = *bind;
  ASSIGN_OR_RETURN(auto cidrs, params::List(request, "secret_id_bound_cidrs"));
  if (!cidrs) {
    ASSIGN_OR_RETURN(cidrs, params::List(request, "bound_cidr_list"));
  }
  if (cidrs) {
    TRY(ValidateCidrs(*cidrs));
    role.secret_id_bound_cidrs = *cidrs;
  }
  ASSIGN_OR_RETURN(auto uses, params::Int(request, "secret_id_num_uses"));
  if (uses) {
    if (*uses < 0) return Err(InvalidArgument("secret_id_num_uses cannot be negative"));
    role.secret_id_num_uses = *uses;
  }
  ASSIGN_OR_RETURN(auto ttl, params::Duration(request, "secret_id_ttl"));
  if (ttl) role.secret_id_ttl = ttl->count();
  if (!existing) {
    ASSIGN_OR_RETURN(auto local, params::Bool(request, "local_secret_ids"));
    if (local) role.local_secret_ids = *local;
  }
  TRY(role.token.Update(request));
  if (!role.bind_secret_id && role.secret_id_bound_cidrs.empty() &&
      role.token.bound_cidrs.empty()) {
    return Err(InvalidArgument("at least one constraint should be enabled on the role"));
  }
  if (role.role_id != old_role_id) {
    ASSIGN_OR_RETURN(auto taken, storage_.Get("role_id/" + SaltedHex(role.role_id)));
    if (taken) return Err(InvalidArgument("role_id already in use"));
    TRY(storage_.Put("role_id/" + SaltedHex(role.role_id), Json{{"name", name}}.dump()));
    if (!old_role_id.empty()) TRY(storage_.Delete("role_id/" + SaltedHex(old_role_id)));
  }
  TRY(WriteRole(role));
  return NoContent();
}

Result<Response> AppRoleBackend::RoleIdRoute(const Request& request, const std::string& name) {
  if (request.operation == Operation::kRead) {
    ASSIGN_OR_RETURN(auto role, ReadRole(name));
    if (!role) return NotFoundResponse();
    Response r;
    r.data = Json{{"role_id", role->role_id}};
    return r;
  }
  if (!IsWrite(request.operation)) return Err(MethodNotAllowed());
  ASSIGN_OR_RETURN(auto role_id, params::String(request, "role_id"));
  if (!role_id || role_id->empty()) return Err(InvalidArgument("missing role_id"));
  if (role_id->size() > kMaxRoleIdBytes) return Err(InvalidArgument(kRoleIdTooLong));
  std::scoped_lock lock(write_mu_);
  ASSIGN_OR_RETURN(auto role, ReadRole(name));
  if (!role) return Err(InvalidArgument("role \"" + name + "\" does not exist"));
  if (role->role_id == *role_id) return NoContent();
  ASSIGN_OR_RETURN(auto taken, storage_.Get("role_id/" + SaltedHex(*role_id)));
  if (taken) return Err(InvalidArgument("role_id already in use"));
  TRY(storage_.Put("role_id/" + SaltedHex(*role_id), Json{{"name", name}}.dump()));
  TRY(storage_.Delete("role_id/" + SaltedHex(role->role_id)));
  role->role_id = *role_id;
  TRY(WriteRole(*role));
  return NoContent();
}

Status AppRoleBackend::DeleteRole(const Role& role) {
  ASSIGN_OR_RETURN(auto hmacs, storage_.List("secret_id/" + role.name + "/"));
  for (const auto& hmac : hmacs) {
    ASSIGN_OR_RETURN(auto entry, ReadSecretId(role, hmac));
    if (entry) TRY(DeleteSecretId(role, *entry));
  }
  TRY(storage_.Delete("role_id/" + SaltedHex(role.role_id)));
  Status s = storage_.Delete("role/" + role.name);
  ClearCache();
  return s;
}

Result<Response> AppRoleBackend::Login(const Request& request) {
  if (!IsWrite(request.operation)) return Err(MethodNotAllowed());
  ASSIGN_OR_RETURN(auto role_id, params::String(request, "role_id"));
  if (!role_id || role_id->empty()) return Err(InvalidArgument("missing role_id"));
  if (role_id->size() > kMaxRoleIdBytes)
    return Err(InvalidArgument(std::string(kInvalidCredentials)));
  ASSIGN_OR_RETURN(std::shared_ptr<const Role> role, RoleByRoleId(*role_id));
  if (!role) return Err(InvalidArgument(std::string(kInvalidCredentials)));

  if (!AddressAllowed(request.remote_address, role->secret_id_bound_cidrs)) {
    return Err(InvalidArgument("source address \"" + request.remote_address +
                               "\" unauthorized by CIDR restrictions on the role"));
  }
  std::map<std::string, std::string> metadata;
  std::vector<std::string> token_cidrs = role->token.bound_cidrs;
  if (role->bind_secret_id) {
    ASSIGN_OR_RETURN(auto secret_id, params::String(request, "secret_id"));
    if (!secret_id || secret_id->empty()) return Err(InvalidArgument("missing secret_id"));
    ASSIGN_OR_RETURN(auto entry, UseSecretId(*role, *secret_id));
    WipeString(*secret_id);
    if (!entry) return Err(InvalidArgument(std::string(kInvalidCredentials)));
    if (!AddressAllowed(request.remote_address, entry->cidr_list)) {
      return Err(
          InvalidArgument("source address unauthorized through CIDR restrictions on the "
                          "secret ID"));
    }
    metadata = entry->metadata;
    if (!entry->token_bound_cidrs.empty()) token_cidrs = entry->token_bound_cidrs;
  }
  if (!AddressAllowed(request.remote_address, token_cidrs)) {
    return Err(PermissionDenied("login request originated from invalid CIDR"));
  }
  logical::LoginResult login = role->token.ToLogin();
  login.bound_cidrs = token_cidrs;
  login.metadata = std::move(metadata);
  login.metadata["role_name"] = role->name;
  login.alias_name = role->role_id;
  login.alias_metadata = login.metadata;  // Vault's AppRole sets both
  return LoginResponse(std::move(login));
}

void RegisterApprole() { RegisterMethod<AppRoleBackend>("approle"); }

}  // namespace coffer::auth::approle
