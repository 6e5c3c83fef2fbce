#pragma once
// Per-device filters: which entries a device records.
//
// A small expression language, a subset of the filter syntax Vault
// Enterprise and OpenBao users write (there is no packaged C++ library for
// it, hence this hand-written parser of ~100 lines):
//
//   expr   := term { "or" term }
//   term   := factor { "and" factor }
//   factor := "not" factor | "(" expr ")" | field op "value"
//   field  := mount_type | mount_point | path | operation | namespace
//   op     := "==" | "!=" | "matches"     (matches: '*' is a wildcard)
//
// Example: path matches "sys/health*" — or, for everything else,
// not path matches "sys/health*".
//
// Immutable after Parse; thread-safe.

#include <memory>
#include <string>
#include <string_view>

#include "common/glob.h"
#include "common/status.h"

namespace coffer::audit {

struct FilterInput {
  std::string_view mount_type;
  std::string_view mount_point;
  std::string_view path;
  std::string_view operation;
};

class Filter {
 public:
  // Errors: kInvalidArgument with the position of the problem.
  static Result<std::shared_ptr<const Filter>> Parse(std::string_view text);
  virtual ~Filter() = default;
  virtual bool Matches(const FilterInput& in) const = 0;
};

}  // namespace coffer::audit
