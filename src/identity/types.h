#pragma once
// The records of the identity store (Vault's identity/): entities, their
// aliases (one per auth mount and login name) and internal groups, with
// their stored JSON form. Plain values; no locking.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/status.h"
#include "logical/request.h"

namespace coffer::identity {

using logical::Json;

struct Entity {
  std::string id;
  std::string name;
  std::vector<std::string> policies;
  std::map<std::string, std::string> metadata;
  bool disabled = false;
  std::int64_t creation_time = 0;  // unix seconds
  std::int64_t last_update_time = 0;
  // The entities merged into this one (identity/entity/merge), and theirs.
  std::vector<std::string> merged_entity_ids;
};

struct Alias {
  std::string id;
  std::string canonical_id;  // the entity
  std::string mount_accessor;
  std::string mount_type;
  std::string mount_path;
  std::string name;
  std::map<std::string, std::string> custom_metadata;
  // Set by the auth method at each login (AppRole, JWT), never by an
  // operator: Vault's alias metadata.
  std::map<std::string, std::string> metadata;
  std::int64_t creation_time = 0;
  std::int64_t last_update_time = 0;
  // The entities this alias belonged to before merges moved it.
  std::vector<std::string> merged_from_canonical_ids;
};

struct Group {
  std::string id;
  std::string name;
  std::string type = "internal";
  std::vector<std::string> policies;
  std::vector<std::string> member_entity_ids;
  std::vector<std::string> member_group_ids;  // subgroups
  std::map<std::string, std::string> metadata;
  std::int64_t creation_time = 0;
  std::int64_t last_update_time = 0;
  std::int64_t modify_index = 0;
};

// Stored form (also the base of the API's read answers).
Json ToJson(const Entity& e);
Json ToJson(const Alias& a);
Json ToJson(const Group& g);
// kInternal for a stored value that does not parse.
Result<Entity> EntityFromJson(const Json& j);
Result<Alias> AliasFromJson(const Json& j);
Result<Group> GroupFromJson(const Json& j);

// Helpers for request fields: a string list given as a JSON array or a
// comma-separated string; a string map from an object. kInvalidArgument
// names the field.
Result<std::vector<std::string>> StringList(const Json& value, std::string_view field);
Result<std::map<std::string, std::string>> StringMap(const Json& value, std::string_view field);

}  // namespace coffer::identity
