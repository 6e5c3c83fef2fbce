// The JSON front end of hcl::Parse. nlohmann::json does the lexing and
// parsing; a SAX handler builds the tree so that it can enforce the depth
// limit, refuse duplicate keys and record positions. nlohmann's SAX events do
// not carry positions, so the input goes through an iterator that counts the
// bytes the lexer has consumed: at each event that count sits just past the
// token, which is on the token's line.

#include <cstddef>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

#include "hcl/hcl.h"
#include "hcl/internal.h"

namespace coffer::hcl::internal {
namespace {

using nlohmann::json;

class CountingIterator {
 public:
  using iterator_category = std::input_iterator_tag;
  using value_type = char;
  using difference_type = std::ptrdiff_t;
  using pointer = const char*;
  using reference = const char&;

  CountingIterator(const char* p, std::size_t* consumed) : p_(p), consumed_(consumed) {}
  reference operator*() const { return *p_; }
  CountingIterator& operator++() {
    ++p_;
    ++*consumed_;
    return *this;
  }
  CountingIterator operator++(int) {
    CountingIterator old = *this;
    ++*this;
    return old;
  }
  bool operator==(const CountingIterator& other) const { return p_ == other.p_; }
  bool operator!=(const CountingIterator& other) const { return p_ != other.p_; }

 private:
  const char* p_;
  std::size_t* consumed_;
};

class TreeBuilder final : public nlohmann::json_sax<json> {
 public:
  TreeBuilder(std::string_view text, const ParseOptions& options, const std::size_t* consumed)
      : options_(options), map_(text), consumed_(consumed) {}

  bool null() override { return Value(nullptr); }
  bool boolean(bool v) override { return Value(v); }
  bool number_integer(number_integer_t v) override { return Value(v); }
  bool number_unsigned(number_unsigned_t v) override { return Value(v); }
  bool number_float(number_float_t v, const string_t&) override { return Value(v); }
  bool string(string_t& v) override { return Value(std::move(v)); }
  bool binary(binary_t&) override { return Fail("binary values are not supported"); }

  bool start_object(std::size_t) override { return Open(json::object()); }
  bool start_array(std::size_t) override { return Open(json::array()); }
  bool end_object() override { return Close(); }
  bool end_array() override { return Close(); }

  bool key(string_t& k) override {
    Frame& top = stack_.back();
    if (top.node->contains(k)) return Fail("duplicate key \"" + k + "\"");
    pending_key_ = JoinPointer(top.pointer, k);
    pending_key_name_ = std::move(k);
    positions_[pending_key_] = Here();
    return true;
  }

  bool parse_error(std::size_t position, const std::string&,
                   const nlohmann::detail::exception& ex) override {
    // nlohmann's message reads "[json.exception...] parse error at line L,
    // column C: syntax error while parsing ... - <why>; last read: '<text>'".
    // Keep only the reason: positions are ours and the text may be sensitive.
    std::string what = ex.what();
    if (std::size_t p = what.find("syntax error"); p != std::string::npos) what.erase(0, p);
    if (std::size_t p = what.find("; last read"); p != std::string::npos) what.erase(p);
    if (error_.ok()) {
      error_ = ErrorAt(options_, map_.At(position > 0 ? position - 1 : 0), "invalid JSON: " + what);
    }
    return false;
  }

  Status error() const { return error_; }
  json TakeRoot() { return std::move(root_); }
  std::map<std::string, Position> TakePositions() { return std::move(positions_); }

 private:
  struct Frame {
    json* node;
    std::string pointer;
  };

  Position Here() const { return map_.At(*consumed_ > 0 ? *consumed_ - 1 : 0); }

  bool Fail(std::string what) {
    if (error_.ok()) error_ = ErrorAt(options_, Here(), what);
    return false;
  }

  // Places a value in the current container and returns it with its pointer.
  json* Place(json value, std::string* pointer) {
    if (stack_.empty()) {
      root_ = std::move(value);
      *pointer = "";
      positions_[""] = Here();
      return &root_;
    }
    Frame& top = stack_.back();
    if (top.node->is_array()) {
      *pointer = JoinPointer(top.pointer, std::to_string(top.node->size()));
      positions_[*pointer] = Here();
      top.node->push_back(std::move(value));
      return &top.node->back();
    }
    *pointer = std::move(pending_key_);
    json& slot = (*top.node)[pending_key_name_];
    slot = std::move(value);
    return &slot;
  }

  bool Value(json value) {
    std::string pointer;
    Place(std::move(value), &pointer);
    return true;
  }

  bool Open(json container) {
    if (static_cast<int>(stack_.size()) >= options_.max_depth) {
      return Fail("nesting deeper than " + std::to_string(options_.max_depth) + " levels");
    }
    std::string pointer;
    json* node = Place(std::move(container), &pointer);
    stack_.push_back({node, std::move(pointer)});
    return true;
  }

  bool Close() {
    stack_.pop_back();
    return true;
  }

  const ParseOptions& options_;
  SourceMap map_;
  const std::size_t* consumed_;
  json root_;
  std::vector<Frame> stack_;
  std::string pending_key_;
  std::string pending_key_name_;
  std::map<std::string, Position> positions_;
  Status error_;
};

}  // namespace

Result<Document> ParseJsonText(std::string_view text, const ParseOptions& options) {
  std::size_t consumed = 0;
  TreeBuilder builder(text, options, &consumed);
  bool ok = false;
  try {
    ok = json::sax_parse(CountingIterator(text.data(), &consumed),
                         CountingIterator(text.data() + text.size(), &consumed), &builder);
  } catch (const json::exception& e) {
    return Err(ErrorAt(options, SourceMap(text).At(consumed), "invalid JSON"));
  }
  if (!ok) {
    Status error = builder.error();
    if (error.ok()) error = ErrorAt(options, SourceMap(text).At(consumed), "invalid JSON");
    return Err(std::move(error));
  }
  json root = builder.TakeRoot();
  if (!root.is_object()) {
    return Err(ErrorAt(options, {1, 1}, "a JSON document must be an object"));
  }
  return Document(std::move(root), builder.TakePositions());
}

}  // namespace coffer::hcl::internal
