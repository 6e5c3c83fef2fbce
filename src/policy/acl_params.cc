#include "policy/acl_params.h"

#include <fmt/format.h>

#include <cctype>

#include "common/text.h"

namespace coffer::policy::internal {
namespace {

using Json = nlohmann::json;

// Looks `key` up case-insensitively in a map whose keys are lower-case,
// without allocating for keys of ordinary length.
const std::vector<Json>* Find(const ParameterMap& map, std::string_view key) {
  char buf[128];
  std::string heap;
  std::string_view lower;
  if (key.size() <= sizeof(buf)) {
    for (std::size_t i = 0; i < key.size(); ++i) {
      buf[i] = static_cast<char>(std::tolower(static_cast<unsigned char>(key[i])));
    }
    lower = std::string_view(buf, key.size());
  } else {
    heap.assign(key);
    for (char& c : heap) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    lower = heap;
  }
  auto it = map.find(lower);
  return it == map.end() ? nullptr : &it->second;
}

bool StringInList(std::string_view s, const std::vector<Json>& list) {
  for (const Json& el : list) {
    if (el.is_string() && GlobMatch(el.get_ref<const std::string&>(), s)) return true;
  }
  return false;
}

bool ValueInList(const Json& v, const std::vector<Json>& list) {
  for (const Json& el : list) {
    if (el.is_null() || v.is_null()) {
      if (el.is_null() && v.is_null()) return true;
    } else if (el.is_string()) {
      if (v.is_string() &&
          GlobMatch(el.get_ref<const std::string&>(), v.get_ref<const std::string&>())) {
        return true;
      }
    } else if (el == v) {
      return true;
    }
  }
  return false;
}

// Whether any trimmed item of a comma-separated string matches `list`.
bool AnyCommaItemInList(std::string_view s, const std::vector<Json>& list) {
  while (true) {
    std::size_t comma = s.find(',');
    if (StringInList(Trim(s.substr(0, comma), kWhitespace), list)) return true;
    if (comma == std::string_view::npos) return false;
    s.remove_prefix(comma + 1);
  }
}

// Vault's rule: the value as a whole must match an allowed value (a glob for
// strings, equality otherwise), so neither "zip,evil" nor ["zip"] passes
// ["zip"].
bool InAllowedList(const Json& v, const std::vector<Json>& list) {
  return list.empty() || ValueInList(v, list);
}

// Stricter than Vault, which compares the whole value only: any element of
// a list value, or any item of a comma-separated string, that is denied
// refuses the request.
bool InDeniedList(const Json& v, const std::vector<Json>& list) {
  if (list.empty() || ValueInList(v, list)) return true;
  if (v.is_array()) {
    for (const Json& item : v) {
      if (ValueInList(item, list)) return true;
    }
    return false;
  }
  if (v.is_string()) return AnyCommaItemInList(v.get_ref<const std::string&>(), list);
  return false;
}

}  // namespace

bool GlobMatch(std::string_view pattern, std::string_view value) {
  if (pattern.size() < 2) return pattern == value;
  bool lead = pattern.front() == '*';
  bool trail = pattern.back() == '*';
  if (lead && trail) return value.find(pattern.substr(1, pattern.size() - 2)) != value.npos;
  if (lead) return value.ends_with(pattern.substr(1));
  if (trail) return value.starts_with(pattern.substr(0, pattern.size() - 1));
  return pattern == value;
}

bool CheckParameters(const Acl::Rule& rule, const Json& params, std::string& reason) {
  const bool has_params = params.is_object() && !params.empty();
  for (const std::string& required : rule.required_parameters) {
    if (!has_params || !params.contains(required)) {
      reason = fmt::format("required parameter \"{}\" is missing", required);
      return false;
    }
  }
  if (!has_params) return true;

  if (!rule.denied_parameters.empty()) {
    if (rule.denied_parameters.contains("*")) {
      reason = "parameters are denied on this path";
      return false;
    }
    for (const auto& [name, value] : params.items()) {
      const std::vector<Json>* denied = Find(rule.denied_parameters, name);
      if (denied != nullptr && InDeniedList(value, *denied)) {
        reason = fmt::format("parameter \"{}\" is denied or has a denied value", name);
        return false;
      }
    }
  }

  if (rule.allowed_parameters.empty()) return true;
  const bool allowed_all = rule.allowed_parameters.contains("*");
  if (allowed_all && rule.allowed_parameters.size() == 1) return true;
  for (const auto& [name, value] : params.items()) {
    const std::vector<Json>* allowed = Find(rule.allowed_parameters, name);
    if (allowed == nullptr) {
      if (allowed_all) continue;
      reason = fmt::format("parameter \"{}\" is not allowed", name);
      return false;
    }
    if (!InAllowedList(value, *allowed)) {
      reason = fmt::format("parameter \"{}\" has a value that is not allowed", name);
      return false;
    }
  }
  return true;
}

}  // namespace coffer::policy::internal
