#include "common/encoding.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstring>

namespace coffer {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

void AppendHex(std::string& out, std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  const std::size_t at = out.size();
  out.resize(at + bytes.size() * 2);
  char* p = out.data() + at;
  for (char c : bytes) {
    auto b = static_cast<unsigned char>(c);
    *p++ = kHex[b >> 4];
    *p++ = kHex[b & 0xf];
  }
}

std::string HexEncode(std::string_view bytes) {
  std::string out;
  AppendHex(out, bytes);
  return out;
}

std::optional<SecretBytes> HexDecode(std::string_view hex) {
  if (hex.size() % 2 != 0) return std::nullopt;
  SecretBytes out(hex.size() / 2);
  for (std::size_t i = 0; i < out.size(); ++i) {
    int hi = HexValue(hex[2 * i]);
    int lo = HexValue(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.data()[i] = static_cast<std::uint8_t>((hi << 4) | lo);
  }
  return out;
}

std::string Base64Encode(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3), '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(bytes.data()),
                          static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

std::optional<SecretBytes> Base64Decode(std::string_view in) {
  // Go's decoder skips CR and LF anywhere, so text wrapped by base64(1)
  // decodes as it does for Vault. The copy may encode a key: SecretBytes.
  // (find of one character is one memchr over the input; find_first_of
  // would call memchr once per input character.)
  SecretBytes unwrapped;
  std::string_view b64 = in;
  if (in.find('\n') != std::string_view::npos || in.find('\r') != std::string_view::npos) {
    unwrapped = SecretBytes(in.size());
    std::size_t n = 0;
    for (char c : in) {
      if (c != '\r' && c != '\n') unwrapped.data()[n++] = static_cast<std::uint8_t>(c);
    }
    b64 = unwrapped.view().substr(0, n);
  }
  if (b64.empty() || b64.size() % 4 != 0) return std::nullopt;
  for (char c : b64) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '+' || c == '/' || c == '=';
    if (!ok) return std::nullopt;
  }
  // '=' only as one or two padding characters at the very end: EVP_DecodeBlock
  // took "====" as one zero byte and "AA==AAAA" as six.
  const std::size_t first_pad = b64.find('=');
  if (first_pad != std::string_view::npos &&
      (first_pad + 2 < b64.size() ||
       b64.find_first_not_of('=', first_pad) != std::string_view::npos)) {
    return std::nullopt;
  }
  std::size_t pad = 0;
  if (b64.back() == '=') ++pad;
  if (b64[b64.size() - 2] == '=') ++pad;
  // One allocation of the decoded size (SecretBytes come from the locked
  // arena, whose allocator takes a process-wide lock): the quanta before the
  // last are decoded in place, the last, which padding shortens, through a
  // three-byte buffer wiped after.
  SecretBytes out(b64.size() / 4 * 3 - pad);
  const std::size_t whole = b64.size() - 4;
  const auto* src = reinterpret_cast<const unsigned char*>(b64.data());
  if (whole > 0 && EVP_DecodeBlock(out.data(), src, static_cast<int>(whole)) < 0) {
    return std::nullopt;
  }
  unsigned char last[3];
  const int n = EVP_DecodeBlock(last, src + whole, 4);
  if (n == 3) std::memcpy(out.data() + whole / 4 * 3, last, 3 - pad);
  OPENSSL_cleanse(last, sizeof(last));
  if (n != 3) return std::nullopt;
  return out;
}

namespace {

SecretBytes Xor(std::string_view a, std::string_view b) {
  SecretBytes out(a.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    out.data()[i] = static_cast<std::uint8_t>(static_cast<unsigned char>(a[i]) ^
                                              static_cast<unsigned char>(b[i]));
  }
  return out;
}

}  // namespace

std::optional<std::string> EncodeWithPad(std::string_view token, std::string_view pad) {
  if (token.size() != pad.size()) return std::nullopt;
  std::string encoded = Base64Encode(Xor(token, pad).view());
  while (!encoded.empty() && encoded.back() == '=') encoded.pop_back();
  return encoded;
}

std::optional<SecretBytes> DecodeWithPad(std::string_view encoded, std::string_view pad) {
  std::string padded(encoded);
  while (padded.size() % 4 != 0) padded.push_back('=');
  std::optional<SecretBytes> mixed = Base64Decode(padded);
  if (!mixed || mixed->size() != pad.size()) return std::nullopt;
  return Xor(mixed->view(), pad);
}

namespace {

// Whether any of the 8 bytes in `w` needs escaping in a JSON string: a
// control character (< 0x20), '"' or '\\'. The classic "has a byte less than
// n" / "has a zero byte" word tricks; exact as a yes/no answer.
inline bool AnyNeedsEscape(std::uint64_t w) {
  constexpr std::uint64_t kOnes = 0x0101010101010101ULL;
  constexpr std::uint64_t kHigh = 0x8080808080808080ULL;
  const std::uint64_t below_space = (w - kOnes * 0x20) & ~w & kHigh;
  const std::uint64_t q = w ^ (kOnes * '"');
  const std::uint64_t b = w ^ (kOnes * '\\');
  const std::uint64_t quote = (q - kOnes) & ~q & kHigh;
  const std::uint64_t backslash = (b - kOnes) & ~b & kHigh;
  return (below_space | quote | backslash) != 0;
}

}  // namespace

namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// One JSON number token with an exponent, in Go's float64 form.
void AppendGoFloat(std::string& out, std::string_view num) {
  std::string_view s = num;
  const bool negative = s.starts_with('-');
  if (negative) s.remove_prefix(1);
  const std::size_t e = s.find_first_of("eE");
  std::string_view exponent_text = s.substr(e + 1);
  const bool exponent_negative = exponent_text.starts_with('-');
  if (exponent_text.starts_with('-') || exponent_text.starts_with('+')) {
    exponent_text.remove_prefix(1);
  }
  // A double's exponent has at most three digits; anything longer is not
  // what a dump wrote: left as it is.
  if (exponent_text.empty() || exponent_text.size() > 4) {
    out += num;
    return;
  }
  int exponent = 0;
  for (char c : exponent_text) exponent = exponent * 10 + (c - '0');
  if (exponent_negative) exponent = -exponent;
  // The significant digits, and how many of them stand before the point.
  std::string digits;
  int before_point = 0;
  bool point = false;
  for (char c : s.substr(0, e)) {
    if (c == '.') {
      point = true;
      continue;
    }
    digits.push_back(c);
    if (!point) ++before_point;
  }
  std::size_t lead = 0;
  while (lead < digits.size() && digits[lead] == '0') ++lead;
  if (lead == digits.size()) {
    out += negative ? "-0" : "0";
    return;
  }
  digits.erase(0, lead);
  before_point -= static_cast<int>(lead);
  while (digits.size() > 1 && digits.back() == '0') digits.pop_back();
  const int scientific = exponent + before_point - 1;  // x = d.ddd × 10^scientific
  const int n = static_cast<int>(digits.size());
  if (negative) out.push_back('-');
  if (scientific >= -6 && scientific < 21) {
    const int whole = scientific + 1;  // digits before the point
    if (whole <= 0) {
      out += "0.";
      out.append(static_cast<std::size_t>(-whole), '0');
      out += digits;
    } else if (whole >= n) {
      out += digits;
      out.append(static_cast<std::size_t>(whole - n), '0');
    } else {
      out.append(digits, 0, static_cast<std::size_t>(whole));
      out.push_back('.');
      out.append(digits, static_cast<std::size_t>(whole));
    }
    return;
  }
  out.push_back(digits[0]);
  if (n > 1) {
    out.push_back('.');
    out.append(digits, 1);
  }
  out += scientific < 0 ? "e-" : "e+";
  out += std::to_string(scientific < 0 ? -scientific : scientific);
}

}  // namespace

