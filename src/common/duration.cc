#include "common/duration.h"

#include <fmt/format.h>

#include <cctype>
#include <limits>

namespace coffer {

Result<std::chrono::seconds> ParseDuration(std::string_view text) {
  auto bad = [&] {
    return Err(InvalidArgument("invalid duration \"" + std::string(text) +
                               "\": use a number of seconds or units like 30s, 15m, 768h"));
  };
  if (text.empty() || text.size() > 64) return bad();
  constexpr long long kMax = std::numeric_limits<long long>::max() / 1000;
  long long total = 0;
  std::size_t i = 0;
  bool any = false;
  while (i < text.size()) {
    if (!std::isdigit(static_cast<unsigned char>(text[i]))) return bad();
    long long n = 0;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
      n = n * 10 + (text[i] - '0');
      if (n > kMax) return bad();
      ++i;
    }
    long long unit = 1;
    if (i < text.size()) {
      char c = text[i++];
      switch (c) {
        case 's':
          unit = 1;
          break;
        case 'm':
          unit = 60;
          break;
        case 'h':
          unit = 3600;
          break;
        case 'd':
          unit = 86400;
          break;
        default:
          return bad();
      }
    } else if (any) {
      return bad();  // "1h30" has no unit on its last number
    }
    if (n > kMax / unit) return bad();
    total += n * unit;
    if (total > kMax) return bad();
    any = true;
  }
  return std::chrono::seconds(total);
}

std::string FormatDuration(std::chrono::seconds d) {
  long long s = d.count();
  return fmt::format("{}h{}m{}s", s / 3600, (s % 3600) / 60, s % 60);
}

std::string HumanDuration(std::chrono::seconds d) {
  const long long total = d.count();
  if (total == 0) return "0s";
  const unsigned long long a = total < 0 ? 0ULL - static_cast<unsigned long long>(total)
                                         : static_cast<unsigned long long>(total);
  const unsigned long long h = a / 3600, m = (a % 3600) / 60, sec = a % 60;
  std::string out = total < 0 ? "-" : "";
  if (h > 0) out += fmt::format("{}h", h);
  if (h > 0 || m > 0) out += fmt::format("{}m", m);
  out += fmt::format("{}s", sec);
  if (out.ends_with("m0s")) out.resize(out.size() - 2);
  if (auto at = out.find("h0m"); at != std::string::npos) out.erase(at + 1, 2);
  return out;
}

std::string CappedTtlWarning(std::string_view what, std::chrono::seconds asked,
                             std::chrono::seconds max) {
  return fmt::format(
      "{} of \"{}\" exceeded the effective max_ttl of \"{}\"; {} value is capped accordingly", what,
      HumanDuration(asked), HumanDuration(max), what);
}

}  // namespace coffer
