// ACL templating: the {{identity...}} parameters of policy paths (Vault's
// grammar; policy.h lists it). Hand-written: the grammar is a handful of
// dotted selectors, and no packaged library knows Vault's.

#include <fmt/format.h>

#include "common/text.h"
#include "policy/policy.h"

namespace coffer::policy {
namespace {

constexpr std::string_view kValidParameters =
    "valid: identity.entity.id, identity.entity.name, identity.entity.metadata.<key>, "
    "identity.entity.aliases.<mount accessor>.{id,name,metadata.<key>,custom_metadata.<key>}, "
    "identity.groups.ids.<group id>.{id,name,metadata.<key>}, "
    "identity.groups.names.<group name>.{id,name,metadata.<key>}";

// "head.tail" -> head, tail; false when there is no '.' or either is empty.
bool SplitFirst(std::string_view s, std::string_view& head, std::string_view& tail) {
  std::size_t dot = s.find('.');
  if (dot == std::string_view::npos || dot == 0 || dot + 1 == s.size()) return false;
  head = s.substr(0, dot);
  tail = s.substr(dot + 1);
  return true;
}

using Metadata = std::map<std::string, std::string, std::less<>>;

std::optional<std::string_view> Lookup(const Metadata& m, std::string_view key) {
  auto it = m.find(key);
  if (it == m.end()) return std::nullopt;
  return std::string_view(it->second);
}

// A parameter's value: `valid` false for a parameter outside the grammar;
// `value` empty when this caller has none.
struct Resolved {
  bool valid = true;
  std::optional<std::string_view> value;
};

Resolved Invalid() { return Resolved{false, std::nullopt}; }

// sel: id | name | metadata.<key> | custom_metadata.<key> (aliases only).
Resolved AliasField(std::string_view sel, const TemplateIdentity::Alias* a) {
  if (sel == "id") return {true, a ? std::optional(std::string_view(a->id)) : std::nullopt};
  if (sel == "name") return {true, a ? std::optional(std::string_view(a->name)) : std::nullopt};
  if (sel.starts_with("metadata.") && sel.size() > 9) {
    return {true, a ? Lookup(a->metadata, sel.substr(9)) : std::nullopt};
  }
  if (sel.starts_with("custom_metadata.") && sel.size() > 16) {
    return {true, a ? Lookup(a->custom_metadata, sel.substr(16)) : std::nullopt};
  }
  return Invalid();
}

Resolved GroupField(std::string_view sel, const TemplateIdentity::Group* g) {
  if (sel == "id") return {true, g ? std::optional(std::string_view(g->id)) : std::nullopt};
  if (sel == "name") return {true, g ? std::optional(std::string_view(g->name)) : std::nullopt};
  if (sel.starts_with("metadata.") && sel.size() > 9) {
    return {true, g ? Lookup(g->metadata, sel.substr(9)) : std::nullopt};
  }
  return Invalid();
}

Resolved Resolve(std::string_view param, const TemplateIdentity* who) {
  constexpr std::string_view kEntity = "identity.entity.";
  constexpr std::string_view kGroups = "identity.groups.";
  if (param.starts_with(kEntity)) {
    std::string_view rest = param.substr(kEntity.size());
    if (rest == "id")
      return {true, who ? std::optional(std::string_view(who->entity_id)) : std::nullopt};
    if (rest == "name") {
      return {true, who ? std::optional(std::string_view(who->entity_name)) : std::nullopt};
    }
    if (rest.starts_with("metadata.") && rest.size() > 9) {
      return {true, who ? Lookup(who->entity_metadata, rest.substr(9)) : std::nullopt};
    }
    std::string_view accessor, sel;
    if (rest.starts_with("aliases.") && SplitFirst(rest.substr(8), accessor, sel)) {
      const TemplateIdentity::Alias* found = nullptr;
      if (who != nullptr) {
        for (const auto& a : who->aliases) {
          if (a.mount_accessor == accessor) found = &a;
        }
      }
      return AliasField(sel, found);
    }
    return Invalid();
  }
  if (param.starts_with(kGroups)) {
    std::string_view kind, rest, key, sel;
    if (!SplitFirst(param.substr(kGroups.size()), kind, rest) ||
        (kind != "ids" && kind != "names") || !SplitFirst(rest, key, sel)) {
      return Invalid();
    }
    const TemplateIdentity::Group* found = nullptr;
    if (who != nullptr) {
      for (const auto& g : who->groups) {
        if ((kind == "ids" ? g.id : g.name) == key) found = &g;
      }
    }
    return GroupField(sel, found);
  }
  return Invalid();
}

// A value that keeps the pattern's shape: one segment's worth of plain text
// (unless the policy allows wildcards or slashes in values). With slashes
// allowed, a value spans segments, and none of them may be a `+`
// wildcard unless wildcards are allowed too ("eng/+" is not a team).
bool SafeValue(std::string_view v, TemplateValues allow) {
  if (v.empty()) return false;
  if (!allow.wildcards && (v.front() == '+' || v.find("/+") != std::string_view::npos)) {
    return false;
  }
  for (char c : v) {
    if ((c == '/' && !allow.slashes) || (c == '*' && !allow.wildcards) || c == '{' || c == '}' ||
        static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      return false;
    }
  }
  return true;
}

// Walks the pattern's parameters into *out: their values for `who`, with
// *complete set to whether every one had a usable value; or, with `who`
// and `complete` null, "x" for each (the shape).
Result<bool> Walk(std::string_view pattern, const TemplateIdentity* who, TemplateValues allow,
                  std::string& out, bool* complete) {
  auto unbalanced = [] { return Err(InvalidArgument("unbalanced templating characters")); };
  bool templated = false;
  std::size_t pos = 0;
  while (true) {
    std::size_t open = pattern.find("{{", pos);
    std::size_t close = pattern.find("}}", pos);
    if (open == std::string_view::npos) {
      if (close != std::string_view::npos) return unbalanced();
      out.append(pattern.substr(pos));
      return templated;
    }
    if (close != std::string_view::npos && close < open) return unbalanced();
    std::size_t end = pattern.find("}}", open + 2);
    if (end == std::string_view::npos) return unbalanced();
    std::string_view inner = pattern.substr(open + 2, end - open - 2);
    if (inner.find("{{") != std::string_view::npos) return unbalanced();
    std::string_view param = Trim(inner);
    if (param.find('*') != std::string_view::npos) {
      // Names and keys with a '*' would put one mid-pattern in the text.
      return Err(InvalidArgument(
          fmt::format("template parameter \"{{{{{}}}}}\" may not contain '*'", param)));
    }
    Resolved r = Resolve(param, who);
    if (!r.valid) {
      return Err(InvalidArgument(
          fmt::format("unknown template parameter \"{{{{{}}}}}\" ({})", param, kValidParameters)));
    }
    templated = true;
    out.append(pattern.substr(pos, open - pos));
    if (complete == nullptr) {
      out += 'x';
    } else if (r.value && SafeValue(*r.value, allow)) {
      out.append(*r.value);
    } else {
      *complete = false;
    }
    pos = end + 2;
  }
}

}  // namespace

Result<std::optional<std::string>> CheckTemplate(std::string_view pattern) {
  std::string shape;
  ASSIGN_OR_RETURN(bool templated, Walk(pattern, nullptr, {}, shape, nullptr));
  if (!templated) return std::optional<std::string>();
  return std::optional<std::string>(std::move(shape));
}

std::optional<std::string> ExpandTemplate(std::string_view pattern, const TemplateIdentity* who,
                                          TemplateValues allow) {
  std::string out;
  bool complete = true;
  Result<bool> walked = Walk(pattern, who, allow, out, &complete);
  if (!walked || !complete) return std::nullopt;
  if (allow.wildcards) {
    // Values may bring wildcards: the result must still follow the glob
    // rules ParsePolicy checks, or the stanza is left out.
    const std::size_t star = out.find('*');
    if ((star != std::string::npos && star + 1 != out.size()) ||
        out.find("+*") != std::string::npos) {
      return std::nullopt;
    }
  }
  return out;
}

}  // namespace coffer::policy
