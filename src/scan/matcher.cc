#include "scan/matcher.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <memory>

#include "scan/detectors.h"

namespace coffer::scan {
namespace {

using detail::DetectFn;

struct Anchor {
  std::string_view literal;
  bool ignore_case;
  DetectFn fn;
};

constexpr Anchor kAnchors[] = {
    {"AKIA", false, detail::DetectAwsKeyId},
    {"ASIA", false, detail::DetectAwsKeyId},
    {"ABIA", false, detail::DetectAwsKeyId},
    {"ACCA", false, detail::DetectAwsKeyId},
    {"ghp_", false, detail::DetectGithub},
    {"gho_", false, detail::DetectGithub},
    {"ghu_", false, detail::DetectGithub},
    {"ghs_", false, detail::DetectGithub},
    {"ghr_", false, detail::DetectGithub},
    {"github_pat_", false, detail::DetectGithubPat},
    {"glpat-", false, detail::DetectGitlab},
    {"xox", false, detail::DetectSlackToken},
    {"hooks.slack.com/services/", false, detail::DetectSlackWebhook},
    {"sk_live_", false, detail::DetectStripe},
    {"rk_live_", false, detail::DetectStripe},
    {"sk_test_", false, detail::DetectStripe},
    {"rk_test_", false, detail::DetectStripe},
    {"AIza", false, detail::DetectGoogleApiKey},
    {"-----BEGIN ", false, detail::DetectPrivateKey},
    {"eyJ", false, detail::DetectJwt},
    // Generic assignment keys, matched anywhere inside an identifier.
    {"pass", true, detail::DetectAssignment},
    {"pwd", true, detail::DetectAssignment},
    {"secret", true, detail::DetectAssignment},
    {"token", true, detail::DetectAssignment},
    {"api_key", true, detail::DetectAssignment},
    {"apikey", true, detail::DetectAssignment},
    {"api-key", true, detail::DetectAssignment},
    {"access_key", true, detail::DetectAssignment},
    {"accesskey", true, detail::DetectAssignment},
    {"auth_key", true, detail::DetectAssignment},
    {"private_key", true, detail::DetectAssignment},
    {"credential", true, detail::DetectAssignment},
};
constexpr std::size_t kAnchorCount = std::size(kAnchors);

std::uint8_t Lower(unsigned char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<std::uint8_t>(c - 'A' + 'a') : c;
}

// bigram (two lower-cased bytes) -> bitmask of the anchors starting with it.
struct Prefilter {
  std::array<std::uint8_t, 256> lower{};
  std::array<std::uint64_t, 65536> anchors{};

  Prefilter() {
    static_assert(kAnchorCount <= 64);
    for (int c = 0; c < 256; ++c)
      lower[static_cast<std::size_t>(c)] = Lower(static_cast<unsigned char>(c));
    for (std::size_t i = 0; i < kAnchorCount; ++i) {
      auto a = static_cast<unsigned char>(kAnchors[i].literal[0]);
      auto b = static_cast<unsigned char>(kAnchors[i].literal[1]);
      anchors[(std::size_t{Lower(a)} << 8) | Lower(b)] |= std::uint64_t{1} << i;
    }
  }
};

const Prefilter& GetPrefilter() {
  static const auto* p = new Prefilter();  // never destroyed: used by scanner threads
  return *p;
}

bool AnchorAt(std::string_view text, std::size_t pos, const Anchor& a,
              const std::array<std::uint8_t, 256>& lower) {
  if (text.size() - pos < a.literal.size()) return false;
  if (!a.ignore_case) return text.compare(pos, a.literal.size(), a.literal) == 0;
  for (std::size_t k = 0; k < a.literal.size(); ++k) {
    if (lower[static_cast<unsigned char>(text[pos + k])] != a.literal[k]) return false;
  }
  return true;
}

}  // namespace

void FindSecrets(std::string_view text, std::vector<RawMatch>& out) {
  const Prefilter& pf = GetPrefilter();
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const std::size_t n = text.size();
  std::vector<RawMatch> found;
  std::size_t i = 0;
  while (i + 1 < n) {
    std::uint64_t mask = pf.anchors[(std::size_t{pf.lower[p[i]]} << 8) | pf.lower[p[i + 1]]];
    if (mask == 0) {
      ++i;
      continue;
    }
    std::size_t next = i + 1;
    while (mask != 0) {
      int a = __builtin_ctzll(mask);
      mask &= mask - 1;
      const Anchor& anchor = kAnchors[a];
      if (!AnchorAt(text, i, anchor, pf.lower)) continue;
      std::size_t before = found.size();
      std::size_t resume = anchor.fn(text, i, found);
      if (found.size() > before) {
        next = std::max(next, resume);
        break;
      }
    }
    i = next;
  }
  // A specific rule beats a generic assignment over the same characters
  // (`token = "ghp_..."` is a GitHub token, not a generic secret).
  std::sort(found.begin(), found.end(),
            [](const RawMatch& a, const RawMatch& b) { return a.begin < b.begin; });
  for (std::size_t k = 0; k < found.size(); ++k) {
    const RawMatch& m = found[k];
    if (m.rule == RuleId::kGenericAssignment) {
      bool shadowed = false;
      for (const RawMatch& o : found) {
        if (&o != &m && o.rule != RuleId::kGenericAssignment && o.begin < m.end &&
            m.begin < o.end) {
          shadowed = true;
          break;
        }
      }
      if (shadowed) continue;
    }
    out.push_back(std::move(found[k]));
  }
}

}  // namespace coffer::scan
