#include "identity/types.h"

#include <algorithm>

namespace coffer::identity {
namespace {

std::vector<std::string> Strings(const Json& j, const char* name) {
  std::vector<std::string> out;
  auto it = j.find(name);
  if (it == j.end() || !it->is_array()) return out;
  for (const auto& v : *it) {
    if (v.is_string()) out.push_back(v.get<std::string>());
  }
  return out;
}

std::map<std::string, std::string> Map(const Json& j, const char* name) {
  std::map<std::string, std::string> out;
  auto it = j.find(name);
  if (it == j.end() || !it->is_object()) return out;
  for (const auto& [k, v] : it->items()) {
    if (v.is_string()) out[k] = v.get<std::string>();
  }
  return out;
}

std::int64_t Int(const Json& j, const char* name) {
  auto it = j.find(name);
  return it != j.end() && it->is_number_integer() ? it->get<std::int64_t>() : 0;
}

}  // namespace

Json ToJson(const Entity& e) {
  Json j{{"id", e.id},
         {"name", e.name},
         {"policies", e.policies},
         {"metadata", e.metadata},
         {"disabled", e.disabled},
         {"creation_time", e.creation_time},
         {"last_update_time", e.last_update_time}};
  if (!e.merged_entity_ids.empty()) j["merged_entity_ids"] = e.merged_entity_ids;
  return j;
}

Json ToJson(const Alias& a) {
  Json j{{"id", a.id},
         {"canonical_id", a.canonical_id},
         {"mount_accessor", a.mount_accessor},
         {"mount_type", a.mount_type},
         {"mount_path", a.mount_path},
         {"name", a.name},
         {"custom_metadata", a.custom_metadata},
         {"metadata", a.metadata},
         {"creation_time", a.creation_time},
         {"last_update_time", a.last_update_time}};
  if (!a.merged_from_canonical_ids.empty()) {
    j["merged_from_canonical_ids"] = a.merged_from_canonical_ids;
  }
  return j;
}

Json ToJson(const Group& g) {
  return Json{{"id", g.id},
              {"name", g.name},
              {"type", g.type},
              {"policies", g.policies},
              {"member_entity_ids", g.member_entity_ids},
              {"member_group_ids", g.member_group_ids},
              {"metadata", g.metadata},
              {"creation_time", g.creation_time},
              {"last_update_time", g.last_update_time},
              {"modify_index", g.modify_index}};
}

Result<Entity> EntityFromJson(const Json& j) {
  if (!j.is_object() || !j.contains("id")) return Err(Internal("identity: bad stored entity"));
  Entity e;
  e.id = j.value("id", "");
  e.name = j.value("name", "");
  e.policies = Strings(j, "policies");
  e.metadata = Map(j, "metadata");
  e.disabled = j.value("disabled", false);
  e.creation_time = Int(j, "creation_time");
  e.last_update_time = Int(j, "last_update_time");
  e.merged_entity_ids = Strings(j, "merged_entity_ids");
  return e;
}

Result<Alias> AliasFromJson(const Json& j) {
  if (!j.is_object() || !j.contains("id")) return Err(Internal("identity: bad stored alias"));
  Alias a;
  a.id = j.value("id", "");
  a.canonical_id = j.value("canonical_id", "");
  a.mount_accessor = j.value("mount_accessor", "");
  a.mount_type = j.value("mount_type", "");
  a.mount_path = j.value("mount_path", "");
  a.name = j.value("name", "");
  a.custom_metadata = Map(j, "custom_metadata");
  a.metadata = Map(j, "metadata");
  a.creation_time = Int(j, "creation_time");
  a.last_update_time = Int(j, "last_update_time");
  a.merged_from_canonical_ids = Strings(j, "merged_from_canonical_ids");
  return a;
}

Result<Group> GroupFromJson(const Json& j) {
  if (!j.is_object() || !j.contains("id")) return Err(Internal("identity: bad stored group"));
  Group g;
  g.id = j.value("id", "");
  g.name = j.value("name", "");
  g.type = j.value("type", "internal");
  g.policies = Strings(j, "policies");
  g.member_entity_ids = Strings(j, "member_entity_ids");
  g.member_group_ids = Strings(j, "member_group_ids");
  g.metadata = Map(j, "metadata");
  g.creation_time = Int(j, "creation_time");
  g.last_update_time = Int(j, "last_update_time");
  g.modify_index = Int(j, "modify_index");
  return g;
}

Result<std::vector<std::string>> StringList(const Json& value, std::string_view field) {
  std::vector<std::string> out;
  auto add = [&](std::string s) {
    auto b = s.find_first_not_of(" \t");
    auto e = s.find_last_not_of(" \t");
    if (b == std::string::npos) return;
    s = s.substr(b, e - b + 1);
    if (std::find(out.begin(), out.end(), s) == out.end()) out.push_back(std::move(s));
  };
  if (value.is_null()) return out;
  if (value.is_string()) {
    const std::string& s = value.get_ref<const std::string&>();
    std::size_t start = 0;
    while (start <= s.size()) {
      std::size_t comma = s.find(',', start);
      if (comma == std::string::npos) comma = s.size();
      add(s.substr(start, comma - start));
      start = comma + 1;
    }
    return out;
  }
  if (!value.is_array()) return Err(InvalidArgument(std::string(field) + " must be a list"));
  for (const auto& v : value) {
    if (!v.is_string()) return Err(InvalidArgument(std::string(field) + " must be strings"));
    add(v.get<std::string>());
  }
  return out;
}

Result<std::map<std::string, std::string>> StringMap(const Json& value, std::string_view field) {
  std::map<std::string, std::string> out;
  if (value.is_null()) return out;
  if (value.is_array() || value.is_string()) {
    // The CLI's key=value list form: ["a=b", "c=d"] or "a=b,c=d".
    ASSIGN_OR_RETURN(auto items, StringList(value, field));
    for (const auto& item : items) {
      auto eq = item.find('=');
      if (eq == std::string::npos || eq == 0) {
        return Err(InvalidArgument(std::string(field) + " entries must be key=value"));
      }
      out[item.substr(0, eq)] = item.substr(eq + 1);
    }
    return out;
  }
  if (!value.is_object()) return Err(InvalidArgument(std::string(field) + " must be a map"));
  for (const auto& [k, v] : value.items()) {
    // Weakly, as Vault decodes the map: a number keeps its digits, a
    // boolean is "1" or "0" (Bank-Vaults' example has privileged: true).
    std::optional<std::string> text = logical::WeakString(v);
    if (!text) return Err(InvalidArgument(std::string(field) + " values must be strings"));
    out[k] = std::move(*text);
  }
  return out;
}

}  // namespace coffer::identity
