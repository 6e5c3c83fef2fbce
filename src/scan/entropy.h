#pragma once
// Value checks shared by the detectors: Shannon entropy and the filters that
// tell a secret from a look-alike (UUIDs, hex digests, placeholders, the
// documented example keys vendors publish). Pure functions; thread-safe.

#include <string_view>

namespace coffer::scan {

// Bits per character of `s` (0 for an empty string).
double ShannonEntropy(std::string_view s);

// 8-4-4-4-12 hex digits.
bool IsUuid(std::string_view s);

// Exactly 32, 40 or 64 hex digits (MD5, git SHA-1, SHA-256 checksums).
bool IsHexDigest(std::string_view s);

// Text that stands for a secret rather than being one: "changeme", "xxxx",
// "<your-key>", "${VAR}", "{{ .token }}", "example", "dummy", runs of one
// character, ... Case-insensitive.
bool LooksLikePlaceholder(std::string_view s);

// Keys and tokens published in vendors' documentation (AKIAIOSFODNN7EXAMPLE,
// the jwt.io sample, ...).
bool IsKnownExample(std::string_view s);

// How many of {lower, upper, digit, other} occur in `s`.
int CharClasses(std::string_view s);

}  // namespace coffer::scan
