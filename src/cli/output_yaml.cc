// FormatYaml: a JSON tree written through libyaml's emitter (Debian's
// libyaml-dev, already used to read `coffer run`'s project files). libyaml
// does the YAML syntax (which strings may stay plain, escapes, literal
// blocks); this file only walks the tree and picks, for each string, a style
// under which YAML reads it back as a string.
#include <yaml.h>

#include <algorithm>
#include <cctype>
#include <string>
#include <vector>

#include "cli/output.h"
#include "common/json_numbers.h"

namespace coffer::cli {
namespace {

int Append(void* data, unsigned char* buffer, std::size_t size) {
  static_cast<std::string*>(data)->append(reinterpret_cast<const char*>(buffer), size);
  return 1;
}

bool IsAsciiDigit(char c) { return c >= '0' && c <= '9'; }

bool AllOf(std::string_view s, bool (*pred)(char)) {
  return !s.empty() && std::all_of(s.begin(), s.end(), pred);
}

// An integer or a float as YAML 1.1's resolver reads one: an optional sign,
// then 0x/0o/0b digits, decimal digits, or [digits][.digits][e[sign]digits]
// ('_' between digits is ignored).
bool ReadsAsNumber(std::string_view s) {
  std::string t;
  for (char c : s) {
    if (c != '_') t += c;
  }
  std::string_view v = t;
  if (!v.empty() && (v.front() == '+' || v.front() == '-')) v.remove_prefix(1);
  if (v.size() > 2 && v[0] == '0') {
    const std::string_view digits = v.substr(2);
    if (v[1] == 'x' || v[1] == 'X') {
      return AllOf(digits,
                   [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; });
    }
    if (v[1] == 'o') return AllOf(digits, [](char c) { return c >= '0' && c <= '7'; });
    if (v[1] == 'b') return AllOf(digits, [](char c) { return c == '0' || c == '1'; });
  }
  const std::size_t e = v.find_first_of("eE");
  std::string_view mantissa = v.substr(0, e);
  if (e != std::string_view::npos) {
    std::string_view exponent = v.substr(e + 1);
    if (!exponent.empty() && (exponent.front() == '+' || exponent.front() == '-')) {
      exponent.remove_prefix(1);
    }
    if (!AllOf(exponent, IsAsciiDigit)) return false;
  }
  const std::size_t dot = mantissa.find('.');
  if (dot == std::string_view::npos) return AllOf(mantissa, IsAsciiDigit);
  const std::string_view whole = mantissa.substr(0, dot);
  const std::string_view fraction = mantissa.substr(dot + 1);
  if (whole.empty() && fraction.empty()) return false;
  return (whole.empty() || AllOf(whole, IsAsciiDigit)) &&
         (fraction.empty() || AllOf(fraction, IsAsciiDigit));
}

// Whether YAML 1.1's resolver (the one Vault's output goes through) would
// read the plain scalar `s` as something other than a string: null, a
// boolean, a number, a timestamp or a merge key.
bool ReadsAsNonString(std::string_view s) {
  if (s.empty()) return true;
  std::string lower(s);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (std::string_view word : {"~", "null", "y", "yes", "n", "no", "true", "false", "on", "off",
                                "<<", ".nan", ".inf", "+.inf", "-.inf"}) {
    if (lower == word) return true;
  }
  if (ReadsAsNumber(s)) return true;
  // 2006-01-02, 2006-01-02T15:04:05Z, ...
  return s.size() >= 5 && IsAsciiDigit(s[0]) && IsAsciiDigit(s[1]) && IsAsciiDigit(s[2]) &&
         IsAsciiDigit(s[3]) && s[4] == '-';
}

class Writer {
 public:
  Writer() {
    ok_ = yaml_emitter_initialize(&emitter_) == 1;
    if (!ok_) return;
    yaml_emitter_set_output(&emitter_, &Append, &out_);
    yaml_emitter_set_unicode(&emitter_, 1);
    yaml_emitter_set_indent(&emitter_, 2);
    yaml_emitter_set_width(&emitter_, -1);  // never fold a long value
  }
  ~Writer() { yaml_emitter_delete(&emitter_); }
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  // The whole document, or "" when libyaml failed.
  std::string Document(const Json& root) {
    yaml_event_t ev;
    Emit(yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING), ev);
    Emit(yaml_document_start_event_initialize(&ev, nullptr, nullptr, nullptr, 1), ev);
    Node(root);
    Emit(yaml_document_end_event_initialize(&ev, 1), ev);
    Emit(yaml_stream_end_event_initialize(&ev), ev);
    return ok_ ? out_ : std::string();
  }

