#include "auth/jwt/oidc_flow.h"

#include <openssl/sha.h>

#include "common/encoding.h"
#include "common/secret_bytes.h"
#include "common/url.h"
#include "crypto/random.h"

namespace coffer::auth::jwt {
namespace {

using Json = nlohmann::json;

// A state or nonce: 32 random bytes, base64url.
Result<std::string> RandomToken() {
  ASSIGN_OR_RETURN(SecretBytes bytes, crypto::RandomSecret(32));
  return Base64UrlEncode(bytes.view());
}

struct UriParts {
  std::string scheme_and_host;  // "http://localhost", without the port
  std::string host;
  std::string rest;  // path, query and fragment
};

// Whether `port` is a TCP port in decimal (1 to 5 digits, at most 65535).
bool ValidPort(std::string_view port) {
  if (port.empty() || port.size() > 5) return false;
  unsigned value = 0;
  for (char c : port) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  return value <= 65535;
}

// scheme://authority/rest, split; nullopt when `uri` has no "://", names a
// user, or has a port that is not a number (Go's url.Parse refuses those).
std::optional<UriParts> SplitUri(std::string_view uri) {
  const auto scheme_end = uri.find("://");
  if (scheme_end == std::string_view::npos) return std::nullopt;
  std::string_view after = uri.substr(scheme_end + 3);
  const auto authority_end = after.find_first_of("/?#");
  std::string_view authority = after.substr(0, authority_end);
  UriParts p;
  if (authority_end != std::string_view::npos) p.rest = std::string(after.substr(authority_end));
  if (authority.find('@') != std::string_view::npos) return std::nullopt;
  std::string_view host = authority;
  std::string_view after_host;  // "" or ":port"
  if (host.starts_with('[')) {
    const auto close = host.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    after_host = host.substr(close + 1);
    host = host.substr(1, close - 1);
  } else if (const auto colon = host.rfind(':'); colon != std::string_view::npos) {
    after_host = host.substr(colon);
    host = host.substr(0, colon);
  }
  if (!after_host.empty() && (after_host[0] != ':' || !ValidPort(after_host.substr(1)))) {
    return std::nullopt;
  }
  p.host = std::string(host);
  p.scheme_and_host = std::string(uri.substr(0, scheme_end + 3)) + p.host;
  return p;
}

bool IsLoopback(std::string_view host) {
  return host == "localhost" || host == "127.0.0.1" || host == "::1";
}

std::string FormEncode(const std::map<std::string, std::string>& fields) {
  std::string out;
  for (const auto& [k, v] : fields) {
    if (!out.empty()) out += '&';
    out += QueryEscape(k);
    out += '=';
    out += QueryEscape(v);
  }
  return out;
}

// The provider's own words for a refused request, when it gave them.
std::string ProviderError(const std::string& body, int status) {
  Json j = Json::parse(body, nullptr, /*allow_exceptions=*/false);
  std::string out;
  if (!j.is_discarded() && j.is_object()) {
    if (auto e = j.find("error"); e != j.end() && e->is_string()) out = e->get<std::string>();
    if (auto d = j.find("error_description"); d != j.end() && d->is_string()) {
      out += (out.empty() ? "" : ": ") + d->get<std::string>();
    }
  }
  if (out.size() > 200) out.resize(200);
  if (out.empty()) out = "the token endpoint answered " + std::to_string(status);
  return out;
}

bool InvalidClient(const net::HttpResponse& res) {
  if (res.status == 401) return true;
  if (res.status != 400) return false;
  Json j = Json::parse(res.body, nullptr, /*allow_exceptions=*/false);
  return !j.is_discarded() && j.is_object() && j.value("error", Json()) == "invalid_client";
}

}  // namespace

PendingLogin::~PendingLogin() {
  WipeString(code_verifier);
  WipeString(code);
  WipeString(id_token);
}

ProviderTokens::~ProviderTokens() {
  WipeString(id_token);
  WipeString(access_token);
}

PendingLogins::PendingLogins(Clock& clock, std::size_t capacity)
    : clock_(clock), capacity_(capacity) {}

void PendingLogins::SweepLocked(std::chrono::steady_clock::time_point now) {
  std::erase_if(logins_, [now](const auto& kv) { return kv.second.expires <= now; });
}

Result<std::string> PendingLogins::Add(PendingLogin login) {
  ASSIGN_OR_RETURN(std::string state, RandomToken());
  const auto now = clock_.Monotonic();
  login.expires = now + kLifetime;
  std::scoped_lock lock(mu_);
  // Expired logins go at least once a minute (auth_url needs no token, and
  // an abandoned login holds its memory until then), and whenever the map
  // is full.
  if (logins_.size() >= capacity_ || now >= next_sweep_) {
    SweepLocked(now);
    next_sweep_ = now + std::chrono::minutes(1);
  }
  if (logins_.size() >= capacity_) {
    return Err(Unavailable("too many OIDC logins in progress; retry later"));
  }
  logins_.emplace(state, std::move(login));
  return state;
}

std::optional<PendingLogin> PendingLogins::Take(const std::string& state) {
  std::scoped_lock lock(mu_);
  auto it = logins_.find(state);
  if (it == logins_.end()) return std::nullopt;
  std::optional<PendingLogin> out;
  if (it->second.expires > clock_.Monotonic()) out = std::move(it->second);
  logins_.erase(it);
  return out;
}

bool PendingLogins::Attach(const std::string& state, std::string code, std::string id_token) {
  std::scoped_lock lock(mu_);
  auto it = logins_.find(state);
  const bool live = it != logins_.end() && it->second.expires > clock_.Monotonic();
  if (live) {
    it->second.code = std::move(code);
    it->second.id_token = std::move(id_token);
  }
  WipeString(code);
  WipeString(id_token);
  return live;
}

void PendingLogins::Clear() {
  std::scoped_lock lock(mu_);
  logins_.clear();
}

std::size_t PendingLogins::Size() {
  std::scoped_lock lock(mu_);
  return logins_.size();
}

bool RedirectAllowed(std::string_view uri, const std::vector<std::string>& allowed) {
  auto input = SplitUri(uri);
  if (!input) return false;
  if (!IsLoopback(input->host)) {
    for (const auto& a : allowed) {
      if (a == uri) return true;
    }
    return false;
  }
  for (const auto& a : allowed) {
    auto candidate = SplitUri(a);
    if (candidate && candidate->scheme_and_host == input->scheme_and_host &&
        candidate->rest == input->rest) {
      return true;
    }
  }
  return false;
}

Result<std::string> NewCodeVerifier() { return RandomToken(); }

std::string CodeChallenge(std::string_view verifier) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(verifier.data()), verifier.size(), digest);
  return Base64UrlEncode(std::string_view(reinterpret_cast<const char*>(digest), sizeof digest));
}

