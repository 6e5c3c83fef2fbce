#pragma once
// Typed readers for config values, accepting what Vault's parseutil accepts.
// Each returns a short reason on failure ("expected true or false, got a
// list"); the caller adds file, line and key. Reasons never quote the value.
// Internal to config/.

#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "hcl/hcl.h"

namespace coffer::config::internal {

// "a string", "a number", "a list", ...: for messages.
std::string_view TypeName(const nlohmann::json& value);

Result<std::string> ReadString(const nlohmann::json& value);
// true/false, the strings Go's strconv.ParseBool takes ("true", "1", "t",
// "FALSE", ...), or the integers 0 and 1.
Result<bool> ReadBool(const nlohmann::json& value);
// An integer, or a string holding one.
Result<std::int64_t> ReadInt(const nlohmann::json& value);
// A duration string, or an integer number of seconds.
Result<std::chrono::milliseconds> ReadDuration(const nlohmann::json& value);
// A storage/seal parameter: strings as is, numbers and booleans as text.
Result<std::string> ReadParam(const nlohmann::json& value);

// One block of a repeated, labelled kind (listener "tcp" { ... }).
struct Block {
  std::string label;
  const nlohmann::json* body;
  std::string pointer;  // JSON pointer of the body, for positions
  hcl::Position position;
};

// Accepts the shapes hcl::Parse produces ({"tcp": {...}} and
// {"tcp": [{...}, {...}]}) and Vault's JSON form ([{"tcp": {...}}, ...]).
// Returns the blocks in file order, or a reason and the pointer it concerns.
struct BlockError {
  std::string pointer;
  std::string reason;
};
std::vector<Block> CollectBlocks(const hcl::Document& doc, const nlohmann::json& value,
                                 const std::string& pointer, BlockError* error);

}  // namespace coffer::config::internal
