#pragma once
// Pieces shared by the HCL and JSON front ends of hcl::Parse. Not part of the
// public API.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "hcl/hcl.h"

namespace coffer::hcl::internal {

// Maps byte offsets of one text to 1-based line/column positions (columns
// count UTF-8 characters, not bytes).
class SourceMap {
 public:
  explicit SourceMap(std::string_view text);
  Position At(std::size_t offset) const;

 private:
  std::string_view text_;
  std::vector<std::size_t> line_starts_;
};

// kInvalidArgument "line L, column C: what" (or "NAME:L:C: what").
Status ErrorAt(const ParseOptions& options, Position where, std::string_view what);

// Offset of the first byte that is not part of valid UTF-8, or npos.
std::size_t FindInvalidUtf8(std::string_view text);

Result<Document> ParseHclText(std::string_view text, const ParseOptions& options);
Result<Document> ParseJsonText(std::string_view text, const ParseOptions& options);

}  // namespace coffer::hcl::internal
