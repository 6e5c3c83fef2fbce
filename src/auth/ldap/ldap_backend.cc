#include "auth/ldap/ldap_backend.h"

#include <openssl/pem.h>
#include <openssl/x509.h>

#include <algorithm>
#include <set>

#include "auth/token_fields.h"
#include "auth/util.h"
#include "common/go_template.h"
#include "common/log.h"
#include "common/secret_bytes.h"
#include "common/text.h"
#include "token/token_params.h"

namespace coffer::auth::ldap {
namespace {

using logical::Json;
using logical::Operation;
using logical::Request;
using logical::Response;
namespace params = token::params;

constexpr std::string_view kBindFailed = "ldap operation failed: failed to bind as user";

struct LdapConfig {
  std::string url = "ldap://127.0.0.1";
  std::string userdn;
  std::string userattr = "cn";
  std::string userfilter = "({{.UserAttr}}={{.Username}})";
  std::string upndomain;
  bool discoverdn = false;
  std::string binddn;
  std::string bindpass;
  std::string groupdn;
  std::string groupfilter =
      "(|(memberUid={{.Username}})(member={{.UserDN}})(uniqueMember={{.UserDN}}))";
  std::string groupattr = "cn";
  bool anonymous_group_search = false;
  bool deny_null_bind = true;
  bool case_sensitive_names = false;
  bool username_as_alias = false;
  bool starttls = false;
  bool insecure_tls = false;
  std::string certificate;
  std::string tls_min_version = "tls12";
  std::string tls_max_version = "tls12";
  std::int64_t request_timeout = 90;
  std::int64_t connection_timeout = 30;
  std::string dereference_aliases = "never";
  bool use_token_groups = false;
  std::int64_t max_page_size = 0;
  TokenFields token;

  LdapConfig() = default;
  LdapConfig(const LdapConfig&) = default;
  LdapConfig& operator=(const LdapConfig&) = default;
  ~LdapConfig() { WipeString(bindpass); }

  Json ToRead() const {
    Json j = Json::object();
    token.AddTo(j);
    j.update(Json{{"url", url},
                  {"userdn", userdn},
                  {"userattr", userattr},
                  {"userfilter", userfilter},
                  {"upndomain", upndomain},
                  {"discoverdn", discoverdn},
                  {"binddn", binddn},
                  {"groupdn", groupdn},
                  {"groupfilter", groupfilter},
                  {"groupattr", groupattr},
                  {"anonymous_group_search", anonymous_group_search},
                  {"deny_null_bind", deny_null_bind},
                  {"case_sensitive_names", case_sensitive_names},
                  {"username_as_alias", username_as_alias},
                  {"starttls", starttls},
                  {"insecure_tls", insecure_tls},
                  {"certificate", certificate},
                  {"client_tls_cert", ""},
                  {"tls_min_version", tls_min_version},
                  {"tls_max_version", tls_max_version},
                  {"request_timeout", request_timeout},
                  {"connection_timeout", connection_timeout},
                  {"dereference_aliases", dereference_aliases},
                  {"use_token_groups", use_token_groups},
                  {"max_page_size", max_page_size},
                  {"use_pre111_group_cn_behavior", false}});
    return j;
  }

  Json ToStored() const {
    Json j = ToRead();
    j.update(token.ToStored());
    j["bindpass"] = bindpass;
    return j;
  }

  static LdapConfig FromStored(const Json& j) {
    LdapConfig c;
    auto str = [&](const char* k, std::string& out) {
      if (auto it = j.find(k); it != j.end() && it->is_string()) out = it->get<std::string>();
    };
    auto flag = [&](const char* k, bool& out) {
      if (auto it = j.find(k); it != j.end() && it->is_boolean()) out = it->get<bool>();
    };
    auto num = [&](const char* k, std::int64_t& out) {
      if (auto it = j.find(k); it != j.end() && it->is_number_integer()) {
        out = it->get<std::int64_t>();
      }
    };
    str("url", c.url);
    str("userdn", c.userdn);
    str("userattr", c.userattr);
    str("userfilter", c.userfilter);
    str("upndomain", c.upndomain);
    flag("discoverdn", c.discoverdn);
    str("binddn", c.binddn);
    str("bindpass", c.bindpass);
    str("groupdn", c.groupdn);
    str("groupfilter", c.groupfilter);
    str("groupattr", c.groupattr);
    flag("anonymous_group_search", c.anonymous_group_search);
    flag("deny_null_bind", c.deny_null_bind);
    flag("case_sensitive_names", c.case_sensitive_names);
    flag("username_as_alias", c.username_as_alias);
    flag("starttls", c.starttls);
    flag("insecure_tls", c.insecure_tls);
    str("certificate", c.certificate);
    str("tls_min_version", c.tls_min_version);
    str("tls_max_version", c.tls_max_version);
    num("request_timeout", c.request_timeout);
    num("connection_timeout", c.connection_timeout);
    str("dereference_aliases", c.dereference_aliases);
    flag("use_token_groups", c.use_token_groups);
    num("max_page_size", c.max_page_size);
    c.token = TokenFields::FromStored(j);
    return c;
  }

