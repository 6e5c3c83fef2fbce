#pragma once
// A simdjson parse on a parser kept per thread, for the records the server
// decodes on every read (common/json_fast.cc, engines/kv/metadata_fast.cc:
// the only files that include this header, since simdjson.h is large).
//
// Why not a parser per call: allocating one costs two ~40 KB blocks and a
// 1 KB depth table (zeroed), and glibc consolidates its fast bins to find
// them: ~1.6 % of an unaudited KV read's CPU, ~3 % of an audited one's,
// where more memory is freed between parses (a profile of each).
//
// Hygiene: the parser keeps the copy of the text, the strings it unescaped
// and the numbers it read. When the parse ends (the destructor) those are
// wiped as far as a text of that length can have written them, so no
// plaintext stays behind. Texts over kScratchBytes, or a parse started while
// another is open on the same thread, get a parser of their own, freed (and
// wiped by the server's operator delete) at the end, as before.

#include <simdjson.h>

#include <cstddef>
#include <memory>
#include <string_view>

namespace coffer::internal {

class ScratchParse {
 public:
  // The largest text parsed on the kept parser: its buffers are sized for
  // this once (~60 KB per thread).
  static constexpr std::size_t kScratchBytes = 4096;

  explicit ScratchParse(std::string_view text);
  ~ScratchParse();
  ScratchParse(const ScratchParse&) = delete;
  ScratchParse& operator=(const ScratchParse&) = delete;

  // The document's root; valid until this object is destroyed.
  simdjson::simdjson_result<simdjson::dom::element> root() const { return root_; }

 private:
  struct Own;
  std::unique_ptr<Own> own_;  // the parser of a text not parsed on the kept one
  bool kept_ = false;
  std::size_t length_ = 0;
  simdjson::simdjson_result<simdjson::dom::element> root_;
};

// For tests: whether this thread's kept parser holds `needle` anywhere in
// its buffers (the text's copy, the unescaped strings, the tape).
bool ScratchHolds(std::string_view needle);

}  // namespace coffer::internal
