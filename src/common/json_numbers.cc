#include "common/json_numbers.h"

#include <algorithm>
#include <cstdlib>
#include <exception>
#include <vector>

#include "common/encoding.h"
#include "common/secret_bytes.h"

namespace coffer {
namespace {

using Json = nlohmann::json;

// How the server prints a scalar (AppendJsonWithNumberText, the HTTP
// layer's envelope): nlohmann's shortest round-trip form, exponents as Go
// writes them.
template <class J>
void AppendScalar(std::string& out, const J& j) {
  const std::size_t from = out.size();
  out += j.dump(-1, ' ', false, J::error_handler_t::replace);
  GoStyleExponents(out, from);
}

bool PrintsAsWritten(double value, const std::string& text) {
  std::string printed;
  AppendScalar(printed, Json(value));
  return printed == text;
}

// nlohmann's DOM builder, with a depth limit checked before a container is
// built and numbers a double would change kept as number texts. The
// builder's methods are not virtual: sax_parse is a template over the
// handler, so this one forwards.
template <class J>
class NumberKeepingSax {
 public:
  NumberKeepingSax(J& root, const JsonParseLimits& limits) : dom_(root, true), limits_(limits) {}

  bool null() { return Value() && dom_.null(); }
  bool boolean(bool v) { return Value() && dom_.boolean(v); }
  bool number_integer(typename J::number_integer_t v) { return Value() && dom_.number_integer(v); }
  bool number_unsigned(typename J::number_unsigned_t v) {
    return Value() && dom_.number_unsigned(v);
  }
  bool number_float(typename J::number_float_t v, const std::string& text) {
    if (!Value()) return false;
    if (PrintsAsWritten(v, text)) return dom_.number_float(v, text);
    inexact_ = true;
    if (!limits_.keep_number_text) return dom_.number_float(v, text);
    typename J::binary_t bytes(std::vector<std::uint8_t>(text.begin(), text.end()),
                               kNumberTextSubtype);
    return dom_.binary(bytes);
  }
  bool string(std::string& v) { return Value() && Length(v) && dom_.string(v); }
  bool binary(typename J::binary_t& v) { return Value() && dom_.binary(v); }
  bool start_object(std::size_t n) { return Value() && Enter(false) && dom_.start_object(n); }
  bool key(std::string& k) {
    if (!Token() || !Length(k)) return false;
    if (limits_.max_object_entries != 0 && ++counts_.back() > limits_.max_object_entries) {
      return Refuse("an object has more than " + std::to_string(limits_.max_object_entries) +
                    " entries");
    }
    return dom_.key(k);
  }
  bool end_object() {
    Leave();
    return dom_.end_object();
  }
  bool start_array(std::size_t n) { return Value() && Enter(true) && dom_.start_array(n); }
  bool end_array() {
    Leave();
    return dom_.end_array();
  }
  template <class Exception>
  bool parse_error(std::size_t position, const std::string& token, const Exception& ex) {
    return dom_.parse_error(position, token, ex);  // throws ex
  }

  // Why the text was refused, when a limit did it; empty otherwise.
  const std::string& refusal() const { return refusal_; }
  bool inexact() const { return inexact_; }

 private:
  bool Refuse(std::string why) {
    refusal_ = std::move(why);
    return false;
  }
  bool Token() {
    if (limits_.max_tokens != 0 && ++tokens_ > limits_.max_tokens) {
      return Refuse("more than " + std::to_string(limits_.max_tokens) + " values and keys");
    }
    return true;
  }
  // A value (or a container starting): one token, and one element of the
  // array it stands in.
  bool Value() {
    if (!Token()) return false;
    if (!in_array_.empty() && in_array_.back() && limits_.max_array_elements != 0 &&
        ++counts_.back() > limits_.max_array_elements) {
      return Refuse("an array has more than " + std::to_string(limits_.max_array_elements) +
                    " elements");
    }
    return true;
  }
  bool Length(const std::string& s) {
    if (limits_.max_string_length != 0 && s.size() > limits_.max_string_length) {
      return Refuse("a string is longer than " + std::to_string(limits_.max_string_length) +
                    " bytes");
    }
    return true;
  }
  bool Enter(bool array) {
    if (in_array_.size() >= limits_.max_depth) return Refuse("nesting too deep");
    in_array_.push_back(array);
    counts_.push_back(0);
    return true;
  }
  void Leave() {
    in_array_.pop_back();
    counts_.pop_back();
  }

