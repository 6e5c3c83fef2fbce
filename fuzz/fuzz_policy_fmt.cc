// Fuzz target: `coffer policy fmt` (cli::FormatPolicy, and through it the
// layout-keeping HCL printer). Invariants: a policy that parses is never
// changed by formatting (FormatPolicy reports kInternal when the output's
// tree differs from the input's, so that must not happen), and formatting
// is idempotent: the output formats to itself.
#include <cstddef>
#include <cstdint>

#include "cli/policy_fmt.h"
#include "fuzz_util.h"
#include "hcl/hcl.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text = coffer::fuzz::View(data, size);
  auto out = coffer::cli::FormatPolicy(text);
  if (!out) {
    FUZZ_CHECK(out.error().code() != coffer::Code::kInternal);
    return 0;
  }
  auto again = coffer::cli::FormatPolicy(*out);
  FUZZ_CHECK(again.has_value());
  FUZZ_CHECK(*again == *out);
  return 0;
}
