#pragma once
// Numbers kept as the client wrote them.
//
// Vault decodes request bodies with Go's json.Number, so a secret's number
// is stored and read back as written: `123456789012345678901234567890`,
// `1.50` and `1e5` come back unchanged. nlohmann::json holds a number as a
// 64-bit integer or a double, so such values would be changed (the first
// one to 1.2345678901234568e+29, a value that was never written). Where
// data is stored as the client sent it (KV, cubbyhole, sys/wrapping/wrap),
// a number whose double would not print back as written is held instead as
// a "number text": a binary value of subtype kNumberTextSubtype whose bytes
// are the number's JSON text. Only the functions below write such a tree;
// nlohmann's dump() would print it as an object, so it must not reach one.
//
// Integers that fit 64 bits are exact already and stay integers, and a
// double that prints back as written stays a double: the common case costs
// nothing. "-0" is read as the integer 0, and prints as 0.

#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "common/status.h"

namespace coffer {

inline constexpr std::uint8_t kNumberTextSubtype = 0x6e;  // 'n'

// Each function below is defined for nlohmann::json and for
// nlohmann::ordered_json (the CLI's, which keeps the server's key order).

template <class J>
bool IsNumberText(const J& j);
// The number's JSON text (`j` must be a number text).
template <class J>
std::string_view NumberTextOf(const J& j);
// The double a number text reads as (`j` must be a number text).
template <class J>
double NumberTextValue(const J& j);
// A number text holding `text`, which must be a valid JSON number.
template <class J = nlohmann::json>
J MakeNumberText(std::string_view text);

template <class J>
struct BasicJsonNumbersParse {
  J value;
  // Whether the text held a number that a double does not print back as
  // written (held as a number text when keep_number_text was set).
  bool inexact_numbers = false;
};
using JsonNumbersParse = BasicJsonNumbersParse<nlohmann::json>;

struct JsonParseLimits {
  // Containers nested deeper than this are refused ("nesting too deep");
  // the top level is depth 0.
  std::size_t max_depth = 1024;
  bool keep_number_text = false;
  // Bounds on what the text may build (0: none), checked as it is read,
  // before the value is built: the longest string or key in bytes, the
  // entries of one object, the elements of one array, and all the values,
  // keys and containers together. A small body of many empty containers
  // would otherwise take ~30 times its size in memory.
  std::size_t max_string_length = 0;
  std::size_t max_object_entries = 0;
  std::size_t max_array_elements = 0;
  std::size_t max_tokens = 0;
};

// For text that was depth-checked when it was first received (stored
// records, the server's own answers) or that the user gave the CLI: numbers
// kept, nlohmann's iterative parser bounded only loosely.
inline constexpr JsonParseLimits kKeepNumberText{.max_depth = 1 << 20, .keep_number_text = true};

// Parses JSON text as nlohmann::json::parse does (strict: nothing but
// whitespace after the value; the last of duplicate keys wins), with a
// depth limit enforced before any deeper container is built. With
// keep_number_text, numbers a double would change become number texts.
// kInvalidArgument with "failed to parse JSON input: ..." for bad text.
template <class J = nlohmann::json>
Result<BasicJsonNumbersParse<J>> ParseJsonNumbers(std::string_view text,
                                                  const JsonParseLimits& limits);

// Appends `j` as dump(indent, ' ', false, replace) followed by
// GoStyleExponents would (common/encoding.h), with each number text written
// as it is. indent -1 is compact; 2 is the CLI's pretty form.
template <class J>
void AppendJsonWithNumberText(std::string& out, const J& j, int indent = -1);
template <class J>
std::string DumpJsonWithNumberText(const J& j, int indent = -1);

// Overwrites every string value and number text in `j` before it is freed,
// for bodies that carried secret values (keys are left as they are).
template <class J>
void WipeJson(J& j);

// Whether `exact` is `plain` with some of its numbers held as number texts
// (the same members, values and order otherwise): the check that a tree
// kept with number texts still describes the data it was parsed beside.
bool SameButForNumberText(const nlohmann::json& plain, const nlohmann::json& exact);

// A copy of `j` with every number text as the double it reads as (for
// code that wants plain numbers, such as a TTL read from the data).
nlohmann::json WithoutNumberText(const nlohmann::json& j);

}  // namespace coffer
