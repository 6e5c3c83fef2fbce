// Path help for the TLS certificate auth method (logical/help.h).
#include <string_view>

#include "auth/cert/cert.h"

namespace coffer::auth::cert {
namespace {

constexpr std::string_view kDescription =
    "The cert auth method lets clients log in to Coffer with the TLS client\n"
    "certificate of their connection. An operator writes trusted certificates\n"
    "(CA, intermediate or the client's own) with the token settings their\n"
    "logins get to certs/<name>; a client then writes to login over a TLS\n"
    "connection that presents its certificate and receives a token when the\n"
    "certificate chains to a trusted entry and matches its allowed names.\n"
    "Enable it with `coffer auth enable cert`.";

constexpr logical::RouteHelp kRoutes[] = {
    {"login", "Log in with the TLS client certificate.",
     "Write (POST) to log in with the client certificate of the connection; no\n"
     "client token is needed. The certificate is checked against each trusted\n"
     "entry in name order, or only the one named by the optional name field.\n"
     "The first entry it chains to and whose allowed_* lists it matches gives\n"
     "the token its settings."},
    {"config", "Read or set the mount's renewal binding.",
     "Write (POST) disable_binding=true to let a token from this mount renew\n"
     "without the client certificate it logged in with (default false: a\n"
     "renewal must present that same certificate, still accepted by its\n"
     "entry). Read returns the setting."},
    {"certs", "List the trusted certificate entries.",
     "LIST returns the names of the trusted certificate entries of this mount."},
    {"certs/{name}", "Create, read, update or delete a trusted certificate entry.",
     "Write (POST) creates the entry or updates it: certificate (PEM, one or\n"
     "more; required for a new entry), allowed_names, allowed_common_names,\n"
     "allowed_dns_sans, allowed_email_sans, display_name and the token_*\n"
     "settings (token_policies, token_ttl, token_bound_cidrs, ...). Read\n"
     "returns the entry; delete removes it."},
};

}  // namespace

logical::EngineHelp CertBackend::Help() const { return {kDescription, kRoutes}; }

}  // namespace coffer::auth::cert
