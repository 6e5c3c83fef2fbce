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
  std::size_t label_len =
      RunLength(text, label_start, [](char c) { return (c >= 'A' && c <= 'Z') || c == ' '; }, 40);
  std::string_view label = text.substr(label_start, label_len);
  if (!label.ends_with("PRIVATE KEY") && !label.ends_with("PRIVATE KEY BLOCK")) return pos + 1;
  std::size_t header_end = label_start + label_len;
  if (text.substr(header_end, 5) != "-----") return pos + 1;
  header_end += 5;
  // The body: base64 lines, possibly with "\n" escapes (keys inside JSON)
  // and RFC 1421 headers (Proc-Type, DEK-Info, PGP's Version). A key-parsing
  // program mentions the header line alone; that is not a key, so the body
  // must hold at least 64 base64 characters and little else.
  constexpr std::size_t kMaxBlock = 64 * 1024;
  std::size_t limit = std::min(text.size(), header_end + kMaxBlock);
  std::size_t end = text.substr(0, limit).find("-----END ", header_end);
  std::size_t body_end = end == std::string_view::npos ? limit : end;
  std::size_t b64 = 0, other = 0;
  for (std::size_t i = header_end; i < body_end; ++i) {
    char c = text[i];
    if (IsBase64Char(c)) {
      ++b64;
    } else if (c == '\\' && i + 1 < body_end && (text[i + 1] == 'n' || text[i + 1] == 'r')) {
      ++i;
    } else if (c != '\n' && c != '\r' && c != ' ' && c != '\t') {
      ++other;
    }
    // Without an END line, stop at the first line that is clearly not base64.
    if (end == std::string_view::npos && other > 8) {
      body_end = i;
      break;
    }
  }
  if (b64 < 64 || other * 10 > b64) return pos + 1;
  std::size_t match_end = body_end;
  if (end != std::string_view::npos) {
    std::size_t close = text.find("-----", end + 9);
    match_end = close == std::string_view::npos ? end + 9 : close + 5;
  }
  if (LooksLikePlaceholder(text.substr(header_end, std::min<std::size_t>(body_end - header_end,
                                                                          80))) &&
      ShannonEntropy(text.substr(header_end, body_end - header_end)) < 4.0) {
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