  nlohmann::detail::json_sax_dom_parser<J> dom_;
  const JsonParseLimits& limits_;
  std::vector<bool> in_array_;       // per open container: an array?
  std::vector<std::size_t> counts_;  // per open container: its entries so far
  std::size_t tokens_ = 0;
  std::string refusal_;
  bool inexact_ = false;
};

void AppendKey(std::string& out, const std::string& key) {
  out += Json(key).dump(-1, ' ', false, Json::error_handler_t::replace);
}

template <class J>
void AppendIndented(std::string& out, const J& j, int indent, int level);

}  // namespace

template <class J>
bool IsNumberText(const J& j) {
  return j.is_binary() && j.get_binary().has_subtype() &&
         j.get_binary().subtype() == kNumberTextSubtype;
}

template <class J>
std::string_view NumberTextOf(const J& j) {
  const auto& bytes = j.get_binary();
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

template <class J>
double NumberTextValue(const J& j) {
  return std::strtod(std::string(NumberTextOf(j)).c_str(), nullptr);
}

template <class J>
J MakeNumberText(std::string_view text) {
  return J::binary(std::vector<std::uint8_t>(text.begin(), text.end()), kNumberTextSubtype);
}

template <class J>
Result<BasicJsonNumbersParse<J>> ParseJsonNumbers(std::string_view text,
                                                  const JsonParseLimits& limits) {
  BasicJsonNumbersParse<J> out;
  NumberKeepingSax<J> sax(out.value, limits);
  try {
    const bool ok = J::sax_parse(text.begin(), text.end(), &sax);
    if (!sax.refusal().empty()) {
      return Err(InvalidArgument("failed to parse JSON input: " + sax.refusal()));
    }
    if (!ok) return Err(InvalidArgument("failed to parse JSON input"));
  } catch (const typename J::exception& e) {
    // nlohmann's message ends with the text it last read, which may be a
    // secret value (a password with a control character in it): the
    // message stops before it.
    std::string_view what = e.what();
    what = what.substr(0, what.find("; last read:"));
    return Err(InvalidArgument("failed to parse JSON input: " + std::string(what)));
  }
  out.inexact_numbers = sax.inexact();
  return out;
}

namespace {

template <class J>
void AppendIndented(std::string& out, const J& j, int indent, int level) {
  const bool pretty = indent >= 0;
  auto newline = [&](int at) {
    if (!pretty) return;
    out += '\n';
    out.append(static_cast<std::size_t>(indent * at), ' ');
  };
  switch (j.type()) {
    case J::value_t::object: {
      if (j.empty()) {
        out += "{}";
        return;
      }
      out += '{';
      bool first = true;
      for (auto it = j.begin(); it != j.end(); ++it) {
        if (!first) out += ',';
        first = false;
        newline(level + 1);
        AppendKey(out, it.key());
        out += pretty ? ": " : ":";
        AppendIndented(out, it.value(), indent, level + 1);
      }
      newline(level);
      out += '}';
      return;
    }
    case J::value_t::array: {
      if (j.empty()) {
        out += "[]";
        return;
      }
      out += '[';
      bool first = true;
      for (const J& item : j) {
        if (!first) out += ',';
        first = false;
        newline(level + 1);
        AppendIndented(out, item, indent, level + 1);
      }
      newline(level);
      out += ']';
      return;
    }
    case J::value_t::binary:
      if (IsNumberText(j)) {
        out += NumberTextOf(j);
        return;
      }
      break;
    default:
      break;
  }
  AppendScalar(out, j);  // any other scalar: nlohmann's text, Go's exponents
}

}  // namespace

template <class J>
void AppendJsonWithNumberText(std::string& out, const J& j, int indent) {
  AppendIndented(out, j, indent, 0);
}

template <class J>
std::string DumpJsonWithNumberText(const J& j, int indent) {
  std::string out;
  AppendJsonWithNumberText(out, j, indent);
  return out;
}

bool SameButForNumberText(const Json& plain, const Json& exact) {
  if (IsNumberText(exact)) {
    return plain.is_number() && NumberTextValue(exact) == plain.get<double>();
  }
  if (plain.type() != exact.type()) return false;
  if (plain.is_object()) {
    if (plain.size() != exact.size()) return false;
    for (auto p = plain.begin(), e = exact.begin(); p != plain.end(); ++p, ++e) {
      if (p.key() != e.key() || !SameButForNumberText(p.value(), e.value())) return false;
    }
    return true;
  }
  if (plain.is_array()) {
    if (plain.size() != exact.size()) return false;
    for (std::size_t i = 0; i < plain.size(); ++i) {
      if (!SameButForNumberText(plain[i], exact[i])) return false;
    }
    return true;
  }
  return plain == exact;
}

Json WithoutNumberText(const Json& j) {
  if (IsNumberText(j)) return Json(NumberTextValue(j));
  if (j.is_object()) {
    Json out = Json::object();
    for (auto it = j.begin(); it != j.end(); ++it) out[it.key()] = WithoutNumberText(it.value());
    return out;
  }
  if (j.is_array()) {
    Json out = Json::array();
    for (const Json& item : j) out.push_back(WithoutNumberText(item));
    return out;
  }
  return j;
}

template <class J>
void WipeJson(J& j) {
  if (j.is_string()) {
    WipeString(j.template get_ref<std::string&>());
  } else if (j.is_array() || j.is_object()) {
    for (J& v : j) WipeJson(v);
  } else if (j.is_binary()) {  // a number kept as written
    auto& bytes = j.get_binary();
    std::fill(bytes.begin(), bytes.end(), std::uint8_t{0});
  }
}

#define COFFER_JSON_NUMBERS_FOR(J)                                                       \
  template bool IsNumberText<J>(const J&);                                               \
  template std::string_view NumberTextOf<J>(const J&);                                   \
  template double NumberTextValue<J>(const J&);                                          \
  template J MakeNumberText<J>(std::string_view);                                        \
  template Result<BasicJsonNumbersParse<J>> ParseJsonNumbers<J>(std::string_view,        \
                                                                const JsonParseLimits&); \
  template void AppendJsonWithNumberText<J>(std::string&, const J&, int);                \
  template std::string DumpJsonWithNumberText<J>(const J&, int);                         \
  template void WipeJson<J>(J&);
COFFER_JSON_NUMBERS_FOR(nlohmann::json)
COFFER_JSON_NUMBERS_FOR(nlohmann::ordered_json)
#undef COFFER_JSON_NUMBERS_FOR

}  // namespace coffer
