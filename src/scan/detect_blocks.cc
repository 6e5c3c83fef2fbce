// Multi-part secrets: PEM/OpenSSH/PGP private key blocks and JWTs.
#include <algorithm>
#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "scan/detectors.h"
#include "scan/entropy.h"

namespace coffer::scan::detail {
namespace {

bool IsBase64Char(char c) { return IsAlnum(c) || c == '+' || c == '/' || c == '='; }

// Decodes base64url without padding; false on a character outside the
// alphabet. Only used on JWT headers (a few dozen bytes).
bool DecodeBase64Url(std::string_view in, std::string& out) {
  std::uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    int v;
    if (c >= 'A' && c <= 'Z') {
      v = c - 'A';
    } else if (c >= 'a' && c <= 'z') {
      v = c - 'a' + 26;
    } else if (c >= '0' && c <= '9') {
      v = c - '0' + 52;
    } else if (c == '-') {
      v = 62;
    } else if (c == '_') {
      v = 63;
    } else {
      return false;
    }
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  return true;
}

}  // namespace

std::size_t DetectPrivateKey(std::string_view text, std::size_t pos, std::vector<RawMatch>& out) {
  // -----BEGIN <LABEL>-----, LABEL ending in "PRIVATE KEY" or "PRIVATE KEY BLOCK".
  constexpr std::string_view kBegin = "-----BEGIN ";
  std::size_t label_start = pos + kBegin.size();
  std::size_t label_len = RunLength(
      text, label_start, [](char c) { return (c >= 'A' && c <= 'Z') || c == ' '; }, 40);
  std::string_view label = text.substr(label_start, label_len);
  if (!label.ends_with("PRIVATE KEY") && !label.ends_with("PRIVATE KEY BLOCK")) return pos + 1;
  std::size_t header_end = label_start + label_len;
  if (text.substr(header_end, 5) != "-----") return pos + 1;
  header_end += 5;
  // The body, line by line: base64 lines, RFC 1421 / PGP headers
  // ("Proc-Type: 4,ENCRYPTED", "Version: ..."), an empty line, then the END
  // line. Lines end in a newline or in a "\n" escape (a key inside a JSON or
  // code string); indentation (YAML block scalars) is ignored. Code that
  // only names the header line ("-----BEGIN RSA PRIVATE KEY-----") has no
  // such body and is not reported.
  constexpr std::size_t kMaxBlock = 64 * 1024;
  const std::size_t limit = std::min(text.size(), header_end + kMaxBlock);
  std::size_t p = header_end;
  std::size_t b64 = 0, blank_run = 0;
  std::size_t match_end = std::string_view::npos;
  bool first = true;
  while (p < limit) {
    // One line separator: "\n", "\r\n", or the two-character escape "\n".
    std::size_t q = p;
    if (q < limit && text[q] == '\r') ++q;
    if (q < limit && text[q] == '\n') {
      ++q;
    } else if (text.substr(q, 2) == "\\n") {
      q += 2;
    } else if (text.substr(q, 4) == "\\r\\n") {
      q += 4;
    } else {
      if (first) return pos + 1;  // something else follows the header on its line
      break;
    }
    first = false;
    std::size_t eol = q;
    while (eol < limit && text[eol] != '\n' && text.substr(eol, 2) != "\\n" &&
           text.substr(eol, 2) != "\\r") {
      ++eol;
    }
    std::string_view content = text.substr(q, eol - q);
    while (!content.empty() && (content.front() == ' ' || content.front() == '\t')) {
      content.remove_prefix(1);
    }
    while (!content.empty() &&
           (content.back() == ' ' || content.back() == '\t' || content.back() == '\r')) {
      content.remove_suffix(1);
    }
    p = eol;
    if (content.starts_with("-----END ")) {
      auto at = static_cast<std::size_t>(content.data() - text.data());
      std::size_t close = text.find("-----", at + 9);
      match_end = close == std::string_view::npos || close > eol ? eol : close + 5;
      break;
    }
    if (content.empty()) {
      if (++blank_run > 1) break;
      continue;
    }
    blank_run = 0;
    bool all_b64 = std::all_of(content.begin(), content.end(), IsBase64Char);
    if (all_b64) {
      b64 += content.size();
    } else if (b64 == 0 && content.find(": ") != std::string_view::npos) {
      continue;  // a header line
    } else {
      break;
    }
  }
  if (match_end == std::string_view::npos) {
    if (b64 < 200) return pos + 1;  // no END line: only a long body counts
    match_end = p;
  } else if (b64 < 64) {
    return pos + 1;
  }
  out.push_back({RuleId::kPrivateKey, pos, match_end, {}});
  return match_end;
}

std::size_t DetectJwt(std::string_view text, std::size_t pos, std::vector<RawMatch>& out) {
  if (pos > 0 && IsBase64Url(text[pos - 1])) return pos + 1;
  std::array<std::string_view, 3> parts;
  std::size_t p = pos;
  for (int i = 0; i < 3; ++i) {
    std::size_t n = RunLength(text, p, IsBase64Url, 16 * 1024);
    parts[static_cast<std::size_t>(i)] = text.substr(p, n);
    p += n;
    if (i < 2) {
      if (p >= text.size() || text[p] != '.') return pos + 1;
      ++p;
    }
  }
  if (p < text.size() && (text[p] == '.' || IsBase64Url(text[p]))) return pos + 1;
  if (parts[0].size() < 10 || parts[1].size() < 10 || parts[2].size() < 16) return pos + 1;
  if (!parts[1].starts_with("ey")) return pos + 1;  // the payload is a JSON object too
  std::string header;
  if (!DecodeBase64Url(parts[0].substr(0, 512), header)) return pos + 1;
  if (!header.starts_with("{") || header.find("\"alg\"") == std::string::npos) return pos + 1;
  if (IsKnownExample(parts[2])) return p;
  out.push_back({RuleId::kJwt, pos, p, {}});
  return p;
}

}  // namespace coffer::scan::detail
