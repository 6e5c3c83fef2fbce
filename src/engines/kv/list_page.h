#pragma once
// Listing a KV folder, shared by versions 1 and 2: one level (LIST) or the
// whole subtree (SCAN, OpenBao's recursive list), in pages.
//
//   LIST  after=K limit=N   OpenBao's pagination of one level: the names that
//                           sort after K, at most N (N <= 0 or absent: all).
//   SCAN  after=K limit=N   every key below the folder (leaves only, paths
//                           relative to it), after K, at most N; without
//                           `limit` (or with 0) all of them, except for
//                           Coffer's older form `LIST ?recursive=true`, which
//                           pages by 1000 unless given a limit. A negative
//                           limit is refused; above 10000 it is lowered, with
//                           a warning.
//
// Both answer {keys, next_after} where `next_after` (a Coffer extension) is
// present only when more keys remain: pass it as `after` for the next page.
// An empty page answers 404, as Vault answers an empty LIST.
//
// Order: bytewise, the order of the full paths, because a folder's name
// carries its trailing '/'. Keys created or deleted while a client pages
// appear or not depending on where they sort relative to its cursor; no key
// that exists throughout is skipped or repeated.

#include <cstddef>
#include <string>
#include <vector>

#include "common/status.h"
#include "logical/request.h"
#include "storage/backend.h"

namespace coffer::engines::kv {

struct ListPage {
  std::vector<std::string> keys;
  bool more = false;        // keys remain after the last one
  nlohmann::json warnings;  // null, or an array
};

// Lists `base` ("" or ending in '/') of `store`: one level for
// Operation::kList, the subtree for kScan, with the request's `after` and
// `limit`. kInvalidArgument for a bad parameter, or for `recursive=true` on a
// list (a recursive list reaches an engine only as a scan).
Result<ListPage> ListFolder(storage::Backend& store, const std::string& base,
                            const logical::Request& request);

// {keys, next_after?} with the page's warnings, or 404 when it is empty.
logical::Response PageResponse(ListPage page);

}  // namespace coffer::engines::kv
