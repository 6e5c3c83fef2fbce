#include "auth/kubernetes/kubernetes.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "auth/jwt/claims.h"
#include "auth/jwt/keys.h"
#include "auth/jwt/token.h"
#include "auth/token_fields.h"
#include "auth/util.h"
#include "common/clock.h"
#include "common/glob.h"
#include "common/log.h"
#include "common/secret_bytes.h"
#include "logical/registry.h"
#include "net/http_exchange.h"
#include "token/token_params.h"

namespace coffer::auth::kubernetes {
namespace {

using logical::Json;
using logical::Operation;
using logical::Request;
using logical::Response;

constexpr std::string_view kDefaultIssuer = "kubernetes/serviceaccount";
// Where a pod finds its cluster's CA certificate and its own token.
constexpr const char* kLocalCaPath = "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt";
constexpr const char* kLocalJwtPath = "/var/run/secrets/kubernetes.io/serviceaccount/token";

struct KubeConfig {
  std::string host;
  std::string ca_cert;
  std::string reviewer_jwt;
  std::vector<std::string> pem_keys;
  std::string issuer;
  bool disable_iss_validation = true;
  bool disable_local_ca_jwt = false;

  KubeConfig() = default;
  KubeConfig(const KubeConfig&) = default;
  KubeConfig& operator=(const KubeConfig&) = default;
  ~KubeConfig() { WipeString(reviewer_jwt); }

  Json Stored() const {
    return Json{{"kubernetes_host", host},
                {"kubernetes_ca_cert", ca_cert},
                {"token_reviewer_jwt", reviewer_jwt},
                {"pem_keys", pem_keys},
                {"issuer", issuer},
                {"disable_iss_validation", disable_iss_validation},
                {"disable_local_ca_jwt", disable_local_ca_jwt}};
  }
  static KubeConfig FromStored(const Json& j) {
    KubeConfig c;
    c.host = j.value("kubernetes_host", "");
    c.ca_cert = j.value("kubernetes_ca_cert", "");
    c.reviewer_jwt = j.value("token_reviewer_jwt", "");
    c.pem_keys = j.value("pem_keys", std::vector<std::string>{});
    c.issuer = j.value("issuer", "");
    c.disable_iss_validation = j.value("disable_iss_validation", true);
    c.disable_local_ca_jwt = j.value("disable_local_ca_jwt", false);
    return c;
  }
  // Vault's read answer: the reviewer JWT only as whether it is set.
  Json Read() const {
    return Json{{"kubernetes_host", host},
                {"kubernetes_ca_cert", ca_cert},
                {"pem_keys", pem_keys},
                {"issuer", issuer},
                {"disable_iss_validation", disable_iss_validation},
                {"disable_local_ca_jwt", disable_local_ca_jwt},
                {"token_reviewer_jwt_set", !reviewer_jwt.empty()}};
  }
};

struct KubeRole {
  std::vector<std::string> names;
  std::vector<std::string> namespaces;
  std::string namespace_selector;  // a LabelSelector as JSON text; "" for none
  std::string audience;
  std::string alias_name_source = "serviceaccount_uid";
  TokenFields token;

