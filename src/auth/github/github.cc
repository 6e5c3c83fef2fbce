#include "auth/github/github.h"

#include <algorithm>
#include <cctype>

#include "auth/token_fields.h"
#include "auth/util.h"
#include "common/log.h"
#include "common/secret_bytes.h"
#include "common/text.h"
#include "common/url.h"
#include "token/token_params.h"

namespace coffer::auth::github {
namespace {

using logical::Json;
using logical::Operation;
using logical::Request;
using logical::Response;
namespace params = token::params;

constexpr std::string_view kDefaultBaseUrl = "https://api.github.com/";
constexpr int kPageSize = 100;
constexpr int kMaxPages = 50;  // 5,000 organizations or teams

struct GithubConfig {
  std::string organization;
  std::int64_t organization_id = 0;
  std::string base_url;
  TokenFields token;

  std::string Base() const { return base_url.empty() ? std::string(kDefaultBaseUrl) : base_url; }

  Json ToRead() const {
    Json j = Json::object();
    token.AddTo(j);
    j["organization"] = organization;
    j["organization_id"] = organization_id;
    j["base_url"] = base_url;
    return j;
  }
  Json ToStored() const {
    Json j = token.ToStored();
    j["organization"] = organization;
    j["organization_id"] = organization_id;
    j["base_url"] = base_url;
    return j;
  }
  static GithubConfig FromStored(const Json& j) {
    GithubConfig c;
    c.organization = j.value("organization", "");
    c.organization_id = j.value("organization_id", std::int64_t{0});
    c.base_url = j.value("base_url", "");
    c.token = TokenFields::FromStored(j);
    return c;
  }
};

Result<std::optional<GithubConfig>> ReadConfig(storage::Backend& storage) {
  ASSIGN_OR_RETURN(auto stored, storage.Get("config"));
  if (!stored) return std::optional<GithubConfig>();
  ASSIGN_OR_RETURN(Json j, ParseStored(stored->value, "github config"));
  return std::optional<GithubConfig>(GithubConfig::FromStored(j));
}

// One GET of the GitHub API, as JSON. `token` may be empty (no
// Authorization). Errors name the path and the status, never the token.
Result<Json> ApiGet(const net::HttpDo& http, const std::string& base, const std::string& path,
                    const std::string& token) {
  net::HttpRequest req{.method = "GET",
                       .url = base + path,
                       .headers = {{"Accept", "application/vnd.github+json"},
                                   {"X-GitHub-Api-Version", "2022-11-28"}},
                       .user_agent = "coffer-github-auth"};
  if (!token.empty()) req.headers["Authorization"] = "Bearer " + token;
  auto res = http(req);
  WipeString(req.headers["Authorization"]);
  if (!res) return Err(Unavailable("GitHub API GET " + path + ": " + res.error().message()));
  if (res->status == 401 || res->status == 403) {
    return Err(PermissionDenied("GitHub API GET " + path + " answered " +
                                std::to_string(res->status) + ": the token was refused"));
  }
  if (res->status != 200) {
    return Err(Unavailable("GitHub API GET " + path + " answered " + std::to_string(res->status)));
  }
  // An empty body reads as nothing (an empty list), as GitHub's Go client
  // reads it.
  if (res->body.empty()) return Json();
  Json j = Json::parse(res->body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Err(Unavailable("GitHub API GET " + path + ": not JSON"));
  return j;
}

// Every entry of a list endpoint, page by page until a page is not full.
Result<std::vector<Json>> ApiList(const net::HttpDo& http, const std::string& base,
                                  const std::string& path, const std::string& token) {
  std::vector<Json> out;
  for (int page = 1; page <= kMaxPages; ++page) {
    std::string query = "?per_page=" + std::to_string(kPageSize);
    if (page > 1) query += "&page=" + std::to_string(page);
    ASSIGN_OR_RETURN(Json j, ApiGet(http, base, path + query, token));
    if (j.is_null()) break;
    if (!j.is_array()) return Err(Unavailable("GitHub API GET " + path + ": not a list"));
    for (auto& e : j) out.push_back(std::move(e));
    if (j.size() < static_cast<std::size_t>(kPageSize)) break;
  }
  return out;
}

std::string StringOf(const Json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::int64_t IdOf(const Json& j) {
  auto it = j.find("id");
  return it != j.end() && it->is_number_integer() ? it->get<std::int64_t>() : 0;
}

std::vector<std::string> Policies(const Json& j) {
  std::vector<std::string> out;
  std::string value = j.value("value", "");
  std::size_t start = 0;
  while (start <= value.size()) {
    const auto comma = value.find(',', start);
    std::string_view p = Trim(std::string_view(value).substr(start, comma - start));
    if (!p.empty()) out.emplace_back(p);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

// The internal data key of the login's GitHub token.
constexpr char kInternalToken[] = "github_token";

// What GitHub says of a token's owner under `c`: the user, the
// organization's current name, its teams the user is in (names and slugs),
// and the policies those map to (the config's token_policies, the
// mappings of each team and of the user, and of "default" in both maps, as
// Vault's policy maps add their default key).
struct Verified {
  std::string login;
  std::string org_login;
  std::vector<std::string> teams;
  std::vector<std::string> policies;
};

Result<Verified> Verify(storage::Backend& storage, const net::HttpDo& http, const GithubConfig& c,
                        std::string_view token_text) {
  // A GitHub token is printable ASCII; anything else is refused before it
  // goes into a request header.
  for (char ch : token_text) {
    if (ch < 0x21 || ch > 0x7e) {
      return Err(InvalidArgument("the token holds characters a GitHub token does not have"));
    }
  }
  std::string token(token_text);
  struct WipeToken {
    std::string& t;
    ~WipeToken() { WipeString(t); }
  } wipe{token};
  const std::string base = c.Base();
  // The API's refusal of the token is the caller's (400). An API that
  // cannot be reached is the server's (503): the caller is told so and the
  // log has the step and the host.
  auto failed = [](const Status& s) {
    if (s.code() == Code::kPermissionDenied) return Err(InvalidArgument(s.message()));
    Log(LogModule::kGithub).warn("a login could not ask GitHub: {}", s.message());
    return Err(Unavailable("the GitHub API could not be reached; the server's log says why"));
  };

  Verified v;
  auto user = ApiGet(http, base, "user", token);
  if (!user) return failed(user.error());
  v.login = StringOf(*user, "login");
  if (v.login.empty()) return Err(InvalidArgument("the GitHub API named no user for the token"));

  auto orgs = ApiList(http, base, "user/orgs", token);
  if (!orgs) return failed(orgs.error());
  const Json* org = nullptr;
  for (const Json& o : *orgs) {
    if (o.is_object() && IdOf(o) == c.organization_id) org = &o;
  }
  if (org == nullptr) return Err(InvalidArgument("user is not part of required org"));
  v.org_login = StringOf(*org, "login");
  if (v.org_login != c.organization) {
    Log(LogModule::kGithub)
        .warn(
            "the organization name has changed to {}; update organization in the config of "
            "this github mount (organization_id={})",
            Json(v.org_login).dump(), c.organization_id);
  }

  auto teams = ApiList(http, base, "user/teams", token);
  if (!teams) return failed(teams.error());
  for (const Json& t : *teams) {
    if (!t.is_object()) continue;
    auto org_of = t.find("organization");
    if (org_of == t.end() || !org_of->is_object() || IdOf(*org_of) != c.organization_id) continue;
    const std::string name = StringOf(t, "name");
    const std::string slug = StringOf(t, "slug");
    if (!name.empty()) v.teams.push_back(name);
    if (!slug.empty() && slug != name) v.teams.push_back(slug);
  }

  v.policies = c.token.policies;
  auto add_mapped = [&](std::string_view kind, const std::string& name) -> Status {
    ASSIGN_OR_RETURN(auto stored, storage.Get("map/" + std::string(kind) + "/" + AsciiLower(name)));
    if (!stored) return Status::Ok();
    ASSIGN_OR_RETURN(Json j, ParseStored(stored->value, "github mapping"));
    for (auto& p : Policies(j)) v.policies.push_back(std::move(p));
    return Status::Ok();
  };
  TRY(add_mapped("teams", "default"));
  for (const auto& t : v.teams) TRY(add_mapped("teams", t));
  TRY(add_mapped("users", "default"));
  TRY(add_mapped("users", v.login));
  std::sort(v.policies.begin(), v.policies.end());
  v.policies.erase(std::unique(v.policies.begin(), v.policies.end()), v.policies.end());
  return v;
}

}  // namespace

std::string GithubBackend::AclPath(std::string_view relative_path) const {
  if (!relative_path.starts_with("map/")) return std::string(relative_path);
  return WithCanonicalSegment(relative_path, 2);
}

bool GithubBackend::IsUnauthenticated(std::string_view relative_path) const {
  return relative_path == "login";
}

Result<std::optional<logical::LoginRenewal>> GithubBackend::CheckLoginRenewal(
    const logical::LoginRenewalRequest& renewal) {
  ASSIGN_OR_RETURN(auto config, ReadConfig(storage_));
  if (!config || config->organization.empty()) {
    return Err(InvalidArgument("configure the github credential backend first"));
  }
  // GitHub is asked again with the login's token: someone who left the
  // organization or a team, or whose mapping changed, is not renewed.
  auto kept = renewal.internal->find(kInternalToken);
  if (kept == renewal.internal->end()) {
    return Err(InvalidArgument(
        "the token's GitHub login was made before renewals were checked; log in again"));
  }
  ASSIGN_OR_RETURN(Verified v, Verify(storage_, http_, *config, kept->second));
  TokenFields now = config->token;
  now.policies = std::move(v.policies);
  if (!now.SamePolicies(*renewal.policies)) {
    return Err(InvalidArgument("policies do not match, not renewing"));
  }
  return std::optional<logical::LoginRenewal>(config->token.ToRenewal());
}

Result<Response> GithubBackend::HandleRequest(const Request& request) {
  std::string_view rel = request.relative_path;
  while (!rel.empty() && rel.back() == '/') rel.remove_suffix(1);
  if (rel == "config") return ConfigPath(request);
  if (rel == "login") return Login(request);
  std::vector<std::string_view> seg = Segments(rel);
  if (seg.size() >= 2 && seg[0] == "map" && (seg[1] == "teams" || seg[1] == "users")) {
    const std::string kind(seg[1]);
    if (seg.size() == 2) {
      // A read of the folder lists it, as in Vault.
      if (request.operation != Operation::kList && request.operation != Operation::kRead) {
        return Err(MethodNotAllowed());
      }
      ASSIGN_OR_RETURN(auto keys, storage_.List("map/" + kind + "/"));
      return KeysResponse(std::move(keys));
    }
    if (seg.size() == 3 && !seg[2].empty()) return MapPath(request, kind, std::string(seg[2]));
  }
  return Err(NotFound("unsupported path"));
}

Result<Response> GithubBackend::ConfigPath(const Request& request) {
  if (request.operation == Operation::kRead) {
    ASSIGN_OR_RETURN(auto config, ReadConfig(storage_));
    if (!config) return NotFoundResponse();
    Response r;
    r.data = config->ToRead();
    return r;
  }
  if (!IsWrite(request.operation)) return Err(MethodNotAllowed());
  std::scoped_lock lock(write_mu_);
  ASSIGN_OR_RETURN(auto existing, ReadConfig(storage_));
  GithubConfig c = existing ? *existing : GithubConfig();
  ASSIGN_OR_RETURN(auto org, params::String(request, "organization"));
  // The same name sent again (clients send the whole config on every
  // update) keeps the id: reading it again would pin whichever organization
  // holds the name today, someone else's after a rename.
  const bool renamed = org && AsciiLower(*org) != AsciiLower(c.organization);
  if (org) c.organization = *org;
  ASSIGN_OR_RETURN(auto org_id, params::Int(request, "organization_id"));
  if (org_id) c.organization_id = *org_id;
  ASSIGN_OR_RETURN(auto base, params::String(request, "base_url"));
  if (base) {
    c.base_url = *base;
    if (!c.base_url.empty()) {
      if (!ParseHttpUrl(c.base_url)) {
        return Err(InvalidArgument("error parsing given base_url: it must be an http(s) URL"));
      }
      if (c.base_url.back() != '/') c.base_url += '/';
    }
  }
  TRY(c.token.Update(request, {.ttl = true, .max_ttl = true}));
  if (c.organization.empty()) return Err(InvalidArgument("organization is a required parameter"));
  // A new organization name without its id: the id is read from GitHub now,
  // and logins compare ids (a renamed organization keeps its id).
  if ((!org_id || *org_id == 0) && (c.organization_id == 0 || renamed)) {
    auto found = ApiGet(http_, c.Base(), "orgs/" + QueryEscape(c.organization), "");
    if (!found || IdOf(*found) == 0) {
      return Err(InvalidArgument(
          "unable to fetch the organization_id, you must manually set it in the config: " +
          (found ? std::string("no id in the answer") : found.error().message())));
    }
    c.organization_id = IdOf(*found);
  }
  TRY(storage_.Put("config", c.ToStored().dump()));
  return NoContent();
}

Result<Response> GithubBackend::MapPath(const Request& request, std::string_view kind,
                                        const std::string& raw_name) {
  const std::string name = AsciiLower(raw_name);
  const std::string key = "map/" + std::string(kind) + "/" + name;
  switch (request.operation) {
    case Operation::kRead: {
      // A name without a mapping reads as one without policies: Vault
      // answers 200 there too, not 404.
      ASSIGN_OR_RETURN(auto stored, storage_.Get(key));
      std::string value;
      if (stored) {
        ASSIGN_OR_RETURN(Json j, ParseStored(stored->value, "github mapping"));
        value = j.value("value", "");
      }
      Response r;
      r.data = Json{{"key", name}, {"value", value}};
      return r;
    }
    case Operation::kCreate:
    case Operation::kUpdate: {
      // "value": the policies, a comma-separated string or a list.
      ASSIGN_OR_RETURN(auto value, params::List(request, "value"));
      std::string joined;
      for (const auto& p : value.value_or(std::vector<std::string>{})) {
        joined += (joined.empty() ? "" : ",") + p;
      }
      std::scoped_lock lock(write_mu_);
      TRY(storage_.Put(key, Json{{"value", joined}}.dump()));
      return NoContent();
    }
    case Operation::kDelete:
      TRY(storage_.Delete(key));
      return NoContent();
    default:
      return Err(MethodNotAllowed());
  }
}

Result<Response> GithubBackend::Login(const Request& request) {
  if (!IsWrite(request.operation)) return Err(MethodNotAllowed());
  ASSIGN_OR_RETURN(auto config, ReadConfig(storage_));
  if (!config || config->organization.empty()) {
    return Err(InvalidArgument("configure the github credential backend first"));
  }
  const GithubConfig& c = *config;
  if (!AddressAllowed(request.remote_address, c.token.bound_cidrs)) {
    return Err(PermissionDenied("login request originated from invalid CIDR"));
  }
  const Json* field = request.Field("token");
  if (field == nullptr || !field->is_string() || field->get_ref<const std::string&>().empty()) {
    return Err(InvalidArgument("missing token"));
  }
  SecretBytes token = SecretBytes::FromString(field->get_ref<const std::string&>());
  ASSIGN_OR_RETURN(Verified v, Verify(storage_, http_, c, token.view()));

  logical::LoginResult result = c.token.ToLogin();
  result.policies = std::move(v.policies);
  result.metadata["username"] = v.login;
  result.metadata["org"] = v.org_login;
  result.display_name = v.login;
  result.alias_name = v.login;
  result.group_aliases = std::move(v.teams);
  // Kept with the token (under the barrier, never reported) so that a
  // renewal asks GitHub again, as Vault's InternalData does.
  result.internal[kInternalToken] = std::string(token.view());
  return LoginResponse(std::move(result));
}

void RegisterGithub() { RegisterMethod<GithubBackend>("github"); }

}  // namespace coffer::auth::github
