#include "auth/ldap/directory.h"

#include <ldap.h>
#include <stdlib.h>
#include <unistd.h>

#include <cctype>
#include <fstream>

#include "common/text.h"

namespace coffer::auth::ldap {
namespace {

// The most pages of one paged search (1,000 entries each at Active
// Directory's default: a million entries).
constexpr int kMaxSearchPages = 1000;

std::string Reason(int rc) { return ldap_err2string(rc); }

// "\\xx": a byte as LDAP's filters and DNs escape it.
void AppendHexEscape(std::string& out, unsigned char c) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '\\';
  out += kHex[c >> 4];
  out += kHex[c & 15];
}

int DerefValue(Deref d) {
  switch (d) {
    case Deref::kSearching:
      return LDAP_DEREF_SEARCHING;
    case Deref::kFinding:
      return LDAP_DEREF_FINDING;
    case Deref::kAlways:
      return LDAP_DEREF_ALWAYS;
    case Deref::kNever:
      break;
  }
  return LDAP_DEREF_NEVER;
}

int TlsVersion(std::string_view v) {
  if (v == "tls10") return LDAP_OPT_X_TLS_PROTOCOL_TLS1_0;
  if (v == "tls11") return LDAP_OPT_X_TLS_PROTOCOL_TLS1_1;
  if (v == "tls13") return LDAP_OPT_X_TLS_PROTOCOL_TLS1_3;
  return LDAP_OPT_X_TLS_PROTOCOL_TLS1_2;
}

// The CA certificate for libldap, which (built with GnuTLS in Debian) reads
// CAs from a file only: written to a private directory for the dial and
// removed after. A certificate is public; no secret goes there.
class CaFile {
 public:
  explicit CaFile(const std::string& pem) {
    if (pem.empty()) return;
    const char* tmp = std::getenv("TMPDIR");
    std::string tmpl =
        std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/coffer-ldap-ca-XXXXXX";
    if (mkdtemp(tmpl.data()) == nullptr) return;
    dir_ = tmpl;
    path_ = dir_ + "/ca.pem";
    std::ofstream(path_) << pem;
  }
  ~CaFile() {
    if (!path_.empty()) ::unlink(path_.c_str());
    if (!dir_.empty()) ::rmdir(dir_.c_str());
  }
  const std::string& path() const { return path_; }

 private:
  std::string dir_, path_;
};

class LibLdapConnection final : public LdapConnection {
 public:
  LibLdapConnection(LDAP* ld, std::chrono::seconds request_timeout)
      : ld_(ld), timeout_(request_timeout) {}
  ~LibLdapConnection() override { ldap_unbind_ext_s(ld_, nullptr, nullptr); }

  Status Bind(const std::string& dn, const std::string& password) override {
    berval cred{static_cast<ber_len_t>(password.size()), const_cast<char*>(password.data())};
    int rc = ldap_sasl_bind_s(ld_, dn.c_str(), LDAP_SASL_SIMPLE, &cred, nullptr, nullptr, nullptr);
    return BindStatus(rc);
  }

  Status UnauthenticatedBind(const std::string& dn) override {
    berval cred{0, nullptr};
    int rc = ldap_sasl_bind_s(ld_, dn.empty() ? nullptr : dn.c_str(), LDAP_SASL_SIMPLE, &cred,
                              nullptr, nullptr, nullptr);
    return BindStatus(rc);
  }

