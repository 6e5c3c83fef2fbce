#pragma once
// HCL (version 1 syntax, as used by Vault's server config files and ACL
// policies) and JSON documents, parsed into a nlohmann::json tree plus a side
// table of source positions for error messages.
//
// The parser is hand-written because no Debian package provides an HCL parser
// for C++ (HashiCorp's own parsers are Go only). JSON input is handed to
// nlohmann::json (through its SAX interface, so the same depth limit and
// position table apply).
//
// Mapping from HCL to JSON (the shape Vault's own HCL -> JSON decoding gives,
// simplified so that each construct has exactly one shape):
//
//   key = value                 {"key": value}
//   key { body }                {"key": {body}}            (same as key = { body })
//   key "a" { body }            {"key": {"a": {body}}}
//   key "a" "b" { body }        {"key": {"a": {"b": {body}}}}
//   key "a" {..}  key "b" {..}  {"key": {"a": {..}, "b": {..}}}   (labels merge)
//   key "a" {x}   key "a" {y}   {"key": {"a": [{x}, {y}]}}        (repeats -> array)
//   key {x}       key {y}       {"key": [{x}, {y}]}
//
// A body or object literal is always a JSON object, so a JSON array where a
// body is expected always means "repeated block". Labels may be quoted
// strings or bare identifiers. Within one body a key is either an attribute
// or a block, and all blocks of one name carry the same number of labels;
// breaking either rule, or assigning the same attribute twice, is an error
// (Vault would silently pick one; a secret store should not guess).
//
// Values: strings (escapes \n \r \t \" \\ \uXXXX \UXXXXXXXX; `${...}` is kept
// as literal text), heredocs (<<EOF and <<-EOF, the latter with the common
// leading whitespace removed; the value keeps its final newline), integers
// (decimal, 0x hex, and a leading 0 meaning octal as in HCL 1) as JSON
// integers, floats as JSON numbers, true/false, lists (newlines and a
// trailing comma allowed) and objects `{ a = 1, b = "x" }`. Comments: `#`,
// `//` and `/* */`. Input must be UTF-8.
//
// A document whose first non-blank character is `{` is parsed as JSON; its
// tree is returned as is (objects and arrays in the same shapes as above).
// Duplicate keys in a JSON object are an error.
//
// Errors (all as values, never exceptions or crashes):
//   kInvalidArgument  "line L, column C: <what was expected>" (or
//                     "NAME:L:C: <what>" when ParseOptions::source_name is set),
//                     also for nesting deeper than max_depth;
//   kTooLarge         input longer than max_bytes.
//
// Thread-safety: Parse is reentrant; a Document is an immutable value after
// parsing and may be read from several threads.

#include <cstddef>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "common/status.h"

namespace coffer::hcl {

// 1-based; column counts UTF-8 characters. {0, 0} means "unknown".
struct Position {
  int line = 0;
  int column = 0;
};

struct ParseOptions {
  // Larger inputs are refused with kTooLarge before any parsing.
  std::size_t max_bytes = 4 * 1024 * 1024;
  // Every `{`, `[` and block label counts as one level.
  int max_depth = 100;
  // When set (e.g. a file name), errors read "NAME:L:C: what".
  std::string source_name;
};

class Document {
 public:
  Document() = default;
  Document(nlohmann::json json, std::map<std::string, Position> positions)
      : json_(std::move(json)), positions_(std::move(positions)) {}

  const nlohmann::json& json() const { return json_; }

  // Where the value at `json_pointer` (RFC 6901, "" is the root, e.g.
  // "/listener/tcp/0/address") was written: for an attribute or member the
  // position of its key, for a block its name, for a list element its first
  // character. A pointer without an entry of its own gets its nearest
  // ancestor's position, so the answer is {0, 0} only when nothing matches.
  Position PositionOf(std::string_view json_pointer) const;
  int LineOf(std::string_view json_pointer) const { return PositionOf(json_pointer).line; }

  // The whole side table, keyed by JSON pointer.
  const std::map<std::string, Position>& positions() const { return positions_; }

 private:
  nlohmann::json json_;
  std::map<std::string, Position> positions_;
};

// Parses HCL, or JSON when the first non-blank character is `{`.
Result<Document> Parse(std::string_view text, const ParseOptions& options = {});

// One past the `}` that closes the `${ ... }` starting at `at` inside a
// quoted string (quotes, escapes and braces inside it counted, as Parse
// does); npos when a line break or the end of `text` comes first.
std::size_t InterpolationEnd(std::string_view text, std::size_t at);

// Whether Parse reads `text` as JSON: its first non-blank character (after a
// UTF-8 byte order mark, if any) is `{`.
bool IsJson(std::string_view text);

// Appends one reference token to a JSON pointer, escaping '~' and '/'
// (JoinPointer("/path", "secret/*") == "/path/secret~1*").
std::string JoinPointer(std::string_view pointer, std::string_view token);

}  // namespace coffer::hcl
