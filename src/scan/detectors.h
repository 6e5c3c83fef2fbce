#pragma once
// The validators behind matcher.cc's anchors (internal to the scan module).
// Each is called with `pos` at an anchor occurrence and returns the position
// where scanning continues (> pos); it appends what it recognised to `out`.

#include <cstddef>
#include <string_view>
#include <vector>

#include "scan/matcher.h"

namespace coffer::scan::detail {

using DetectFn = std::size_t (*)(std::string_view text, std::size_t pos,
                                 std::vector<RawMatch>& out);

// detect_tokens.cc: fixed-format vendor tokens.
std::size_t DetectAwsKeyId(std::string_view text, std::size_t pos, std::vector<RawMatch>& out);
std::size_t DetectGithub(std::string_view text, std::size_t pos, std::vector<RawMatch>& out);
std::size_t DetectGithubPat(std::string_view text, std::size_t pos, std::vector<RawMatch>& out);
std::size_t DetectGitlab(std::string_view text, std::size_t pos, std::vector<RawMatch>& out);
std::size_t DetectSlackToken(std::string_view text, std::size_t pos, std::vector<RawMatch>& out);
std::size_t DetectSlackWebhook(std::string_view text, std::size_t pos, std::vector<RawMatch>& out);
std::size_t DetectStripe(std::string_view text, std::size_t pos, std::vector<RawMatch>& out);
std::size_t DetectGoogleApiKey(std::string_view text, std::size_t pos, std::vector<RawMatch>& out);

// detect_blocks.cc: PEM private keys and JWTs.
std::size_t DetectPrivateKey(std::string_view text, std::size_t pos, std::vector<RawMatch>& out);
std::size_t DetectJwt(std::string_view text, std::size_t pos, std::vector<RawMatch>& out);

// detect_generic.cc: `password = "..."` and friends (also the AWS secret key).
std::size_t DetectAssignment(std::string_view text, std::size_t pos, std::vector<RawMatch>& out);

// Helpers shared by the detectors.
inline bool IsAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}
inline bool IsUpperAlnum(char c) { return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }
inline bool IsBase64Url(char c) { return IsAlnum(c) || c == '-' || c == '_'; }
inline char ToLower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}
// Counts characters from `from` while `pred` holds, up to `limit`.
template <typename Pred>
std::size_t RunLength(std::string_view text, std::size_t from, Pred pred,
                      std::size_t limit = 4096) {
  std::size_t n = 0;
  while (from + n < text.size() && n < limit && pred(text[from + n])) ++n;
  return n;
}

}  // namespace coffer::scan::detail
