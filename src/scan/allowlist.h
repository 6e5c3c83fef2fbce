#pragma once
// The allow-list: a `.cofferignore` file at the root of the scanned tree, or
// the file given with --allowlist. One entry per line; '#' starts a comment.
//
//   path:GLOB          skip files whose path matches GLOB ('*' matches any
//   GLOB               run, '/' included; a GLOB without '/' also matches the
//                      base name; "dir/" matches everything under dir)
//   rule:RULE-ID       drop every finding of that rule
//   fingerprint:HEX    drop one specific finding (the fingerprint printed by
//                      --format json / sarif)
//
// Inline: a line holding "coffer:ignore" yields no finding. Immutable once
// parsed; thread-safe for concurrent reads.

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "scan/finding.h"

namespace coffer::scan {

class Allowlist {
 public:
  // Errors: kInvalidArgument naming the line for an unknown rule id or an
  // unknown "kind:" prefix.
  static Result<Allowlist> Parse(std::string_view text);
  // Errors: kNotFound when the file does not exist, kInvalidArgument as Parse.
  static Result<Allowlist> Load(const std::string& file);

  bool PathAllowed(std::string_view path) const;  // true: skip the file
  bool FindingAllowed(const Finding& f) const;    // true: drop the finding

  void AddPath(std::string glob) { paths_.push_back(std::move(glob)); }
  void AddRule(RuleId rule) { rules_.push_back(rule); }
  void AddFingerprint(std::string fp) { fingerprints_.push_back(std::move(fp)); }

 private:
  std::vector<std::string> paths_;
  std::vector<RuleId> rules_;
  std::vector<std::string> fingerprints_;
};

}  // namespace coffer::scan
