// Fuzz target: ACL policy text (policy::ParsePolicy, HCL or JSON), compiled
// (Acl::Compile, also with an identity for templated paths) and checked
// against a few paths. Invariants: a parsed policy has only known capability
// bits and patterns with '*' at the end only, also once filled in; no
// templated pattern survives as written; the compiled ACL answers without
// crashing.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "fuzz_util.h"
#include "policy/acl.h"
#include "policy/policy.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace coffer::policy;
  auto policy = ParsePolicy("fuzz", coffer::fuzz::View(data, size));
  if (!policy) return 0;
  constexpr std::uint32_t kAll =
      kCapDeny | kCapCreate | kCapRead | kCapUpdate | kCapDelete | kCapList | kCapSudo | kCapPatch;
  for (const PathRules& rule : policy->paths) {
    FUZZ_CHECK((rule.capabilities & ~kAll) == 0);
    FUZZ_CHECK(!(rule.capabilities & kCapDeny) || rule.capabilities == kCapDeny);
    const auto star = rule.pattern.find('*');
    FUZZ_CHECK(star == std::string::npos || star == rule.pattern.size() - 1);
  }
  auto shared = std::make_shared<const Policy>(std::move(*policy));
  auto acl = Acl::Compile({shared});
  FUZZ_CHECK(acl.has_value());
  // Templated paths: without an identity they are left out; filled in, they
  // keep the glob rule and no braces remain.
  TemplateIdentity who;
  who.entity_id = "e-1";
  who.entity_name = "alice";
  who.entity_metadata = {{"team", "blue"}, {"slash", "a/b"}};
  who.aliases = {{"auth_userpass_1", "al-1", "alice", {{"k", "v"}}}};
  who.groups = {{"g-1", "ops", {{"site", "ams"}}}};
  auto filled = Acl::Compile({shared}, &who);
  FUZZ_CHECK(filled.has_value());
  for (const auto& rule : (*filled)->rules()) {
    const auto star = rule.pattern.find('*');
    FUZZ_CHECK(star == std::string::npos || star == rule.pattern.size() - 1);
    FUZZ_CHECK(rule.pattern.find("{{") == std::string::npos);
    FUZZ_CHECK(rule.pattern.find("}}") == std::string::npos);
  }
  if (!shared->templated) FUZZ_CHECK((*filled)->rules().size() == (*acl)->rules().size());
  const nlohmann::json params = {{"foo", "bar"}, {"n", 1}};
  for (const PathRules& rule : shared->paths) {
    for (auto op : {coffer::logical::Operation::kRead, coffer::logical::Operation::kUpdate,
                    coffer::logical::Operation::kList}) {
      const bool exact_deny =
          rule.capabilities == kCapDeny && rule.pattern.find_first_of("*+") == std::string::npos;
      if (!rule.templated) {
        Decision d = (*acl)->Check(rule.pattern, op, params);
        if (exact_deny) FUZZ_CHECK(!d.allowed);  // an exact deny rule wins outright
      } else if (auto path = ExpandTemplate(rule.pattern, &who)) {
        // Filled in, it wins for that caller; unfilled, it is left out
        // (docs/policies.md), so its raw text proves nothing.
        Decision d = (*filled)->Check(*path, op, params);
        if (exact_deny) FUZZ_CHECK(!d.allowed);
      }
    }
    (void)(*acl)->Capabilities(rule.pattern);
  }
  return 0;
}