  DialOptions Dial() const {
    return {.urls = url,
            .starttls = starttls,
            .insecure_tls = insecure_tls,
            .ca_pem = certificate,
            .tls_min_version = tls_min_version,
            .tls_max_version = tls_max_version,
            .connection_timeout = std::chrono::seconds(connection_timeout),
            .request_timeout = std::chrono::seconds(request_timeout)};
  }

  Deref DerefMode() const {
    if (dereference_aliases == "searching") return Deref::kSearching;
    if (dereference_aliases == "finding") return Deref::kFinding;
    if (dereference_aliases == "always") return Deref::kAlways;
    return Deref::kNever;
  }

  // Vault's rule: the user's bind DN is searched for (discoverdn, or a
  // binddn with its password) or else built from upndomain or userdn.
  bool Searches() const { return discoverdn || (!binddn.empty() && !bindpass.empty()); }
};

int TlsRank(std::string_view v) {
  if (v == "tls10") return 0;
  if (v == "tls11") return 1;
  if (v == "tls12") return 2;
  if (v == "tls13") return 3;
  return -1;
}

bool ParsesAsCertificate(const std::string& pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  const bool ok = cert != nullptr;
  X509_free(cert);
  BIO_free(bio);
  return ok;
}

Result<std::string> RenderFilter(const std::string& text, const char* what, const Json& dot) {
  auto t = go_template::Template::Parse(text, what);
  if (!t) {
    return Err(
        InvalidArgument(std::string("LDAP search failed due to template compilation error: ") +
                        t.error().message()));
  }
  auto out = t->Render(
      [](const std::string&, const Json&) -> Result<Json> {
        return Err(InvalidArgument("no functions in an LDAP filter"));
      },
      {.dot = dot});
  if (!out) {
    return Err(InvalidArgument(std::string("LDAP search failed due to template parsing error: ") +
                               out.error().message()));
  }
  return out;
}

Status ApplyConfig(LdapConfig& c, const Request& r) {
  auto str = [&](const char* k, std::string& out) -> Status {
    ASSIGN_OR_RETURN(auto v, params::String(r, k));
    if (v) out = *v;
    return Status::Ok();
  };
  auto flag = [&](const char* k, bool& out) -> Status {
    ASSIGN_OR_RETURN(auto v, params::Bool(r, k));
    if (v) out = *v;
    return Status::Ok();
  };
  auto secs = [&](const char* k, std::int64_t& out) -> Status {
    ASSIGN_OR_RETURN(auto v, params::Duration(r, k));
    if (v) out = v->count();
    return Status::Ok();
  };
  for (auto [k, out] : {std::pair{"url", &c.url},
                        {"userdn", &c.userdn},
                        {"userattr", &c.userattr},
                        {"userfilter", &c.userfilter},
                        {"upndomain", &c.upndomain},
                        {"binddn", &c.binddn},
                        {"bindpass", &c.bindpass},
                        {"groupdn", &c.groupdn},
                        {"groupfilter", &c.groupfilter},
                        {"groupattr", &c.groupattr},
                        {"certificate", &c.certificate},
                        {"tls_min_version", &c.tls_min_version},
                        {"tls_max_version", &c.tls_max_version},
                        {"dereference_aliases", &c.dereference_aliases}}) {
    TRY(str(k, *out));
  }
  for (auto [k, out] : {std::pair{"discoverdn", &c.discoverdn},
                        {"anonymous_group_search", &c.anonymous_group_search},
                        {"deny_null_bind", &c.deny_null_bind},
                        {"case_sensitive_names", &c.case_sensitive_names},
                        {"username_as_alias", &c.username_as_alias},
                        {"starttls", &c.starttls},
                        {"insecure_tls", &c.insecure_tls},
                        {"use_token_groups", &c.use_token_groups}}) {
    TRY(flag(k, *out));
  }
  TRY(secs("request_timeout", c.request_timeout));
  TRY(secs("connection_timeout", c.connection_timeout));
  ASSIGN_OR_RETURN(auto page, params::Int(r, "max_page_size"));
  if (page) c.max_page_size = *page;
  // Client certificates are refused rather than kept and ignored: libldap
  // reads a key from a file only, and a private key is never written to one.
  ASSIGN_OR_RETURN(auto client_cert, params::String(r, "client_tls_cert"));
  ASSIGN_OR_RETURN(auto client_key, params::String(r, "client_tls_key"));
  const bool has_cert = client_cert && !client_cert->empty();
  const bool has_key = client_key && !client_key->empty();
  if (client_key) WipeString(*client_key);
  if (has_cert != has_key) {
    return InvalidArgument("both client_tls_cert and client_tls_key must be set");
  }
  if (has_cert) {
    return InvalidArgument(
        "client_tls_cert and client_tls_key (client certificates) are not supported");
  }
  TRY(c.token.Update(r));

  // Vault's checks.
  if (c.url.empty()) return InvalidArgument("at least one url must be provided");
  if (!c.discoverdn && (c.binddn.empty() || c.bindpass.empty()) && c.upndomain.empty() &&
      c.userdn.empty()) {
    return InvalidArgument("cannot derive UserBindDN");
  }
  if (TlsRank(c.tls_min_version) < 0) return InvalidArgument("invalid 'tls_min_version' in config");
  if (TlsRank(c.tls_max_version) < 0) return InvalidArgument("invalid 'tls_max_version' in config");
  if (TlsRank(c.tls_max_version) < TlsRank(c.tls_min_version)) {
    return InvalidArgument("'tls_max_version' must be greater than or equal to 'tls_min_version'");
  }
  if (!c.certificate.empty() && !ParsesAsCertificate(c.certificate)) {
    return InvalidArgument("failed to parse server tls cert: not a PEM certificate");
  }
  const std::string& d = c.dereference_aliases;
  if (d != "never" && d != "searching" && d != "finding" && d != "always") {
    return InvalidArgument("invalid dereference_aliases: " + d);
  }
  if (c.request_timeout < 0 || c.connection_timeout < 0) {
    return InvalidArgument("timeouts must not be negative");
  }
  for (auto [text, what] :
       {std::pair{&c.userfilter, "userfilter"}, {&c.groupfilter, "groupfilter"}}) {
    if (auto t = go_template::Template::Parse(*text, what); !t) {
      return InvalidArgument(std::string("invalid ") + what + ": " + t.error().message());
    }
  }
  for (std::string_view url : {std::string_view(c.url)}) {
    std::string_view rest = url;
    while (!rest.empty()) {
      auto comma = rest.find(',');
      std::string_view one = Trim(rest.substr(0, comma));
      if (!one.starts_with("ldap://") && !one.starts_with("ldaps://")) {
        return InvalidArgument("invalid LDAP scheme in url \"" + std::string(one) + "\"");
      }
      rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    }
  }
  return Status::Ok();
}

Result<std::optional<LdapConfig>> ReadConfig(storage::Backend& storage) {
  ASSIGN_OR_RETURN(auto stored, storage.Get("config"));
  if (!stored) return std::optional<LdapConfig>();
  auto parsed = ParseStored(stored->value, "ldap config");
  WipeString(stored->value);
  ASSIGN_OR_RETURN(Json j, std::move(parsed));
  std::optional<LdapConfig> c = LdapConfig::FromStored(j);
  if (auto it = j.find("bindpass"); it != j.end() && it->is_string()) {
    WipeString(it->get_ref<std::string&>());
  }
  return c;
}

std::string Fold(const std::string& name, bool case_sensitive) {
  return case_sensitive ? name : AsciiLower(name);
}

std::vector<std::string> StringList(const Json& j, const char* key) {
  std::vector<std::string> out;
  if (auto it = j.find(key); it != j.end() && it->is_array()) {
    for (const Json& v : *it) {
      if (v.is_string()) out.push_back(v.get<std::string>());
    }
  }
  return out;
}

// A directory that could not be reached or answer, as the login reports it.
Status Unreachable(const Status& s) { return Unavailable(s.message()); }

// The user's entry: its DN, and the userattr value Vault uses as the alias.
struct FoundUser {
  std::string dn;
  std::string alias;
};

Result<FoundUser> FindUser(const LdapConfig& c, LdapConnection& conn, const std::string& username) {
  FoundUser u;
  if (!c.Searches()) {
    if (!c.upndomain.empty()) {
      u.dn = EscapeDnValue(username) + "@" + c.upndomain;
    } else {
      u.dn = c.userattr + "=" + EscapeDnValue(username) + "," + c.userdn;
    }
    u.alias = u.dn;
    return u;
  }
  Status bound =
      c.bindpass.empty() ? conn.UnauthenticatedBind(c.binddn) : conn.Bind(c.binddn, c.bindpass);
  if (!bound.ok())
    return Err(Status(bound.code(), "LDAP bind (service) failed: " + bound.message()));
  Json dot{{"UserAttr", EscapeFilterValue(c.userattr)}, {"Username", EscapeFilterValue(username)}};
  if (!c.upndomain.empty()) {
    dot = {{"UserAttr", "userPrincipalName"},
           {"Username", EscapeFilterValue(username) + "@" + c.upndomain}};
  }
  ASSIGN_OR_RETURN(std::string filter, RenderFilter(c.userfilter, "userfilter", dot));
  ASSIGN_OR_RETURN(auto entries, conn.Search({.base = c.userdn,
                                              .filter = filter,
                                              .attributes = {c.userattr},
                                              .size_limit = 2,
                                              .deref = c.DerefMode()}));
  if (entries.size() != 1) {
    return Err(PermissionDenied("LDAP search for binddn 0 or not unique"));
  }
  u.dn = entries[0].dn;
  const auto* values = entries[0].Values(c.userattr);
  if (values != nullptr && values->size() == 1) u.alias = values->front();
  return u;
}

// Active Directory's tokenGroups (use_token_groups): the user entry's
// group SIDs, each read back as "<SID=...>" for its DN (Vault's way; one
// request per group, which nested groups make worth it).
Result<std::vector<LdapEntry>> TokenGroups(const LdapConfig& c, LdapConnection& conn,
                                           const std::string& user_dn) {
  ASSIGN_OR_RETURN(auto users, conn.Search({.base = user_dn,
                                            .attributes = {"tokenGroups"},
                                            .size_limit = 1,
                                            .deref = c.DerefMode(),
                                            .base_only = true}));
  std::vector<LdapEntry> out;
  if (users.empty()) return out;
  const auto* sids = users.front().Values("tokenGroups");
  if (sids == nullptr) return out;
  for (const std::string& raw : *sids) {
    std::optional<std::string> sid = SidString(raw);
    if (!sid) continue;
    auto group = conn.Search({.base = "<SID=" + *sid + ">",
                              .attributes = {"1.1"},
                              .size_limit = 1,
                              .deref = c.DerefMode(),
                              .base_only = true});
    if (!group || group->empty()) {
      Log(LogModule::kLdap).warn("unable to read the group with SID {}", *sid);
      continue;
    }
    out.push_back(std::move(group->front()));
  }
  return out;
}

Result<std::vector<std::string>> FindGroups(const LdapConfig& c, LdapConnection& conn,
                                            const std::string& user_dn,
                                            const std::string& username) {
  std::set<std::string> groups;
  std::vector<LdapEntry> entries;
  if (c.use_token_groups) {
    ASSIGN_OR_RETURN(entries, TokenGroups(c, conn, user_dn));
  } else {
    if (c.groupfilter.empty() || c.groupdn.empty()) return std::vector<std::string>();
    Json dot{{"UserDN", EscapeFilterValue(user_dn)}, {"Username", EscapeFilterValue(username)}};
    ASSIGN_OR_RETURN(std::string filter, RenderFilter(c.groupfilter, "groupfilter", dot));
    ASSIGN_OR_RETURN(entries, conn.Search({.base = c.groupdn,
                                           .filter = filter,
                                           .attributes = {c.groupattr},
                                           .deref = c.DerefMode(),
                                           .page_size = static_cast<int>(std::clamp<std::int64_t>(
                                               c.max_page_size, 0, 1 << 20))}));
  }
  for (const LdapEntry& e : entries) {
    const auto* values = e.Values(c.groupattr);
    if (values != nullptr && !values->empty()) {
      for (const auto& v : *values) groups.insert(FirstCn(v));
    } else {
      groups.insert(FirstCn(e.dn));
    }
  }
  return std::vector<std::string>(groups.begin(), groups.end());
}

}  // namespace

bool LdapBackend::IsUnauthenticated(std::string_view relative_path) const {
  return relative_path.starts_with("login/");
}

namespace {

// The directory's answer for `username` (folded) and `password`: the bind,
// the groups, and the login they make (policies, alias, group aliases).
// Used by a login and again by each renewal of its token.
Result<logical::LoginResult> Authenticate(storage::Backend& storage, const Dialer& dialer,
                                          const LdapConfig& c, const std::string& username,
                                          const std::string& password) {
  auto& log = Log(LogModule::kLdap);
  // A directory that cannot be reached is 503, and not a failed login for
  // the lockout: only refused binds are.
  auto conn = dialer(c.Dial());
  if (!conn) return Err(Unreachable(conn.error()));

  auto user = FindUser(c, **conn, username);
  if (!user) {
    log.debug("ldap login: finding the user's bind DN failed: {}", user.error().message());
    if (user.error().code() == Code::kUnavailable) return Err(user.error());
    return Err(InvalidArgument(std::string(kBindFailed)));
  }
  // The bind that checks the password.
  Status bound =
      password.empty() ? (*conn)->UnauthenticatedBind(user->dn) : (*conn)->Bind(user->dn, password);
  if (!bound.ok()) {
    log.debug("ldap login: bind as the user failed: {}", bound.message());
    if (bound.code() == Code::kUnavailable) return Err(bound);
    return Err(InvalidArgument(std::string(kBindFailed)));
  }
  // Searches run as the service account, not as the user.
  if (!c.binddn.empty() && !c.bindpass.empty()) {
    if (!(*conn)->Bind(c.binddn, c.bindpass).ok()) {
      return Err(InvalidArgument("ldap operation failed: failed to re-bind with the BindDN user"));
    }
  }
  std::string user_dn = user->dn;
  if (!c.upndomain.empty()) {
    const std::string filter =
        "(userPrincipalName=" + EscapeFilterValue(username) + "@" + c.upndomain + ")";
    ASSIGN_OR_RETURN(
        auto found,
        (*conn)->Search(
            {.base = c.userdn, .filter = filter, .attributes = {"1.1"}, .deref = c.DerefMode()}));
    for (const auto& e : found) user_dn = e.dn;
  }
  Result<std::vector<std::string>> ldap_groups = std::vector<std::string>();
  if (c.anonymous_group_search) {
    auto anonymous = dialer(c.Dial());
    if (!anonymous) return Err(Unreachable(anonymous.error()));
    ldap_groups = FindGroups(c, **anonymous, user_dn, username);
  } else {
    ldap_groups = FindGroups(c, **conn, user_dn, username);
  }
  if (!ldap_groups) {
    if (ldap_groups.error().code() == Code::kUnavailable) return Err(ldap_groups.error());
    return Err(InvalidArgument(ldap_groups.error().message()));
  }
  if (ldap_groups->empty()) {
    log.debug("ldap login: no LDAP groups found in groupdn {}", c.groupdn);
  }

  // The local user's groups and policies, then every named group's.
  const std::string canonical = Fold(username, c.case_sensitive_names);
  std::vector<std::string> all_groups;
  std::vector<std::string> policies = c.token.policies;
  std::vector<std::string> user_policies;
  if (auto stored = storage.Get("user/" + canonical); stored && *stored) {
    ASSIGN_OR_RETURN(Json j, ParseStored((*stored)->value, "ldap user"));
    all_groups = StringList(j, "groups");
    user_policies = StringList(j, "policies");
  }
  all_groups.insert(all_groups.end(), ldap_groups->begin(), ldap_groups->end());
  for (const std::string& g : all_groups) {
    ASSIGN_OR_RETURN(auto stored, storage.Get("group/" + Fold(g, c.case_sensitive_names)));
    if (!stored) continue;
    ASSIGN_OR_RETURN(Json j, ParseStored(stored->value, "ldap group"));
    for (auto& p : StringList(j, "policies")) policies.push_back(std::move(p));
  }
  policies.insert(policies.end(), user_policies.begin(), user_policies.end());
  std::sort(policies.begin(), policies.end());
  policies.erase(std::unique(policies.begin(), policies.end()), policies.end());

  std::string alias = username;
  if (!c.username_as_alias) {
    alias = user->alias;
    if (alias.empty()) return Err(InvalidArgument("missing entity alias attribute value"));
  }
  logical::LoginResult login = c.token.ToLogin();
  login.policies = std::move(policies);
  login.metadata["username"] = username;
  login.display_name = username;
  login.alias_name = alias;
  login.group_aliases = std::move(all_groups);
  return login;
}

}  // namespace

namespace {

// The internal data key of the login's password (LoginResult::internal).
constexpr char kInternalPassword[] = "password";

}  // namespace

std::string LdapBackend::AclPath(std::string_view relative_path) const {
  if (!relative_path.starts_with("users/") && !relative_path.starts_with("groups/")) {
    return std::string(relative_path);
  }
  return WithCanonicalSegment(relative_path, 1);
}

std::string LdapBackend::LoginAlias(const Request& request) const {
  return LoginPathName(request.relative_path);
}

Result<std::optional<logical::LoginRenewal>> LdapBackend::CheckLoginRenewal(
    const logical::LoginRenewalRequest& renewal) {
  ASSIGN_OR_RETURN(auto config, ReadConfig(storage_));
  if (!config) return Err(InvalidArgument("ldap backend not configured"));
  // The directory is asked again, as Vault's renewal does: the bind with
  // the login's password, then the groups and their policies.
  auto user = renewal.meta->find("username");
  auto kept = renewal.internal->find(kInternalPassword);
  if (user == renewal.meta->end() || kept == renewal.internal->end()) {
    return Err(InvalidArgument(
        "the token's LDAP login was made before renewals were checked; log in again"));
  }
  ASSIGN_OR_RETURN(logical::LoginResult now,
                   Authenticate(storage_, dialer_, *config, user->second, kept->second));
  TokenFields fields = config->token;
  fields.policies = std::move(now.policies);
  if (!fields.SamePolicies(*renewal.policies)) {
    return Err(InvalidArgument("policies have changed, not renewing"));
  }
  return std::optional<logical::LoginRenewal>(config->token.ToRenewal());
}

Result<Response> LdapBackend::HandleRequest(const Request& request) {
  std::string_view rel = request.relative_path;
  while (!rel.empty() && rel.back() == '/') rel.remove_suffix(1);
  std::vector<std::string_view> seg = Segments(rel);
  if (rel == "config") return ConfigPath(request);
  if (seg.size() == 1 && (seg[0] == "groups" || seg[0] == "users")) {
    if (request.operation != Operation::kList) return Err(MethodNotAllowed());
    ASSIGN_OR_RETURN(auto keys, storage_.List(seg[0] == "groups" ? "group/" : "user/"));
    return KeysResponse(std::move(keys));
  }
  if (seg.size() == 2 && (seg[0] == "groups" || seg[0] == "users") && !seg[1].empty()) {
    return Named(request, seg[0] == "groups" ? "group" : "user", std::string(seg[1]));
  }
  if (seg.size() == 2 && seg[0] == "login" && !seg[1].empty()) {
    return Login(request, std::string(seg[1]));
  }
  return Err(NotFound("unsupported path"));
}

Result<Response> LdapBackend::ConfigPath(const Request& request) {
  if (request.operation == Operation::kRead) {
    ASSIGN_OR_RETURN(auto config, ReadConfig(storage_));
    Response r;
    r.data = (config ? *config : LdapConfig()).ToRead();
    return r;
  }
  if (!IsWrite(request.operation)) return Err(MethodNotAllowed());
  std::scoped_lock lock(write_mu_);
  ASSIGN_OR_RETURN(auto existing, ReadConfig(storage_));
  LdapConfig config = existing ? *existing : LdapConfig();
  TRY(ApplyConfig(config, request));
  Json stored = config.ToStored();
  std::string text = stored.dump();
  WipeString(stored["bindpass"].get_ref<std::string&>());
  Status put = storage_.Put("config", text);
  WipeString(text);
  TRY(put);
  return NoContent();
}

Result<Response> LdapBackend::Named(const Request& request, std::string_view kind,
                                    const std::string& raw_name) {
  if (raw_name.find('/') != std::string::npos) return Err(InvalidArgument("invalid name"));
  ASSIGN_OR_RETURN(auto config, ReadConfig(storage_));
  const std::string name = Fold(raw_name, config && config->case_sensitive_names);
  const std::string key = std::string(kind) + "/" + name;
  switch (request.operation) {
    case Operation::kRead: {
      ASSIGN_OR_RETURN(auto stored, storage_.Get(key));
      if (!stored) return NotFoundResponse();
      ASSIGN_OR_RETURN(Json j, ParseStored(stored->value, "ldap entry"));
      Json data{{"policies", StringList(j, "policies")}};
      if (kind == "user") data["groups"] = StringList(j, "groups");
      Response r;
      r.data = std::move(data);
      return r;
    }
    case Operation::kCreate:
    case Operation::kUpdate: {
      std::scoped_lock lock(write_mu_);
      ASSIGN_OR_RETURN(auto stored, storage_.Get(key));
      Json j = Json::object();
      if (stored) {
        ASSIGN_OR_RETURN(j, ParseStored(stored->value, "ldap entry"));
      }
      ASSIGN_OR_RETURN(auto policies, params::List(request, "policies"));
      if (policies) j["policies"] = *policies;
      if (kind == "user") {
        ASSIGN_OR_RETURN(auto groups, params::List(request, "groups"));
        if (groups) j["groups"] = *groups;
      }
      TRY(storage_.Put(key, j.dump()));
      return NoContent();
    }
    case Operation::kDelete:
      TRY(storage_.Delete(key));
      return NoContent();
    default:
      return Err(MethodNotAllowed());
  }
}

Result<Response> LdapBackend::Login(const Request& request, const std::string& typed_username) {
  if (!IsWrite(request.operation)) return Err(MethodNotAllowed());
  ASSIGN_OR_RETURN(auto config, ReadConfig(storage_));
  if (!config) return Err(InvalidArgument("ldap backend not configured"));
  const LdapConfig& c = *config;
  // The directory matches names without regard to case or surrounding
  // spaces; so does everything here, or "ALICE" and " alice" would be other
  // identities than "alice" (another entity, escaping her login MFA and
  // her groups). OpenBao's fix for CVE-2025-6013 does the same.
  const std::string username = Fold(std::string(Trim(typed_username)), c.case_sensitive_names);
  if (username.empty()) return Err(InvalidArgument("missing username"));
  const Json* pw = request.Field("password");
  std::string password;
  if (pw != nullptr && !pw->is_null()) {
    auto text = logical::WeakString(*pw);
    if (!text || pw->is_boolean()) return Err(InvalidArgument("password must be a string"));
    password = std::move(*text);
  }
  struct WipePassword {
    std::string& p;
    ~WipePassword() { WipeString(p); }
  } wipe{password};
  if (c.deny_null_bind && password.empty()) {
    return Err(InvalidArgument(
        "password cannot be of zero length when passwordless binds are being denied"));
  }
  if (!AddressAllowed(request.remote_address, c.token.bound_cidrs)) {
    return Err(PermissionDenied("login request originated from invalid CIDR"));
  }
  ASSIGN_OR_RETURN(logical::LoginResult login,
                   Authenticate(storage_, dialer_, c, username, password));
  // Kept with the token, under the barrier, as Vault keeps it: each renewal
  // binds again, so a user disabled or moved out of a group in the
  // directory is not renewed.
  login.internal[kInternalPassword] = password;
  return LoginResponse(std::move(login));
}

void RegisterLdap() { RegisterMethod<LdapBackend>("ldap"); }

}  // namespace coffer::auth::ldap
