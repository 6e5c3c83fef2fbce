#pragma once
// Report formats for `coffer scan`. None of them ever contains a secret
// value: each finding shows Finding::Redacted() (first characters and "…")
// and its fingerprint.
//
//   text:  path:line:col: rule-id (severity) redacted [key=K] [commit=SHA]
//   json:  {"findings":[{rule_id, description, severity, path, line, column,
//           commit?, key?, redacted, fingerprint}], "stats":{...}}
//   sarif: SARIF 2.1.0, one run; tool.driver.rules lists every rule; each
//          result has ruleId, ruleIndex, level, message, locations and
//          partialFingerprints {"cofferFingerprint/v1": fingerprint}.
// Pure functions; thread-safe.

#include <string>

#include "scan/finding.h"

namespace coffer::scan {

std::string FormatText(const ScanReport& report);
std::string FormatJson(const ScanReport& report);
std::string FormatSarif(const ScanReport& report, const std::string& tool_version);

}  // namespace coffer::scan
