// Generic assignments: a key that names a secret (password, passwd, pwd,
// secret, token, api_key, ...) followed by `=`, `:`, `:=` or `=>` and a value,
// in code, .env, YAML, JSON, INI or properties files. The value must look
// random: long enough, several character classes, Shannon entropy above a
// threshold, and none of the look-alikes (UUIDs, hex digests, placeholders,
// variable references, paths, function calls).
#include <algorithm>
#include <string>
#include <string_view>

#include "scan/detectors.h"
#include "scan/entropy.h"

namespace coffer::scan::detail {
namespace {

constexpr std::size_t kMinValue = 8;
constexpr std::size_t kMaxValue = 256;
constexpr double kMinEntropy = 3.0;

bool IsKeyChar(char c) { return IsAlnum(c) || c == '_' || c == '-' || c == '.'; }

bool IsSpace(char c) { return c == ' ' || c == '\t'; }

// The key with separators removed, lower-cased: "DB_Password" -> "dbpassword".
std::string Squash(std::string_view key) {
  std::string s;
  s.reserve(key.size());
  for (char c : key) {
    if (IsAlnum(c)) s.push_back(ToLower(c));
  }
  return s;
}

// Keys that name something about a secret rather than the secret itself.
bool IsMetadataKey(const std::string& squashed) {
  static constexpr std::string_view kSuffixes[] = {
      "length",  "len", "size",     "type",    "name",     "file",  "path",   "dir",
      "url",     "uri", "endpoint", "count",   "min",      "max",   "policy", "field",
      "header",  "env", "prompt",   "regex",   "pattern",  "hash",  "ref",    "expiry",
      "expires", "ttl", "timeout",  "enabled", "required", "label", "format", "version",
  };
  for (std::string_view s : kSuffixes) {
    if (squashed.ends_with(s)) return true;
  }
  return false;
}

// Whether the key names a secret at all (anchors like "pass" also hit
// "compass" and "bypass").
bool IsSecretKey(std::string_view key, const std::string& squashed) {
  static constexpr std::string_view kWords[] = {
      "password", "passwd",    "passphrase", "pwd",        "secret",     "token",
      "apikey",   "accesskey", "authkey",    "privatekey", "credential",
  };
  for (std::string_view w : kWords) {
    if (squashed.find(w) != std::string::npos) return true;
  }
  // "DB_PASS", "db.pass", "dbPass", "pass" — but not "compass" or "bypass".
  if (key.size() < 4 || Squash(key.substr(key.size() - 4)) != "pass") return false;
  if (key.size() == 4) return true;
  char before = key[key.size() - 5];
  return before == '_' || before == '-' || before == '.' || key[key.size() - 4] == 'P';
}

bool IsAwsSecretKey(const std::string& squashed) {
  return squashed.find("secretaccesskey") != std::string::npos ||
         squashed.find("awssecret") != std::string::npos;
}

bool IsIdentifierPath(std::string_view v) {
  for (char c : v) {
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '.')) return false;
  }
  return true;
}

bool ValidAwsSecret(std::string_view v) {
  if (v.size() != 40 || IsHexDigest(v) || IsKnownExample(v)) return false;
  for (char c : v) {
    if (!IsAlnum(c) && c != '/' && c != '+') return false;
  }
  return ShannonEntropy(v) >= 3.5 && !LooksLikePlaceholder(v);
}

bool ValidGeneric(std::string_view v, bool quoted) {
  if (v.size() < kMinValue || v.size() > kMaxValue) return false;
  if (IsUuid(v) || IsHexDigest(v) || IsKnownExample(v) || LooksLikePlaceholder(v)) return false;
  if (v.find_first_of(" \t") != std::string_view::npos) return false;  // prose, not a secret
  if (v[0] == '$' || v[0] == '%' || v[0] == '/' || v.starts_with("./") || v.starts_with("~/")) {
    return false;  // variable references and file paths
  }
  if (v.starts_with("http://") || v.starts_with("https://")) return false;
  std::string lower;
  for (char c : v) lower.push_back(ToLower(c));
  if (lower.find("test") != std::string::npos || lower == "password" || lower == "secret") {
    return false;  // fixtures: "test-password-123"
  }
  if (!quoted && IsIdentifierPath(v)) return false;  // code: `password = config.password`
  if (CharClasses(v) < 2) return false;
  return ShannonEntropy(v) >= kMinEntropy;
}

}  // namespace

std::size_t DetectAssignment(std::string_view text, std::size_t pos, std::vector<RawMatch>& out) {
  std::size_t key_begin = pos;
  while (key_begin > 0 && pos - key_begin < 64 && IsKeyChar(text[key_begin - 1])) --key_begin;
  std::size_t key_end = pos;
  while (key_end < text.size() && key_end - key_begin < 96 && IsKeyChar(text[key_end])) ++key_end;
  // Keys end where the operator starts; a trailing '.' or '-' is not part of them.
  std::string_view key = text.substr(key_begin, key_end - key_begin);
  std::size_t miss = key_end;
  std::string squashed = Squash(key);
  if (squashed.size() > 48 || !IsSecretKey(key, squashed) || IsMetadataKey(squashed)) return miss;

  std::size_t j = key_end;
  if (j < text.size() && (text[j] == '"' || text[j] == '\'')) ++j;  // "password": ...
  while (j < text.size() && IsSpace(text[j])) ++j;
  if (j >= text.size()) return miss;
  if (text[j] == ':') {
    ++j;
    if (j < text.size() && text[j] == '=') ++j;  // Go's :=
  } else if (text[j] == '=') {
    ++j;
    if (j < text.size() && text[j] == '=') return miss;  // a comparison
    if (j < text.size() && text[j] == '>') ++j;          // Ruby/PHP =>
  } else {
    return miss;
  }
  while (j < text.size() && IsSpace(text[j])) ++j;
  if (j >= text.size()) return miss;

  char quote = text[j];
  bool quoted = quote == '"' || quote == '\'' || quote == '`';
  std::size_t v_begin = quoted ? j + 1 : j;
  std::size_t v_end = v_begin;
  if (quoted) {
    while (v_end < text.size() && v_end - v_begin <= kMaxValue && text[v_end] != quote &&
           text[v_end] != '\n') {
      v_end += text[v_end] == '\\' ? 2 : 1;
    }
    if (v_end >= text.size() || text[v_end] != quote) return miss;
  } else {
    constexpr std::string_view kStop = " \t\r\n,;)]}<>\"'([";
    while (v_end < text.size() && v_end - v_begin <= kMaxValue &&
           kStop.find(text[v_end]) == std::string_view::npos) {
      ++v_end;
    }
    if (v_end < text.size() && (text[v_end] == '(' || text[v_end] == '[')) {
      return miss;  // a function call or an index: code, not a literal
    }
  }
  std::string_view value = text.substr(v_begin, v_end - v_begin);
  if (IsAwsSecretKey(squashed) && ValidAwsSecret(value)) {
    out.push_back({RuleId::kAwsSecretAccessKey, v_begin, v_end, std::string(key)});
    return v_begin;
  }
  if (!ValidGeneric(value, quoted)) return miss;
  out.push_back({RuleId::kGenericAssignment, v_begin, v_end, std::string(key)});
  // Resume at the value, not after it, so that a vendor token inside it is
  // still seen (and then wins over this generic match).
  return v_begin;
}

}  // namespace coffer::scan::detail
