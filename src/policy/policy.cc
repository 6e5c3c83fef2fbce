#include "policy/policy.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <utility>

#include "common/clock.h"
#include "common/duration.h"
#include "common/encoding.h"
#include "common/text.h"
#include "hcl/hcl.h"

namespace coffer::policy {
namespace {

using Json = nlohmann::json;

constexpr std::array<std::pair<std::string_view, Capability>, 10> kCapabilityNames = {{
    {"create", kCapCreate},
    {"delete", kCapDelete},
    {"deny", kCapDeny},
    {"list", kCapList},
    {"patch", kCapPatch},
    {"read", kCapRead},
    {"scan", kCapScan},
    {"subscribe", kCapSubscribe},
    {"sudo", kCapSudo},
    {"update", kCapUpdate},
}};  // sorted by name

// Turns the HCL/JSON tree of one policy into PathRules, with every error
// carrying the policy name and the line it refers to.
class Parser {
 public:
  Parser(std::string_view name, const hcl::Document& doc) : name_(name), doc_(doc) {}

  Result<std::vector<PathRules>> Run() {
    const Json& root = doc_.json();
    if (!root.is_object()) return Err(Fail("", "the policy must be an object of path stanzas"));
    std::vector<PathRules> out;
    for (const auto& [key, value] : root.items()) {
      std::string pointer = hcl::JoinPointer("", key);
      if (key == "name") continue;  // Vault accepts and ignores a top-level name
      if (key != "path") return Err(Fail(pointer, fmt::format("unknown key \"{}\"", key)));
      if (value.is_object()) {
        TRY(Labels(pointer, value, out));
      } else if (value.is_array()) {
        // `path { "a" = {...} }` repeated, or JSON written as a list of objects.
        for (std::size_t i = 0; i < value.size(); ++i) {
          std::string item = hcl::JoinPointer(pointer, std::to_string(i));
          if (!value[i].is_object()) return Err(Fail(item, "path must be a labelled block"));
          TRY(Labels(item, value[i], out));
        }
      } else {
        return Err(Fail(pointer, "path must be a block: path \"<pattern>\" { ... }"));
      }
    }
    return out;
  }

 private:
  Status Fail(std::string_view pointer, std::string_view what) const {
    int line = pointer.empty() ? 0 : doc_.LineOf(pointer);
    if (line > 0)
      return InvalidArgument(fmt::format("policy \"{}\": line {}: {}", name_, line, what));
    return InvalidArgument(fmt::format("policy \"{}\": {}", name_, what));
  }

  // {"<pattern>": {body} | [{body}, {body}]}
  Status Labels(const std::string& pointer, const Json& labels, std::vector<PathRules>& out) {
    for (const auto& [pattern, body] : labels.items()) {
      std::string label_ptr = hcl::JoinPointer(pointer, pattern);
      if (body.is_object()) {
        ASSIGN_OR_RETURN(PathRules rules, Stanza(label_ptr, pattern, body));
        out.push_back(std::move(rules));
      } else if (body.is_array()) {
        for (std::size_t i = 0; i < body.size(); ++i) {
          std::string item = hcl::JoinPointer(label_ptr, std::to_string(i));
          if (!body[i].is_object()) return Fail(item, "path body must be a block");
          ASSIGN_OR_RETURN(PathRules rules, Stanza(item, pattern, body[i]));
          out.push_back(std::move(rules));
        }
      } else {
        return Fail(label_ptr, fmt::format("path \"{}\": body must be a block", pattern));
      }
    }
    return Status::Ok();
  }

  // Whether the pattern is templated, or the error.
  Result<bool> CheckPattern(const std::string& ptr, std::string_view pattern) {
    auto bad = [&](std::string_view why) {
      return Err(Fail(ptr, fmt::format("path \"{}\": {}", pattern, why)));
    };
    Result<std::optional<std::string>> shape = CheckTemplate(pattern);
    if (!shape) return bad(shape.error().message());
    // The glob rules hold for the text around the parameters (values bring
    // no '*' or '+' segment; or, in a policy that allows them,
    // ExpandTemplate checks the result again).
    std::string_view text = *shape ? std::string_view(**shape) : pattern;
    if (text.find("+*") != std::string_view::npos) {
      return bad("invalid use of wildcards ('+*' is forbidden)");
    }
    std::size_t star = text.find('*');
    if (star != std::string_view::npos && star + 1 != text.size()) {
      return bad("the glob '*' is only allowed as the last character");
    }
    for (char c : pattern) {
      if (static_cast<unsigned char>(c) < 0x20) return bad("control characters are not allowed");
    }
    return shape->has_value();
  }

