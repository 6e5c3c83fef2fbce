#include "scan/allowlist.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "common/glob.h"
#include "common/text.h"

namespace coffer::scan {
namespace {}  // namespace

Result<Allowlist> Allowlist::Parse(std::string_view text) {
  Allowlist list;
  int line_no = 0;
  while (!text.empty()) {
    std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    ++line_no;
    if (std::size_t hash = line.find('#'); hash != std::string_view::npos) {
      line = line.substr(0, hash);
    }
    line = Trim(line, " \t\r");
    if (line.empty()) continue;
    std::size_t colon = line.find(':');
    std::string_view kind = colon == std::string_view::npos ? "" : line.substr(0, colon);
    std::string_view value =
        colon == std::string_view::npos ? line : Trim(line.substr(colon + 1), " \t\r");
    if (kind == "rule") {
      std::optional<RuleId> rule = RuleFromId(value);
      if (!rule) {
        return Err(InvalidArgument("allow-list line " + std::to_string(line_no) +
                                   ": unknown rule id \"" + std::string(value) + "\""));
      }
      list.AddRule(*rule);
    } else if (kind == "fingerprint") {
      list.AddFingerprint(std::string(value));
    } else if (kind == "path") {
      list.AddPath(std::string(value));
    } else if (kind.empty() || kind.find_first_of("/*.") != std::string_view::npos) {
      list.AddPath(std::string(line));  // a bare glob (it may hold a ':' in a file name)
    } else {
      return Err(InvalidArgument("allow-list line " + std::to_string(line_no) +
                                 ": unknown entry kind \"" + std::string(kind) +
                                 "\" (path:, rule:, fingerprint:)"));
    }
  }
  return list;
}

Result<Allowlist> Allowlist::Load(const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return Err(NotFound("cannot read allow-list file " + file));
  std::ostringstream ss;
  ss << in.rdbuf();
  return Parse(ss.str());
}

bool Allowlist::PathAllowed(std::string_view path) const {
  std::string_view base =
      path.substr(path.rfind('/') == std::string_view::npos ? 0 : path.rfind('/') + 1);
  for (const std::string& g : paths_) {
    std::string_view glob = g;
    if (glob.starts_with("./")) glob.remove_prefix(2);
    if (glob.ends_with("/")) {
      if (path.starts_with(glob) || GlobMatch(std::string(glob) + "*", path)) return true;
      continue;
    }
    if (GlobMatch(glob, path)) return true;
    if (glob.find('/') == std::string_view::npos && GlobMatch(glob, base)) return true;
  }
  return false;
}

bool Allowlist::FindingAllowed(const Finding& f) const {
  if (std::find(rules_.begin(), rules_.end(), f.rule) != rules_.end()) return true;
  if (std::find(fingerprints_.begin(), fingerprints_.end(), f.fingerprint) != fingerprints_.end()) {
    return true;
  }
  return PathAllowed(f.path);
}

}  // namespace coffer::scan