  Json Stored() const {
    Json j = token.ToStored();
    j["bound_service_account_names"] = names;
    j["bound_service_account_namespaces"] = namespaces;
    j["bound_service_account_namespace_selector"] = namespace_selector;
    j["audience"] = audience;
    j["alias_name_source"] = alias_name_source;
    return j;
  }
  static KubeRole FromStored(const Json& j) {
    KubeRole r;
    r.token = TokenFields::FromStored(j);
    r.names = j.value("bound_service_account_names", std::vector<std::string>{});
    r.namespaces = j.value("bound_service_account_namespaces", std::vector<std::string>{});
    r.namespace_selector = j.value("bound_service_account_namespace_selector", "");
    r.audience = j.value("audience", "");
    r.alias_name_source = j.value("alias_name_source", "serviceaccount_uid");
    return r;
  }
};

constexpr LegacyTokenNames kLegacy{
    .ttl = true, .max_ttl = true, .num_uses = true, .bound_cidrs = true};

Result<std::optional<KubeRole>> ReadRole(storage::Backend& storage, const std::string& name) {
  ASSIGN_OR_RETURN(auto stored, storage.Get("role/" + name));
  if (!stored) return std::optional<KubeRole>();
  ASSIGN_OR_RETURN(Json j, ParseStored(stored->value, "kubernetes role"));
  return std::optional<KubeRole>(KubeRole::FromStored(j));
}

Result<std::optional<KubeConfig>> ReadConfig(storage::Backend& storage) {
  ASSIGN_OR_RETURN(auto stored, storage.Get("config"));
  if (!stored) return std::optional<KubeConfig>();
  ASSIGN_OR_RETURN(Json j, ParseStored(stored->value, "kubernetes config"));
  WipeString(stored->value);
  KubeConfig c = KubeConfig::FromStored(j);
  if (auto it = j.find("token_reviewer_jwt"); it != j.end() && it->is_string()) {
    WipeString(it->get_ref<std::string&>());
  }
  return std::optional<KubeConfig>(std::move(c));
}

// Whether `pem` holds at least one certificate.
bool IsCertificatePem(const std::string& pem) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(
      BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), BIO_free);
  int count = 0;
  while (bio) {
    X509* cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr);
    if (cert == nullptr) break;
    X509_free(cert);
    ++count;
  }
  ERR_clear_error();
  return count > 0;
}

// A small file's text, or "" when it cannot be read.
std::string ReadLocalFile(const char* path) {
  std::ifstream in(path);
  if (!in) return "";
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// Whether `value` is one of `patterns` ('*' globs), as Vault's
// StrListContainsGlob.
bool Listed(const std::vector<std::string>& patterns, std::string_view value) {
  for (const auto& p : patterns) {
    if (GlobMatch(p, value)) return true;
  }
  return false;
}

Status Denied(std::string_view why) { return PermissionDenied(std::string(why)); }

// A string claim, or "" when absent or not a string.
std::string StringAt(const Json& j, std::initializer_list<const char*> path) {
  const Json* at = &j;
  for (const char* key : path) {
    if (!at->is_object()) return "";
    auto it = at->find(key);
    if (it == at->end()) return "";
    at = &*it;
  }
  return at->is_string() ? at->get<std::string>() : "";
}

// A namespace's name as Kubernetes allows it (an RFC 1123 label): it goes
// into the API's URL before the API has vouched for the token naming it.
bool IsNamespaceName(std::string_view name) {
  return !name.empty() && name.size() <= 63 && name.front() != '-' && name.back() != '-' &&
         std::all_of(name.begin(), name.end(), [](char c) {
           return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
         });
}

// A Kubernetes LabelSelector, written as JSON: {"matchLabels": {k: v},
// "matchExpressions": [{"key", "operator": In|NotIn|Exists|DoesNotExist,
// "values"}]}. Hand-checked: a handful of fields, no library for them.
Result<Json> ParseSelector(const std::string& text) {
  const Json sel = Json::parse(text, nullptr, false);
  if (!sel.is_object()) {
    return Err(InvalidArgument(
        "invalid \"bound_service_account_namespace_selector\" configured: it must be a JSON "
        "LabelSelector (YAML is not accepted here)"));
  }
  auto bad = [](const std::string& why) {
    return Err(
        InvalidArgument("invalid \"bound_service_account_namespace_selector\" configured: " + why));
  };
  for (const auto& [field, value] : sel.items()) {
    if (field == "matchLabels") {
      if (!value.is_object()) return bad("matchLabels must be an object");
      for (const auto& [k, v] : value.items()) {
        if (!v.is_string()) return bad("the value of matchLabels." + k + " must be a string");
      }
    } else if (field == "matchExpressions") {
      if (!value.is_array()) return bad("matchExpressions must be a list");
      for (const Json& e : value) {
        if (!e.is_object() || !e.value("key", Json()).is_string()) {
          return bad("each of matchExpressions needs a key");
        }
        const std::string op = e.value("operator", "");
        const Json values = e.value("values", Json::array());
        if (!values.is_array() || !std::all_of(values.begin(), values.end(),
                                               [](const Json& v) { return v.is_string(); })) {
          return bad("values must be a list of strings");
        }
        if (op == "In" || op == "NotIn") {
          if (values.empty()) return bad("operator " + op + " needs values");
        } else if (op == "Exists" || op == "DoesNotExist") {
          if (!values.empty()) return bad("operator " + op + " takes no values");
        } else {
          return bad("unknown operator \"" + op + "\"");
        }
      }
    } else {
      return bad("unknown field \"" + field + "\"");
    }
  }
  return sel;
}

// Whether labels match a parsed selector (every condition holds; an empty
// selector matches every namespace, as in Kubernetes).
bool SelectorMatches(const Json& sel, const std::map<std::string, std::string>& labels) {
  const Json match_labels = sel.value("matchLabels", Json::object());
  for (const auto& [k, v] : match_labels.items()) {
    auto it = labels.find(k);
    if (it == labels.end() || it->second != v.get<std::string>()) return false;
  }
  for (const Json& e : sel.value("matchExpressions", Json::array())) {
    auto it = labels.find(e["key"].get<std::string>());
    const std::string op = e["operator"].get<std::string>();
    const Json values = e.value("values", Json::array());
    const bool listed = it != labels.end() &&
                        std::find(values.begin(), values.end(), Json(it->second)) != values.end();
    if ((op == "In" && !listed) || (op == "NotIn" && listed) ||
        (op == "Exists" && it == labels.end()) || (op == "DoesNotExist" && it != labels.end())) {
      return false;
    }
  }
  return true;
}

// The service account a token names: a projected token's "kubernetes.io"
// claim, else a legacy secret token's flat claims.
struct ServiceAccount {
  std::string name, namespace_name, uid, secret_name;
  std::vector<std::string> audiences;
};

ServiceAccount AccountOf(const Json& claims) {
  ServiceAccount sa;
  sa.name = StringAt(claims, {"kubernetes.io", "serviceaccount", "name"});
  sa.uid = StringAt(claims, {"kubernetes.io", "serviceaccount", "uid"});
  sa.namespace_name = StringAt(claims, {"kubernetes.io", "namespace"});
  if (sa.name.empty())
    sa.name = StringAt(claims, {"kubernetes.io/serviceaccount/service-account.name"});
  if (sa.uid.empty())
    sa.uid = StringAt(claims, {"kubernetes.io/serviceaccount/service-account.uid"});
  if (sa.namespace_name.empty()) {
    sa.namespace_name = StringAt(claims, {"kubernetes.io/serviceaccount/namespace"});
  }
  sa.secret_name = StringAt(claims, {"kubernetes.io/serviceaccount/secret.name"});
  if (auto it = claims.find("aud"); it != claims.end()) {
    if (it->is_string()) sa.audiences.push_back(it->get<std::string>());
    if (it->is_array()) {
      for (const auto& a : *it) {
        if (a.is_string()) sa.audiences.push_back(a.get<std::string>());
      }
    }
  }
  return sa;
}

}  // namespace

