#pragma once
// Parameter constraints of one merged ACL rule (internal to policy/).

#include <nlohmann/json.hpp>
#include <string>

#include "policy/acl.h"

namespace coffer::policy::internal {

// True when `params` satisfies the rule's required, denied and allowed
// parameters; otherwise false with `reason` set (parameter names only, never
// values).
bool CheckParameters(const Acl::Rule& rule, const nlohmann::json& params, std::string& reason);

// Vault's value glob: "*x*" contains, "*x" suffix, "x*" prefix, else equal.
bool GlobMatch(std::string_view pattern, std::string_view value);

}  // namespace coffer::policy::internal
