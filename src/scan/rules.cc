#include "scan/rules.h"

#include <array>

namespace coffer::scan {
namespace {

constexpr std::array<RuleInfo, 13> kRules = {{
    {RuleId::kAwsAccessKeyId, "aws-access-key-id", "AWS access key id (AKIA/ASIA...)",
     Severity::kHigh},
    {RuleId::kAwsSecretAccessKey, "aws-secret-access-key",
     "AWS secret access key (40 characters next to an aws_secret... key)", Severity::kHigh},
    {RuleId::kGithubToken, "github-token", "GitHub token (ghp_, gho_, ghu_, ghs_, ghr_)",
     Severity::kHigh},
    {RuleId::kGithubFineGrainedPat, "github-fine-grained-pat",
     "GitHub fine-grained personal access token (github_pat_)", Severity::kHigh},
    {RuleId::kGitlabToken, "gitlab-token", "GitLab personal access token (glpat-)",
     Severity::kHigh},
    {RuleId::kSlackToken, "slack-token", "Slack token (xoxb-, xoxp-, xoxa-, xoxs-, xoxr-)",
     Severity::kHigh},
    {RuleId::kSlackWebhook, "slack-webhook", "Slack incoming webhook URL", Severity::kMedium},
    {RuleId::kStripeLiveKey, "stripe-live-key", "Stripe live secret or restricted key",
     Severity::kHigh},
    {RuleId::kStripeTestKey, "stripe-test-key", "Stripe test-mode secret or restricted key",
     Severity::kLow},
    {RuleId::kGoogleApiKey, "google-api-key", "Google API key (AIza...)", Severity::kHigh},
    {RuleId::kPrivateKey, "private-key", "PEM / OpenSSH / PGP private key block", Severity::kHigh},
    {RuleId::kJwt, "jwt", "JSON Web Token (signed, with an alg header)", Severity::kMedium},
    {RuleId::kGenericAssignment, "generic-secret",
     "High-entropy value assigned to a password/secret/token/api_key", Severity::kMedium},
}};

}  // namespace

std::span<const RuleInfo> AllRules() { return kRules; }

const RuleInfo& InfoOf(RuleId rule) { return kRules[static_cast<std::size_t>(rule)]; }

std::optional<RuleId> RuleFromId(std::string_view id) {
  for (const RuleInfo& r : kRules) {
    if (r.id == id) return r.rule;
  }
  return std::nullopt;
}

std::string_view SeverityName(Severity s) {
  switch (s) {
    case Severity::kHigh:
      return "high";
    case Severity::kMedium:
      return "medium";
    case Severity::kLow:
      return "low";
  }
  return "medium";
}

}  // namespace coffer::scan
