#pragma once
// The rules of `coffer scan`: one id, description and severity per kind of
// secret. Detection itself lives in matcher.cc and detect_*.cc; this file is
// the catalogue the report formats (text, JSON, SARIF) and the allow-list use.
// Pure data; thread-safe.

#include <optional>
#include <span>
#include <string_view>

namespace coffer::scan {

enum class RuleId {
  kAwsAccessKeyId,
  kAwsSecretAccessKey,
  kGithubToken,
  kGithubFineGrainedPat,
  kGitlabToken,
  kSlackToken,
  kSlackWebhook,
  kStripeLiveKey,
  kStripeTestKey,
  kGoogleApiKey,
  kPrivateKey,
  kJwt,
  kGenericAssignment,
};

enum class Severity { kHigh, kMedium, kLow };

struct RuleInfo {
  RuleId rule;
  std::string_view id;  // stable, kebab-case: used in .cofferignore and SARIF
  std::string_view description;
  Severity severity;
};

// Every rule, in RuleId order.
std::span<const RuleInfo> AllRules();
const RuleInfo& InfoOf(RuleId rule);
std::optional<RuleId> RuleFromId(std::string_view id);
std::string_view SeverityName(Severity s);  // "high", "medium", "low"

}  // namespace coffer::scan