  Result<std::vector<LdapEntry>> Search(const SearchRequest& request) override {
    int d = DerefValue(request.deref);
    ldap_set_option(ld_, LDAP_OPT_DEREF, &d);
    std::vector<char*> attrs;
    for (const auto& a : request.attributes) attrs.push_back(const_cast<char*>(a.c_str()));
    attrs.push_back(nullptr);
    // request_timeout 0: no limit, as in Vault.
    timeval tv{static_cast<time_t>(timeout_.count()), 0};
    timeval* limit = timeout_.count() > 0 ? &tv : nullptr;
    std::vector<LdapEntry> out;
    berval cookie{0, nullptr};
    struct FreeCookie {
      berval& c;
      ~FreeCookie() {
        if (c.bv_val != nullptr) ber_memfree(c.bv_val);
      }
    } free_cookie{cookie};
    // A server that keeps answering a cookie (or the same one) does not
    // keep the login going: at most kMaxSearchPages pages.
    int pages = 0;
    std::string previous_cookie;
    do {
      if (++pages > kMaxSearchPages) {
        return Err(Unavailable("LDAP search failed: more than " + std::to_string(kMaxSearchPages) +
                               " pages of results"));
      }
      LDAPControl* page = nullptr;
      if (request.page_size > 0) {
        int rc = ldap_create_page_control(ld_, request.page_size, &cookie, 0, &page);
        if (rc != LDAP_SUCCESS) return Err(Unavailable("LDAP paging failed: " + Reason(rc)));
      }
      LDAPControl* server_controls[] = {page, nullptr};
      LDAPMessage* res = nullptr;
      int rc = ldap_search_ext_s(
          ld_, request.base.c_str(), request.base_only ? LDAP_SCOPE_BASE : LDAP_SCOPE_SUBTREE,
          request.filter.c_str(), request.attributes.empty() ? nullptr : attrs.data(), 0,
          page != nullptr ? server_controls : nullptr, nullptr, limit, request.size_limit, &res);
      if (page != nullptr) ldap_control_free(page);
      struct Free {
        LDAPMessage* m;
        ~Free() {
          if (m != nullptr) ldap_msgfree(m);
        }
      } free_res{res};
      if (rc != LDAP_SUCCESS && rc != LDAP_SIZELIMIT_EXCEEDED && rc != LDAP_NO_SUCH_OBJECT) {
        return Err(Unavailable("LDAP search failed: " + Reason(rc)));
      }
      Collect(res, out);
      if (cookie.bv_val != nullptr) ber_memfree(cookie.bv_val);
      cookie = {0, nullptr};
      if (request.page_size > 0 && res != nullptr) NextCookie(res, cookie);
      if (cookie.bv_len > 0) {
        std::string next(cookie.bv_val, cookie.bv_len);
        if (next == previous_cookie) {
          return Err(Unavailable("LDAP search failed: the server repeated its paging cookie"));
        }
        previous_cookie = std::move(next);
      }
    } while (cookie.bv_len > 0);
    return out;
  }

 private:
  void Collect(LDAPMessage* res, std::vector<LdapEntry>& out) {
    if (res == nullptr) return;
    for (LDAPMessage* e = ldap_first_entry(ld_, res); e != nullptr; e = ldap_next_entry(ld_, e)) {
      LdapEntry entry;
      if (char* dn = ldap_get_dn(ld_, e); dn != nullptr) {
        entry.dn = dn;
        ldap_memfree(dn);
      }
      BerElement* ber = nullptr;
      for (char* a = ldap_first_attribute(ld_, e, &ber); a != nullptr;
           a = ldap_next_attribute(ld_, e, ber)) {
        auto& values = entry.attributes[AsciiLower(a)];
        if (berval** vals = ldap_get_values_len(ld_, e, a); vals != nullptr) {
          for (berval** v = vals; *v != nullptr; ++v) {
            values.emplace_back((*v)->bv_val, (*v)->bv_len);
          }
          ldap_value_free_len(vals);
        }
        ldap_memfree(a);
      }
      if (ber != nullptr) ber_free(ber, 0);
      out.push_back(std::move(entry));
    }
  }

  // The next page's cookie from a paged search's result; empty at the end.
  void NextCookie(LDAPMessage* res, berval& cookie) {
    LDAPControl** returned = nullptr;
    int err = 0;
    if (ldap_parse_result(ld_, res, &err, nullptr, nullptr, nullptr, &returned, 0) !=
        LDAP_SUCCESS) {
      return;
    }
    if (returned == nullptr) return;
    if (LDAPControl* pr = ldap_control_find(LDAP_CONTROL_PAGEDRESULTS, returned, nullptr);
        pr != nullptr) {
      ber_int_t count = 0;
      ldap_parse_pageresponse_control(ld_, pr, &count, &cookie);
    }
    ldap_controls_free(returned);
  }

