#pragma once
// The LDAP directory as the ldap auth method sees it: a connection that
// binds and searches, over OpenLDAP's libldap (ldap://, ldaps:// and
// StartTLS), and the escaping rules that keep a username from changing a
// filter or a DN.
//
// A connection is made per login and closed after it, as Vault does. TLS
// verifies the server against `ca_pem` (the config's `certificate`) or the
// system's CAs, and its host name, unless insecure_tls. Error messages name
// the server and libldap's reason, never a password.
//
// Thread-safety: a connection is used by one thread; DialLdap may be called
// from many.

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace coffer::auth::ldap {

struct DialOptions {
  std::string urls;  // comma-separated; the first that connects is used
  bool starttls = false;
  bool insecure_tls = false;
  std::string ca_pem;           // "" : the system's CAs
  std::string tls_min_version;  // tls10 .. tls13
  std::string tls_max_version;
  std::chrono::seconds connection_timeout{30};
  std::chrono::seconds request_timeout{90};
};

struct LdapEntry {
  std::string dn;
  // Attribute names lower-cased (LDAP's are case-insensitive).
  std::map<std::string, std::vector<std::string>> attributes;
  const std::vector<std::string>* Values(std::string_view name) const;
};

enum class Deref { kNever, kSearching, kFinding, kAlways };

struct SearchRequest {
  std::string base;
  std::string filter = "(objectClass=*)";
  std::vector<std::string> attributes;  // empty: all
  int size_limit = 0;                   // 0: none
  Deref deref = Deref::kNever;
  bool base_only = false;  // the base entry only (else its whole subtree)
  int page_size = 0;       // > 0: in pages of this size (RFC 2696's control)
};

class LdapConnection {
 public:
  virtual ~LdapConnection() = default;
  // A simple bind. kPermissionDenied for wrong credentials, kUnavailable
  // when the server cannot be reached.
  virtual Status Bind(const std::string& dn, const std::string& password) = 0;
  // An unauthenticated (RFC 4513 §5.1.2) or anonymous bind.
  virtual Status UnauthenticatedBind(const std::string& dn) = 0;
  // Every entry found, all pages of a paged search together. A size limit
  // reached is not an error: the entries found are answered.
  virtual Result<std::vector<LdapEntry>> Search(const SearchRequest& request) = 0;
};

using Dialer = std::function<Result<std::unique_ptr<LdapConnection>>(const DialOptions&)>;

// Connects through libldap. kInvalidArgument for a URL that is not ldap://
// or ldaps://; kUnavailable when no URL connects (or StartTLS fails).
Result<std::unique_ptr<LdapConnection>> DialLdap(const DialOptions& options);

// RFC 4515: a value inside a search filter ("*", "(", ")", "\", NUL and
// non-ASCII bytes as \XX).
std::string EscapeFilterValue(std::string_view value);
// RFC 4514: a value inside a DN (Vault's EscapeLDAPValue).
std::string EscapeDnValue(std::string_view value);
// An Active Directory SID in its binary form as text ("S-1-5-21-...");
// nullopt when malformed.
std::optional<std::string> SidString(std::string_view bytes);

// The first CN of a DN ("cn=ops,ou=groups,dc=x" → "ops"); the text itself
// when it is not a DN with a CN (already a name).
std::string FirstCn(std::string_view dn);

}  // namespace coffer::auth::ldap