  Status Capabilities(const std::string& ptr, const std::string& pattern, const Json& v,
                      PathRules& rules) {
    if (!v.is_array()) {
      return Fail(ptr, fmt::format("path \"{}\": capabilities must be a list of strings", pattern));
    }
    for (std::size_t i = 0; i < v.size(); ++i) {
      std::string item = hcl::JoinPointer(ptr, std::to_string(i));
      if (!v[i].is_string()) {
        return Fail(item,
                    fmt::format("path \"{}\": capabilities must be a list of strings", pattern));
      }
      auto cap = ParseCapability(v[i].get_ref<const std::string&>());
      if (!cap) {
        return Fail(item, fmt::format("path \"{}\": unknown capability \"{}\" (valid: create, "
                                      "read, update, patch, delete, list, scan, subscribe, sudo, "
                                      "deny)",
                                      pattern, v[i].get_ref<const std::string&>()));
      }
      rules.capabilities |= *cap;
    }
    return Status::Ok();
  }

  Status LegacyPolicy(const std::string& ptr, const std::string& pattern, const Json& v,
                      PathRules& rules) {
    std::string_view p = v.is_string() ? std::string_view(v.get_ref<const std::string&>()) : "";
    if (p == "deny") {
      rules.capabilities |= kCapDeny;
    } else if (p == "read") {
      rules.capabilities |= kCapRead | kCapList;
    } else if (p == "write") {
      rules.capabilities |= kCapCreate | kCapRead | kCapUpdate | kCapDelete | kCapList;
    } else if (p == "sudo") {
      rules.capabilities |= kCapCreate | kCapRead | kCapUpdate | kCapDelete | kCapList | kCapSudo;
    } else {
      return Fail(ptr, fmt::format("path \"{}\": invalid policy \"{}\" (valid: deny, read, "
                                   "write, sudo)",
                                   pattern, v.is_string() ? std::string(p) : v.dump()));
    }
    return Status::Ok();
  }

  Status Parameters(const std::string& ptr, const std::string& pattern, std::string_view key,
                    const Json& v, ParameterMap& out) {
    if (!v.is_object()) {
      return Fail(ptr, fmt::format("path \"{}\": {} must be a map of parameter names to lists",
                                   pattern, key));
    }
    for (const auto& [param, values] : v.items()) {
      std::string item = hcl::JoinPointer(ptr, param);
      if (param.find('*') != std::string::npos && param != "*") {
        return Fail(item, fmt::format("path \"{}\": {}: parameter key \"{}\" cannot contain "
                                      "non-tail wildcards",
                                      pattern, key, param));
      }
      if (!values.is_array()) {
        return Fail(item, fmt::format("path \"{}\": {}: the value of \"{}\" must be a list",
                                      pattern, key, param));
      }
      if (param == "*" && !values.empty()) {
        return Fail(item, fmt::format("path \"{}\": {}: the only value allowed for \"*\" is []",
                                      pattern, key));
      }
      std::vector<Json> list;
      for (const Json& value : values) {
        if (value.is_object()) {
          return Fail(item, fmt::format("path \"{}\": {}: values of \"{}\" must be scalars or "
                                        "lists",
                                        pattern, key, param));
        }
        list.push_back(value);
      }
      auto& slot = out[AsciiLower(param)];
      slot.insert(slot.end(), list.begin(), list.end());
    }
    return Status::Ok();
  }

  Result<std::chrono::seconds> Ttl(const std::string& ptr, const std::string& pattern,
                                   std::string_view key, const Json& v) {
    Result<std::chrono::seconds> d = Err(InvalidArgument("not a duration"));
    if (v.is_number_unsigned() || (v.is_number_integer() && v.get<std::int64_t>() >= 0)) {
      d = std::chrono::seconds(v.get<std::int64_t>());
    } else if (v.is_string()) {
      d = ParseDuration(v.get_ref<const std::string&>());
    }
    if (!d) {
      return Err(Fail(ptr, fmt::format("path \"{}\": {}: invalid duration {} (use seconds or "
                                       "units like \"90s\", \"15m\", \"1h\")",
                                       pattern, key, v.dump())));
    }
    return d;
  }

  // Compiled, then tried on two different keys: a template that gives the
  // same path for both would filter nothing by the key (OpenBao's check).
  Status KeysFilter(const std::string& ptr, const std::string& pattern, const Json& v,
                    PathRules& rules) {
    if (!v.is_string()) {
      return Fail(ptr, fmt::format("path \"{}\": list_scan_response_keys_filter_path must be a "
                                   "string",
                                   pattern));
    }
    const std::string& text = v.get_ref<const std::string&>();
    if (text.empty()) return Status::Ok();
    auto failed = [&](const Status& why) {
      return Fail(ptr, fmt::format("path \"{}\": list_scan_response_keys_filter_path: {}", pattern,
                                   why.message()));
    };
    auto compiled = go_template::Template::Parse(text, "list_scan_response_keys_filter_path");
    if (!compiled) return failed(compiled.error());
    Result<std::string> one = KeysFilterPath(*compiled, pattern, "k1-9b2f6e");
    if (!one) return failed(one.error());
    Result<std::string> two = KeysFilterPath(*compiled, pattern, "k2-40c7a1");
    if (!two) return failed(two.error());
    if (*one == *two) {
      return Fail(ptr, fmt::format("path \"{}\": list_scan_response_keys_filter_path gives the "
                                   "same path for different keys (use {{{{ .key }}}})",
                                   pattern));
    }
    rules.keys_filter_path = text;
    rules.keys_filter = std::make_shared<const go_template::Template>(std::move(*compiled));
    return Status::Ok();
  }

