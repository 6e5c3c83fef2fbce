#include "common/json_scratch.h"

#include <string.h>  // explicit_bzero

#include <algorithm>
#include <cstring>
#include <new>

namespace coffer::internal {
namespace {

namespace dom = simdjson::dom;

// How far a parse of an n-byte text can write: simdjson's own buffer sizes
// for a document of capacity n (document::allocate).
std::size_t TapeBytes(std::size_t n) {
  return SIMDJSON_ROUNDUP_N(n + 3, 64) * sizeof(std::uint64_t);
}
std::size_t StringBytes(std::size_t n) {
  return SIMDJSON_ROUNDUP_N(5 * n / 3 + simdjson::SIMDJSON_PADDING, 64);
}

struct Kept {
  dom::parser parser;
  dom::document doc;
  std::unique_ptr<char[]> text;  // kScratchBytes + simdjson::SIMDJSON_PADDING
  bool ready = false;
  bool busy = false;

  bool Prepare() {
    if (ready) return true;
    constexpr std::size_t n = ScratchParse::kScratchBytes;
    text.reset(new (std::nothrow) char[n + simdjson::SIMDJSON_PADDING]);
    if (!text || parser.allocate(n) != simdjson::SUCCESS || doc.allocate(n) != simdjson::SUCCESS) {
      return false;
    }
    std::memset(text.get(), 0, n + simdjson::SIMDJSON_PADDING);
    ready = true;
    return true;
  }
};

thread_local Kept kept;

}  // namespace

struct ScratchParse::Own {
  dom::parser parser;
};

ScratchParse::ScratchParse(std::string_view text)
    : length_(text.size()), root_(simdjson::UNINITIALIZED) {
  Kept& k = kept;
  if (text.size() <= kScratchBytes && !k.busy && k.Prepare()) {
    k.busy = true;
    kept_ = true;
    std::memcpy(k.text.get(), text.data(), text.size());
    // Capacity is already there: no allocation. The bytes after the text
    // are simdjson's padding (read, never parsed).
    root_ = k.parser.parse_into_document(k.doc, k.text.get(), text.size(),
                                         /*realloc_if_needed=*/false);
    return;
  }
  own_ = std::make_unique<Own>();
  // realloc_if_needed: the text is copied into a padded buffer (simdjson
  // reads up to 64 bytes past the end).
  root_ = own_->parser.parse(text.data(), text.size(), /*realloc_if_needed=*/true);
}

ScratchParse::~ScratchParse() {
  if (!kept_) return;
  Kept& k = kept;
  explicit_bzero(k.text.get(), length_);
  explicit_bzero(k.doc.tape.get(), TapeBytes(std::max<std::size_t>(length_, 32)));
  explicit_bzero(k.doc.string_buf.get(), StringBytes(std::max<std::size_t>(length_, 32)));
  k.busy = false;
}

bool ScratchHolds(std::string_view needle) {
  const Kept& k = kept;
  if (!k.ready) return false;
  constexpr std::size_t n = ScratchParse::kScratchBytes;
  for (std::string_view area :
       {std::string_view(k.text.get(), n + simdjson::SIMDJSON_PADDING),
        std::string_view(reinterpret_cast<const char*>(k.doc.tape.get()), TapeBytes(n)),
        std::string_view(reinterpret_cast<const char*>(k.doc.string_buf.get()), StringBytes(n))}) {
    if (area.find(needle) != std::string_view::npos) return true;
  }
  return false;
}

}  // namespace coffer::internal
