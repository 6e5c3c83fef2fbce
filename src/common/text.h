#pragma once
// Trimming, the one string helper nearly every parser here needs: header
// values, config and allowlist lines, policy parameters, mount paths; ASCII
// lower case; and XML/HTML escaping (the audit log's XML format, the CLI's
// login page).

#include <string>
#include <string_view>

namespace coffer {

// HTTP's optional whitespace, and what an HCL or template line is padded with.
inline constexpr std::string_view kBlanks = " \t";
// Blanks and line ends: a value read from a file or a terminal.
inline constexpr std::string_view kLineSpace = " \t\r\n";
// std::isspace in the C locale.
inline constexpr std::string_view kWhitespace = " \t\r\n\v\f";

// `s` without the leading and trailing characters that are in `chars`.
constexpr std::string_view Trim(std::string_view s, std::string_view chars = kBlanks) {
  const std::size_t first = s.find_first_not_of(chars);
  if (first == std::string_view::npos) return {};
  return s.substr(first, s.find_last_not_of(chars) - first + 1);
}

// `s` with A-Z made a-z (std::tolower in the C locale): names compared
// without regard to case (policy names, header names, usernames).
inline std::string AsciiLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// Appends `s` with XML's (and HTML's) five special characters escaped, for
// text and attribute values.
inline void AppendXmlEscaped(std::string& out, std::string_view s) {
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        out.push_back(c);
    }
  }
}

}  // namespace coffer