void GoStyleExponents(std::string& text, std::size_t from) {
  // Most text has no such number: a digit, then 'e' or 'E', then a sign or
  // a digit. (A string may hold one too; the scan below tells them apart.)
  bool maybe = false;
  for (std::size_t i = text.find_first_of("eE", from); i != std::string::npos;
       i = text.find_first_of("eE", i + 1)) {
    if (i > from && IsDigit(text[i - 1]) && i + 1 < text.size() &&
        (text[i + 1] == '+' || text[i + 1] == '-' || IsDigit(text[i + 1]))) {
      maybe = true;
      break;
    }
  }
  if (!maybe) return;
  std::string out;
  out.reserve(text.size() - from + 16);
  bool in_string = false;
  std::size_t i = from;
  while (i < text.size()) {
    const char c = text[i];
    if (in_string) {
      out.push_back(c);
      if (c == '\\' && i + 1 < text.size()) {
        out.push_back(text[i + 1]);
        i += 2;
        continue;
      }
      if (c == '"') in_string = false;
      ++i;
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '-' || IsDigit(c)) {
      std::size_t j = i + 1;
      while (j < text.size() && (IsDigit(text[j]) || text[j] == '.' || text[j] == 'e' ||
                                 text[j] == 'E' || text[j] == '+' || text[j] == '-')) {
        ++j;
      }
      const std::string_view num(text.data() + i, j - i);
      if (num.find_first_of("eE") != std::string_view::npos) {
        AppendGoFloat(out, num);
      } else {
        out += num;
      }
      i = j;
      continue;
    }
    out.push_back(c);
    ++i;
  }
  text.replace(from, std::string::npos, out);
}

