#pragma once
// Every key below a folder of a store, by one List per folder: for the few
// callers that visit a whole tree (deleting a mount's data, converting a
// mount's records).

#include <string>
#include <vector>

#include "storage/backend.h"

namespace coffer::storage {

// Every key below `prefix` ("" or ending in '/'), full keys, depth first in
// List order.
Result<std::vector<std::string>> ListTree(Backend& store, const std::string& prefix);

}  // namespace coffer::storage
