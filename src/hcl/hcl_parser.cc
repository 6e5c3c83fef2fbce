// The HCL 1 front end of hcl::Parse: a recursive-descent parser over the raw
// text (no separate token stream; newlines are not significant, as in HCL 1).
// Recursion is bounded by ParseOptions::max_depth, checked before every
// descent, so hostile input cannot exhaust the stack.

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/encoding.h"
#include "hcl/hcl.h"
#include "hcl/internal.h"

namespace coffer::hcl::internal {
namespace {

using nlohmann::json;

bool IsIdentStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool IsIdentChar(char c) {
  return IsIdentStart(c) || (c >= '0' && c <= '9') || c == '-' || c == '.';
}
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// What one key of a body has been so far, to reject conflicting redefinitions.
struct KeyInfo {
  bool is_block = false;
  std::size_t labels = 0;
  int line = 0;
};

class Parser {
 public:
  Parser(std::string_view text, const ParseOptions& options)
      : text_(text), options_(options), map_(text) {}

  Result<Document> Run() {
    if (text_.starts_with("\xEF\xBB\xBF")) pos_ = 3;
    json root = json::object();
    positions_[""] = {1, 1};
    TRY(ParseBody(root, "", 0, /*open_offset=*/std::string_view::npos));
    return Document(std::move(root), std::move(positions_));
  }

 private:
  bool AtEnd() const { return pos_ >= text_.size(); }
  char Peek(std::size_t ahead = 0) const {
    return pos_ + ahead < text_.size() ? text_[pos_ + ahead] : '\0';
  }
  Position Here() const { return map_.At(pos_); }
  Status Error(std::string_view what) const { return ErrorAt(options_, Here(), what); }
  Status ErrorAtOffset(std::size_t offset, std::string_view what) const {
    return ErrorAt(options_, map_.At(offset), what);
  }
  Status CheckDepth(int depth) const {
    if (depth > options_.max_depth) {
      return Error("nesting deeper than " + std::to_string(options_.max_depth) + " levels");
    }
    return Status::Ok();
  }

  // Skips blanks, newlines and all three comment forms.
  Status SkipSpace() {
    while (!AtEnd()) {
      const char c = Peek();
      if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
        ++pos_;
      } else if (c == '#' || (c == '/' && Peek(1) == '/')) {
        while (!AtEnd() && Peek() != '\n') ++pos_;
      } else if (c == '/' && Peek(1) == '*') {
        const std::size_t start = pos_;
        const std::size_t end = text_.find("*/", pos_ + 2);
        if (end == std::string_view::npos) {
          return ErrorAtOffset(start, "unterminated /* comment");
        }
        pos_ = end + 2;
      } else {
        return Status::Ok();
      }
    }
    return Status::Ok();
  }

  // A body: items until `}` (or the end of input for the top level, where
  // open_offset is npos). Commas between items are accepted.
  Status ParseBody(json& out, const std::string& pointer, int depth, std::size_t open_offset) {
    TRY(CheckDepth(depth));
    std::map<std::string, KeyInfo> keys;
    while (true) {
      TRY(SkipSpace());
      if (AtEnd()) {
        if (open_offset == std::string_view::npos) return Status::Ok();
        return Error("expected '}' to close the '{' at line " +
                     std::to_string(map_.At(open_offset).line));
      }
      const char c = Peek();
      if (c == '}') {
        if (open_offset == std::string_view::npos) return Error("unexpected '}'");
        ++pos_;
        return Status::Ok();
      }
      if (c == ',') {
        ++pos_;
        continue;
      }
      TRY(ParseItem(out, pointer, depth, keys));
    }
  }

  // Reads an identifier or quoted string used as a key or label.
  Result<std::string> ParseName(std::string_view what) {
    if (Peek() == '"') return ParseQuoted();
    if (!IsIdentStart(Peek())) return Err(Error("expected " + std::string(what)));
    const std::size_t start = pos_;
    while (!AtEnd() && IsIdentChar(Peek())) ++pos_;
    return std::string(text_.substr(start, pos_ - start));
  }

