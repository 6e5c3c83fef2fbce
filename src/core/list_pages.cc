#include "core/list_pages.h"

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/encoding.h"

namespace coffer::core {

Status PageListing(const logical::Request& request, logical::Response& response) {
  auto after_param = request.query.find("after");
  auto limit_param = request.query.find("limit");
  if (after_param == request.query.end() && limit_param == request.query.end()) {
    return Status::Ok();
  }
  std::size_t limit = 0;  // all
  if (limit_param != request.query.end() && !limit_param->second.empty()) {
    const std::optional<std::int64_t> n = ParseInt64(limit_param->second);
    if (!n) return InvalidArgument("invalid value for \"limit\": expected an integer");
    if (*n > 0) limit = static_cast<std::size_t>(*n);
  }
  logical::Json& data = response.data;
  if (!data.is_object()) return Status::Ok();
  auto keys = data.find("keys");
  if (keys == data.end() || !keys->is_array()) return Status::Ok();
  std::vector<std::string> names;
  names.reserve(keys->size());
  for (const logical::Json& key : *keys) {
    if (!key.is_string()) return Status::Ok();  // not a listing of names
    names.push_back(key.get<std::string>());
  }
  std::sort(names.begin(), names.end());
  const std::string after =
      after_param != request.query.end() ? after_param->second : std::string();
  auto first = after.empty() ? names.begin() : std::upper_bound(names.begin(), names.end(), after);
  const std::size_t available = static_cast<std::size_t>(names.end() - first);
  const std::size_t take = limit == 0 ? available : std::min(available, limit);
  if (take == 0) {
    response = logical::NotFoundResponse();
    return Status::Ok();
  }
  logical::Json kept = logical::Json::array();
  for (auto it = first; it != first + static_cast<std::ptrdiff_t>(take); ++it) kept.push_back(*it);
  if (take < available) data["next_after"] = kept.back();
  KeepKeyInfo(data, kept);
  *keys = std::move(kept);
  return Status::Ok();
}

void KeepKeyInfo(logical::Json& data, const logical::Json& kept) {
  auto info = data.find("key_info");
  if (info == data.end() || !info->is_object()) return;
  logical::Json filtered = logical::Json::object();
  for (const logical::Json& key : kept) {
    auto it = info->find(key.get_ref<const std::string&>());
    if (it != info->end()) filtered[it.key()] = std::move(*it);
  }
  *info = std::move(filtered);
}

}  // namespace coffer::core