 private:
  // yaml_emitter_emit takes the event (and frees it) whatever it returns.
  void Emit(int initialized, yaml_event_t& ev) {
    if (!ok_) {
      if (initialized == 1) yaml_event_delete(&ev);
      return;
    }
    ok_ = initialized == 1 && yaml_emitter_emit(&emitter_, &ev) == 1;
  }

  void Scalar(const std::string& text, yaml_scalar_style_t style) {
    yaml_event_t ev;
    auto* bytes = reinterpret_cast<yaml_char_t*>(const_cast<char*>(text.data()));
    Emit(yaml_scalar_event_initialize(&ev, nullptr, nullptr, bytes, static_cast<int>(text.size()),
                                      1, 1, style),
         ev);
  }

  void String(const std::string& s) {
    yaml_scalar_style_t style = YAML_PLAIN_SCALAR_STYLE;  // libyaml quotes it if it must
    if (ReadsAsNonString(s)) {
      style = YAML_DOUBLE_QUOTED_SCALAR_STYLE;
    } else if (s.find('\n') != std::string::npos) {
      style = YAML_LITERAL_SCALAR_STYLE;
    }
    Scalar(s, style);
  }

  void Node(const Json& v) {
    yaml_event_t ev;
    if (v.is_object()) {
      const auto style = v.empty() ? YAML_FLOW_MAPPING_STYLE : YAML_BLOCK_MAPPING_STYLE;
      Emit(yaml_mapping_start_event_initialize(&ev, nullptr, nullptr, 1, style), ev);
      // Sorted, as Vault's YAML is (its JSON goes through a Go map).
      std::vector<const std::string*> keys;
      for (auto it = v.begin(); it != v.end(); ++it) keys.push_back(&it.key());
      std::sort(keys.begin(), keys.end(),
                [](const std::string* a, const std::string* b) { return *a < *b; });
      for (const std::string* key : keys) {
        String(*key);
        Node(v.at(*key));
      }
      Emit(yaml_mapping_end_event_initialize(&ev), ev);
    } else if (v.is_array()) {
      const auto style = v.empty() ? YAML_FLOW_SEQUENCE_STYLE : YAML_BLOCK_SEQUENCE_STYLE;
      Emit(yaml_sequence_start_event_initialize(&ev, nullptr, nullptr, 1, style), ev);
      for (const Json& item : v) Node(item);
      Emit(yaml_sequence_end_event_initialize(&ev), ev);
    } else if (v.is_string()) {
      String(v.get_ref<const std::string&>());
    } else {
      // null, true/false, a number (as written: common/json_numbers.h)
      Scalar(DumpJsonWithNumberText(v), YAML_PLAIN_SCALAR_STYLE);
    }
  }

  yaml_emitter_t emitter_{};
  std::string out_;
  bool ok_ = false;
};

}  // namespace

std::string FormatYaml(const Json& value) {
  std::string text = Writer().Document(value);
  // libyaml ends a document whose root is a plain scalar with "...".
  if (text.ends_with("\n...\n")) text.resize(text.size() - 4);
  // Should libyaml ever fail (it does not on a tree of JSON values), the
  // JSON text is still valid YAML.
  if (text.empty()) return FormatJson(value);
  return text;
}

}  // namespace coffer::cli