  Status ParseItem(json& out, const std::string& pointer, int depth,
                   std::map<std::string, KeyInfo>& keys) {
    const Position key_pos = Here();
    ASSIGN_OR_RETURN(std::string key, ParseName("a key (identifier or quoted string)"));
    TRY(SkipSpace());
    std::vector<std::string> labels;
    while (Peek() == '"' || IsIdentStart(Peek())) {
      ASSIGN_OR_RETURN(std::string label, ParseName("a block label"));
      labels.push_back(std::move(label));
      TRY(SkipSpace());
    }
    const std::string quoted = "\"" + key + "\"";
    auto found = keys.find(key);
    if (Peek() == '=' && labels.empty()) {
      if (found != keys.end()) {
        return ErrorAt(
            options_, key_pos,
            quoted + " is already defined at line " + std::to_string(found->second.line));
      }
      keys[key] = {false, 0, key_pos.line};
      ++pos_;
      TRY(SkipSpace());
      const std::string value_pointer = JoinPointer(pointer, key);
      positions_[value_pointer] = key_pos;
      json value;
      TRY(ParseValue(value, value_pointer, depth));
      out[key] = std::move(value);
      return Status::Ok();
    }
    if (Peek() != '{') {
      return Error(labels.empty() ? "expected '=' or '{' after " + quoted
                                  : "expected '{' after the labels of block " + quoted);
    }
    if (found != keys.end()) {
      if (!found->second.is_block) {
        return ErrorAt(options_, key_pos,
                       quoted + " is already defined as an attribute at line " +
                           std::to_string(found->second.line));
      }
      if (found->second.labels != labels.size()) {
        return ErrorAt(options_, key_pos,
                       "block " + quoted + " has " + std::to_string(labels.size()) +
                           " label(s) here but " + std::to_string(found->second.labels) +
                           " at line " + std::to_string(found->second.line));
      }
    } else {
      keys[key] = {true, labels.size(), key_pos.line};
    }
    const int body_depth = depth + static_cast<int>(labels.size()) + 1;
    TRY(CheckDepth(body_depth));

    // Walk (creating) the label containers, then decide where the body goes.
    labels.insert(labels.begin(), key);
    json* parent = &out;
    std::string parent_pointer = pointer;
    for (std::size_t i = 0; i + 1 < labels.size(); ++i) {
      parent_pointer = JoinPointer(parent_pointer, labels[i]);
      json& child = (*parent)[labels[i]];
      if (child.is_null()) {
        child = json::object();
        positions_[parent_pointer] = key_pos;
      }
      parent = &child;
    }
    const std::string& last = labels.back();
    const std::string leaf_pointer = JoinPointer(parent_pointer, last);
    json* slot = nullptr;
    std::string body_pointer;
    if (!parent->contains(last)) {
      body_pointer = leaf_pointer;
      slot = &(*parent)[last];
    } else {
      json& existing = (*parent)[last];
      if (existing.is_object()) {
        // Second block with this label path: the first moves to index 0.
        json first = std::move(existing);
        existing = json::array();
        existing.push_back(std::move(first));
        MovePositions(leaf_pointer, JoinPointer(leaf_pointer, "0"));
        positions_[leaf_pointer] = positions_[JoinPointer(leaf_pointer, "0")];
      }
      body_pointer = JoinPointer(leaf_pointer, std::to_string(existing.size()));
      existing.push_back(json::object());
      slot = &existing.back();
    }
    positions_[body_pointer] = key_pos;
    const std::size_t open = pos_;
    ++pos_;
    json body = json::object();
    TRY(ParseBody(body, body_pointer, body_depth, open));
    *slot = std::move(body);
    return Status::Ok();
  }