void AppendUtf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

void AppendJsonString(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.reserve(out.size() + s.size() + 2);
  out.push_back('"');
  std::size_t run = 0;
  std::size_t i = 0;
  while (i < s.size()) {
    // Skip eight plain bytes at a time; most strings have nothing to escape.
    if (i + 8 <= s.size()) {
      std::uint64_t w;
      std::memcpy(&w, s.data() + i, sizeof(w));
      if (!AnyNeedsEscape(w)) {
        i += 8;
        continue;
      }
    }
    const std::size_t stop = std::min(s.size(), i + 8);
    for (; i < stop; ++i) {
      char c = s[i];
      auto u = static_cast<unsigned char>(c);
      if (c != '"' && c != '\\' && u >= 0x20) continue;
      out.append(s.data() + run, i - run);
      run = i + 1;
      switch (c) {
        case '"':
          out += "\\\"";
          break;
        case '\\':
          out += "\\\\";
          break;
        case '\n':
          out += "\\n";
          break;
        case '\r':
          out += "\\r";
          break;
        case '\t':
          out += "\\t";
          break;
        default: {
          char esc[6] = {'\\', 'u', '0', '0', kHex[u >> 4], kHex[u & 0xf]};
          out.append(esc, sizeof(esc));
        }
      }
    }
  }
  out.append(s.data() + run, s.size() - run);
  out.push_back('"');
}

namespace {

constexpr char kUrlAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int UrlValue(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '-') return 62;
  if (c == '_') return 63;
  return -1;
}

}  // namespace

std::optional<std::string> Base64UrlDecode(std::string_view in) {
  if (in.size() % 4 == 1) return std::nullopt;
  std::string out;
  out.reserve(in.size() * 3 / 4);
  std::uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    int v = UrlValue(c);
    if (v < 0) return std::nullopt;
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xffu));
    }
  }
  // Leftover bits must be zero, so each byte string has one encoding.
  if ((acc & ((1u << bits) - 1)) != 0) return std::nullopt;
  return out;
}

std::string Base64UrlEncode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() * 4 + 2) / 3);
  std::uint32_t acc = 0;
  int bits = 0;
  for (char c : bytes) {
    acc = (acc << 8) | static_cast<unsigned char>(c);
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out.push_back(kUrlAlphabet[(acc >> bits) & 0x3fu]);
    }
  }
  if (bits > 0) out.push_back(kUrlAlphabet[(acc << (6 - bits)) & 0x3fu]);
  return out;
}

std::optional<std::int64_t> ParseInt64(std::string_view text) {
  std::int64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return v;
}

std::optional<bool> ParseGoBool(std::string_view v) {
  if (v == "1" || v == "t" || v == "T" || v == "TRUE" || v == "true" || v == "True") return true;
  if (v == "0" || v == "f" || v == "F" || v == "FALSE" || v == "false" || v == "False") {
    return false;
  }
  return std::nullopt;
}

void JsonObjectWriter::Key(std::string_view key) {
  if (!first_) out_.push_back(',');
  first_ = false;
  out_.push_back('"');
  out_.append(key);
  out_.append("\":");
}

void JsonObjectWriter::String(std::string_view key, std::string_view value) {
  Key(key);
  AppendJsonString(out_, value);
}

void JsonObjectWriter::Int(std::string_view key, std::int64_t value) {
  Key(key);
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), value);
  out_.append(buf, end);
}

void JsonObjectWriter::Bool(std::string_view key, bool value) {
  Key(key);
  out_.append(value ? "true" : "false");
}

void JsonObjectWriter::Raw(std::string_view key, std::string_view json) {
  Key(key);
  out_.append(json);
}

void JsonObjectWriter::StringArray(std::string_view key, const std::vector<std::string>& values) {
  Key(key);
  out_.push_back('[');
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i != 0) out_.push_back(',');
    AppendJsonString(out_, values[i]);
  }
  out_.push_back(']');
}

void JsonObjectWriter::StringMap(std::string_view key,
                                 const std::map<std::string, std::string>& values) {
  Key(key);
  out_.push_back('{');
  bool first = true;
  for (const auto& [k, v] : values) {
    if (!first) out_.push_back(',');
    first = false;
    AppendJsonString(out_, k);
    out_.push_back(':');
    AppendJsonString(out_, v);
  }
  out_.push_back('}');
}

}  // namespace coffer
