#include "policy/acl.h"

#include <fmt/format.h>

#include <algorithm>
#include <unordered_map>

#include "common/encoding.h"
#include "common/glob.h"
#include "policy/acl_params.h"

namespace coffer::policy {
namespace {

constexpr std::uint32_t kAllCapabilities =
    kCapCreate | kCapRead | kCapUpdate | kCapDelete | kCapList | kCapSudo | kCapPatch | kCapScan;

template <typename T>
T LowerNonZero(T a, T b) {
  if (a == T{}) return b;
  if (b == T{}) return a;
  return std::min(a, b);
}

void MergeParameters(ParameterMap& into, const ParameterMap& from) {
  for (const auto& [key, values] : from) {
    auto it = into.find(key);
    if (it == into.end()) {
      into.emplace(key, values);
    } else if (values.empty() || it->second.empty()) {
      it->second.clear();  // "any value" absorbs a list
    } else {
      it->second.insert(it->second.end(), values.begin(), values.end());
    }
  }
}

// Vault's merge of one stanza into the rule already built for its pattern.
void Merge(Acl::Rule& rule, const PathRules& in) {
  if (rule.capabilities & kCapDeny) return;
  if (in.capabilities & kCapDeny) {
    rule.capabilities = kCapDeny;
    rule.allowed_parameters.clear();
    rule.denied_parameters.clear();
    rule.required_parameters.clear();
    rule.min_wrapping_ttl = rule.max_wrapping_ttl = std::chrono::seconds(0);
    rule.keys_filter_path.clear();
    rule.keys_filter.reset();
    rule.pagination_limit = 0;
    rule.subscribe_event_types.clear();
    return;
  }
  for (const std::string& t : in.subscribe_event_types) {
    if (std::find(rule.subscribe_event_types.begin(), rule.subscribe_event_types.end(), t) ==
        rule.subscribe_event_types.end()) {
      rule.subscribe_event_types.push_back(t);
    }
  }
  rule.capabilities |= in.capabilities;
  rule.pagination_limit = LowerNonZero(rule.pagination_limit, in.pagination_limit);
  // The first stanza with a filter gives it (OpenBao's merge).
  if (!rule.keys_filter && in.keys_filter) {
    rule.keys_filter_path = in.keys_filter_path;
    rule.keys_filter = in.keys_filter;
  }
  rule.min_wrapping_ttl = LowerNonZero(rule.min_wrapping_ttl, in.min_wrapping_ttl);
  rule.max_wrapping_ttl = LowerNonZero(rule.max_wrapping_ttl, in.max_wrapping_ttl);
  MergeParameters(rule.allowed_parameters, in.allowed_parameters);
  MergeParameters(rule.denied_parameters, in.denied_parameters);
  for (const std::string& p : in.required_parameters) {
    if (std::find(rule.required_parameters.begin(), rule.required_parameters.end(), p) ==
        rule.required_parameters.end()) {
      rule.required_parameters.push_back(p);
    }
  }
}

// OpenBao's pagination_limit for a LIST or SCAN: without a bound, `max`
// means every entry (0); with one, an absent limit becomes the bound (unless
// the rule requires a limit), as do 0 and `max`, and anything above it, below
// 0 or not a number is refused. Returns why it is refused ("" when not);
// d.set_limit may name the value the request must carry instead.
std::string PaginationLimit(std::int64_t bound, const std::vector<std::string>& required,
                            const nlohmann::json& params, Decision& d) {
  const nlohmann::json* given = nullptr;
  if (params.is_object()) {
    auto it = params.find("limit");
    if (it != params.end() && !it->is_null()) given = &*it;
  }
  const bool is_max = given != nullptr && given->is_string() && given->get<std::string>() == "max";
  if (bound <= 0) {
    if (is_max) d.set_limit.emplace(1, '0');  // not = "0": a GCC 12 -Wrestrict false positive
    return "";
  }
  const std::string max = std::to_string(bound);
  if (given == nullptr) {
    if (std::find(required.begin(), required.end(), "limit") != required.end()) {
      return fmt::format("requires a \"limit\" (at most {}, or \"max\")", bound);
    }
    d.set_limit = max;
    return "";
  }
  if (is_max) {
    d.set_limit = max;
    return "";
  }
  std::optional<std::int64_t> n;
  if (given->is_number_integer()) n = given->get<std::int64_t>();
  if (given->is_string()) n = ParseInt64(given->get_ref<const std::string&>());
  if (!n || *n < 0 || *n > bound) return fmt::format("allows a \"limit\" of at most {}", bound);
  if (*n == 0) d.set_limit = max;
  return "";
}

std::size_t CountSegments(std::string_view path) {
  return static_cast<std::size_t>(std::count(path.begin(), path.end(), '/')) + 1;
}

}  // namespace

bool HasSegmentWildcards(std::string_view p) {
  return p == "+" || p.starts_with("+/") || p.find("/+") != std::string_view::npos;
}

Capability CapabilityFor(logical::Operation op) {
  switch (op) {
    case logical::Operation::kRead:
    case logical::Operation::kHead:
      return kCapRead;
    case logical::Operation::kList:
      return kCapList;
    case logical::Operation::kScan:
      return kCapScan;
    case logical::Operation::kCreate:
      return kCapCreate;
    case logical::Operation::kUpdate:
      return kCapUpdate;
    case logical::Operation::kPatch:
      return kCapPatch;
    case logical::Operation::kDelete:
      return kCapDelete;
    case logical::Operation::kHelp:
      break;  // the core answers help without the ACL (any valid token)
  }
  return kCapDeny;  // unreachable; never granted
}

Result<std::shared_ptr<const Acl>> Acl::Compile(
    const std::vector<std::shared_ptr<const Policy>>& policies, const TemplateIdentity* who,
    std::chrono::system_clock::time_point now) {
  std::shared_ptr<Acl> acl(new Acl());
  acl->trie_.emplace_back();
  std::unordered_map<std::string, std::int32_t> by_pattern;
  for (const auto& policy : policies) {
    if (!policy) continue;
    if (policy->name == "root") {
      // Vault refuses root mixed with other policies; a root token may carry
      // others harmlessly, so root simply wins here.
      acl->root_ = true;
      acl->rules_.clear();
      return std::shared_ptr<const Acl>(std::move(acl));
    }
    for (const PathRules& in : policy->paths) {
      if (in.expiration && *in.expiration <= now) continue;  // expired: left out
      std::optional<std::string> expanded;
      if (in.templated) {
        expanded = ExpandTemplate(in.pattern, who, policy->template_values);
        if (!expanded) continue;  // no usable value for this caller: left out, as in Vault
      }
      const std::string& pattern = expanded ? *expanded : in.pattern;
      auto [it, inserted] =
          by_pattern.emplace(pattern, static_cast<std::int32_t>(acl->rules_.size()));
      if (inserted) {
        Rule rule;
        rule.pattern = pattern;
        acl->rules_.push_back(std::move(rule));
      }
      Merge(acl->rules_[static_cast<std::size_t>(it->second)], in);
    }
  }

  for (std::size_t i = 0; i < acl->rules_.size(); ++i) {
    const std::string& pattern = acl->rules_[i].pattern;
    const auto index = static_cast<std::int32_t>(i);
    const bool glob = pattern.ends_with('*');
    if (HasSegmentWildcards(pattern)) {
      WildcardRule w;
      w.rule = index;
      w.is_prefix = glob;
      w.first_wildcard = static_cast<std::int32_t>(pattern.find('+'));
      std::string_view stem(pattern);
      if (glob) stem.remove_suffix(1);
      while (true) {
        std::size_t slash = stem.find('/');
        Segment s;
        s.text = std::string(stem.substr(0, slash));
        s.wildcard = s.text == "+";
        if (s.wildcard) ++w.wildcards;
        w.segments.push_back(std::move(s));
        if (slash == std::string_view::npos) break;
        stem.remove_prefix(slash + 1);
      }
      acl->wildcard_rules_.push_back(std::move(w));
    } else if (glob) {
      acl->Insert(pattern.substr(0, pattern.size() - 1), index, true);
    } else {
      acl->Insert(pattern, index, false);
    }
  }
  return std::shared_ptr<const Acl>(std::move(acl));
}

void Acl::Insert(const std::string& key, std::int32_t rule, bool prefix) {
  std::size_t node = 0;
  for (char c : key) {
    auto& children = trie_[node].children;
    auto it = std::lower_bound(children.begin(), children.end(), c,
                               [](const auto& child, char ch) { return child.first < ch; });
    if (it != children.end() && it->first == c) {
      node = static_cast<std::size_t>(it->second);
      continue;
    }
    auto next = static_cast<std::int32_t>(trie_.size());
    children.insert(it, {c, next});  // before emplace_back, which may move `children`
    trie_.emplace_back();
    node = static_cast<std::size_t>(next);
  }
  (prefix ? trie_[node].prefix : trie_[node].exact) = rule;
}

bool Acl::Better(const Candidate& a, const Candidate& b) {
  if (b.rule < 0) return a.rule >= 0;
  if (a.rule < 0) return false;
  if (a.first_wildcard != b.first_wildcard) return a.first_wildcard > b.first_wildcard;
  if (a.is_prefix != b.is_prefix) return !a.is_prefix;
  if (a.wildcards != b.wildcards) return a.wildcards < b.wildcards;
  if (a.stem.size() != b.stem.size()) return a.stem.size() > b.stem.size();
  return a.stem > b.stem;
}

void Acl::WildcardCandidates(std::string_view path, Candidate& best) const {
  const std::size_t path_segments = CountSegments(path);
  for (const WildcardRule& w : wildcard_rules_) {
    if (path_segments < w.segments.size()) continue;
    if (!w.is_prefix && path_segments != w.segments.size()) continue;
    std::string_view rest = path;
    bool ok = true;
    for (std::size_t i = 0; i < w.segments.size() && ok; ++i) {
      std::size_t slash = rest.find('/');
      std::string_view seg = rest.substr(0, slash);
      rest = slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
      const Segment& s = w.segments[i];
      ok = s.wildcard || seg == s.text ||
           (w.is_prefix && i + 1 == w.segments.size() && seg.starts_with(s.text));
    }
    if (!ok) continue;
    std::string_view stem(rules_[static_cast<std::size_t>(w.rule)].pattern);
    if (w.is_prefix) stem.remove_suffix(1);
    Candidate c{w.rule, w.first_wildcard, w.is_prefix, w.wildcards, stem};
    if (Better(c, best)) best = c;
  }
}

std::int32_t Acl::Match(std::string_view path, bool list) const {
  const bool trailing = list && path.ends_with('/');
  std::int32_t exact_full = -1, exact_trimmed = -1;
  // The longest prefix glob matching the path: rule and length of its stem.
  std::int32_t prefix = -1;
  std::size_t prefix_len = 0;
  std::size_t node = 0;
  std::size_t depth = 0;
  while (true) {
    const TrieNode& n = trie_[node];
    if (n.prefix >= 0) {
      prefix = n.prefix;
      prefix_len = depth;
    }
    if (depth == path.size()) exact_full = n.exact;
    if (trailing && depth + 1 == path.size()) exact_trimmed = n.exact;
    if (depth == path.size()) break;
    const char c = path[depth];
    auto it = std::lower_bound(n.children.begin(), n.children.end(), c,
                               [](const auto& child, char ch) { return child.first < ch; });
    if (it == n.children.end() || it->first != c) break;
    node = static_cast<std::size_t>(it->second);
    ++depth;
  }
  if (exact_full >= 0) return exact_full;
  if (exact_trimmed >= 0) return exact_trimmed;

  Candidate best;
  if (prefix >= 0) {
    // A prefix glob's first (only) wildcard is at its end.
    best = Candidate{prefix, static_cast<std::int32_t>(prefix_len), true, 0,
                     path.substr(0, prefix_len)};
  }
  if (!wildcard_rules_.empty()) WildcardCandidates(path, best);
  if (best.rule >= 0 || !trailing) return best.rule;
  // Only when nothing matches the folder path itself does a LIST fall back
  // to the rules for the path without its '/' (Vault's order since
  // GHSA-xp3c-3jw3-4vcr: the folder's own rules are the more specific). A
  // prefix glob matching that form would have matched the folder path, so
  // only '+' rules are left to try.
  WildcardCandidates(path.substr(0, path.size() - 1), best);
  return best.rule;
}

Decision Acl::Check(std::string_view path, logical::Operation op,
                    const nlohmann::json& params) const {
  Decision d;
  if (root_) {
    d.allowed = d.root = d.sudo = true;
    d.capabilities = kAllCapabilities;
    if (logical::IsListOperation(op)) PaginationLimit(0, {}, params, d);
    return d;
  }
  while (path.starts_with('/')) path.remove_prefix(1);
  const Capability need = CapabilityFor(op);
  const std::int32_t index = Match(path, logical::IsListOperation(op));
  if (index < 0) {
    d.reason = fmt::format("permission denied: no policy grants \"{}\" on \"{}\"",
                           CapabilityName(need), path);
    return d;
  }
  const Rule& rule = rules_[static_cast<std::size_t>(index)];
  d.capabilities = rule.capabilities;
  d.sudo = (rule.capabilities & kCapSudo) != 0;
  d.min_wrapping_ttl = rule.min_wrapping_ttl;
  d.max_wrapping_ttl = rule.max_wrapping_ttl;
  if (rule.capabilities & kCapDeny) {
    d.reason = fmt::format("permission denied: \"{}\" is denied by policy path \"{}\"", path,
                           rule.pattern);
    return d;
  }
  if ((rule.capabilities & need) == 0) {
    d.reason = fmt::format("permission denied: policy path \"{}\" does not grant \"{}\"",
                           rule.pattern, CapabilityName(need));
    return d;
  }
  if (rule.min_wrapping_ttl.count() != 0 && rule.max_wrapping_ttl.count() != 0 &&
      rule.max_wrapping_ttl < rule.min_wrapping_ttl) {
    d.reason = fmt::format(
        "permission denied: merged policies on \"{}\" require a wrapping TTL "
        "above their maximum",
        rule.pattern);
    return d;
  }
  if (op == logical::Operation::kRead || op == logical::Operation::kHead ||
      op == logical::Operation::kCreate || op == logical::Operation::kUpdate ||
      op == logical::Operation::kPatch) {
    std::string why;
    if (!internal::CheckParameters(rule, params, why)) {
      d.reason = "permission denied: " + why;
      return d;
    }
  }
  if (logical::IsListOperation(op)) {
    d.keys_filter = rule.keys_filter.get();
    std::string why = PaginationLimit(rule.pagination_limit, rule.required_parameters, params, d);
    if (!why.empty()) {
      d.reason = fmt::format("permission denied: policy path \"{}\" {}", rule.pattern, why);
      d.set_limit.reset();
      return d;
    }
  }
  d.allowed = true;
  return d;
}

std::vector<std::string> Acl::Capabilities(std::string_view path) const {
  if (root_) return {"root"};
  while (path.starts_with('/')) path.remove_prefix(1);
  // Matched as a LIST, as Vault does, so a folder path finds its rules.
  const std::int32_t index = Match(path, true);
  if (index < 0) return {"deny"};
  const std::uint32_t caps = rules_[static_cast<std::size_t>(index)].capabilities;
  if ((caps & kCapDeny) || caps == 0) return {"deny"};
  return CapabilityNames(caps);
}

bool Acl::Subscribes(std::string_view path, std::string_view event_type) const {
  if (root_) return true;
  while (path.starts_with('/')) path.remove_prefix(1);
  const std::int32_t index = Match(path, false);
  if (index < 0) return false;
  const Rule& rule = rules_[static_cast<std::size_t>(index)];
  if ((rule.capabilities & kCapDeny) || (rule.capabilities & kCapSubscribe) == 0) return false;
  return std::any_of(rule.subscribe_event_types.begin(), rule.subscribe_event_types.end(),
                     [&](const std::string& glob) { return GlobMatch(glob, event_type); });
}

bool Acl::ReachesMount(std::string_view mount_path) const {
  if (root_) return true;
  if (Capabilities(mount_path) != std::vector<std::string>{"deny"}) return true;
  auto grants = [](std::uint32_t caps) { return (caps & kCapDeny) == 0 && caps != 0; };
  // Exact paths and prefix globs at or under the mount.
  for (const Rule& rule : rules_) {
    if (HasSegmentWildcards(rule.pattern)) continue;
    if (rule.pattern.starts_with(mount_path) && grants(rule.capabilities)) return true;
  }
  // '+' rules: segment by segment against the mount's segments only (Vault's
  // bare-mount check). A segment that does not match contributes nothing, so
  // the joined path then falls short of the mount.
  std::vector<std::string_view> parts;  // "secret/" -> {"secret", ""}
  for (std::string_view rest = mount_path;;) {
    const std::size_t slash = rest.find('/');
    parts.push_back(rest.substr(0, slash));
    if (slash == std::string_view::npos) break;
    rest.remove_prefix(slash + 1);
  }
  if (parts.size() < 2) return false;  // not a mount path (no trailing '/')
  const std::size_t last_part = parts.size() - 2;
  for (const WildcardRule& w : wildcard_rules_) {
    if (!grants(rules_[static_cast<std::size_t>(w.rule)].capabilities)) continue;
    std::string joined;
    for (std::size_t i = 0; i < w.segments.size() && i <= last_part; ++i) {
      const Segment& s = w.segments[i];
      if (s.wildcard || s.text == parts[i]) {
        joined.append(parts[i]).push_back('/');
      } else if (w.is_prefix && i + 1 == w.segments.size() && parts[i].starts_with(s.text)) {
        for (std::size_t j = i; j < parts.size(); ++j) joined.append(parts[j]).push_back('/');
      }
      if (i == last_part && joined.starts_with(mount_path)) return true;
    }
  }
  return false;
}

}  // namespace coffer::policy
