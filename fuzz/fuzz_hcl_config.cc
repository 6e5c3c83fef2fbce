// Fuzz target: HCL/JSON documents (hcl::Parse) and server config files
// (config::ParseConfig) on the same bytes. Invariants: no crash, no
// exception, errors are values; a parsed document's positions are valid.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "config/config.h"
#include "fuzz_util.h"
#include "hcl/hcl.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text = coffer::fuzz::View(data, size);
  coffer::hcl::ParseOptions options;
  options.max_depth = 32;
  auto doc = coffer::hcl::Parse(text, options);
  if (doc) {
    for (const auto& [pointer, pos] : doc->positions()) {
      FUZZ_CHECK(pos.line >= 1 && pos.column >= 1);
      FUZZ_CHECK(doc->PositionOf(pointer).line == pos.line);
    }
    (void)doc->json().dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
  auto config = coffer::config::ParseConfig(text, "fuzz.hcl");
  if (config) {
    FUZZ_CHECK(!config->storage.type.empty());
    FUZZ_CHECK(!config->listeners.empty());
  }
  return 0;
}