  Result<PathRules> Stanza(const std::string& ptr, const std::string& written, const Json& body) {
    PathRules rules;
    rules.pattern = written;
    // Every leading '/' goes, as the ACL strips them from the paths it
    // checks: a rule written "//secret/x" must govern "secret/x", not be a
    // pattern no request can match (a deny that silently denies nothing).
    rules.pattern.erase(0, rules.pattern.find_first_not_of('/'));
    rules.line = doc_.LineOf(ptr);
    const std::string& pattern = rules.pattern;
    ASSIGN_OR_RETURN(rules.templated, CheckPattern(ptr, pattern));
    for (const auto& [key, value] : body.items()) {
      std::string item = hcl::JoinPointer(ptr, key);
      if (key == "capabilities") {
        TRY(Capabilities(item, pattern, value, rules));
      } else if (key == "policy") {
        TRY(LegacyPolicy(item, pattern, value, rules));
      } else if (key == "allowed_parameters") {
        TRY(Parameters(item, pattern, key, value, rules.allowed_parameters));
      } else if (key == "denied_parameters") {
        TRY(Parameters(item, pattern, key, value, rules.denied_parameters));
      } else if (key == "required_parameters") {
        if (!value.is_array()) {
          return Err(Fail(item, fmt::format("path \"{}\": required_parameters must be a list of "
                                            "strings",
                                            pattern)));
        }
        for (const Json& p : value) {
          if (!p.is_string() || p.get_ref<const std::string&>().find('*') != std::string::npos) {
            return Err(Fail(item, fmt::format("path \"{}\": required_parameters must be a list "
                                              "of names without wildcards",
                                              pattern)));
          }
          std::string lower = AsciiLower(p.get_ref<const std::string&>());
          if (std::find(rules.required_parameters.begin(), rules.required_parameters.end(),
                        lower) == rules.required_parameters.end()) {
            rules.required_parameters.push_back(std::move(lower));
          }
        }
      } else if (key == "min_wrapping_ttl") {
        ASSIGN_OR_RETURN(rules.min_wrapping_ttl, Ttl(item, pattern, key, value));
      } else if (key == "max_wrapping_ttl") {
        ASSIGN_OR_RETURN(rules.max_wrapping_ttl, Ttl(item, pattern, key, value));
      } else if (key == "list_scan_response_keys_filter_path") {
        TRY(KeysFilter(item, pattern, value, rules));
      } else if (key == "pagination_limit") {
        std::optional<std::int64_t> n;
        if (value.is_number_integer()) n = value.get<std::int64_t>();
        if (value.is_string()) n = ParseInt64(value.get_ref<const std::string&>());
        if (!n || *n < 0) {
          return Err(Fail(item, fmt::format("path \"{}\": pagination_limit must be a whole "
                                            "number, 0 or more",
                                            pattern)));
        }
        rules.pagination_limit = *n;
      } else if (key == "subscribe_event_types") {
        auto is_type = [](const Json& t) {
          return t.is_string() && !t.get_ref<const std::string&>().empty();
        };
        if (!value.is_array() || !std::all_of(value.begin(), value.end(), is_type)) {
          return Err(Fail(item, fmt::format("path \"{}\": subscribe_event_types must be a list "
                                            "of event types",
                                            pattern)));
        }
        for (const Json& t : value) rules.subscribe_event_types.push_back(t.get<std::string>());
      } else if (key == "comment") {
        // Vault allows a free-form comment; nothing to keep.
      } else if (key == "expiration") {
        std::optional<std::chrono::system_clock::time_point> at;
        if (value.is_string()) at = ParseRfc3339(value.get_ref<const std::string&>());
        if (!at) {
          return Err(Fail(item, fmt::format("path \"{}\": invalid expiration time {} (use RFC "
                                            "3339, e.g. \"2026-12-31T23:59:59Z\")",
                                            pattern, value.dump())));
        }
        rules.expiration = at;
      } else if (key == "mfa_methods" || key == "control_group") {
        return Err(Fail(item, fmt::format("path \"{}\": \"{}\" is not supported", pattern, key)));
      } else {
        return Err(Fail(item, fmt::format("path \"{}\": unknown key \"{}\" (valid: capabilities, "
                                          "policy, allowed_parameters, denied_parameters, "
                                          "required_parameters, min_wrapping_ttl, "
                                          "max_wrapping_ttl, list_scan_response_keys_filter_path, "
                                          "pagination_limit, expiration, "
                                          "subscribe_event_types, comment)",
                                          pattern, key)));
      }
    }
    if (rules.keys_filter && (rules.capabilities & (kCapList | kCapScan)) == 0) {
      return Err(Fail(ptr, fmt::format("path \"{}\": list_scan_response_keys_filter_path needs "
                                       "the list or scan capability",
                                       pattern)));
    }
    if (rules.min_wrapping_ttl.count() != 0 && rules.max_wrapping_ttl.count() != 0 &&
        rules.max_wrapping_ttl < rules.min_wrapping_ttl) {
      return Err(Fail(ptr, fmt::format("path \"{}\": max_wrapping_ttl cannot be less than "
                                       "min_wrapping_ttl",
                                       pattern)));
    }
    if (rules.capabilities & kCapDeny) {
      // Deny overrides everything else in the stanza, as in Vault.
      const auto expiration = rules.expiration;
      rules = PathRules{rules.pattern, kCapDeny, {}, {}, {}, {}, {}, rules.line, rules.templated};
      rules.expiration = expiration;  // an expired deny stops denying, as in OpenBao
    }
    return rules;
  }

