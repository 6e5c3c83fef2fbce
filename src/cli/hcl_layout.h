#pragma once
// Re-lays out an HCL (version 1) document the way `policy fmt` prints it,
// keeping what a person wrote besides the syntax: the order of blocks and
// attributes, every comment (`#`, `//`, `/* */`, on a line of its own or
// after an item) and single blank lines between items. What changes:
// - one item per line, indented by two spaces per level;
// - `key = value`, with the `=` of consecutive one-line attributes of a
//   body aligned;
// - a blank line around every multi-line item at the top level;
// - `name "label" {` … `}`, and `{}` for an empty body;
// - lists on one line (`["a", "b"]`) unless they hold a comment or an
//   object, then one element per line with a trailing comma;
// - strings, numbers and heredocs exactly as written.
//
// The text must already parse as HCL (hcl::Parse); the output parses to the
// same tree. Error (kInvalidArgument) only for input that does not lex
// (an unterminated string, comment or heredoc).

#include <string>
#include <string_view>

#include "common/status.h"

namespace coffer::cli {

Result<std::string> FormatHclKeepingLayout(std::string_view text);

}  // namespace coffer::cli
