#pragma once
// `coffer policy fmt`: an ACL policy laid out as Vault's `policy fmt` lays
// it out.
//
// HCL keeps its order and its comments (see cli/hcl_layout.h for what
// changes: indents, spacing, aligned `=`, one-line lists, blank lines around
// blocks); the result must parse to the same tree as the input, or nothing
// is returned. A JSON policy is printed as HCL in a canonical order: attributes
// sorted by name with their `=` aligned, then `path "..." { }` blocks sorted by
// path and separated by a blank line.
// Errors (kInvalidArgument): the parse error with line and column; a
// document that is not an object of attributes and blocks; JSON with a value
// HCL cannot write the same way. kInternal when the layout of HCL would
// change its tree (a bug: the file is left alone).

#include <string>
#include <string_view>

#include "common/status.h"

namespace coffer::cli {

Result<std::string> FormatPolicy(std::string_view text);

}  // namespace coffer::cli
