// Fuzz target: ParseJsonFast (common/json_fast.h) against nlohmann's parser,
// and the KV metadata fast path (engines/kv/metadata_fast.cc) against its DOM
// path. Invariants: whatever the fast parser accepts, nlohmann accepts too,
// as an equal value with the same serialisation; a metadata record the fast
// path decodes re-encodes to what the DOM path makes of the same text.
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "common/json_fast.h"
#include "engines/kv/records.h"
#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace coffer;
  const std::string_view in = fuzz::View(data, size);

  std::optional<nlohmann::json> fast = ParseJsonFast(in);
  if (fast) {
    nlohmann::json reference = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
    FUZZ_CHECK(!reference.is_discarded());
    FUZZ_CHECK(*fast == reference);
    using E = nlohmann::json::error_handler_t;
    FUZZ_CHECK(fast->dump(-1, ' ', false, E::replace) ==
               reference.dump(-1, ' ', false, E::replace));
  }

  if (auto meta = engines::kv::DecodeMetadataFast(in)) {
    auto dom = engines::kv::DecodeMetadataDom(in);
    FUZZ_CHECK(dom.has_value());
    FUZZ_CHECK(engines::kv::EncodeMetadata(*dom) == engines::kv::EncodeMetadata(*meta));
  }
  return 0;
}