Result<ReviewResult> ReviewOverHttp(const ReviewRequest& request) {
  std::string host = request.host;
  while (!host.empty() && host.back() == '/') host.pop_back();
  Json body{{"apiVersion", "authentication.k8s.io/v1"},
            {"kind", "TokenReview"},
            {"spec", {{"token", request.token}, {"audiences", request.audiences}}}};
  net::HttpRequest http{.method = "POST",
                        .url = host + "/apis/authentication.k8s.io/v1/tokenreviews",
                        .headers = {{"Authorization", "Bearer " + request.bearer},
                                    {"Content-Type", "application/json"},
                                    {"Accept", "application/json"}},
                        .body = body.dump(),
                        .ca_pem = request.ca_pem,
                        .user_agent = "coffer-kubernetes-auth"};
  // The request holds two tokens: wipe them when it goes.
  struct Wipe {
    net::HttpRequest& r;
    Json& b;
    ~Wipe() {
      WipeString(r.body);
      WipeString(r.headers["Authorization"]);
      WipeString(b["spec"]["token"].get_ref<std::string&>());
    }
  } wipe{http, body};
  ASSIGN_OR_RETURN(net::HttpResponse res, net::Exchange(http));
  if (res.status == 401) {
    return Err(
        Denied("lookup failed: service account unauthorized; this could mean it has been "
               "deleted or recreated with a new token"));
  }
  if (res.status < 200 || res.status > 206) {
    return Err(Denied("lookup failed: the TokenReview API answered " + std::to_string(res.status)));
  }
  // The answer repeats the token under review (spec.token): wipe both
  // copies once it is read.
  Json review = Json::parse(res.body, nullptr, false);
  WipeString(res.body);
  if (review.is_object() && review.contains("spec") && review["spec"].is_object() &&
      review["spec"].contains("token") && review["spec"]["token"].is_string()) {
    WipeString(review["spec"]["token"].get_ref<std::string&>());
  }
  if (!review.is_object()) return Err(Denied("lookup failed: the TokenReview answer is not JSON"));
  const Json status = review.value("status", Json::object());
  if (!status.is_object())
    return Err(Denied("lookup failed: the TokenReview answer has no status"));
  if (const std::string error = StringAt(status, {"error"}); !error.empty()) {
    return Err(Denied("lookup failed: " + error));
  }
  if (const auto ok = status.find("authenticated");
      ok == status.end() || !ok->is_boolean() || !ok->get<bool>()) {
    return Err(Denied("lookup failed: service account jwt not valid"));
  }
  if (!request.audiences.empty()) {
    const Json got = status.value("audiences", Json::array());
    bool found = false;
    for (const auto& a : request.audiences) {
      found = found || (got.is_array() && std::find(got.begin(), got.end(), Json(a)) != got.end());
    }
    if (!found) return Err(Denied("lookup failed: service account jwt not valid for the audience"));
  }
  const std::string username = StringAt(status, {"user", "username"});
  // system:serviceaccount:<namespace>:<name>
  std::vector<std::string> parts;
  std::size_t start = 0;
  for (std::size_t colon; (colon = username.find(':', start)) != std::string::npos;
       start = colon + 1) {
    parts.push_back(username.substr(start, colon - start));
  }
  parts.push_back(username.substr(start));
  if (parts.size() != 4) return Err(Denied("lookup failed: unexpected username format"));
  if (parts[0] != "system" || parts[1] != "serviceaccount") {
    return Err(Denied("lookup failed: username returned is not a service account"));
  }
  return ReviewResult{parts[3], parts[2], StringAt(status, {"user", "uid"})};
}