  static Status BindStatus(int rc) {
    if (rc == LDAP_SUCCESS) return Status::Ok();
    if (rc == LDAP_SERVER_DOWN || rc == LDAP_TIMEOUT || rc == LDAP_CONNECT_ERROR) {
      return Unavailable("LDAP bind failed: " + Reason(rc));
    }
    return PermissionDenied("LDAP bind failed: " + Reason(rc));
  }

  LDAP* ld_;
  std::chrono::seconds timeout_;
};

Result<LDAP*> DialOne(const std::string& url, const DialOptions& o) {
  const bool ldaps = url.starts_with("ldaps://");
  if (!ldaps && !url.starts_with("ldap://")) {
    return Err(InvalidArgument("invalid LDAP scheme in url \"" + url + "\""));
  }
  LDAP* ld = nullptr;
  int rc = ldap_initialize(&ld, url.c_str());
  if (rc != LDAP_SUCCESS || ld == nullptr) {
    return Err(InvalidArgument("error parsing url \"" + url + "\": " + Reason(rc)));
  }
  auto fail = [&](std::string why) -> Result<LDAP*> {
    ldap_unbind_ext_s(ld, nullptr, nullptr);
    return Err(Unavailable("error connecting to host \"" + url + "\": " + why));
  };
  int version = LDAP_VERSION3;
  ldap_set_option(ld, LDAP_OPT_PROTOCOL_VERSION, &version);
  ldap_set_option(ld, LDAP_OPT_REFERRALS, LDAP_OPT_OFF);
  // A timeout of 0 is no limit, as in Vault (libldap would time out at once).
  timeval connect{static_cast<time_t>(o.connection_timeout.count()), 0};
  if (o.connection_timeout.count() > 0) ldap_set_option(ld, LDAP_OPT_NETWORK_TIMEOUT, &connect);
  timeval request{static_cast<time_t>(o.request_timeout.count()), 0};
  if (o.request_timeout.count() > 0) ldap_set_option(ld, LDAP_OPT_TIMEOUT, &request);
  if (ldaps || o.starttls) {
    CaFile ca(o.ca_pem);
    if (!o.ca_pem.empty() && ca.path().empty()) return fail("cannot stage the CA certificate");
    int require = o.insecure_tls ? LDAP_OPT_X_TLS_NEVER : LDAP_OPT_X_TLS_DEMAND;
    ldap_set_option(ld, LDAP_OPT_X_TLS_REQUIRE_CERT, &require);
    int min = TlsVersion(o.tls_min_version);
    ldap_set_option(ld, LDAP_OPT_X_TLS_PROTOCOL_MIN, &min);
    int max = TlsVersion(o.tls_max_version);
    ldap_set_option(ld, LDAP_OPT_X_TLS_PROTOCOL_MAX, &max);
    if (!ca.path().empty()) ldap_set_option(ld, LDAP_OPT_X_TLS_CACERTFILE, ca.path().c_str());
    int is_server = 0;
    if (int r = ldap_set_option(ld, LDAP_OPT_X_TLS_NEWCTX, &is_server); r != LDAP_OPT_SUCCESS) {
      return fail("TLS setup failed: " + Reason(r));
    }
    // Connect now, while the CA file exists (libldap connects lazily).
    // starttls applies to ldap:// only; an ldaps:// connection is TLS
    // already (Vault ignores it there too).
    if (o.starttls && !ldaps) {
      rc = ldap_start_tls_s(ld, nullptr, nullptr);
      if (rc != LDAP_SUCCESS) return fail("StartTLS failed: " + Reason(rc));
    } else {
      berval none{0, nullptr};
      rc = ldap_sasl_bind_s(ld, nullptr, LDAP_SASL_SIMPLE, &none, nullptr, nullptr, nullptr);
      if (rc == LDAP_SERVER_DOWN || rc == LDAP_CONNECT_ERROR || rc == LDAP_TIMEOUT) {
        return fail(Reason(rc));
      }
    }
  } else {
    berval none{0, nullptr};
    rc = ldap_sasl_bind_s(ld, nullptr, LDAP_SASL_SIMPLE, &none, nullptr, nullptr, nullptr);
    if (rc == LDAP_SERVER_DOWN || rc == LDAP_CONNECT_ERROR || rc == LDAP_TIMEOUT) {
      return fail(Reason(rc));
    }
  }
  return ld;
}

}  // namespace

