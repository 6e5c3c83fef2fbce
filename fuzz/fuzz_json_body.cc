// Fuzz target: request bodies as the HTTP layer parses them
// (http::ParseJsonBody with the server's depth limit, 500, and a small one).
// Invariants: a parsed body is an object nested no deeper than the limit.
// The body kept with its numbers as written (common/json_numbers.h), when
// there is one, describes the same data as the tree, writes out as JSON
// that parses back to itself, and reads back as the tree's doubles.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "common/json_numbers.h"
#include "fuzz_util.h"
#include "http/request_builder.h"

namespace {

std::size_t Depth(const coffer::logical::Json& j) {
  if (!j.is_structured()) return 0;
  std::size_t deepest = 0;
  for (const auto& child : j) {
    const std::size_t d = Depth(child);
    if (d > deepest) deepest = d;
  }
  return deepest + 1;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view body = coffer::fuzz::View(data, size);
  for (std::size_t max_depth : {std::size_t{500}, std::size_t{4}}) {
    std::shared_ptr<const coffer::logical::Json> written;
    auto json = coffer::http::ParseJsonBody(body, {.max_depth = max_depth}, &written);
    if (!json) continue;
    if (written != nullptr) {
      FUZZ_CHECK(coffer::SameButForNumberText(*json, *written));
      FUZZ_CHECK(coffer::WithoutNumberText(*written) == *json);
      const std::string text = coffer::DumpJsonWithNumberText(*written);
      auto again =
          coffer::ParseJsonNumbers(text, {.max_depth = max_depth, .keep_number_text = true});
      FUZZ_CHECK(again.has_value() && again->value == *written);
    }
    FUZZ_CHECK(json->is_object());
    FUZZ_CHECK(Depth(*json) <= max_depth);
    // What the server sends back must serialise (invalid UTF-8 would throw).
    auto text = json->dump(-1, ' ', false, coffer::logical::Json::error_handler_t::strict);
    FUZZ_CHECK(!text.empty());
  }
  return 0;
}
