#include "hcl/hcl.h"

#include <algorithm>
#include <string>

#include "hcl/internal.h"

namespace coffer::hcl {
namespace internal {

SourceMap::SourceMap(std::string_view text) : text_(text) {
  line_starts_.push_back(0);
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\n') line_starts_.push_back(i + 1);
  }
}

Position SourceMap::At(std::size_t offset) const {
  offset = std::min(offset, text_.size());
  auto it = std::upper_bound(line_starts_.begin(), line_starts_.end(), offset);
  const std::size_t line_index = static_cast<std::size_t>(it - line_starts_.begin()) - 1;
  const std::size_t start = line_starts_[line_index];
  int column = 1;
  for (std::size_t i = start; i < offset; ++i) {
    // Continuation bytes do not start a character.
    if ((static_cast<unsigned char>(text_[i]) & 0xC0) != 0x80) ++column;
  }
  return {static_cast<int>(line_index) + 1, column};
}

Status ErrorAt(const ParseOptions& options, Position where, std::string_view what) {
  std::string message;
  if (options.source_name.empty()) {
    message = "line " + std::to_string(where.line) + ", column " + std::to_string(where.column) +
              ": " + std::string(what);
  } else {
    message = options.source_name + ":" + std::to_string(where.line) + ":" +
              std::to_string(where.column) + ": " + std::string(what);
  }
  return InvalidArgument(std::move(message));
}

std::size_t FindInvalidUtf8(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    const auto c = static_cast<unsigned char>(text[i]);
    std::size_t len = 0;
    std::uint32_t cp = 0;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      len = 2;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4;
      cp = c & 0x07;
    } else {
      return i;
    }
    if (i + len > text.size()) return i;
    for (std::size_t k = 1; k < len; ++k) {
      const auto cc = static_cast<unsigned char>(text[i + k]);
      if ((cc & 0xC0) != 0x80) return i;
      cp = (cp << 6) | (cc & 0x3F);
    }
    // Overlong forms, surrogates and values past U+10FFFF are invalid.
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
        (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) {
      return i;
    }
    i += len;
  }
  return std::string_view::npos;
}

}  // namespace internal

Position Document::PositionOf(std::string_view json_pointer) const {
  std::string key(json_pointer);
  while (true) {
    auto it = positions_.find(key);
    if (it != positions_.end()) return it->second;
    if (key.empty()) return {};
    key.erase(key.rfind('/'));
  }
}

std::string JoinPointer(std::string_view pointer, std::string_view token) {
  std::string out(pointer);
  out.reserve(out.size() + token.size() + 1);
  out += '/';
  for (char c : token) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out += c;
    }
  }
  return out;
}

Result<Document> Parse(std::string_view text, const ParseOptions& options) {
  if (text.size() > options.max_bytes) {
    std::string what = "document is " + std::to_string(text.size()) +
                       " bytes, more than the limit of " + std::to_string(options.max_bytes);
    if (!options.source_name.empty()) what = options.source_name + ": " + what;
    return Err(TooLarge(std::move(what)));
  }
  if (std::size_t bad = internal::FindInvalidUtf8(text); bad != std::string_view::npos) {
    return Err(internal::ErrorAt(options, internal::SourceMap(text).At(bad),
                                 "invalid UTF-8 byte sequence"));
  }
  if (IsJson(text)) return internal::ParseJsonText(text, options);
  return internal::ParseHclText(text, options);
}

std::size_t InterpolationEnd(std::string_view text, std::size_t at) {
  int braces = 0;
  bool in_string = false;
  for (std::size_t i = at; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\n') return std::string_view::npos;
    if (in_string) {
      if (c == '\\' && i + 1 < text.size() && text[i + 1] != '\n') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{') {
      ++braces;
    } else if (c == '}' && --braces == 0) {
      return i + 1;
    }
  }
  return std::string_view::npos;
}

bool IsJson(std::string_view text) {
  // A UTF-8 byte order mark is tolerated and skipped.
  const std::size_t skipped = text.starts_with("\xEF\xBB\xBF") ? 3 : 0;
  const std::size_t first = text.find_first_not_of(" \t\r\n", skipped);
  return first != std::string_view::npos && text[first] == '{';
}

}  // namespace coffer::hcl
