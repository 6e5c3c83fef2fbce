#include "config/decode.h"

#include <algorithm>
#include <charconv>

#include "common/duration.h"
#include "common/encoding.h"
#include "config/duration.h"

namespace coffer::config::internal {

using nlohmann::json;

std::string_view TypeName(const json& value) {
  switch (value.type()) {
    case json::value_t::string:
      return "a string";
    case json::value_t::boolean:
      return "a boolean";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
    case json::value_t::number_float:
      return "a number";
    case json::value_t::array:
      return "a list";
    case json::value_t::object:
      return "a block or object";
    case json::value_t::null:
      return "null";
    default:
      return "an unsupported value";
  }
}

namespace {
Status Expected(std::string_view what, const json& value) {
  return InvalidArgument("expected " + std::string(what) + ", got " + std::string(TypeName(value)));
}
}  // namespace

Result<std::string> ReadString(const json& value) {
  if (!value.is_string()) return Err(Expected("a string", value));
  return value.get<std::string>();
}

Result<bool> ReadBool(const json& value) {
  if (value.is_boolean()) return value.get<bool>();
  if (value.is_number_integer()) {
    const auto n = value.get<std::int64_t>();
    if (n == 0 || n == 1) return n == 1;
    return Err(InvalidArgument("expected true or false, got a number other than 0 or 1"));
  }
  if (value.is_string()) {
    if (auto b = ParseGoBool(value.get_ref<const std::string&>())) return *b;
    return Err(InvalidArgument("expected true or false, got a string that is neither"));
  }
  return Err(Expected("true or false", value));
}

Result<std::int64_t> ReadInt(const json& value) {
  if (value.is_number_integer()) {
    if (value.is_number_unsigned() && value.get<std::uint64_t>() > INT64_MAX) {
      return Err(InvalidArgument("integer out of range"));
    }
    return value.get<std::int64_t>();
  }
  if (value.is_string()) {
    const auto& s = value.get_ref<const std::string&>();
    std::int64_t n = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
    if (ec == std::errc() && end == s.data() + s.size() && !s.empty()) return n;
    return Err(InvalidArgument("expected an integer, got a string that is not one"));
  }
  return Err(Expected("an integer", value));
}

Result<std::chrono::milliseconds> ReadDuration(const json& value) {
  if (value.is_number_integer()) {
    ASSIGN_OR_RETURN(std::int64_t seconds, ReadInt(value));
    if (seconds < 0) return Err(InvalidArgument("must not be negative"));
    // Go's range, as the string form's (ParseGoDuration).
    if (seconds > kMaxDurationSeconds) return Err(InvalidArgument("duration too large"));
    return std::chrono::milliseconds(seconds * 1000);
  }
  if (value.is_string()) return ParseDuration(value.get_ref<const std::string&>());
  return Err(Expected("a duration such as \"30s\" or \"768h\"", value));
}

Result<std::string> ReadParam(const json& value) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_boolean()) return std::string(value.get<bool>() ? "true" : "false");
  if (value.is_number()) return value.dump();
  return Err(Expected("a string, number or boolean", value));
}

std::vector<Block> CollectBlocks(const hcl::Document& doc, const json& value,
                                 const std::string& pointer, BlockError* error) {
  std::vector<Block> blocks;
  auto add_labelled = [&](const json& object, const std::string& object_pointer) {
    for (const auto& [label, body] : object.items()) {
      const std::string label_pointer = hcl::JoinPointer(object_pointer, label);
      if (body.is_object()) {
        blocks.push_back({label, &body, label_pointer, doc.PositionOf(label_pointer)});
      } else if (body.is_array()) {
        for (std::size_t i = 0; i < body.size(); ++i) {
          const std::string p = hcl::JoinPointer(label_pointer, std::to_string(i));
          if (!body[i].is_object()) {
            *error = {p, "expected a block body { ... }, got " + std::string(TypeName(body[i]))};
            return false;
          }
          blocks.push_back({label, &body[i], p, doc.PositionOf(p)});
        }
      } else {
        *error = {label_pointer,
                  "expected a block body { ... }, got " + std::string(TypeName(body))};
        return false;
      }
    }
    return true;
  };

  if (value.is_object() && value.empty()) {
    *error = {pointer, "expected a type label, as in NAME \"TYPE\" { ... }"};
    return {};
  }
  if (value.is_object()) {
    if (!add_labelled(value, pointer)) return {};
  } else if (value.is_array()) {
    for (std::size_t i = 0; i < value.size(); ++i) {
      const std::string p = hcl::JoinPointer(pointer, std::to_string(i));
      if (!value[i].is_object()) {
        *error = {p, "expected a labelled block, got " + std::string(TypeName(value[i]))};
        return {};
      }
      if (!add_labelled(value[i], p)) return {};
    }
  } else {
    *error = {pointer, "expected a labelled block such as NAME \"TYPE\" { ... }, got " +
                           std::string(TypeName(value))};
    return {};
  }
  std::stable_sort(blocks.begin(), blocks.end(), [](const Block& a, const Block& b) {
    return std::pair(a.position.line, a.position.column) <
           std::pair(b.position.line, b.position.column);
  });
  return blocks;
}

}  // namespace coffer::config::internal