  std::string_view name_;
  const hcl::Document& doc_;
};

}  // namespace

Result<std::string> KeysFilterPath(const go_template::Template& filter, std::string_view path,
                                   std::string_view key) {
  go_template::RenderOptions options;
  options.dot = Json{{"path", path}, {"key", key}};
  options.error_on_missing_key = true;
  return filter.Render(
      [](const std::string&, const Json&) -> Result<Json> {
        return Err(InvalidArgument("secret is not available in a policy"));
      },
      options);
}

std::optional<Capability> ParseCapability(std::string_view name) {
  for (const auto& [n, c] : kCapabilityNames) {
    if (n == name) return c;
  }
  return std::nullopt;
}

std::string_view CapabilityName(Capability capability) {
  for (const auto& [n, c] : kCapabilityNames) {
    if (c == capability) return n;
  }
  return "unknown";
}

std::vector<std::string> CapabilityNames(std::uint32_t bits) {
  std::vector<std::string> out;
  for (const auto& [n, c] : kCapabilityNames) {
    if (bits & c) out.emplace_back(n);
  }
  return out;
}

std::string CanonicalPolicyName(std::string_view name) {
  auto is_space = [](char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; };
  while (!name.empty() && is_space(name.front())) name.remove_prefix(1);
  while (!name.empty() && is_space(name.back())) name.remove_suffix(1);
  return AsciiLower(name);
}

Status ValidatePolicyName(std::string_view name) {
  if (name.empty()) return InvalidArgument("policy name missing");
  if (name.size() > 128) return InvalidArgument("policy name is longer than 128 bytes");
  for (char c : name) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      return InvalidArgument("policy name may not contain control characters");
    }
  }
  // Vault takes any name, and tools name policies like paths (Salt's
  // "saltstack/minions"): a '/' between segments is fine. A name is also a
  // storage key and the end of the path the ACL checked, so no empty, "."
  // or ".." segment, and no '/' at either end ("admin/" is not "admin").
  std::string_view rest = name;
  for (;;) {
    const std::size_t slash = rest.find('/');
    const std::string_view segment = rest.substr(0, slash);
    if (segment.empty() || segment == "." || segment == "..") {
      return InvalidArgument(
          "policy name may not begin or end with '/' or have an empty, \".\" or \"..\" "
          "segment");
    }
    if (slash == std::string_view::npos) break;
    rest.remove_prefix(slash + 1);
  }
  return Status::Ok();
}

Result<Policy> ParsePolicy(std::string_view name, std::string_view text) {
  Policy policy;
  policy.name = CanonicalPolicyName(name);
  TRY(ValidatePolicyName(policy.name));
  if (policy.name == "root") return Err(InvalidArgument("cannot update \"root\" policy"));
  policy.raw = std::string(text);
  hcl::ParseOptions options;
  options.max_bytes = 1024 * 1024;
  Result<hcl::Document> doc = hcl::Parse(text, options);
  if (!doc) {
    return Err(Status(doc.error().code(), fmt::format("policy \"{}\": failed to parse policy: {}",
                                                      policy.name, doc.error().message())));
  }
  ASSIGN_OR_RETURN(policy.paths, Parser(policy.name, *doc).Run());
  for (const PathRules& p : policy.paths) policy.templated = policy.templated || p.templated;
  return policy;
}

}  // namespace coffer::policy