Result<std::map<std::string, std::string>> NamespaceLabelsOverHttp(
    const ReviewRequest& request, const std::string& namespace_name) {
  std::string host = request.host;
  while (!host.empty() && host.back() == '/') host.pop_back();
  net::HttpRequest http{
      .method = "GET",
      .url = host + "/api/v1/namespaces/" + namespace_name,
      .headers = {{"Authorization", "Bearer " + request.bearer}, {"Accept", "application/json"}},
      .ca_pem = request.ca_pem,
      .user_agent = "coffer-kubernetes-auth"};
  Result<net::HttpResponse> res = net::Exchange(http);
  WipeString(http.headers["Authorization"]);
  if (!res) return Err(res.error());
  if (res->status != 200) {
    return Err(
        Unavailable("namespace lookup failed: the API answered " + std::to_string(res->status)));
  }
  const Json ns = Json::parse(res->body, nullptr, false);
  std::map<std::string, std::string> labels;
  const Json meta = ns.is_object() ? ns.value("metadata", Json::object()) : Json::object();
  if (!meta.is_object()) return labels;
  const Json found = meta.value("labels", Json::object());
  if (!found.is_object()) return labels;
  for (const auto& [k, v] : found.items()) {
    if (v.is_string()) labels[k] = v.get<std::string>();
  }
  return labels;
}

bool KubernetesBackend::IsUnauthenticated(std::string_view relative_path) const {
  return relative_path == "login";
}

Result<std::optional<logical::LoginRenewal>> KubernetesBackend::CheckLoginRenewal(
    const logical::LoginRenewalRequest& renewal) {
  return RenewWhileRoleExists(
      renewal, [this](const std::string& name) -> Result<std::optional<TokenFields>> {
        ASSIGN_OR_RETURN(auto role, ReadRole(storage_, name));
        if (!role) return std::optional<TokenFields>();
        return std::optional<TokenFields>(role->token);
      });
}

Result<Response> KubernetesBackend::HandleRequest(const Request& request) {
  return RouteRoleMethod(
      request, storage_,
      {.config = [this](const Request& r) { return Config(r); },
       .login = [this](const Request& r) { return Login(r); },
       .role = [this](const Request& r, const std::string& name) { return RolePath(r, name); }});
}

