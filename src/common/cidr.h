#pragma once
// CIDR blocks (IPv4 and IPv6) for the address bindings of logins, AppRole
// secret IDs and tokens (token_bound_cidrs and friends).

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace coffer {

// Whether `remote` (an IPv4 or IPv6 address, no port) lies in one of the
// CIDR blocks (a bare address means a single host). An empty list allows
// everyone; an unparsable remote address allows no one.
bool AddressAllowed(std::string_view remote, const std::vector<std::string>& cidrs);
// kInvalidArgument naming the first entry that is not a CIDR block or address.
Status ValidateCidrs(const std::vector<std::string>& cidrs);
// Whether every block of `inner` lies inside a block of `outer` (an empty
// `outer` contains everything). Both lists must be valid (ValidateCidrs).
bool CidrsWithin(const std::vector<std::string>& inner, const std::vector<std::string>& outer);

}  // namespace coffer
