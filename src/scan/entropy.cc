#include "scan/entropy.h"

#include <array>
#include <cmath>

namespace coffer::scan {
namespace {

bool IsHex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool ContainsIgnoreCase(std::string_view hay, std::string_view needle) {
  if (needle.size() > hay.size()) return false;
  for (std::size_t i = 0; i + needle.size() <= hay.size(); ++i) {
    std::size_t k = 0;
    while (k < needle.size() && Lower(hay[i + k]) == needle[k]) ++k;
    if (k == needle.size()) return true;
  }
  return false;
}

}  // namespace

double ShannonEntropy(std::string_view s) {
  if (s.empty()) return 0;
  std::array<int, 256> counts{};
  for (char c : s) ++counts[static_cast<unsigned char>(c)];
  double h = 0;
  const double n = static_cast<double>(s.size());
  for (int c : counts) {
    if (c == 0) continue;
    double p = c / n;
    h -= p * std::log2(p);
  }
  return h;
}

bool IsUuid(std::string_view s) {
  if (s.size() != 36) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? s[i] != '-' : !IsHex(s[i])) return false;
  }
  return true;
}

bool IsHexDigest(std::string_view s) {
  if (s.size() != 32 && s.size() != 40 && s.size() != 64) return false;
  for (char c : s) {
    if (!IsHex(c)) return false;
  }
  return true;
}

bool LooksLikePlaceholder(std::string_view s) {
  static constexpr std::string_view kWords[] = {
      "example", "changeme",  "change_me", "change-me", "placeholder", "your_",       "your-",
      "yourkey", "yourtoken", "yourpass",  "xxxx",      "****",        "....",        "dummy",
      "sample",  "redacted",  "replace",   "insert",    "fake",        "notreal",     "not_real",
      "not-a-",  "${",        "{{",        "$(",        "%(",          "<",           ">",
      "todo",    "fixme",     "000000",    "123456",    "abcdef",      "secret_here",
  };
  for (std::string_view w : kWords) {
    if (ContainsIgnoreCase(s, w)) return true;
  }
  // One character repeated ("aaaaaaaa", "--------").
  bool same = !s.empty();
  for (char c : s) same = same && c == s[0];
  return same;
}

bool IsKnownExample(std::string_view s) {
  static constexpr std::string_view kExamples[] = {
      "AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
      "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c",  // jwt.io's sample signature
  };
  for (std::string_view e : kExamples) {
    if (s.find(e) != std::string_view::npos) return true;
  }
  return false;
}

int CharClasses(std::string_view s) {
  bool lower = false, upper = false, digit = false, other = false;
  for (char c : s) {
    if (c >= 'a' && c <= 'z') {
      lower = true;
    } else if (c >= 'A' && c <= 'Z') {
      upper = true;
    } else if (c >= '0' && c <= '9') {
      digit = true;
    } else {
      other = true;
    }
  }
  return int{lower} + int{upper} + int{digit} + int{other};
}

}  // namespace coffer::scan
