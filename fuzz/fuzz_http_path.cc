// Fuzz target: the request-target canonicaliser (http/path.h).
// Invariants: a canonical path is valid UTF-8 without control characters,
// empty, "." or ".." segments; canonicalising is idempotent (the canonical
// path, re-encoded, canonicalises to itself). The query and form parsers
// answer valid UTF-8 or an error.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/url.h"
#include "fuzz_util.h"
#include "http/path.h"

namespace {

std::string Encode(std::string_view path) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out = "/v1/";
  for (unsigned char c : path) {
    const bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                       c == '/' || c == '-' || c == '_' || c == '.';
    if (plain) {
      out.push_back(static_cast<char>(c));
    } else {
      out += {'%', kHex[c >> 4], kHex[c & 15]};
    }
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace coffer::http;
  const std::string_view input = coffer::fuzz::View(data, size);
  const Target target = SplitTarget(input);
  FUZZ_CHECK(target.path.size() + target.query.size() <= input.size());

  auto path = CanonicalizePath(target.path);
  if (path) {
    const std::string& p = *path;
    FUZZ_CHECK(IsValidUtf8(p));
    for (unsigned char c : p) FUZZ_CHECK(c >= 0x20 && c != 0x7F && c != '\\');
    std::string_view rest = p;
    if (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
    while (!rest.empty()) {
      const auto slash = rest.find('/');
      const std::string_view seg = rest.substr(0, slash);
      FUZZ_CHECK(!seg.empty() && seg != "." && seg != "..");
      if (slash == std::string_view::npos) break;
      rest.remove_prefix(slash + 1);
    }
    auto again = CanonicalizePath(Encode(p));
    FUZZ_CHECK(again.has_value() && *again == p);
  }

  auto query = ParseQuery(target.query);
  if (query) {
    for (const auto& [k, v] : *query) FUZZ_CHECK(IsValidUtf8(k) && IsValidUtf8(v));
  }
  auto decoded = coffer::PercentDecode(input, true);
  if (decoded) FUZZ_CHECK(decoded->size() <= input.size());

  // The whole input as a form body: valid UTF-8 pairs with non-empty keys,
  // no bigger than the input (a repeated key's values are joined with one
  // ',' per '&' that separated them).
  auto form = ParseFormBody(input);
  if (form) {
    std::size_t total = 0;
    for (const auto& [k, v] : *form) {
      FUZZ_CHECK(!k.empty() && IsValidUtf8(k) && IsValidUtf8(v));
      total += k.size() + v.size();
    }
    FUZZ_CHECK(total <= input.size());
  }
  return 0;
}
