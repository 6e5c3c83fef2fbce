#include "storage/list_tree.h"

#include <utility>

namespace coffer::storage {
namespace {

Status CollectTree(Backend& store, const std::string& prefix, std::vector<std::string>& out) {
  ASSIGN_OR_RETURN(auto children, store.List(prefix));
  for (const auto& child : children) {
    std::string key = prefix + child;
    if (!child.empty() && child.back() == '/') {
      TRY(CollectTree(store, key, out));
    } else {
      out.push_back(std::move(key));
    }
  }
  return Status::Ok();
}

}  // namespace

Result<std::vector<std::string>> ListTree(Backend& store, const std::string& prefix) {
  std::vector<std::string> keys;
  TRY(CollectTree(store, prefix, keys));
  return keys;
}

}  // namespace coffer::storage