Result<Response> KubernetesBackend::Config(const Request& request) {
  if (request.operation == Operation::kRead) {
    ASSIGN_OR_RETURN(auto config, ReadConfig(storage_));
    if (!config) return NotFoundResponse();
    Response r;
    r.data = config->Read();
    return r;
  }
  if (!IsWrite(request.operation)) return Err(MethodNotAllowed());
  // Every write replaces the whole configuration, as in Vault.
  KubeConfig c;
  ASSIGN_OR_RETURN(auto host, token::params::String(request, "kubernetes_host"));
  c.host = host.value_or("");
  if (c.host.empty()) return Err(InvalidArgument("no host provided"));
  if (!c.host.starts_with("https://") && !c.host.starts_with("http://")) {
    return Err(InvalidArgument("kubernetes_host must be an http:// or https:// URL"));
  }
  ASSIGN_OR_RETURN(auto ca, token::params::String(request, "kubernetes_ca_cert"));
  c.ca_cert = ca.value_or("");
  // As Vault: a CA that does not parse is kept, with a warning; every
  // review will then fail its TLS handshake.
  const bool ca_unusable = !c.ca_cert.empty() && !IsCertificatePem(c.ca_cert);
  ASSIGN_OR_RETURN(auto reviewer, token::params::String(request, "token_reviewer_jwt"));
  if (reviewer) {
    c.reviewer_jwt = *reviewer;
    WipeString(*reviewer);
  }
  ASSIGN_OR_RETURN(auto keys, token::params::List(request, "pem_keys"));
  c.pem_keys = keys.value_or(std::vector<std::string>{});
  for (const auto& pem : c.pem_keys) {
    if (auto parsed = jwt::ParsePemPublicKey(pem); !parsed) {
      return Err(InvalidArgument("pem_keys: " + parsed.error().message()));
    }
  }
  ASSIGN_OR_RETURN(auto issuer, token::params::String(request, "issuer"));
  c.issuer = issuer.value_or("");
  ASSIGN_OR_RETURN(auto no_iss, token::params::Bool(request, "disable_iss_validation"));
  c.disable_iss_validation = no_iss.value_or(true);
  ASSIGN_OR_RETURN(auto no_local, token::params::Bool(request, "disable_local_ca_jwt"));
  c.disable_local_ca_jwt = no_local.value_or(false);
  if (c.disable_local_ca_jwt && c.ca_cert.empty() && c.host.starts_with("https://")) {
    return Err(
        InvalidArgument("kubernetes_ca_cert must be given when disable_local_ca_jwt is true"));
  }
  std::scoped_lock lock(write_mu_);
  Json stored = c.Stored();
  std::string text = stored.dump();
  WipeString(stored["token_reviewer_jwt"].get_ref<std::string&>());
  Status s = storage_.Put("config", text);
  WipeString(text);
  TRY(s);
  if (!ca_unusable) return NoContent();
  Response r;
  r.data = Json::object();
  r.warnings =
      Json::array({"kubernetes_ca_cert contains no valid PEM certificate: TLS "
                   "verification of the Kubernetes API will fail"});
  return r;
}

