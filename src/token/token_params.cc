#include "token/token_params.h"

#include "common/duration.h"
#include "common/encoding.h"
#include "common/text.h"

namespace coffer::token::params {

using logical::Json;

namespace {
Status Bad(std::string_view name) {
  return InvalidArgument("invalid value for " + std::string(name));
}
}  // namespace

Result<std::optional<std::string>> String(const logical::Request& r, std::string_view name) {
  const Json* f = r.Field(name);
  if (f == nullptr || f->is_null()) return std::optional<std::string>();
  // Weakly, as Vault decodes a string field: a number keeps its digits, a
  // boolean is "1" or "0" (an unquoted YAML value in a config tool).
  std::optional<std::string> text = logical::WeakString(*f);
  if (!text) return Err(Bad(name));
  return text;
}

Result<std::optional<bool>> Bool(const logical::Request& r, std::string_view name) {
  const Json* f = r.Field(name);
  if (f == nullptr || f->is_null()) return std::optional<bool>();
  if (f->is_boolean()) return std::optional<bool>(f->get<bool>());
  if (f->is_string()) {
    const auto& s = f->get_ref<const std::string&>();
    if (s == "true" || s == "1") return std::optional<bool>(true);
    if (s == "false" || s == "0" || s.empty()) return std::optional<bool>(false);
  }
  return Err(Bad(name));
}

Result<std::optional<std::int64_t>> Int(const logical::Request& r, std::string_view name) {
  const Json* f = r.Field(name);
  if (f == nullptr || f->is_null()) return std::optional<std::int64_t>();
  if (f->is_number_integer()) return std::optional<std::int64_t>(f->get<std::int64_t>());
  if (f->is_string()) {
    if (auto v = ParseInt64(f->get_ref<const std::string&>())) return v;
  }
  return Err(Bad(name));
}

Result<std::optional<std::chrono::seconds>> Duration(const logical::Request& r,
                                                     std::string_view name) {
  const Json* f = r.Field(name);
  if (f == nullptr || f->is_null()) return std::optional<std::chrono::seconds>();
  if (f->is_number_integer() && f->get<std::int64_t>() >= 0 &&
      f->get<std::int64_t>() <= kMaxDurationSeconds) {
    return std::optional<std::chrono::seconds>(std::chrono::seconds(f->get<std::int64_t>()));
  }
  if (f->is_string()) {
    if (f->get<std::string>().empty()) return std::optional<std::chrono::seconds>();
    auto d = ParseDuration(f->get<std::string>());
    if (d) return std::optional<std::chrono::seconds>(*d);
  }
  return Err(Bad(name));
}

Result<std::optional<std::vector<std::string>>> List(const logical::Request& r,
                                                     std::string_view name) {
  const Json* f = r.Field(name);
  if (f == nullptr || f->is_null()) return std::optional<std::vector<std::string>>();
  // Each item trimmed of white space, as Vault's comma-separated lists are
  // ("a, b" is {"a", "b"}); an item is decoded weakly, as a string field.
  std::vector<std::string> out;
  if (f->is_string()) {
    const std::string& s = f->get_ref<const std::string&>();
    std::size_t start = 0;
    while (start <= s.size()) {
      auto comma = s.find(',', start);
      if (comma == std::string::npos) comma = s.size();
      std::string_view item = Trim(std::string_view(s).substr(start, comma - start));
      if (!item.empty()) out.emplace_back(item);
      start = comma + 1;
    }
    return std::optional<std::vector<std::string>>(std::move(out));
  }
  if (!f->is_array()) return Err(Bad(name));
  for (const auto& v : *f) {
    std::optional<std::string> text = logical::WeakString(v);
    if (!text) return Err(Bad(name));
    out.emplace_back(Trim(*text));
  }
  return std::optional<std::vector<std::string>>(std::move(out));
}

Result<std::map<std::string, std::string>> Meta(const logical::Request& r, std::string_view name) {
  std::map<std::string, std::string> out;
  const Json* f = r.Field(name);
  if (f == nullptr || f->is_null()) return out;
  // Vault decodes the map weakly: a number keeps its digits, a boolean
  // becomes "1" or "0", a null "". The list form ["key=value", ...] is
  // OpenBao's (its key-value pairs type).
  if (f->is_array()) {
    for (const auto& pair : *f) {
      if (!pair.is_string()) return Err(Bad(name));
      const std::string& kv = pair.get_ref<const std::string&>();
      const std::size_t eq = kv.find('=');
      if (eq == std::string::npos || eq == 0) {
        return Err(InvalidArgument("invalid value for " + std::string(name) +
                                   ": each item must be key=value"));
      }
      out[kv.substr(0, eq)] = kv.substr(eq + 1);
    }
    return out;
  }
  if (!f->is_object()) return Err(Bad(name));
  for (const auto& [k, v] : f->items()) {
    std::optional<std::string> text = v.is_null() ? std::string() : logical::WeakString(v);
    if (!text) return Err(Bad(name));
    out[k] = std::move(*text);
  }
  return out;
}

}  // namespace coffer::token::params