  // Renames every recorded pointer at or below `from` to live below `to`.
  void MovePositions(const std::string& from, const std::string& to) {
    std::vector<std::pair<std::string, Position>> moved;
    for (auto it = positions_.lower_bound(from); it != positions_.end();) {
      if (!it->first.starts_with(from)) break;
      if (it->first.size() == from.size() || it->first[from.size()] == '/') {
        moved.emplace_back(to + it->first.substr(from.size()), it->second);
        it = positions_.erase(it);
      } else {
        ++it;
      }
    }
    for (auto& [k, v] : moved) positions_[std::move(k)] = v;
  }

  Status ParseValue(json& out, const std::string& pointer, int depth) {
    const char c = Peek();
    if (AtEnd()) return Error("expected a value, found the end of input");
    if (c == '"') {
      ASSIGN_OR_RETURN(std::string s, ParseQuoted());
      out = std::move(s);
      return Status::Ok();
    }
    if (c == '<' && Peek(1) == '<') {
      ASSIGN_OR_RETURN(std::string s, ParseHeredoc());
      out = std::move(s);
      return Status::Ok();
    }
    if (c == '[') return ParseList(out, pointer, depth + 1);
    if (c == '{') {
      TRY(CheckDepth(depth + 1));
      const std::size_t open = pos_;
      ++pos_;
      out = json::object();
      return ParseBody(out, pointer, depth + 1, open);
    }
    if (IsDigit(c) || c == '-' || c == '+') return ParseNumber(out);
    if (IsIdentStart(c)) {
      const std::size_t start = pos_;
      while (!AtEnd() && IsIdentChar(Peek())) ++pos_;
      const std::string_view word = text_.substr(start, pos_ - start);
      if (word == "true" || word == "false") {
        out = (word == "true");
        return Status::Ok();
      }
      pos_ = start;
      return Error(
          "expected a value (string, number, true/false, list or object); "
          "bare words must be quoted");
    }
    return Error("expected a value (string, number, true/false, list or object)");
  }

  Status ParseList(json& out, const std::string& pointer, int depth) {
    TRY(CheckDepth(depth));
    const std::size_t open = pos_;
    ++pos_;
    out = json::array();
    while (true) {
      TRY(SkipSpace());
      if (AtEnd()) {
        return Error("expected ']' to close the '[' at line " + std::to_string(map_.At(open).line));
      }
      if (Peek() == ']') {
        ++pos_;
        return Status::Ok();
      }
      const std::string element_pointer = JoinPointer(pointer, std::to_string(out.size()));
      positions_[element_pointer] = Here();
      json element;
      TRY(ParseValue(element, element_pointer, depth));
      out.push_back(std::move(element));
      TRY(SkipSpace());
      if (Peek() == ',') {
        ++pos_;
      } else if (Peek() != ']' && !AtEnd()) {
        return Error("expected ',' or ']' in list");
      }
    }
  }

