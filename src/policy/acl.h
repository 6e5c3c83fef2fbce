#pragma once
// Acl: a set of policies compiled for fast checks, with Vault's matching rules.
//
// Matching, for a request path (a leading '/' is ignored):
//  1. An exact pattern ("secret/foo") equal to the path wins outright.
//  2. Otherwise every matching non-exact pattern is a candidate: prefix globs
//     ("secret/fo*": the path starts with "secret/fo") and segment wildcards
//     ("secret/+/teamb", "+" = exactly one segment; may also end in '*').
//     ONE candidate is picked, by Vault's priority rules; P1 is lower than P2
//     when, in order: its first '+' or '*' comes earlier; it ends in '*' and
//     P2 doesn't; it has more '+' segments; it is shorter; it is
//     lexicographically smaller.
//  3. The same pattern in several policies is merged: union of capabilities,
//     except that `deny` anywhere makes the pattern deny-only; the lowest
//     non-zero min/max wrapping TTL; allowed/denied parameter values are
//     appended per key (an empty list, meaning "any value", absorbs a
//     non-empty one); required parameters are unioned.
//  LIST requests (and sys/capabilities, which matches as a LIST does) on a
//  path ending in '/' try, in Vault's order: an exact pattern equal to the
//  path, then one equal to the path without that '/', then the non-exact
//  candidates for the path, and only when none matches, the candidates for
//  the path without its '/'. So `secret/private/*` (deny) beats `secret/*`
//  for LIST secret/private/, `secret/metadata/team/*` (list) beats
//  `secret/metadata/*` (read) for LIST secret/metadata/team/, and
//  `kv/metadata/*` (deny) beats `kv/metadata/+` (list) for
//  LIST kv/metadata/team/.
//
// Parameter constraints (allowed/denied/required) apply to read, create,
// update and patch requests (HEAD counts as read), with Vault's rules: denied
// beats allowed; `"*" = []` in denied refuses any parameter, in allowed admits
// any other; a value list admits exact values and `prefix*` / `*suffix` /
// `*middle*` globs, matched against the whole value (a list value or a
// comma-separated string is one value). Denied values are matched more
// strictly than Vault does: also against every element of a list value and
// every item of a comma-separated string.
//
// Wrapping TTL bounds are reported in the Decision; the caller enforces them
// against X-Vault-Wrap-TTL (a merged min above the max denies outright).
// So is a LIST or SCAN rule's list_scan_response_keys_filter_path (the first
// stanza with one, among those merged, gives it); the caller filters the
// answer's keys with it. A rule's pagination_limit (the lowest non-zero of
// the merged) bounds a LIST's or SCAN's `limit` parameter: a larger one is
// denied, a missing one (unless required_parameters names it), 0 and `max`
// become the bound; without a bound `max` becomes 0 (all). Decision::set_limit
// tells the caller what to put in the request.
//
// Thread-safety: an Acl is immutable once compiled; share it as
// std::shared_ptr<const Acl> and call Check from any thread. Check does not
// allocate except for the reason of a denial, and a LIST's or SCAN's changed
// limit (Decision::set_limit).

#include <chrono>
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/status.h"
#include "logical/request.h"
#include "policy/policy.h"

namespace coffer::policy {

struct Decision {
  bool allowed = false;
  bool root = false;               // the root policy: everything is allowed
  bool sudo = false;               // the matching rule grants sudo (root-protected paths)
  std::uint32_t capabilities = 0;  // the matching rule's merged bits (kCap*)
  std::chrono::seconds min_wrapping_ttl{0}, max_wrapping_ttl{0};  // 0 = no bound
  std::string reason;  // why it was denied; names paths and parameters, never values
  // A LIST or SCAN allowed by a rule with list_scan_response_keys_filter_path:
  // the compiled filter, owned by the Acl (null: the answer is not filtered).
  const go_template::Template* keys_filter = nullptr;
  // A LIST or SCAN whose `limit` the policy changes (pagination_limit, or
  // OpenBao's `limit=max`): the value the request must carry instead.
  std::optional<std::string> set_limit;
};

// Whether a pattern uses "+" segments (Vault's test: "+", a leading "+/" or
// any "/+"); such rules are matched segment by segment.
bool HasSegmentWildcards(std::string_view pattern);

// The capability a logical operation needs (kHead needs read).
Capability CapabilityFor(logical::Operation op);

class Acl {
 public:
  // Compiles and merges. A policy named "root" makes the whole ACL root (the
  // others are then irrelevant). Null entries are skipped. Templated paths
  // are expanded for `who` (null: a caller without an entity); a stanza
  // whose parameters have no usable value is left out (ExpandTemplate), and
  // so is a stanza whose `expiration` is not after `now`.
  // Never fails today; kInvalidArgument is reserved for inconsistent input.
  static Result<std::shared_ptr<const Acl>> Compile(
      const std::vector<std::shared_ptr<const Policy>>& policies,
      const TemplateIdentity* who = nullptr,
      std::chrono::system_clock::time_point now = std::chrono::system_clock::now());

