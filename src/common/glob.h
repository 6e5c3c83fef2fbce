#pragma once
// Wildcard matching where '*' matches any run of characters (including none)
// and every other character matches itself, as audit filters and JWT
// bound_claims use it. Iterative with backtracking to the last '*': no
// recursion an attacker could deepen. Pure; thread-safe.

#include <string_view>

namespace coffer {

bool GlobMatch(std::string_view pattern, std::string_view text);

}  // namespace coffer
