// Path help for the Kubernetes auth method (logical/help.h).
#include <string_view>

#include "auth/kubernetes/kubernetes.h"

namespace coffer::auth::kubernetes {
namespace {

constexpr std::string_view kDescription =
    "The Kubernetes auth method lets a pod log in to Coffer with its service\n"
    "account token. Set the cluster's API address (and CA certificate) at\n"
    "config, then create roles under role/<name> that name the service\n"
    "accounts and namespaces they accept and the token settings a login gets.\n"
    "A login sends the role and the pod's token; the cluster's TokenReview API\n"
    "confirms the token before Coffer issues its own.";

constexpr logical::RouteHelp kRoutes[] = {
    {"config", "Configure how tokens are reviewed.",
     "Write (POST) kubernetes_host (required), kubernetes_ca_cert,\n"
     "token_reviewer_jwt (the account Coffer reviews tokens as; without one,\n"
     "each token reviews itself), pem_keys (to check signatures here too),\n"
     "issuer with disable_iss_validation (true by default), and\n"
     "disable_local_ca_jwt. Every write replaces the whole configuration.\n"
     "Read returns it, with only token_reviewer_jwt_set for the reviewer JWT."},
    {"login", "Log in with a service account token.",
     "Write (POST) role and jwt; no client token is needed. The token's\n"
     "service account must be one of the role's names in one of its\n"
     "namespaces, and the TokenReview API must confirm it."},
    {"role", "List the roles.", "A list returns the role names."},
    {"role/{name}", "Create, read, update or delete a role.",
     "Fields: bound_service_account_names and bound_service_account_namespaces\n"
     "(lists; '*' globs, or \"*\" alone for any),\n"
     "bound_service_account_namespace_selector (a LabelSelector as JSON, matched\n"
     "against the namespace's labels), audience, alias_name_source\n"
     "(serviceaccount_uid, the default, or serviceaccount_name; fixed once\n"
     "set), and the token_* fields."},
};

}  // namespace

logical::EngineHelp KubernetesBackend::Help() const { return {kDescription, kRoutes}; }

}  // namespace coffer::auth::kubernetes