  // `params` is the request body (or query) object; anything else counts as
  // no parameters.
  Decision Check(std::string_view path, logical::Operation op, const nlohmann::json& params) const;

  // For sys/capabilities: the capability names on `path` (LIST matching
  // rules), sorted; ["deny"] when none or denied; ["root"] for root.
  std::vector<std::string> Capabilities(std::string_view path) const;

  // For sys/internal/ui/mounts (Vault's hasMountAccess): whether the caller
  // may see a mount, given its path with the trailing '/'. True when the
  // capabilities on the mount path are not ["deny"], or when an exact path,
  // a glob or a '+' rule at or under the mount grants anything but deny.
  bool ReachesMount(std::string_view mount_path) const;

  // Vault's subscribe: whether the rule governing `path` grants the
  // subscribe capability for `event_type` (one of its subscribe_event_types
  // globs matches it). Always true for root.
  bool Subscribes(std::string_view path, std::string_view event_type) const;

  bool IsRoot() const { return root_; }

  // One merged rule; exposed for tests and sys/internal/ui/resultant-acl.
  struct Rule {
    std::string pattern;
    std::uint32_t capabilities = 0;
    ParameterMap allowed_parameters;
    ParameterMap denied_parameters;
    std::vector<std::string> required_parameters;
    std::chrono::seconds min_wrapping_ttl{0}, max_wrapping_ttl{0};
    std::string keys_filter_path;  // list_scan_response_keys_filter_path, as written
    std::shared_ptr<const go_template::Template> keys_filter;
    std::int64_t pagination_limit = 0;               // the lowest non-zero among the merged
    std::vector<std::string> subscribe_event_types;  // the union of the merged
  };
  const std::vector<Rule>& rules() const { return rules_; }

 private:
  struct TrieNode {
    std::vector<std::pair<char, std::int32_t>> children;  // sorted by char
    std::int32_t exact = -1;   // rule index of an exact pattern ending here
    std::int32_t prefix = -1;  // rule index of a prefix glob ending here
  };
  struct Segment {
    std::string text;
    bool wildcard = false;  // "+"
  };
  struct WildcardRule {
    std::vector<Segment> segments;  // of the pattern without its trailing '*'
    bool is_prefix = false;         // ended in '*'
    std::int32_t first_wildcard = 0;
    std::int32_t wildcards = 0;
    std::int32_t rule = -1;
  };
  // A candidate non-exact match with its priority key.
  struct Candidate {
    std::int32_t rule = -1;
    std::int32_t first_wildcard = 0;
    bool is_prefix = false;
    std::int32_t wildcards = 0;
    std::string_view stem;  // the pattern without a trailing '*'
  };

  Acl() = default;
  void Insert(const std::string& pattern, std::int32_t rule, bool prefix);
  // The rule that governs `path`, or -1. `list` turns on the trailing-slash
  // handling of LIST requests.
  std::int32_t Match(std::string_view path, bool list) const;
  void WildcardCandidates(std::string_view path, Candidate& best) const;
  static bool Better(const Candidate& a, const Candidate& b);

  bool root_ = false;
  std::vector<Rule> rules_;
  std::vector<TrieNode> trie_;  // [0] is the root (empty prefix)
  std::vector<WildcardRule> wildcard_rules_;
};

}  // namespace coffer::policy