Result<Response> KubernetesBackend::RolePath(const Request& request, const std::string& name) {
  if (name.empty() || name.find('/') != std::string::npos) {
    return Err(InvalidArgument("invalid role name"));
  }
  switch (request.operation) {
    case Operation::kRead: {
      ASSIGN_OR_RETURN(auto role, ReadRole(storage_, name));
      if (!role) return NotFoundResponse();
      Json data{{"bound_service_account_names", role->names},
                {"bound_service_account_namespaces", role->namespaces},
                {"bound_service_account_namespace_selector", role->namespace_selector},
                {"alias_name_source", role->alias_name_source}};
      if (!role->audience.empty()) data["audience"] = role->audience;
      role->token.AddTo(data);
      Response r;
      r.data = std::move(data);
      return r;
    }
    case Operation::kCreate:
    case Operation::kUpdate: {
      std::scoped_lock lock(write_mu_);
      ASSIGN_OR_RETURN(auto existing, ReadRole(storage_, name));
      KubeRole role = existing ? std::move(*existing) : KubeRole{};
      TRY(role.token.Update(request, kLegacy));
      ASSIGN_OR_RETURN(auto names, token::params::List(request, "bound_service_account_names"));
      if (names) role.names = std::move(*names);
      ASSIGN_OR_RETURN(auto spaces,
                       token::params::List(request, "bound_service_account_namespaces"));
      if (spaces) role.namespaces = std::move(*spaces);
      ASSIGN_OR_RETURN(auto selector,
                       token::params::String(request, "bound_service_account_namespace_selector"));
      if (selector) {
        if (!selector->empty()) {
          if (auto parsed = ParseSelector(*selector); !parsed) return Err(parsed.error());
        }
        role.namespace_selector = *selector;
      }
      ASSIGN_OR_RETURN(auto audience, token::params::String(request, "audience"));
      if (audience) role.audience = *audience;
      ASSIGN_OR_RETURN(auto source, token::params::String(request, "alias_name_source"));
      if (source && !source->empty()) {
        if (existing && *source != role.alias_name_source) {
          return Err(InvalidArgument("alias_name_source cannot be changed"));
        }
        if (*source != "serviceaccount_uid" && *source != "serviceaccount_name") {
          return Err(InvalidArgument("invalid alias_name_source \"" + *source + "\""));
        }
        role.alias_name_source = *source;
      }
      auto star_alone = [](const std::vector<std::string>& v) {
        return v.size() <= 1 || std::find(v.begin(), v.end(), "*") == v.end();
      };
      if (role.names.empty()) {
        return Err(InvalidArgument("\"bound_service_account_names\" can not be empty"));
      }
      if (!star_alone(role.names) || !star_alone(role.namespaces)) {
        return Err(InvalidArgument("can not mix \"*\" with values"));
      }
      if (role.namespaces.empty() && role.namespace_selector.empty()) {
        return Err(
            InvalidArgument("\"bound_service_account_namespaces\" can not be empty if "
                            "\"bound_service_account_namespace_selector\" is not set"));
      }
      TRY(storage_.Put("role/" + name, role.Stored().dump()));
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

Result<Response> KubernetesBackend::Login(const Request& request) {
  if (!IsWrite(request.operation)) return Err(MethodNotAllowed());
  ASSIGN_OR_RETURN(auto role_name, token::params::String(request, "role"));
  const std::string name = role_name.value_or("");
  if (name.empty()) return Err(InvalidArgument("missing role"));
  const Json* jwt_field = request.Field("jwt");
  if (jwt_field == nullptr || !jwt_field->is_string() ||
      jwt_field->get_ref<const std::string&>().empty()) {
    return Err(InvalidArgument("missing jwt"));
  }
  const std::string& text = jwt_field->get_ref<const std::string&>();
  if (name.find('/') != std::string::npos) return Err(InvalidArgument("invalid role name"));
  ASSIGN_OR_RETURN(auto role, ReadRole(storage_, name));
  if (!role) return Err(InvalidArgument("invalid role name \"" + name + "\""));
  if (!AddressAllowed(request.remote_address, role->token.bound_cidrs)) {
    return Err(PermissionDenied());
  }
  ASSIGN_OR_RETURN(auto config, ReadConfig(storage_));
  if (!config) return Err(Internal("could not load backend configuration"));

  // The token itself, before the cluster is asked.
  auto parsed = jwt::ParseJwt(text);
  if (!parsed) return Err(Denied(parsed.error().message()));
  const Json& claims = parsed->claims;
  if (!config->pem_keys.empty()) {
    jwt::KeySet keys;
    for (const auto& pem : config->pem_keys) {
      ASSIGN_OR_RETURN(jwt::PublicKey key, jwt::ParsePemPublicKey(pem));
      keys.push_back(std::move(key));
    }
    if (!jwt::VerifyWithKeySet(*parsed, keys).ok()) return Err(PermissionDenied());
  }
  if (!config->disable_iss_validation) {
    const std::string expected =
        config->issuer.empty() ? std::string(kDefaultIssuer) : config->issuer;
    if (StringAt(claims, {"iss"}) != expected) return Err(Denied("invalid issuer (iss) claim"));
  }
  if (claims.contains("exp")) {
    const std::int64_t now = UnixSeconds(clock_.Wall());
    if (Status s = jwt::CheckTimes(claims, now, jwt::Leeways{}); !s.ok()) {
      return Err(Denied(s.message()));
    }
  }
  ServiceAccount sa = AccountOf(claims);
  if (!role->audience.empty() &&
      std::find(sa.audiences.begin(), sa.audiences.end(), role->audience) == sa.audiences.end()) {
    return Err(Denied("invalid audience (aud) claim: audience not found"));
  }
  if (!(role->names.size() == 1 && role->names[0] == "*") && !Listed(role->names, sa.name)) {
    return Err(Denied("service account name not authorized"));
  }
  // How the API is reached: its CA and the reviewer's token (a pod's own
  // when the config gives none and allows it).
  ReviewRequest review{.host = config->host,
                       .ca_pem = config->ca_cert,
                       .bearer = config->reviewer_jwt,
                       .token = text,
                       .audiences = role->audience.empty()
                                        ? sa.audiences
                                        : std::vector<std::string>{role->audience}};
  if (!config->disable_local_ca_jwt) {
    if (review.ca_pem.empty()) review.ca_pem = ReadLocalFile(kLocalCaPath);
    if (review.bearer.empty()) review.bearer = ReadLocalFile(kLocalJwtPath);
  }
  struct WipeReview {
    ReviewRequest& r;
    ~WipeReview() {
      WipeString(r.bearer);
      WipeString(r.token);
    }
  } wipe_review{review};

  bool namespace_allowed = (role->namespaces.size() == 1 && role->namespaces[0] == "*") ||
                           Listed(role->namespaces, sa.namespace_name);
  if (!namespace_allowed && !role->namespace_selector.empty()) {
    // As Vault: the namespace's labels are read as the reviewer, never as
    // the token under review.
    if (review.bearer.empty()) {
      return Err(
          Denied("namespace not authorized: the namespace selector needs a "
                 "token_reviewer_jwt to read namespaces"));
    }
    if (!IsNamespaceName(sa.namespace_name)) return Err(Denied("namespace not authorized"));
    ASSIGN_OR_RETURN(Json selector, ParseSelector(role->namespace_selector));
    auto labels = api_.labels(review, sa.namespace_name);
    if (!labels) {
      Log(LogModule::kKubernetes)
          .warn("login for role {}: reading namespace {} failed: {}", name, sa.namespace_name,
                labels.error().message());
    }
    namespace_allowed = labels && SelectorMatches(selector, *labels);
  }
  if (!namespace_allowed) return Err(Denied("namespace not authorized"));
  if (sa.uid.empty()) return Err(Denied("could not parse UID from claims"));

  // The cluster's word: the token is valid and names the same account.
  if (review.bearer.empty()) review.bearer = text;
  Result<ReviewResult> reviewed = api_.review(review);
  if (!reviewed) {
    // As Vault: whatever failed, the login is a bare 403. Why (the API's
    // own error text, its host, the step that failed; never a token) is
    // for the log, not for the unauthenticated caller.
    Log(LogModule::kKubernetes)
        .warn("login for role {} refused: {}", name, reviewed.error().message());
    return Err(PermissionDenied());
  }
  if (reviewed->name != sa.name) return Err(Denied("JWT names did not match"));
  if (reviewed->uid != sa.uid) return Err(Denied("JWT UIDs did not match"));
  if (reviewed->namespace_name != sa.namespace_name) {
    return Err(Denied("JWT namespaces did not match"));
  }

  logical::LoginResult login = role->token.ToLogin();
  login.metadata = {{"service_account_uid", sa.uid},
                    {"service_account_name", sa.name},
                    {"service_account_namespace", sa.namespace_name},
                    {"service_account_secret_name", sa.secret_name},
                    {"role", name}};
  login.display_name = sa.namespace_name + "-" + sa.name;
  login.alias_name =
      role->alias_name_source == "serviceaccount_name" ? sa.namespace_name + "/" + sa.name : sa.uid;
  auto alias_metadata = login.metadata;
  alias_metadata.erase("role");
  login.alias_metadata = std::move(alias_metadata);
  return LoginResponse(std::move(login));
}

void RegisterKubernetes() {
  logical::RegisterAuthMethod("kubernetes", [](const logical::BackendConfig& config) {
    return Result<std::unique_ptr<logical::Backend>>(
        std::make_unique<KubernetesBackend>(config, KubeApi{}));
  });
}

}  // namespace coffer::auth::kubernetes
