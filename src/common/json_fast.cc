#include "common/json_fast.h"

#include <cstdint>
#include <string>
#include <utility>

// simdjson.h is large: it comes in through json_scratch.h, included only
// here and in src/engines/kv/metadata_fast.cc.
#include "common/json_scratch.h"

namespace coffer {
namespace {

using Json = nlohmann::json;
namespace dom = simdjson::dom;

// simdjson validated the document, so every accessor below succeeds; its
// depth limit (1024) bounds the recursion.
Json Convert(dom::element e) {
  switch (e.type()) {
    case dom::element_type::OBJECT: {
      Json object = Json::object();
      dom::object fields = e.get_object().value_unsafe();
      for (auto [key, value] : fields) {
        // As nlohmann's parser: a later duplicate key replaces the earlier.
        object[std::string(key)] = Convert(value);
      }
      return object;
    }
    case dom::element_type::ARRAY: {
      Json array = Json::array();
      dom::array items = e.get_array().value_unsafe();
      for (dom::element item : items) array.push_back(Convert(item));
      return array;
    }
    case dom::element_type::STRING:
      return Json(std::string(e.get_string().value_unsafe()));
    case dom::element_type::INT64: {
      // nlohmann stores every non-negative integer as unsigned.
      std::int64_t v = e.get_int64().value_unsafe();
      if (v >= 0) return Json(static_cast<std::uint64_t>(v));
      return Json(v);
    }
    case dom::element_type::UINT64:
      return Json(e.get_uint64().value_unsafe());
    case dom::element_type::DOUBLE:
      return Json(e.get_double().value_unsafe());
    case dom::element_type::BOOL:
      return Json(e.get_bool().value_unsafe());
    case dom::element_type::NULL_VALUE:
      return Json(nullptr);
  }
  return Json(nullptr);
}

}  // namespace

std::optional<Json> ParseJsonFast(std::string_view text) {
  internal::ScratchParse parse(text);
  dom::element root;
  if (parse.root().get(root) != simdjson::SUCCESS) return std::nullopt;
  return Convert(root);
}

nlohmann::json ParseJson(std::string_view text) {
  std::optional<Json> fast = ParseJsonFast(text);
  if (fast) return *std::move(fast);
  return Json::parse(text, nullptr, /*allow_exceptions=*/false);
}

}  // namespace coffer
