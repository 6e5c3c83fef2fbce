#include "http/path.h"

#include <cstdint>

#include "common/url.h"

namespace coffer::http {
namespace {

constexpr std::string_view kApiPrefix = "/v1/";

bool HasControl(std::string_view s) {
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7F) return true;
  }
  return false;
}

// Checks the raw escapes of one segment: an encoded '/' or '\' would let a
// client smuggle a separator past the segment checks, so it is refused even
// though it decodes fine.
Status CheckEscapes(std::string_view raw) {
  for (std::size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] != '%') continue;
    if (raw.size() - i < 3) {
      return InvalidArgument("malformed percent escape in path");
    }
    int hi = HexDigitValue(raw[i + 1]);
    int lo = HexDigitValue(raw[i + 2]);
    if (hi < 0 || lo < 0) return InvalidArgument("malformed percent escape in path");
    int v = hi * 16 + lo;
    if (v == '\\') return InvalidArgument("encoded backslash in path");
    i += 2;
  }
  return Status::Ok();
}

}  // namespace

Target SplitTarget(std::string_view target) {
  auto q = target.find('?');
  if (q == std::string_view::npos) return {target, {}};
  return {target.substr(0, q), target.substr(q + 1)};
}

bool IsValidUtf8(std::string_view s) {
  std::size_t i = 0;
  const std::size_t n = s.size();
  while (i < n) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t len;
    std::uint32_t cp;
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
      cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      cp = c & 0x07;
    } else {
      return false;  // continuation byte, 0xC0/0xC1 overlong lead, or > U+10FFFF lead
    }
    if (n - i < len) return false;
    for (std::size_t k = 1; k < len; ++k) {
      auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    if (len == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) return false;
    if (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) return false;
    i += len;
  }
  return true;
}

std::optional<std::string> RedirectForRepeatedSlashes(std::string_view encoded) {
  if (!encoded.starts_with(kApiPrefix) || encoded.find("//") == std::string_view::npos) {
    return std::nullopt;
  }
  std::string out;
  out.reserve(encoded.size());
  for (char c : encoded) {
    if (c == '/' && !out.empty() && out.back() == '/') continue;
    out.push_back(c);
  }
  return out;
}

Result<std::string> CanonicalizePath(std::string_view encoded) {
  if (!encoded.starts_with(kApiPrefix)) return Err(NotFound("not an API path"));
  std::string_view rest = encoded.substr(kApiPrefix.size());
  if (rest.empty()) return Err(NotFound("no path after /v1/"));
  // An encoded slash separates segments as a '/' does, as Vault reads the
  // decoded path (Vault's newer Go client escapes every path parameter:
  // "team/app" goes out as "team%2Fapp"). Decoded before the split, so the
  // checks below see every segment it makes: "%2e%2e%2f" is a dot segment,
  // "%2F%2F" an empty one, and the ACL and the router see one path.
  std::string unslashed;
  if (rest.find('%') != std::string_view::npos) {
    unslashed.reserve(rest.size());
    for (std::size_t i = 0; i < rest.size(); ++i) {
      if (rest[i] == '%' && rest.size() - i >= 3 && rest[i + 1] == '2' &&
          (rest[i + 2] == 'F' || rest[i + 2] == 'f')) {
        unslashed.push_back('/');
        i += 2;
        continue;
      }
      // Any other escape is copied whole, so "%252F" stays "%2F" once decoded.
      unslashed.push_back(rest[i]);
    }
    rest = unslashed;
  }

  std::string out;
  out.reserve(rest.size());
  std::size_t pos = 0;
  while (pos <= rest.size()) {
    std::size_t slash = rest.find('/', pos);
    bool last = slash == std::string_view::npos;
    std::string_view raw = rest.substr(pos, last ? std::string_view::npos : slash - pos);
    if (raw.empty()) {
      // Only the segment after a final '/' may be empty: that is the kept
      // trailing slash. Anything else is "//" (or "/v1//...").
      if (last && pos > 0) break;
      return Err(InvalidArgument("empty path segment"));
    }
    if (raw.find_first_of("\\#") != std::string_view::npos) {
      return Err(InvalidArgument("invalid character in path"));
    }
    TRY(CheckEscapes(raw));
    std::string seg;
    if (!PercentDecodeAppend(raw, /*plus_is_space=*/false, seg)) {
      return Err(InvalidArgument("malformed percent escape in path"));
    }
    if (seg == "." || seg == "..") return Err(InvalidArgument("dot segment in path"));
    if (HasControl(seg)) return Err(InvalidArgument("control character in path"));
    if (!IsValidUtf8(seg)) return Err(InvalidArgument("invalid UTF-8 in path"));
    out += seg;
    if (last) break;
    out.push_back('/');
    pos = slash + 1;
  }
  return out;
}

namespace {

// Calls fn(raw_pair, key, value) for each non-empty '&'-separated pair of
// `text`, key and value percent-decoded ('+' is a space; a pair without '='
// has the value ""), and stops at the first error fn returns. `what` names
// the text in the error for a malformed escape.
template <typename Fn>
Status ForEachPair(std::string_view text, std::string_view what, Fn fn) {
  std::size_t pos = 0;
  while (pos <= text.size()) {
    const std::size_t amp = text.find('&', pos);
    const std::string_view pair =
        text.substr(pos, amp == std::string_view::npos ? std::string_view::npos : amp - pos);
    if (!pair.empty()) {
      const auto eq = pair.find('=');
      const std::string_view v =
          eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1);
      std::string key, value;
      if (!PercentDecodeAppend(pair.substr(0, eq), true, key) ||
          !PercentDecodeAppend(v, true, value)) {
        return InvalidArgument("malformed percent escape in " + std::string(what));
      }
      TRY(fn(pair, std::move(key), std::move(value)));
    }
    if (amp == std::string_view::npos) break;
    pos = amp + 1;
  }
  return Status::Ok();
}

}  // namespace

Result<std::map<std::string, std::string>> ParseQuery(std::string_view query) {
  std::map<std::string, std::string> out;
  TRY(ForEachPair(
      query, "query", [&](std::string_view, std::string key, std::string value) -> Status {
        if (HasControl(key) || HasControl(value) || !IsValidUtf8(key) || !IsValidUtf8(value)) {
          return InvalidArgument("invalid character in query");
        }
        // The first one wins.
        if (!key.empty()) out.emplace(std::move(key), std::move(value));
        return Status::Ok();
      }));
  return out;
}

Result<std::map<std::string, std::string>> ParseFormBody(std::string_view body) {
  std::map<std::string, std::string> out;
  TRY(ForEachPair(body, "form data",
                  [&](std::string_view pair, std::string key, std::string value) -> Status {
                    if (pair.find(';') != std::string_view::npos) {
                      return InvalidArgument("invalid semicolon separator in form data");
                    }
                    if (!IsValidUtf8(key) || !IsValidUtf8(value)) {
                      return InvalidArgument("invalid UTF-8 in form data");
                    }
                    if (key.empty()) return Status::Ok();
                    auto [it, inserted] = out.try_emplace(std::move(key), std::move(value));
                    if (!inserted) {
                      it->second.push_back(',');
                      it->second += value;
                    }
                    return Status::Ok();
                  }));
  return out;
}

}  // namespace coffer::http
