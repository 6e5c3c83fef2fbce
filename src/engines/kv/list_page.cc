#include "engines/kv/list_page.h"

#include <algorithm>
#include <limits>

#include "engines/kv/params.h"

namespace coffer::engines::kv {
namespace {

constexpr std::int64_t kRecursiveListDefaultLimit = 1000;
constexpr std::int64_t kMaxScanLimit = 10000;
constexpr std::size_t kAll = std::numeric_limits<std::size_t>::max();

// Depth first in List order, which is the bytewise order of the full paths,
// so the walk skips every folder that lies wholly at or before `after`.
Status Walk(storage::Backend& store, const std::string& base, const std::string& rel,
            const std::string& after, std::size_t limit, ListPage& page) {
  ASSIGN_OR_RETURN(std::vector<std::string> names, store.List(base + rel));
  for (const std::string& name : names) {
    if (page.more) return Status::Ok();
    std::string path = rel + name;
    if (!name.empty() && name.back() == '/') {
      if (after.empty() || path > after || after.starts_with(path)) {
        TRY(Walk(store, base, path, after, limit, page));
      }
    } else if (after.empty() || path > after) {
      if (page.keys.size() >= limit) {
        page.more = true;
        return Status::Ok();
      }
      page.keys.push_back(std::move(path));
    }
  }
  return Status::Ok();
}

}  // namespace

Result<ListPage> ListFolder(storage::Backend& store, const std::string& base,
                            const logical::Request& request) {
  const bool scan = request.operation == logical::Operation::kScan;
  const std::optional<Json> recursive = Param(request, "recursive");
  bool legacy_recursive = false;
  if (recursive) {
    ASSIGN_OR_RETURN(legacy_recursive, ParseBool(*recursive, "recursive"));
    if (legacy_recursive && !scan) {
      return Err(InvalidArgument("recursive=true makes a list a scan"));
    }
  }
  ListPage page;
  std::string after;
  if (auto v = Param(request, "after")) {
    if (!v->is_string()) return Err(InvalidArgument("\"after\" must be a string"));
    after = v->get<std::string>();
  }
  std::size_t limit = kAll;
  std::optional<Json> limit_param = Param(request, "limit");
  if (limit_param) {
    ASSIGN_OR_RETURN(std::int64_t n, ParseInt(*limit_param, "limit"));
    if (scan) {
      if (n < 0) return Err(InvalidArgument("\"limit\" must not be negative"));
      if (n > kMaxScanLimit) {
        n = kMaxScanLimit;
        page.warnings =
            Json::array({"limit lowered to the maximum of " + std::to_string(kMaxScanLimit)});
      }
    }
    if (n > 0) limit = static_cast<std::size_t>(n);
  } else if (legacy_recursive) {
    limit = kRecursiveListDefaultLimit;
  }

  if (scan) {
    TRY(Walk(store, base, "", after, limit, page));
    return page;
  }
  ASSIGN_OR_RETURN(std::vector<std::string> names, store.List(base));
  auto first = after.empty() ? names.begin() : std::upper_bound(names.begin(), names.end(), after);
  const std::size_t available = static_cast<std::size_t>(names.end() - first);
  const std::size_t take = std::min(available, limit);
  page.more = take < available;
  page.keys.assign(std::make_move_iterator(first), std::make_move_iterator(first + take));
  return page;
}

logical::Response PageResponse(ListPage page) {
  const bool more = page.more && !page.keys.empty();
  std::string last = more ? page.keys.back() : "";
  logical::Response r = ListResponse(std::move(page.keys));
  if (r.http_status == 404) return r;
  if (more) r.data["next_after"] = std::move(last);
  if (!page.warnings.is_null()) r.warnings = std::move(page.warnings);
  return r;
}

}  // namespace coffer::engines::kv