  Status ParseNumber(json& out) {
    const std::size_t start = pos_;
    bool negative = false;
    if (Peek() == '-' || Peek() == '+') {
      negative = Peek() == '-';
      ++pos_;
    }
    if (!IsDigit(Peek())) return Error("expected a digit");
    const std::size_t digits_start = pos_;
    int base = 10;
    bool is_float = false;
    if (Peek() == '0' && (Peek(1) == 'x' || Peek(1) == 'X')) {
      base = 16;
      pos_ += 2;
      while (std::isxdigit(static_cast<unsigned char>(Peek()))) ++pos_;
    } else {
      while (IsDigit(Peek())) ++pos_;
      if (Peek() == '.' && IsDigit(Peek(1))) {
        is_float = true;
        ++pos_;
        while (IsDigit(Peek())) ++pos_;
      }
      if (Peek() == 'e' || Peek() == 'E') {
        std::size_t p = pos_ + 1;
        if (p < text_.size() && (text_[p] == '+' || text_[p] == '-')) ++p;
        if (p < text_.size() && IsDigit(text_[p])) {
          is_float = true;
          pos_ = p;
          while (IsDigit(Peek())) ++pos_;
        }
      }
    }
    if (IsIdentChar(Peek())) {
      return Error("unexpected character after number (quote values such as \"10s\")");
    }
    std::string_view digits = text_.substr(digits_start, pos_ - digits_start);
    if (is_float) {
      std::string_view all = text_.substr(start + (text_[start] == '+' ? 1 : 0));
      all = all.substr(0, pos_ - start - (text_[start] == '+' ? 1 : 0));
      double value = 0;
      auto [ptr, ec] = std::from_chars(all.data(), all.data() + all.size(), value);
      if (ec != std::errc() || ptr != all.data() + all.size() || !std::isfinite(value)) {
        return ErrorAtOffset(start, "number out of range");
      }
      out = value;
      return Status::Ok();
    }
    if (base == 16) {
      digits.remove_prefix(2);
      if (digits.empty()) return ErrorAtOffset(start, "expected hex digits after 0x");
    } else if (digits.size() > 1 && digits[0] == '0') {
      base = 8;  // HCL 1 reads a leading zero as octal, as Go's ParseInt(s, 0, 64) does.
      digits.remove_prefix(1);
    }
    std::uint64_t magnitude = 0;
    auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), magnitude, base);
    if (ec == std::errc::result_out_of_range) return ErrorAtOffset(start, "integer out of range");
    if (ec != std::errc() || ptr != digits.data() + digits.size()) {
      return ErrorAtOffset(
          start, base == 8 ? "invalid octal number (a leading 0 means octal)" : "invalid number");
    }
    constexpr std::uint64_t kMaxPositive = static_cast<std::uint64_t>(INT64_MAX);
    if (negative) {
      if (magnitude > kMaxPositive + 1) return ErrorAtOffset(start, "integer out of range");
      out = magnitude == kMaxPositive + 1 ? INT64_MIN : -static_cast<std::int64_t>(magnitude);
    } else {
      if (magnitude > kMaxPositive) return ErrorAtOffset(start, "integer out of range");
      out = static_cast<std::int64_t>(magnitude);
    }
    return Status::Ok();
  }

  Result<std::uint32_t> ParseHexDigits(int count) {
    std::uint32_t value = 0;
    for (int i = 0; i < count; ++i) {
      const char c = Peek();
      int digit = -1;
      if (c >= '0' && c <= '9') digit = c - '0';
      if (c >= 'a' && c <= 'f') digit = c - 'a' + 10;
      if (c >= 'A' && c <= 'F') digit = c - 'A' + 10;
      if (digit < 0) return Err(Error("expected a hex digit in escape sequence"));
      value = value * 16 + static_cast<std::uint32_t>(digit);
      ++pos_;
    }
    return value;
  }

  // A quoted string; pos_ is at the opening quote.
  Result<std::string> ParseQuoted() {
    const std::size_t open = pos_;
    ++pos_;
    std::string out;
    while (true) {
      if (AtEnd() || Peek() == '\n') {
        return Err(ErrorAtOffset(open, "unterminated string"));
      }
      const char c = Peek();
      if (c == '"') {
        ++pos_;
        return out;
      }
      if (c == '$' && Peek(1) == '{') {
        TRY(CopyInterpolation(out, open));
        continue;
      }
      if (c != '\\') {
        out += c;
        ++pos_;
        continue;
      }
      const std::size_t escape_start = pos_;
      ++pos_;
      const char e = Peek();
      ++pos_;
      switch (e) {
        case 'n':
          out += '\n';
          break;
        case 't':
          out += '\t';
          break;
        case 'r':
          out += '\r';
          break;
        case 'a':
          out += '\a';
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'v':
          out += '\v';
          break;
        case '"':
          out += '"';
          break;
        case '\\':
          out += '\\';
          break;
        case 'u':
        case 'U': {
          ASSIGN_OR_RETURN(std::uint32_t cp, ParseHexDigits(e == 'u' ? 4 : 8));
          if (e == 'u' && cp >= 0xD800 && cp <= 0xDBFF && Peek() == '\\' && Peek(1) == 'u') {
            pos_ += 2;
            ASSIGN_OR_RETURN(std::uint32_t low, ParseHexDigits(4));
            if (low < 0xDC00 || low > 0xDFFF) {
              return Err(ErrorAtOffset(escape_start, "invalid UTF-16 surrogate pair"));
            }
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          }
          if ((cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) {
            return Err(ErrorAtOffset(escape_start, "invalid Unicode code point in escape"));
          }
          AppendUtf8(out, cp);
          break;
        }
        default:
          return Err(ErrorAtOffset(escape_start, "unknown escape sequence"));
      }
    }
  }

  // Copies `${ ... }` verbatim (HCL 1 interpolation is not evaluated here);
  // quotes inside it do not end the outer string.
  Status CopyInterpolation(std::string& out, std::size_t open) {
    const std::size_t end = InterpolationEnd(text_, pos_);
    if (end == std::string_view::npos) return ErrorAtOffset(open, "unterminated string");
    out.append(text_.substr(pos_, end - pos_));
    pos_ = end;
    return Status::Ok();
  }

  // <<MARKER or <<-MARKER; pos_ is at the first '<'.
  Result<std::string> ParseHeredoc() {
    const std::size_t open = pos_;
    pos_ += 2;
    bool indented = false;
    if (Peek() == '-') {
      indented = true;
      ++pos_;
    }
    const std::size_t marker_start = pos_;
    while (!AtEnd() && IsIdentChar(Peek())) ++pos_;
    const std::string_view marker = text_.substr(marker_start, pos_ - marker_start);
    if (marker.empty() || !IsIdentStart(marker[0])) {
      return Err(Error("expected a heredoc marker such as EOF after <<"));
    }
    if (Peek() == '\r') ++pos_;
    if (Peek() != '\n') return Err(Error("expected a newline after the heredoc marker"));
    ++pos_;
    std::vector<std::string_view> lines;
    while (true) {
      if (AtEnd()) {
        return Err(
            ErrorAtOffset(open, "unterminated heredoc: no line reads " + std::string(marker)));
      }
      std::size_t end = text_.find('\n', pos_);
      const std::size_t next = end == std::string_view::npos ? text_.size() : end + 1;
      if (end == std::string_view::npos) end = text_.size();
      std::string_view line = text_.substr(pos_, end - pos_);
      if (line.ends_with('\r')) line.remove_suffix(1);
      pos_ = next;
      std::string_view trimmed = line;
      if (indented) {
        const std::size_t first = trimmed.find_first_not_of(" \t");
        trimmed = first == std::string_view::npos ? std::string_view() : trimmed.substr(first);
      }
      if (trimmed == marker) break;
      lines.push_back(line);
    }
    std::size_t strip = 0;
    if (indented) {
      strip = std::string_view::npos;
      for (std::string_view line : lines) {
        const std::size_t first = line.find_first_not_of(" \t");
        if (first == std::string_view::npos) continue;  // blank lines do not count
        strip = std::min(strip, first);
      }
      if (strip == std::string_view::npos) strip = 0;
    }
    std::string out;
    for (std::string_view line : lines) {
      line.remove_prefix(std::min(strip, line.size()));
      out.append(line);
      out += '\n';
    }
    return out;
  }

  std::string_view text_;
  const ParseOptions& options_;
  SourceMap map_;
  std::size_t pos_ = 0;
  std::map<std::string, Position> positions_;
};

}  // namespace

Result<Document> ParseHclText(std::string_view text, const ParseOptions& options) {
  Parser parser(text, options);
  return parser.Run();
}

}  // namespace coffer::hcl::internal
