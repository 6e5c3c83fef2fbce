#pragma once
// PolicyBackend: the HTTP API of ACL policies, Vault's shapes. The core
// routes these sys/ paths here; request.relative_path is the part after
// "sys/".
//
//   GET|LIST  policy                 {keys, policies}
//   LIST      policy/:prefix         {keys, policies}      names starting with prefix
//   GET       policy/:name           {name, rules, version, cas_required, modified,
//                                     [expiration], allow_*_in_identity_templates}
//   PUT|POST  policy/:name           {policy} or {rules}, [cas, cas_required,
//                                     expiration | ttl, allow_*_in_identity_templates]
//   PATCH     policy/:name           the same, each optional: the rest is kept
//   DELETE    policy/:name                                  204 (idempotent)
//   LIST      policies/acl[/:prefix] {keys}
//   GET       policies/acl/:name     as policy/:name, with "policy" for "rules"
//   PUT|POST|PATCH|DELETE policies/acl/:name                as policy/:name
//   LIST      policies/detailed/acl[/:prefix]  {keys, key_info: {name: as GET}}
//
// Writes answer 204, a missing policy 404 (PATCH: "policy not found"). The
// lifecycle fields (version, check-and-set, expiration, the template value
// flags) are OpenBao's; PolicyStore keeps them. The policy text may be
// base64-encoded (as Vault accepts). Bad text → 400 naming the problem and
// its line; nothing is stored. Only Response.data is set; copying it to the
// top level for the legacy endpoints is the caller's job.
//
// Thread-safety: as PolicyStore (HandleRequest may run concurrently).
// Errors: kNotFound for unknown paths, kMethodNotAllowed for a wrong
// operation, kInvalidArgument for bad input or protected policies.

#include "common/clock.h"
#include "logical/backend.h"
#include "policy/policy_store.h"

namespace coffer::policy {

class PolicyBackend final : public logical::Backend {
 public:
  // `store` must outlive the backend.
  explicit PolicyBackend(PolicyStore& store, const Clock& clock = SystemClock::Instance())
      : store_(store), clock_(clock) {}

  // A policy as GET answers it (`legacy`: "rules" for "policy").
  static logical::Json Describe(const Policy& policy, bool legacy);

  Result<logical::Response> HandleRequest(const logical::Request& request) override;

 private:
  Result<logical::Response> ListPolicies(std::string_view prefix, bool legacy, bool detailed);
  Result<logical::Response> ReadPolicy(std::string_view name, bool legacy);
  Result<logical::Response> WritePolicy(std::string_view name, const logical::Request& request,
                                        bool legacy);
  Result<logical::Response> PatchPolicy(std::string_view name, const logical::Request& request,
                                        bool legacy);
  Result<logical::Response> DeletePolicy(std::string_view name);

  PolicyStore& store_;
  const Clock& clock_;
};

}  // namespace coffer::policy
