#pragma once
// PolicyBackend: the HTTP API of ACL policies, Vault's shapes. The core
// routes these sys/ paths here; request.relative_path is the part after
// "sys/".
//
//   GET|LIST  policy                 {keys, policies}
//   GET       policy/:name           {name, rules}         404 when missing
//   PUT|POST  policy/:name           {policy} or {rules}   204
//   DELETE    policy/:name                                  204 (idempotent)
//   LIST      policies/acl           {keys}
//   GET       policies/acl/:name     {name, policy}        404 when missing
//   PUT|POST  policies/acl/:name     {policy}              204
//   DELETE    policies/acl/:name                            204
//
// The policy text may be base64-encoded (as Vault accepts). Bad text → 400
// naming the problem and its line; nothing is stored. Only Response.data is
// set; copying it to the top level for the legacy endpoints is the caller's
// job.
//
// Thread-safety: as PolicyStore (HandleRequest may run concurrently).
// Errors: kNotFound for unknown paths, kMethodNotAllowed for a wrong
// operation, kInvalidArgument for bad input or protected policies.

#include "logical/backend.h"
#include "policy/policy_store.h"

namespace coffer::policy {

class PolicyBackend final : public logical::Backend {
 public:
  // `store` must outlive the backend.
  explicit PolicyBackend(PolicyStore& store) : store_(store) {}

  Result<logical::Response> HandleRequest(const logical::Request& request) override;

 private:
  Result<logical::Response> ListPolicies(bool legacy);
  Result<logical::Response> ReadPolicy(std::string_view name, bool legacy);
  Result<logical::Response> WritePolicy(std::string_view name, const logical::Request& request,
                                        bool legacy);
  Result<logical::Response> DeletePolicy(std::string_view name);

  PolicyStore& store_;
};

}  // namespace coffer::policy
