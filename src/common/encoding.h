#pragma once
// Hex and base64 (standard alphabet, padded) for keys and shares, and JSON
// string literals. Decoders reject malformed input instead of guessing.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/secret_bytes.h"

namespace coffer {

std::string HexEncode(std::string_view bytes);
// Appends the lower-case hex of `bytes` to `out` (no temporary string).
void AppendHex(std::string& out, std::string_view bytes);
std::optional<SecretBytes> HexDecode(std::string_view hex);
std::string Base64Encode(std::string_view bytes);
// CR and LF are skipped wherever they are, as Go's decoder does (wrapped
// output of base64(1)); any other character outside the alphabet fails.
std::optional<SecretBytes> Base64Decode(std::string_view b64);

// A token XOR a one-time pad of the same length, in base64 without '='
// padding: how sys/generate-root hands out a new root token (Vault's shape),
// and how `coffer operator generate-root -decode` turns it back. nullopt
// when the lengths differ (or, decoding, the text is not base64).
std::optional<std::string> EncodeWithPad(std::string_view token, std::string_view pad);
std::optional<SecretBytes> DecodeWithPad(std::string_view encoded, std::string_view pad);
// Base64url without padding (RFC 7515 §2; JWTs, JWKs, JWS signatures, batch
// tokens). Strict: '=' padding, characters outside the URL-safe alphabet, a
// length that leaves a single dangling character and non-zero spare bits are
// refused, so each byte string has exactly one encoding.
std::string Base64UrlEncode(std::string_view bytes);
std::optional<std::string> Base64UrlDecode(std::string_view in);

// A base-10 integer that is the whole of `text` (optional '-', digits, no
// spaces, no trailing characters, in range), or nullopt. As Go's
// strconv.ParseInt reads Vault's string parameters; std::stoll would accept
// " 5" and "5abc".
std::optional<std::int64_t> ParseInt64(std::string_view text);

// Go's strconv.ParseBool: 1, t, T, TRUE, true, True and their false
// counterparts, or nullopt. Vault reads boolean flags, variables and
// string parameters with it.
std::optional<bool> ParseGoBool(std::string_view text);

// Appends `s` as a double-quoted JSON string (also valid HCL): `"` and `\`
// escaped, control characters as \n, \r, \t or \u00XX, everything else copied
// as is (in runs). Writes straight into `out`, so a secret never passes
// through a temporary string.
void AppendJsonString(std::string& out, std::string_view s);

// Rewrites, in the JSON text `text` from offset `from` on (which must not
// be inside a string), each number written with an exponent, as
// nlohmann::json prints a double below 1e-4 or from 1e16 on ("1e-05",
// "1.8446744073709552e+19"), the way Go's encoding/json prints a float64:
// plain digits when 1e-6 <= |x| < 1e21 ("0.00001", "18446744073709552000"),
// else an exponent without zero padding ("1e-7", "1e+21"). Vault hands a
// number back as it was written, and Go clients (Terraform's provider)
// write Go's form, so such a value reads back as they sent it. Strings are
// left alone; text without such a number is not copied.
void GoStyleExponents(std::string& text, std::size_t from = 0);

// Appends the UTF-8 encoding of code point `cp` (at most U+10FFFF; callers
// check the range and refuse surrogates), for the escapes of HCL and Go
// template strings.
void AppendUtf8(std::string& out, std::uint32_t cp);

// Writes one JSON object straight into `out`, fields in the order they are
// added, for records written on every request (a token entry, a lease),
// where building an nlohmann::json first cost ~5 µs a record. Callers add
// keys in sorted order, as nlohmann::json prints them, so the records read
// back the same either way. Keys are literals: written without escaping.
class JsonObjectWriter {
 public:
  explicit JsonObjectWriter(std::string& out) : out_(out) { out_.push_back('{'); }
  void String(std::string_view key, std::string_view value);
  void Int(std::string_view key, std::int64_t value);
  void Bool(std::string_view key, bool value);
  // `json` must already be valid JSON text.
  void Raw(std::string_view key, std::string_view json);
  void StringArray(std::string_view key, const std::vector<std::string>& values);
  void StringMap(std::string_view key, const std::map<std::string, std::string>& values);
  void Close() { out_.push_back('}'); }

 private:
  void Key(std::string_view key);
  std::string& out_;
  bool first_ = true;
};

}  // namespace coffer
