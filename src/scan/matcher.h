#pragma once
// The detection engine: one pass over a buffer with a two-byte prefilter.
// Every rule has one or more literal anchors ("AKIA", "ghp_", "-----BEGIN ",
// "password", ...). A 64 K table indexed by the (lower-cased) byte pair at
// each position says whether any anchor starts with that pair; only then are
// the anchors compared and the rule's small hand-written validator run.
// That keeps the scan near memory speed on text with no secrets, which a
// std::regex alternation does not (and avoids a new regex dependency).
// Pure; thread-safe.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "scan/rules.h"

namespace coffer::scan {

struct RawMatch {
  RuleId rule;
  std::size_t begin = 0;  // the secret value: [begin, end) of the buffer
  std::size_t end = 0;
  std::string key;  // assignment key (generic, AWS secret); empty otherwise
};

// Appends the secrets found in `text`, sorted by position, with generic
// matches that overlap a specific rule's match removed.
void FindSecrets(std::string_view text, std::vector<RawMatch>& out);

}  // namespace coffer::scan
