#pragma once
// `coffer policy fmt`: a canonical HCL rendering of an ACL policy.
//
// The policy is parsed with hcl::Parse and printed back: `path "..." { }`
// blocks sorted by path and separated by a blank line, two-space indents,
// attributes sorted by name with their `=` aligned, lists on one line, maps
// one entry per line. The output parses to the same tree as the input.
//
// Comments cannot survive (the parser drops them), so a policy that has any
// is refused rather than silently stripped.
// Errors (kInvalidArgument): the parse error with line and column; "has
// comments"; a document that is not an object of attributes and blocks.

#include <string>
#include <string_view>

#include "common/status.h"

namespace coffer::cli {

Result<std::string> FormatPolicy(std::string_view text);

}  // namespace coffer::cli
