#include "auth/jwt/jwt_backend.h"

#include "auth/jwt/claims.h"
#include "auth/jwt/role.h"
#include "auth/jwt/token.h"
#include "auth/util.h"
#include "logical/registry.h"
#include "token/token_params.h"

namespace coffer::auth::jwt {
namespace {

using logical::Json;
using logical::Operation;
using logical::Request;
using logical::Response;

// The client secret in a parsed config, wiped.
void WipeClientSecret(Json& j) {
  if (auto it = j.find("oidc_client_secret"); it != j.end() && it->is_string()) {
    WipeString(it->get_ref<std::string&>());
  }
}

}  // namespace

JwtBackend::JwtBackend(const logical::BackendConfig& config, Fetcher fetcher,
                       std::chrono::milliseconds min_refetch_interval, HttpDo http)
    : storage_(config.storage),
      clock_(config.clock),
      fetcher_(std::move(fetcher)),
      min_refetch_interval_(min_refetch_interval),
      http_(std::move(http)),
      pending_(config.clock) {}

Status JwtBackend::Initialize() {
  std::scoped_lock lock(source_mu_);
  source_.reset();
  source_loaded_ = false;
  return Status::Ok();
}

bool JwtBackend::IsUnauthenticated(std::string_view relative_path) const {
  return relative_path == "login" || relative_path == "oidc/auth_url" ||
         relative_path == "oidc/callback";
}

Result<std::optional<logical::LoginRenewal>> JwtBackend::CheckLoginRenewal(
    const logical::LoginRenewalRequest& renewal) {
  // As Vault's jwt: the role's policies now are not compared.
  return RenewWhileRoleExists(
      renewal, [this](const std::string& name) -> Result<std::optional<TokenFields>> {
        ASSIGN_OR_RETURN(auto role, ReadRole(storage_, name));
        if (!role) return std::optional<TokenFields>();
        return std::optional<TokenFields>(role->token);
      });
}

Result<Response> JwtBackend::HandleRequest(const Request& request) {
  std::string_view rel = request.relative_path;
  while (!rel.empty() && rel.back() == '/') rel.remove_suffix(1);
  if (rel == "oidc/auth_url") {
    if (!IsWrite(request.operation)) return Err(MethodNotAllowed());
    return AuthUrl(request);
  }
  if (rel == "oidc/callback") {
    if (request.operation == Operation::kRead) return Callback(request);
    if (IsWrite(request.operation)) return CallbackPost(request);
    return Err(MethodNotAllowed());
  }
  return RouteRoleMethod(
      request, storage_,
      {.config = [this](const Request& r) { return ConfigPath(r); },
       .login = [this](const Request& r) { return Login(r); },
       .role = [this](const Request& r, const std::string& name) { return RolePath(r, name); }});
}

Result<std::shared_ptr<KeySource>> JwtBackend::Source() {
  {
    std::scoped_lock lock(source_mu_);
    if (source_loaded_) return source_;
  }
  ASSIGN_OR_RETURN(auto stored, storage_.Get("config"));
  std::shared_ptr<KeySource> source;
  if (stored) {
    auto parsed = ParseStored(stored->value, "jwt config");
    WipeString(stored->value);
    ASSIGN_OR_RETURN(Json j, std::move(parsed));
    source =
        std::make_shared<KeySource>(Config::FromJson(j), fetcher_, clock_, min_refetch_interval_);
    WipeClientSecret(j);
  }
  std::scoped_lock lock(source_mu_);
  if (!source_loaded_) {
    source_ = std::move(source);
    source_loaded_ = true;
  }
  return source_;
}

Result<Response> JwtBackend::ConfigPath(const Request& request) {
  if (request.operation == Operation::kRead) {
    ASSIGN_OR_RETURN(auto stored, storage_.Get("config"));
    if (!stored) return NotFoundResponse();
    auto parsed = ParseStored(stored->value, "jwt config");
    WipeString(stored->value);
    ASSIGN_OR_RETURN(Json j, std::move(parsed));
    Response r;
    r.data = Config::FromJson(j).ToRead();
    WipeClientSecret(j);
    return r;
  }
  if (!IsWrite(request.operation)) return Err(MethodNotAllowed());
  ASSIGN_OR_RETURN(Config config, Config::FromRequest(request));
  auto source = std::make_shared<KeySource>(config, fetcher_, clock_, min_refetch_interval_);
  // Fetch now so a wrong URL or an unusable JWKS is reported to the writer.
  TRY(source->Prime());
  std::scoped_lock lock(write_mu_);
  Json stored = config.ToStored();
  std::string text = stored.dump();
  WipeClientSecret(stored);
  Status put = storage_.Put("config", text);
  WipeString(text);
  TRY(put);
  std::scoped_lock source_lock(source_mu_);
  source_ = std::move(source);
  source_loaded_ = true;
  // Logins begun under the previous config (its provider, its client) do
  // not complete under this one.
  pending_.Clear();
  return NoContent();
}

Result<Response> JwtBackend::RolePath(const Request& request, const std::string& name) {
  TRY(ValidRoleName(name));
  switch (request.operation) {
    case Operation::kRead: {
      ASSIGN_OR_RETURN(auto role, ReadRole(storage_, name));
      if (!role) return NotFoundResponse();
      Json data = role->ToJson();
      role->token.AddTo(data);
      Response r;
      r.data = std::move(data);
      return r;
    }
    case Operation::kCreate:
    case Operation::kUpdate: {
      std::scoped_lock lock(write_mu_);
      ASSIGN_OR_RETURN(auto existing, ReadRole(storage_, name));
      Role role = existing ? std::move(*existing) : Role{};
      if (!existing) role.role_type = "oidc";  // Vault's default for a new role
      role.name = name;
      TRY(role.Update(request));
      TRY(storage_.Put("role/" + name, role.ToJson().dump()));
      return NoContent();
    }
    case Operation::kDelete: {
      std::scoped_lock lock(write_mu_);
      TRY(storage_.Delete("role/" + name));
      return NoContent();
    }
    default:
      return Err(MethodNotAllowed());
  }
}

Result<Jwt> JwtBackend::CheckToken(KeySource& source, const Role& role, const std::string& text,
                                   const std::vector<std::string>& audiences) const {
  ASSIGN_OR_RETURN(Jwt jwt, ParseJwt(text));
  TRY(source.Verify(jwt));
  const Json& claims = jwt.claims;
  TRY(CheckTimes(claims, NowSeconds(), role.EffectiveLeeways()));
  if (std::string iss = source.ExpectedIssuer(); !iss.empty()) {
    const Json* got = FindClaim(claims, "iss");
    if (got == nullptr || !got->is_string() || got->get_ref<const std::string&>() != iss) {
      return Err(InvalidArgument("iss claim does not match the bound issuer"));
    }
  }
  if (!audiences.empty()) TRY(CheckAudience(claims, audiences));
  if (!role.bound_subject.empty()) {
    const Json* sub = FindClaim(claims, "sub");
    if (sub == nullptr || !sub->is_string() ||
        sub->get_ref<const std::string&>() != role.bound_subject) {
      return Err(InvalidArgument("sub claim does not match the bound subject"));
    }
  }
  return jwt;
}

std::int64_t JwtBackend::NowSeconds() const {
  return std::chrono::duration_cast<std::chrono::seconds>(clock_.Wall().time_since_epoch()).count();
}

Result<Jwt> JwtBackend::ValidateToken(KeySource& source, const Role& role,
                                      const std::string& text) const {
  Result<Jwt> jwt = CheckToken(source, role, text, role.bound_audiences);
  if (!jwt && jwt.error().code() == Code::kInvalidArgument) {
    return Err(InvalidArgument("error validating token: " + jwt.error().message()));
  }
  return jwt;
}

std::string JwtBackend::LoginRole(const Request& request) {
  std::string name = Backend::LoginRole(request);
  if (!name.empty()) return name;
  auto source = Source();
  return source && *source != nullptr ? (*source)->config().default_role : "";
}

Result<Response> JwtBackend::Login(const Request& request) {
  if (!IsWrite(request.operation)) return Err(MethodNotAllowed());
  ASSIGN_OR_RETURN(std::shared_ptr<KeySource> source, Source());
  if (source == nullptr) return Err(InvalidArgument("could not load configuration"));

  ASSIGN_OR_RETURN(auto role_name, token::params::String(request, "role"));
  std::string name = role_name.value_or("");
  if (name.empty()) name = source->config().default_role;
  if (name.empty()) return Err(InvalidArgument("missing role"));
  const Json* jwt_field = request.Field("jwt");
  if (jwt_field == nullptr || !jwt_field->is_string() ||
      jwt_field->get_ref<const std::string&>().empty()) {
    return Err(InvalidArgument("missing token"));  // Vault's words
  }
  if (ValidRoleName(name).ok() == false) return Err(InvalidArgument("invalid role name"));
  ASSIGN_OR_RETURN(auto role, ReadRole(storage_, name));
  if (!role) return Err(InvalidArgument("role \"" + name + "\" could not be found"));
  if (role->role_type == "oidc") {
    return Err(InvalidArgument("role with oidc role_type is not allowed"));
  }

  // Vault's words: what the token itself fails (its form, signature, times,
  // issuer, audience, subject) is "error validating token: ...", what the
  // role's bound claims refuse "error validating claims: ...".
  ASSIGN_OR_RETURN(Jwt jwt,
                   ValidateToken(*source, *role, jwt_field->get_ref<const std::string&>()));
  // An audience in a token for a role that binds none: refused unprefixed.
  if (role->bound_audiences.empty()) TRY(CheckAudience(jwt.claims, role->bound_audiences));
  return LoginFromClaims(request, name, *role, jwt.claims);
}

Result<Response> JwtBackend::LoginFromClaims(const Request& request, const std::string& name,
                                             const Role& role, const Json& claims) const {
  if (Status s = CheckBoundClaims(claims, role.bound_claims, role.bound_claims_type == "glob");
      !s.ok()) {
    return Err(Status(s.code(), "error validating claims: " + s.message()));
  }

  const Json* user = FindClaim(claims, role.user_claim);
  std::optional<std::string> user_value = user ? ScalarString(*user) : std::nullopt;
  if (!user_value || user_value->empty()) {
    return Err(InvalidArgument("claim \"" + role.user_claim + "\" not found in token"));
  }
  std::optional<std::vector<std::string>> group_names;
  if (!role.groups_claim.empty()) {
    const Json* groups = FindClaim(claims, role.groups_claim);
    if (groups == nullptr) {
      return Err(InvalidArgument("claim \"" + role.groups_claim + "\" not found in token"));
    }
    group_names.emplace();
    bool ok = groups->is_string();
    if (ok) group_names->push_back(groups->get<std::string>());
    if (groups->is_array()) {
      ok = true;
      for (const Json& g : *groups) {
        ok = ok && g.is_string();
        if (g.is_string()) group_names->push_back(g.get<std::string>());
      }
    }
    if (!ok) {
      return Err(InvalidArgument("claim \"" + role.groups_claim +
                                 "\" is not a string or a list of strings"));
    }
  }
  if (!AddressAllowed(request.remote_address, role.token.bound_cidrs)) {
    return Err(PermissionDenied("login request originated from invalid CIDR"));
  }

  logical::LoginResult login = role.token.ToLogin();
  login.metadata["role"] = name;
  for (const auto& [claim, key] : role.claim_mappings.items()) {
    const Json* v = FindClaim(claims, claim);
    if (v == nullptr) continue;
    auto s = ScalarString(*v);
    if (!s) {
      return Err(InvalidArgument("claim \"" + claim + "\" cannot be mapped: not a scalar"));
    }
    login.metadata[key.get<std::string>()] = *s;
  }
  login.display_name = *user_value;
  login.alias_name = *user_value;
  // The mapped claims and the role are the alias's metadata too, as in
  // Vault, so policy templates can name them.
  login.alias_metadata = login.metadata;
  login.group_aliases = std::move(group_names);
  return LoginResponse(std::move(login));
}

void RegisterJwt() {
  auto factory = [](const logical::BackendConfig& config) {
    Fetcher fetch = [](const std::string& url, const std::string& ca) { return HttpGet(url, ca); };
    return Result<std::unique_ptr<logical::Backend>>(
        std::make_unique<JwtBackend>(config, std::move(fetch)));
  };
  logical::RegisterAuthMethod("jwt", factory);
  logical::RegisterAuthMethod("oidc", factory);
}

}  // namespace coffer::auth::jwt
