#pragma once
// The Kubernetes auth method (Vault's auth/kubernetes API), mounted at
// "auth/<path>/": a pod logs in with its service account token, which the
// cluster's TokenReview API confirms.
//   config        POST {kubernetes_host, kubernetes_ca_cert, token_reviewer_jwt,
//                       pem_keys, issuer, disable_iss_validation,
//                       disable_local_ca_jwt} · GET
//   role/:name    POST {bound_service_account_names, bound_service_account_namespaces,
//                       bound_service_account_namespace_selector, audience,
//                       alias_name_source, token_*} · GET · DELETE
//   role (LIST)   → {keys}
//   login         POST {role, jwt} (no token needed) → a login for the core
//
// A login reads the JWT's service account (legacy secret tokens' claims or
// projected tokens' "kubernetes.io" claim), checks it against the role
// (names and namespaces, '*' globs, or a namespace whose labels, read from
// the API as the reviewer, match the role's selector; the audience; the issuer unless
// disable_iss_validation; the signature when pem_keys are set), then asks
// the TokenReview API whether the token is valid, as the reviewer JWT or,
// without one, as the token itself, and checks that the API names the same
// service account. Refusals are 403 "permission denied", as in Vault.
// Without disable_local_ca_jwt, a server running in a pod uses the pod's
// own CA certificate and token when the config gives none.
//
// The namespace selector is a Kubernetes LabelSelector written as JSON
// ({"matchLabels": {...}, "matchExpressions": [{"key", "operator", "values"}]});
// Vault also takes YAML, which is refused here with a message.
//
// Storage (the mount's view): config, role/<name>. The reviewer JWT is
// stored below the barrier and never read back.
// Thread-safe: reads are lock-free; writes to one mount are serialised.

#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "logical/backend.h"

namespace coffer::auth::kubernetes {

// What the TokenReview API said of a token.
struct ReviewResult {
  std::string name;
  std::string namespace_name;
  std::string uid;
};

struct ReviewRequest {
  std::string host;    // https://<api server>[:port]
  std::string ca_pem;  // empty: the system trust store
  std::string bearer;  // the reviewer JWT, or the token itself
  std::string token;   // the token under review
  std::vector<std::string> audiences;
};

// Sends a TokenReview; tests substitute their own. kPermissionDenied when
// the API does not confirm the token (its reason in the message),
// kUnavailable when the API cannot be reached.
using Reviewer = std::function<Result<ReviewResult>(const ReviewRequest&)>;
Result<ReviewResult> ReviewOverHttp(const ReviewRequest& request);

// Reads a namespace's labels (GET /api/v1/namespaces/<name>), as
// `request.bearer`; its token and audiences are unused. Tests substitute
// their own. kUnavailable when the API cannot be reached or refuses.
using LabelReader = std::function<Result<std::map<std::string, std::string>>(
    const ReviewRequest& request, const std::string& namespace_name)>;
Result<std::map<std::string, std::string>> NamespaceLabelsOverHttp(
    const ReviewRequest& request, const std::string& namespace_name);

// What the method asks the cluster.
struct KubeApi {
  Reviewer review = ReviewOverHttp;
  LabelReader labels = NamespaceLabelsOverHttp;
};

class KubernetesBackend final : public logical::Backend {
 public:
  KubernetesBackend(const logical::BackendConfig& config, KubeApi api)
      : storage_(config.storage), clock_(config.clock), api_(std::move(api)) {}

  Result<logical::Response> HandleRequest(const logical::Request& request) override;
  // A token renews only while its role exists.
  Result<std::optional<logical::LoginRenewal>> CheckLoginRenewal(
      const logical::LoginRenewalRequest& renewal) override;
  bool IsUnauthenticated(std::string_view relative_path) const override;
  // Path help for the routes above (kubernetes_help.cc).
  logical::EngineHelp Help() const override;

 private:
  Result<logical::Response> Config(const logical::Request& request);
  Result<logical::Response> RolePath(const logical::Request& request, const std::string& name);
  Result<logical::Response> Login(const logical::Request& request);

  storage::Backend& storage_;
  Clock& clock_;
  KubeApi api_;
  std::mutex write_mu_;
};

// Registers the "kubernetes" auth method type. Idempotent.
void RegisterKubernetes();

}  // namespace coffer::auth::kubernetes