std::string WithQuery(std::string_view endpoint, const std::map<std::string, std::string>& params) {
  std::string out(endpoint);
  out += endpoint.find('?') == std::string_view::npos ? '?' : '&';
  out += FormEncode(params);
  return out;
}

Result<ProviderTokens> ExchangeCode(const HttpDo& http, const Config& config,
                                    const std::string& token_endpoint, const PendingLogin& login,
                                    const std::string& code) {
  if (token_endpoint.empty()) {
    return Err(InvalidArgument("the provider's discovery document names no token_endpoint"));
  }
  std::map<std::string, std::string> form{
      {"grant_type", "authorization_code"}, {"code", code}, {"redirect_uri", login.redirect_uri}};
  if (!login.code_verifier.empty()) form["code_verifier"] = login.code_verifier;
  net::HttpRequest req{.method = "POST",
                       .url = token_endpoint,
                       .headers = {{"Accept", "application/json"},
                                   {"Content-Type", "application/x-www-form-urlencoded"}},
                       .body = FormEncode(form),
                       .ca_pem = config.oidc_discovery_ca_pem,
                       .user_agent = "coffer-oidc-auth"};
  // RFC 6749 §2.3.1: the client's id and secret, form-encoded, as Basic
  // credentials; some providers take them only in the form.
  std::string basic =
      QueryEscape(config.oidc_client_id) + ":" + QueryEscape(config.oidc_client_secret);
  req.headers["Authorization"] = "Basic " + Base64Encode(basic);
  WipeString(basic);
  struct Wipe {
    net::HttpRequest& r;
    std::map<std::string, std::string>& form;
    ~Wipe() {
      WipeString(r.body);
      WipeString(r.headers["Authorization"]);
      WipeString(form["code"]);
      WipeString(form["code_verifier"]);
      WipeString(form["client_secret"]);
    }
  } wipe{req, form};

  ASSIGN_OR_RETURN(net::HttpResponse res, http(req));
  if (InvalidClient(res)) {
    WipeString(res.body);
    req.headers.erase("Authorization");
    form["client_id"] = config.oidc_client_id;
    form["client_secret"] = config.oidc_client_secret;
    WipeString(req.body);
    req.body = FormEncode(form);
    ASSIGN_OR_RETURN(res, http(req));
  }
  struct WipeBody {
    std::string& b;
    ~WipeBody() { WipeString(b); }
  } wipe_body{res.body};
  if (res.status != 200) return Err(InvalidArgument(ProviderError(res.body, res.status)));
  Json j = Json::parse(res.body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return Err(InvalidArgument("the token endpoint's answer is not a JSON object"));
  }
  ProviderTokens tokens;
  for (auto [name, out] :
       {std::pair{"id_token", &tokens.id_token}, std::pair{"access_token", &tokens.access_token}}) {
    if (auto it = j.find(name); it != j.end() && it->is_string()) {
      *out = it->get<std::string>();
      WipeString(it->get_ref<std::string&>());
    }
  }
  if (tokens.id_token.empty()) {
    return Err(InvalidArgument("id_token is missing from auth code exchange"));
  }
  return tokens;
}

Result<Json> FetchUserInfo(const HttpDo& http, const Config& config, const std::string& endpoint,
                           const std::string& access_token, const std::string& subject) {
  net::HttpRequest req{
      .method = "GET",
      .url = endpoint,
      .headers = {{"Accept", "application/json"}, {"Authorization", "Bearer " + access_token}},
      .ca_pem = config.oidc_discovery_ca_pem,
      .user_agent = "coffer-oidc-auth"};
  auto res = http(req);
  WipeString(req.headers["Authorization"]);
  if (!res) return Err(res.error());
  if (res->status != 200) {
    return Err(Unavailable("the userinfo endpoint answered " + std::to_string(res->status)));
  }
  Json j = Json::parse(res->body, nullptr, /*allow_exceptions=*/false);
  WipeString(res->body);
  if (j.is_discarded() || !j.is_object()) {
    return Err(InvalidArgument("the userinfo answer is not a JSON object"));
  }
  auto sub = j.find("sub");
  if (sub == j.end() || !sub->is_string() || sub->get_ref<const std::string&>() != subject) {
    return Err(InvalidArgument("the userinfo answer is for another subject"));
  }
  return j;
}

}  // namespace coffer::auth::jwt