const std::vector<std::string>* LdapEntry::Values(std::string_view name) const {
  auto it = attributes.find(AsciiLower(name));
  return it == attributes.end() ? nullptr : &it->second;
}

Result<std::unique_ptr<LdapConnection>> DialLdap(const DialOptions& options) {
  std::string errors;
  std::string_view rest = options.urls;
  while (!rest.empty()) {
    const auto comma = rest.find(',');
    std::string url(Trim(rest.substr(0, comma)));
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    if (url.empty()) continue;
    auto ld = DialOne(url, options);
    if (ld) {
      return std::unique_ptr<LdapConnection>(
          std::make_unique<LibLdapConnection>(*ld, options.request_timeout));
    }
    if (ld.error().code() == Code::kInvalidArgument) return Err(ld.error());
    errors += (errors.empty() ? "" : "; ") + ld.error().message();
  }
  if (errors.empty()) return Err(InvalidArgument("at least one url must be provided"));
  return Err(Unavailable(errors));
}

std::string EscapeFilterValue(std::string_view value) {
  std::string out;
  for (unsigned char c : value) {
    if (c == '*' || c == '(' || c == ')' || c == '\\' || c == 0 || c >= 0x80) {
      AppendHexEscape(out, c);
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

std::string EscapeDnValue(std::string_view value) {
  std::string out;
  for (std::size_t i = 0; i < value.size(); ++i) {
    const auto c = static_cast<unsigned char>(value[i]);
    const bool special = c == '"' || c == '+' || c == ',' || c == ';' || c == '<' || c == '>' ||
                         c == '\\' || c == '#' || (c == ' ' && (i == 0 || i + 1 == value.size()));
    if (special) {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < ' ' || c > '~') {
      AppendHexEscape(out, c);
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

std::optional<std::string> SidString(std::string_view b) {
  // revision, sub-authority count, a 48-bit big-endian identifier
  // authority, then that many 32-bit little-endian sub-authorities.
  if (b.size() < 8) return std::nullopt;
  auto byte = [&](std::size_t i) {
    return static_cast<std::uint64_t>(static_cast<unsigned char>(b[i]));
  };
  const std::size_t count = byte(1);
  if (b.size() != 8 + 4 * count) return std::nullopt;
  std::uint64_t authority = 0;
  for (std::size_t i = 2; i < 8; ++i) authority = (authority << 8) | byte(i);
  std::string out = "S-" + std::to_string(byte(0)) + "-" + std::to_string(authority);
  for (std::size_t k = 0; k < count; ++k) {
    const std::size_t at = 8 + 4 * k;
    const std::uint64_t sub =
        byte(at) | (byte(at + 1) << 8) | (byte(at + 2) << 16) | (byte(at + 3) << 24);
    out += "-" + std::to_string(sub);
  }
  return out;
}

std::string FirstCn(std::string_view dn) {
  LDAPDN parsed = nullptr;
  std::string copy(dn);
  berval bv{static_cast<ber_len_t>(copy.size()), copy.data()};
  if (ldap_bv2dn(&bv, &parsed, LDAP_DN_FORMAT_LDAPV3) != LDAP_SUCCESS || parsed == nullptr) {
    return std::string(dn);
  }
  std::string out(dn);
  bool found = false;
  for (int i = 0; parsed[i] != nullptr && !found; ++i) {
    for (int j = 0; parsed[i][j] != nullptr && !found; ++j) {
      LDAPAVA* ava = parsed[i][j];
      std::string_view type(ava->la_attr.bv_val, ava->la_attr.bv_len);
      if (type.size() == 2 && std::tolower(static_cast<unsigned char>(type[0])) == 'c' &&
          std::tolower(static_cast<unsigned char>(type[1])) == 'n') {
        out.assign(ava->la_value.bv_val, ava->la_value.bv_len);
        found = true;
      }
    }
  }
  ldap_dnfree(parsed);
  return out;
}

}  // namespace coffer::auth::ldap
