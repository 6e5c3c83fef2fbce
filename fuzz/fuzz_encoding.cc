// Fuzz target: hex, base64 and JSON string literals (common/encoding.h).
// Invariants: decode(encode(x)) == x; a string the strict decoders accept
// re-encodes to itself (hex up to letter case, base64 less its CR and LF);
// AppendJsonString output is a JSON string literal that parses back to the
// input when it is UTF-8.
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "common/encoding.h"
#include "fuzz_util.h"

namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace coffer;
  const std::string_view in = fuzz::View(data, size);

  auto hex = HexDecode(HexEncode(in));
  FUZZ_CHECK(hex.has_value() && hex->view() == in);
  // Base64Decode refuses the empty string (encoding.cc), so skip that one.
  if (!in.empty()) {
    auto b64 = Base64Decode(Base64Encode(in));
    FUZZ_CHECK(b64.has_value() && b64->view() == in);
  }

  if (auto raw = HexDecode(in)) FUZZ_CHECK(HexEncode(raw->view()) == Lower(in));
  if (auto raw = Base64Decode(in)) {
    // Non-zero spare bits in the last character are tolerated, as Go's
    // base64.StdEncoding (Vault) does: the re-encoding may differ there only.
    // CR and LF are skipped, as Go does too.
    std::string text;
    for (char c : in) {
      if (c != '\r' && c != '\n') text.push_back(c);
    }
    const std::string again = Base64Encode(raw->view());
    FUZZ_CHECK(again.size() == text.size());
    const std::size_t last = text.find_last_not_of('=');
    FUZZ_CHECK(last == std::string::npos || again.compare(0, last, text, 0, last) == 0);
    FUZZ_CHECK(again.substr(last + 1) == text.substr(last + 1));
  }

  std::string literal;
  AppendJsonString(literal, in);
  auto parsed = nlohmann::json::parse(literal, nullptr, /*allow_exceptions=*/false);
  if (!parsed.is_discarded()) {
    FUZZ_CHECK(parsed.is_string() && parsed.get<std::string>() == in);
  }
  return 0;
}
