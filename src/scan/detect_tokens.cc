// Fixed-format vendor tokens: a literal prefix, a body of a known alphabet
// and length, a word boundary on both sides, and the look-alike filters
// (documented examples, placeholders, bodies with too little entropy).
#include <string_view>

#include "scan/detectors.h"
#include "scan/entropy.h"

namespace coffer::scan::detail {
namespace {

bool BoundaryBefore(std::string_view text, std::size_t pos) {
  return pos == 0 || !IsAlnum(text[pos - 1]);
}

// Rejects look-alikes of a fixed-format token whose random part is `body`.
bool Plausible(std::string_view token, std::string_view body, double min_entropy) {
  if (IsKnownExample(token) || LooksLikePlaceholder(body)) return false;
  return ShannonEntropy(body) >= min_entropy;
}

std::size_t Emit(RuleId rule, std::size_t begin, std::size_t end, std::vector<RawMatch>& out) {
  out.push_back({rule, begin, end, {}});
  return end;
}

}  // namespace

std::size_t DetectAwsKeyId(std::string_view text, std::size_t pos, std::vector<RawMatch>& out) {
  if (!BoundaryBefore(text, pos)) return pos + 1;
  std::size_t n = RunLength(text, pos + 4, IsUpperAlnum, 17);
  if (n != 16) return pos + 1;
  std::string_view token = text.substr(pos, 20);
  if (token.ends_with("EXAMPLE") || !Plausible(token, token.substr(4), 2.5)) return pos + 1;
  return Emit(RuleId::kAwsAccessKeyId, pos, pos + 20, out);
}

std::size_t DetectGithub(std::string_view text, std::size_t pos, std::vector<RawMatch>& out) {
  if (!BoundaryBefore(text, pos)) return pos + 1;
  std::size_t n = RunLength(text, pos + 4, IsAlnum, 256);
  if (n != 36) return pos + 1;
  std::string_view token = text.substr(pos, 40);
  if (!Plausible(token, token.substr(4), 3.0)) return pos + 1;
  return Emit(RuleId::kGithubToken, pos, pos + 40, out);
}

std::size_t DetectGithubPat(std::string_view text, std::size_t pos, std::vector<RawMatch>& out) {
  constexpr std::size_t kPrefix = 11;  // "github_pat_"
  if (!BoundaryBefore(text, pos)) return pos + 1;
  std::size_t n = RunLength(text, pos + kPrefix, [](char c) { return IsAlnum(c) || c == '_'; });
  if (n < 50 || n > 255) return pos + 1;
  std::string_view token = text.substr(pos, kPrefix + n);
  if (!Plausible(token, token.substr(kPrefix), 3.5)) return pos + 1;
  return Emit(RuleId::kGithubFineGrainedPat, pos, pos + token.size(), out);
}

std::size_t DetectGitlab(std::string_view text, std::size_t pos, std::vector<RawMatch>& out) {
  if (!BoundaryBefore(text, pos)) return pos + 1;
  std::size_t n = RunLength(text, pos + 6, IsBase64Url, 256);
  if (n < 20 || n > 64) return pos + 1;
  std::string_view token = text.substr(pos, 6 + n);
  if (!Plausible(token, token.substr(6), 3.0)) return pos + 1;
  return Emit(RuleId::kGitlabToken, pos, pos + token.size(), out);
}

std::size_t DetectSlackToken(std::string_view text, std::size_t pos, std::vector<RawMatch>& out) {
  // xox[abprs]-<digits>-<digits>-...-<alnum>
  if (!BoundaryBefore(text, pos) || pos + 5 >= text.size()) return pos + 1;
  char kind = text[pos + 3];
  if (std::string_view("abprs").find(kind) == std::string_view::npos || text[pos + 4] != '-') {
    return pos + 1;
  }
  std::size_t n = RunLength(
      text, pos + 5, [](char c) { return IsAlnum(c) || c == '-'; }, 256);
  std::string_view body = text.substr(pos + 5, n);
  while (!body.empty() && body.back() == '-') body.remove_suffix(1);
  int dashes = 0, digits = 0;
  for (char c : body) {
    dashes += c == '-';
    digits += c >= '0' && c <= '9';
  }
  if (body.size() < 20 || dashes < 2 || digits < 10) return pos + 1;
  std::string_view token = text.substr(pos, 5 + body.size());
  if (!Plausible(token, body, 3.0)) return pos + 1;
  return Emit(RuleId::kSlackToken, pos, pos + token.size(), out);
}

std::size_t DetectSlackWebhook(std::string_view text, std::size_t pos, std::vector<RawMatch>& out) {
  // hooks.slack.com/services/T<id>/B<id>/<secret>
  constexpr std::string_view kAnchor = "hooks.slack.com/services/";
  std::size_t p = pos + kAnchor.size();
  auto id = [&](char lead) {
    if (p >= text.size() || text[p] != lead) return false;
    std::size_t n = RunLength(text, p + 1, IsUpperAlnum, 32);
    if (n < 6 || p + 1 + n >= text.size() || text[p + 1 + n] != '/') return false;
    p += n + 2;
    return true;
  };
  if (!id('T') || !id('B')) return pos + 1;
  std::size_t n = RunLength(text, p, IsAlnum, 64);
  if (n < 20 || !Plausible(text.substr(p, n), text.substr(p, n), 3.0)) return pos + 1;
  std::size_t begin = pos;
  if (begin >= 8 && text.substr(begin - 8, 8) == "https://") begin -= 8;
  return Emit(RuleId::kSlackWebhook, begin, p + n, out);
}

std::size_t DetectStripe(std::string_view text, std::size_t pos, std::vector<RawMatch>& out) {
  // sk_live_, rk_live_, sk_test_, rk_test_ (all 8 characters)
  if (!BoundaryBefore(text, pos)) return pos + 1;
  std::size_t n = RunLength(text, pos + 8, IsAlnum, 256);
  if (n < 20 || n > 247) return pos + 1;
  std::string_view token = text.substr(pos, 8 + n);
  if (!Plausible(token, token.substr(8), 3.0)) return pos + 1;
  RuleId rule = text.substr(pos + 3, 4) == "live" ? RuleId::kStripeLiveKey : RuleId::kStripeTestKey;
  return Emit(rule, pos, pos + token.size(), out);
}

std::size_t DetectGoogleApiKey(std::string_view text, std::size_t pos, std::vector<RawMatch>& out) {
  if (!BoundaryBefore(text, pos)) return pos + 1;
  std::size_t n = RunLength(text, pos + 4, IsBase64Url, 64);
  if (n != 35) return pos + 1;
  std::string_view token = text.substr(pos, 39);
  if (!Plausible(token, token.substr(4), 3.0)) return pos + 1;
  return Emit(RuleId::kGoogleApiKey, pos, pos + 39, out);
}

}  // namespace coffer::scan::detail
