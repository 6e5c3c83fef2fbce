#pragma once
// Pages of any LIST, as OpenBao serves them (`bao list -after=X -limit=N`,
// api's ListPage): `?after=` keeps the keys that sort strictly after it
// (it need not exist), `?limit=` at most that many (0 or absent: all).
// The KV engine pages its own listings (engines/kv/list_page.h); every
// other listing (users, roles, accessors, policies, leases, ...) is paged
// here from its whole answer, with the same `next_after` while more keys
// remain. On an answer an engine paged already it changes nothing.

#include "common/status.h"
#include "logical/request.h"

namespace coffer::core {

// Pages `response` (a LIST's answer; anything without a `keys` list is left
// alone) by the request's `after` and `limit` query parameters; `key_info`
// keeps the kept keys' entries. A page with no keys answers 404, as an
// empty listing does. Errors: kInvalidArgument for a `limit` that is not a
// whole number.
Status PageListing(const logical::Request& request, logical::Response& response);

// Keeps in data["key_info"] (if it is an object) only the entries of the
// names in `kept` (an array of strings).
void KeepKeyInfo(logical::Json& data, const logical::Json& kept);

}  // namespace coffer::core
