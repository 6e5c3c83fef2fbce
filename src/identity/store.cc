#include "identity/store.h"

#include <algorithm>
#include <chrono>
#include <deque>
#include <map>
#include <set>

#include "common/log.h"
#include "common/secret_bytes.h"
#include "crypto/random.h"
#include "policy/policy.h"

namespace coffer::identity {
namespace {

constexpr std::string_view kEntity = "entity/";
constexpr std::string_view kAlias = "alias/";
constexpr std::string_view kGroup = "group/";
constexpr std::string_view kGroupAlias = "group-alias/";

// Entity and group names match without regard to (ASCII) case, as Vault's
// identity store does by default: "bob" and "BOB" are one name. The name
// itself keeps the spelling it was given.
std::string NameKey(std::string_view name) {
  std::string key(name);
  for (char& c : key) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return key;
}

std::string AliasKey(std::string_view accessor, std::string_view name) {
  std::string k(accessor);
  k.push_back('\0');
  k += name;
  return k;
}

Status CheckPolicies(const std::vector<std::string>& policies) {
  // Compared in the form the ACL looks names up in (trimmed, lower-case), so
  // "ROOT" or "root\n" is root too.
  for (const auto& p : policies) {
    if (policy::CanonicalPolicyName(p) == "root") {
      return InvalidArgument("policy \"root\" cannot be granted through identity");
    }
  }
  return Status::Ok();
}

void RemoveValue(std::vector<std::string>& v, const std::string& x) { std::erase(v, x); }

storage::Op PutOp(std::string_view kind, const std::string& id, const Json& value) {
  return storage::Op{storage::Op::Kind::kPut, std::string(kind) + id, value.dump()};
}
storage::Op DeleteOp(std::string_view kind, const std::string& id) {
  return storage::Op{storage::Op::Kind::kDelete, std::string(kind) + id, ""};
}

}  // namespace

void IdentityStore::Snapshot::Reindex() {
  entity_by_name.clear();
  group_by_name.clear();
  name_clashes = 0;
  alias_by_key.clear();
  entity_groups.clear();
  group_parents.clear();
  group_alias_by_key.clear();
  group_alias_of.clear();
  merged_into.clear();
  for (const auto& [id, a] : group_aliases) {
    group_alias_by_key[AliasKey(a.mount_accessor, a.name)] = id;
    group_alias_of[a.canonical_id] = id;
  }
  for (const auto& [id, e] : entities) {
    // A clash was stored before names matched without case: the entity is
    // then reachable by id only.
    if (!entity_by_name.emplace(NameKey(e.name), id).second) ++name_clashes;
    for (const auto& merged : e.merged_entity_ids) merged_into[merged] = id;
  }
  for (const auto& [id, a] : aliases) alias_by_key[AliasKey(a.mount_accessor, a.name)] = id;
  for (const auto& [id, g] : groups) {
    if (!group_by_name.emplace(NameKey(g.name), id).second) ++name_clashes;
    for (const auto& m : g.member_entity_ids) entity_groups[m].insert(id);
    for (const auto& sub : g.member_group_ids) group_parents[sub].insert(id);
  }
}

IdentityStore::IdentityStore(storage::Backend& storage, Clock& clock)
    : storage_(storage), clock_(clock), snapshot_(std::make_shared<const Snapshot>()) {}

std::optional<MountRef> IdentityStore::LookupMount(std::string_view accessor) const {
  if (!mount_lookup_ || accessor.empty()) return std::nullopt;
  return mount_lookup_(accessor);
}

Alias IdentityStore::WithCurrentMount(Alias a) const {
  if (auto mount = LookupMount(a.mount_accessor)) a.mount_path = std::move(mount->path);
  return a;
}

std::shared_ptr<const IdentityStore::Snapshot> IdentityStore::Current() const {
  std::scoped_lock lock(snap_mu_);
  return snapshot_;
}

void IdentityStore::Swap(std::shared_ptr<Snapshot> next) {
  next->Reindex();
  {
    std::scoped_lock lock(snap_mu_);
    snapshot_ = std::move(next);
  }
  ++generation_;
}

std::int64_t IdentityStore::Now() const {
  return std::chrono::duration_cast<std::chrono::seconds>(clock_.Wall().time_since_epoch()).count();
}

Status IdentityStore::Persist(std::string_view kind, const std::string& id, const Json& value) {
  return storage_.Put(std::string(kind) + id, value.dump());
}

Status IdentityStore::Erase(std::string_view kind, const std::string& id) {
  return storage_.Delete(std::string(kind) + id);
}

Status IdentityStore::Load() {
  std::scoped_lock writer(writer_mu_);
  auto next = std::make_shared<Snapshot>();
  auto read_all = [&](std::string_view kind, auto&& add) -> Status {
    ASSIGN_OR_RETURN(auto keys, storage_.List(kind));
    for (const auto& k : keys) {
      if (k.ends_with('/')) continue;
      ASSIGN_OR_RETURN(auto entry, storage_.Get(std::string(kind) + k));
      if (!entry) continue;
      Json j = Json::parse(entry->value, nullptr, false);
      TRY(add(j));
    }
    return Status::Ok();
  };
  TRY(read_all(kEntity, [&](const Json& j) -> Status {
    ASSIGN_OR_RETURN(Entity e, EntityFromJson(j));
    next->entities[e.id] = std::move(e);
    return Status::Ok();
  }));
  TRY(read_all(kAlias, [&](const Json& j) -> Status {
    ASSIGN_OR_RETURN(Alias a, AliasFromJson(j));
    next->aliases[a.id] = std::move(a);
    return Status::Ok();
  }));
  TRY(read_all(kGroup, [&](const Json& j) -> Status {
    ASSIGN_OR_RETURN(Group g, GroupFromJson(j));
    next->groups[g.id] = std::move(g);
    return Status::Ok();
  }));
  TRY(read_all(kGroupAlias, [&](const Json& j) -> Status {
    ASSIGN_OR_RETURN(Alias a, AliasFromJson(j));
    next->group_aliases[a.id] = std::move(a);
    return Status::Ok();
  }));
  Swap(std::move(next));
  if (std::size_t n = Current()->name_clashes; n > 0) {
    Log(LogModule::kIdentity)
        .warn(
            "{} entities or groups share a name with another in a different case; "
            "names match without regard to case, so look those up by id",
            n);
  }
  return Status::Ok();
}

void IdentityStore::Unload() {
  std::scoped_lock writer(writer_mu_);
  Swap(std::make_shared<Snapshot>());
}

// --- entities

std::optional<Entity> IdentityStore::EntityById(std::string_view id) const {
  auto s = Current();
  auto it = s->entities.find(std::string(id));
  if (it == s->entities.end()) return std::nullopt;
  return it->second;
}

std::string IdentityStore::CurrentEntityId(std::string_view id) const {
  auto s = Current();
  if (s->entities.contains(std::string(id))) return std::string(id);
  auto it = s->merged_into.find(std::string(id));
  return it == s->merged_into.end() ? std::string() : it->second;
}

std::optional<Entity> IdentityStore::EntityByName(std::string_view name) const {
  auto s = Current();
  auto it = s->entity_by_name.find(NameKey(name));
  if (it == s->entity_by_name.end()) return std::nullopt;
  return s->entities.at(it->second);
}

Result<std::pair<Entity, bool>> IdentityStore::UpsertEntity(
    std::string_view id, std::string_view name, bool create_with_id,
    const std::function<Status(Entity&)>& mutate) {
  std::scoped_lock writer(writer_mu_);
  auto cur = Current();
  Entity e;
  bool created = false;
  if (!id.empty()) {
    auto it = cur->entities.find(std::string(id));
    if (it != cur->entities.end()) {
      e = it->second;
    } else if (create_with_id) {
      created = true;
      e.id = std::string(id);
    } else {
      return Err(NotFound("entity not found"));
    }
  } else if (auto it = cur->entity_by_name.find(NameKey(name));
             !name.empty() && it != cur->entity_by_name.end()) {
    e = cur->entities.at(it->second);
  } else {
    created = true;
    ASSIGN_OR_RETURN(e.id, crypto::NewUuid());
  }
  if (created) {
    e.creation_time = Now();
    if (name.empty()) {
      ASSIGN_OR_RETURN(e.name, UnusedName(*cur, "entity", e.id));
    } else {
      e.name = std::string(name);
    }
  }
  TRY(mutate(e));
  if (e.name.empty()) return Err(InvalidArgument("entity name cannot be empty"));
  TRY(CheckPolicies(e.policies));
  if (auto it = cur->entity_by_name.find(NameKey(e.name));
      it != cur->entity_by_name.end() && it->second != e.id) {
    return Err(InvalidArgument("entity name is already in use"));
  }
  e.last_update_time = Now();
  TRY(Persist(kEntity, e.id, ToJson(e)));
  auto next = std::make_shared<Snapshot>(*cur);
  next->entities[e.id] = e;
  Swap(std::move(next));
  return std::make_pair(std::move(e), created);
}

Status IdentityStore::DeleteEntity(std::string_view id_view) {
  std::scoped_lock writer(writer_mu_);
  auto cur = Current();
  std::string id(id_view);
  if (!cur->entities.contains(id)) return Status::Ok();  // deleting nothing is fine
  auto next = std::make_shared<Snapshot>(*cur);
  std::vector<storage::Op> ops;
  for (auto it = next->aliases.begin(); it != next->aliases.end();) {
    if (it->second.canonical_id == id) {
      ops.push_back(DeleteOp(kAlias, it->first));
      it = next->aliases.erase(it);
    } else {
      ++it;
    }
  }
  if (auto g = cur->entity_groups.find(id); g != cur->entity_groups.end()) {
    for (const auto& gid : g->second) {
      Group& group = next->groups.at(gid);
      RemoveValue(group.member_entity_ids, id);
      group.last_update_time = Now();
      ++group.modify_index;
      ops.push_back(PutOp(kGroup, gid, ToJson(group)));
    }
  }
  ops.push_back(DeleteOp(kEntity, id));
  TRY(storage_.Transact({}, ops));
  next->entities.erase(id);
  Swap(std::move(next));
  return Status::Ok();
}

Status IdentityStore::MergeEntities(const std::string& to, const std::vector<std::string>& from,
                                    const std::vector<std::string>& keep,
                                    std::span<const storage::Op> also) {
  std::scoped_lock writer(writer_mu_);
  auto cur = Current();
  auto target = cur->entities.find(to);
  if (target == cur->entities.end()) return InvalidArgument("entity id to merge to is invalid");
  if (from.size() > 1 && keep.size() > 1) {
    return InvalidArgument(
        "aliases conflicts cannot be resolved with multiple from entity ids - merge one entity "
        "at a time");
  }
  std::vector<std::string> sources;
  for (const auto& id : from) {
    if (std::find(sources.begin(), sources.end(), id) != sources.end()) continue;
    if (id == to) return InvalidArgument("to_entity_id should not be present in from_entity_ids");
    if (!cur->entities.contains(id)) return InvalidArgument("entity id to merge from is invalid");
    sources.push_back(id);
  }
  auto kept = [&](const std::string& alias_id) {
    return std::find(keep.begin(), keep.end(), alias_id) != keep.end();
  };
  auto next = std::make_shared<Snapshot>(*cur);
  Entity merged = target->second;
  // The merged entity's alias per mount, to find clashes.
  std::map<std::string, std::string> by_mount;  // accessor -> alias id
  for (const auto& [id, a] : cur->aliases) {
    if (a.canonical_id == to) by_mount[a.mount_accessor] = id;
  }
  std::map<std::string, std::string> from_mount;  // accessor -> the from entity with it
  std::set<std::string> touched;                  // groups that had a merged entity
  std::vector<storage::Op> ops;
  for (const auto& source : sources) {
    for (const auto& [id, a] : cur->aliases) {
      if (a.canonical_id != source) continue;
      if (auto [it, added] = from_mount.emplace(a.mount_accessor, source);
          !added && it->second != source) {
        return InvalidArgument("mount accessor " + a.mount_accessor +
                               " found in multiple fromEntities, merge should be done with one "
                               "fromEntity at a time");
      }
      Alias moved = a;
      if (auto clash = by_mount.find(a.mount_accessor); clash != by_mount.end()) {
        if (kept(clash->second)) {
          ops.push_back(DeleteOp(kAlias, id));
          next->aliases.erase(id);
          continue;
        }
        if (!kept(id)) {
          if (keep.empty()) {
            return InvalidArgument(
                "toEntity and at least one fromEntity have aliases with the same mount accessor, "
                "repeat the merge request specifying exactly one fromEntity, clashes: "
                "mountAccessor: " +
                a.mount_accessor + ", toEntity ID: " + to + ", fromEntity ID: " + source +
                ", conflicting toEntity alias ID: " + clash->second +
                ", conflicting fromEntity alias ID: " + id);
          }
          return InvalidArgument(
              "conflicting mount accessors in following alias IDs and neither were present in "
              "conflicting_alias_ids_to_keep: " +
              id + ", " + clash->second);
        }
        ops.push_back(DeleteOp(kAlias, clash->second));
        next->aliases.erase(clash->second);
        clash->second = id;
      }
      moved.canonical_id = to;
      moved.merged_from_canonical_ids.push_back(source);
      moved.last_update_time = Now();
      ops.push_back(PutOp(kAlias, id, ToJson(moved)));
      next->aliases[id] = std::move(moved);
    }
    const Entity& gone = cur->entities.at(source);
    merged.merged_entity_ids.insert(merged.merged_entity_ids.end(), gone.merged_entity_ids.begin(),
                                    gone.merged_entity_ids.end());
    merged.merged_entity_ids.push_back(source);
    // Its groups take the merged entity in its place.
    if (auto g = cur->entity_groups.find(source); g != cur->entity_groups.end()) {
      for (const auto& gid : g->second) {
        touched.insert(gid);
        Group& group = next->groups.at(gid);
        RemoveValue(group.member_entity_ids, source);
        if (std::find(group.member_entity_ids.begin(), group.member_entity_ids.end(), to) ==
            group.member_entity_ids.end()) {
          group.member_entity_ids.push_back(to);
        }
        group.last_update_time = Now();
        ++group.modify_index;
      }
    }
    ops.push_back(DeleteOp(kEntity, source));
    next->entities.erase(source);
  }
  // Each changed group once, as it ends up.
  for (const auto& gid : touched) ops.push_back(PutOp(kGroup, gid, ToJson(next->groups.at(gid))));
  merged.last_update_time = Now();
  ops.push_back(PutOp(kEntity, to, ToJson(merged)));
  next->entities[to] = std::move(merged);
  ops.insert(ops.end(), also.begin(), also.end());
  Status written = storage_.Transact({}, ops);
  for (std::size_t i = ops.size() - also.size(); i < ops.size(); ++i) WipeString(ops[i].value);
  TRY(written);
  Swap(std::move(next));
  return Status::Ok();
}

std::vector<Entity> IdentityStore::Entities() const {
  auto s = Current();
  std::vector<Entity> out;
  for (const auto& [id, e] : s->entities) out.push_back(e);
  std::sort(out.begin(), out.end(), [](const Entity& a, const Entity& b) { return a.id < b.id; });
  return out;
}

std::size_t IdentityStore::EntityCount() const { return Current()->entities.size(); }

std::vector<Alias> IdentityStore::AliasesOf(std::string_view entity_id) const {
  auto s = Current();
  std::vector<Alias> out;
  for (const auto& [id, a] : s->aliases) {
    if (a.canonical_id == entity_id) out.push_back(WithCurrentMount(a));
  }
  std::sort(out.begin(), out.end(), [](const Alias& a, const Alias& b) { return a.id < b.id; });
  return out;
}

// --- aliases

std::optional<Alias> IdentityStore::AliasById(std::string_view id) const {
  auto s = Current();
  auto it = s->aliases.find(std::string(id));
  if (it == s->aliases.end()) return std::nullopt;
  return WithCurrentMount(it->second);
}

std::optional<Alias> IdentityStore::FindAlias(std::string_view accessor,
                                              std::string_view name) const {
  auto s = Current();
  auto it = s->alias_by_key.find(AliasKey(accessor, name));
  if (it == s->alias_by_key.end()) return std::nullopt;
  return WithCurrentMount(s->aliases.at(it->second));
}

Status IdentityStore::PrepareAlias(Alias& a, const std::unordered_map<std::string, Alias>& known,
                                   const std::unordered_map<std::string, std::string>& by_key,
                                   std::string_view noun) const {
  auto mount = LookupMount(a.mount_accessor);
  if (!mount) return InvalidArgument("invalid mount accessor \"" + a.mount_accessor + "\"");
  a.mount_path = mount->path;
  a.mount_type = mount->type;
  if (a.id.empty()) {
    ASSIGN_OR_RETURN(a.id, crypto::NewUuid());
    a.creation_time = Now();
  } else if (auto it = known.find(a.id); it != known.end()) {
    a.creation_time = it->second.creation_time;
  } else {
    return NotFound(std::string(noun) + " not found");
  }
  if (auto it = by_key.find(AliasKey(a.mount_accessor, a.name));
      it != by_key.end() && it->second != a.id) {
    return InvalidArgument("combination of mount and " + std::string(noun) +
                           " name is already in use");
  }
  a.last_update_time = Now();
  return Status::Ok();
}

Result<std::string> IdentityStore::UnusedName(const Snapshot& s, std::string_view kind,
                                              const std::string& id) const {
  // Vault's generated names: "<kind>_" and eight hex digits. The id's
  // first eight are random; another draw if they are taken.
  std::string name = std::string(kind) + "_" + id.substr(0, 8);
  const auto& taken = kind == "entity" ? s.entity_by_name : s.group_by_name;
  for (int attempt = 0; taken.contains(NameKey(name)); ++attempt) {
    if (attempt == 8) return Err(Internal("no free " + std::string(kind) + " name"));
    ASSIGN_OR_RETURN(std::string other, crypto::NewUuid());
    name = std::string(kind) + "_" + other.substr(0, 8);
  }
  return name;
}

Result<Alias> IdentityStore::PutAlias(Alias a) {
  std::scoped_lock writer(writer_mu_);
  auto cur = Current();
  if (a.name.empty()) return Err(InvalidArgument("missing alias name"));
  // A new alias without an entity gets one of its own, as in Vault.
  std::optional<Entity> made;
  if (a.canonical_id.empty() && a.id.empty()) {
    Entity e;
    ASSIGN_OR_RETURN(e.id, crypto::NewUuid());
    ASSIGN_OR_RETURN(e.name, UnusedName(*cur, "entity", e.id));
    e.creation_time = e.last_update_time = Now();
    a.canonical_id = e.id;
    made = std::move(e);
  } else if (!cur->entities.contains(a.canonical_id)) {
    return Err(InvalidArgument("invalid canonical ID"));
  }
  TRY(PrepareAlias(a, cur->aliases, cur->alias_by_key, "alias"));
  // One alias per entity and mount, as in Vault.
  for (const auto& [id, other] : cur->aliases) {
    if (id != a.id && other.canonical_id == a.canonical_id &&
        other.mount_accessor == a.mount_accessor) {
      return Err(InvalidArgument("Alias already exists for requested entity and mount accessor"));
    }
  }
  std::vector<storage::Op> ops;
  if (made) ops.push_back(PutOp(kEntity, made->id, ToJson(*made)));
  ops.push_back(PutOp(kAlias, a.id, ToJson(a)));
  TRY(storage_.Transact({}, ops));
  auto next = std::make_shared<Snapshot>(*cur);
  if (made) next->entities[made->id] = *made;
  next->aliases[a.id] = a;
  Swap(std::move(next));
  return a;
}

Status IdentityStore::DeleteAlias(std::string_view id) {
  std::scoped_lock writer(writer_mu_);
  auto cur = Current();
  if (!cur->aliases.contains(std::string(id))) return Status::Ok();
  TRY(Erase(kAlias, std::string(id)));
  auto next = std::make_shared<Snapshot>(*cur);
  next->aliases.erase(std::string(id));
  Swap(std::move(next));
  return Status::Ok();
}

std::vector<Alias> IdentityStore::Aliases() const {
  auto s = Current();
  std::vector<Alias> out;
  for (const auto& [id, a] : s->aliases) out.push_back(WithCurrentMount(a));
  std::sort(out.begin(), out.end(), [](const Alias& a, const Alias& b) { return a.id < b.id; });
  return out;
}

// --- groups

std::optional<Group> IdentityStore::GroupById(std::string_view id) const {
  auto s = Current();
  auto it = s->groups.find(std::string(id));
  if (it == s->groups.end()) return std::nullopt;
  return it->second;
}

std::optional<Group> IdentityStore::GroupByName(std::string_view name) const {
  auto s = Current();
  auto it = s->group_by_name.find(NameKey(name));
  if (it == s->group_by_name.end()) return std::nullopt;
  return s->groups.at(it->second);
}

Status IdentityStore::CheckGroup(const Snapshot& s, const Group& g) const {
  if (g.name.empty()) return InvalidArgument("group name cannot be empty");
  if (g.type != "internal" && g.type != "external") {
    return InvalidArgument("group type must be \"internal\" or \"external\"");
  }
  if (g.type == "external" && !g.member_group_ids.empty()) {
    return InvalidArgument("member groups can't be set for external groups");
  }
  TRY(CheckPolicies(g.policies));
  if (auto it = s.group_by_name.find(NameKey(g.name));
      it != s.group_by_name.end() && it->second != g.id) {
    return InvalidArgument("group name is already in use");
  }
  for (const auto& e : g.member_entity_ids) {
    if (!s.entities.contains(e)) return InvalidArgument("entity \"" + e + "\" does not exist");
  }
  // A subgroup may not contain this group, directly or further down.
  for (const auto& sub : g.member_group_ids) {
    if (sub == g.id) return InvalidArgument("a group cannot be its own member");
    if (!s.groups.contains(sub)) return InvalidArgument("group \"" + sub + "\" does not exist");
  }
  std::deque<std::string> todo(g.member_group_ids.begin(), g.member_group_ids.end());
  std::set<std::string> seen;
  while (!todo.empty()) {
    std::string cur = todo.front();
    todo.pop_front();
    if (!seen.insert(cur).second) continue;
    auto it = s.groups.find(cur);
    if (it == s.groups.end()) continue;
    for (const auto& sub : it->second.member_group_ids) {
      if (sub == g.id) {
        return InvalidArgument("member group \"" + cur + "\" would create a cycle");
      }
      todo.push_back(sub);
    }
  }
  return Status::Ok();
}

Result<std::pair<Group, bool>> IdentityStore::UpsertGroup(
    std::string_view id, std::string_view name, const std::function<Status(Group&)>& mutate) {
  std::scoped_lock writer(writer_mu_);
  auto cur = Current();
  Group g;
  bool created = false;
  if (!id.empty()) {
    auto it = cur->groups.find(std::string(id));
    if (it == cur->groups.end()) return Err(NotFound("group not found"));
    g = it->second;
  } else if (auto it = cur->group_by_name.find(NameKey(name));
             !name.empty() && it != cur->group_by_name.end()) {
    g = cur->groups.at(it->second);
  } else {
    created = true;
    ASSIGN_OR_RETURN(g.id, crypto::NewUuid());
    g.creation_time = Now();
    if (name.empty()) {
      ASSIGN_OR_RETURN(g.name, UnusedName(*cur, "group", g.id));
    } else {
      g.name = std::string(name);
    }
  }
  TRY(mutate(g));
  TRY(CheckGroup(*cur, g));
  g.last_update_time = Now();
  ++g.modify_index;
  TRY(Persist(kGroup, g.id, ToJson(g)));
  auto next = std::make_shared<Snapshot>(*cur);
  next->groups[g.id] = g;
  Swap(std::move(next));
  return std::make_pair(std::move(g), created);
}

Status IdentityStore::DeleteGroup(std::string_view id_view) {
  std::scoped_lock writer(writer_mu_);
  auto cur = Current();
  std::string id(id_view);
  if (!cur->groups.contains(id)) return Status::Ok();
  auto next = std::make_shared<Snapshot>(*cur);
  std::vector<storage::Op> ops;
  if (auto p = cur->group_parents.find(id); p != cur->group_parents.end()) {
    for (const auto& parent : p->second) {
      Group& pg = next->groups.at(parent);
      RemoveValue(pg.member_group_ids, id);
      ++pg.modify_index;
      ops.push_back(PutOp(kGroup, parent, ToJson(pg)));
    }
  }
  ops.push_back(DeleteOp(kGroup, id));
  if (auto a = cur->group_alias_of.find(id); a != cur->group_alias_of.end()) {
    ops.push_back(DeleteOp(kGroupAlias, a->second));
    next->group_aliases.erase(a->second);
  }
  TRY(storage_.Transact({}, ops));
  next->groups.erase(id);
  Swap(std::move(next));
  return Status::Ok();
}

// --- group aliases

std::optional<Alias> IdentityStore::GroupAliasById(std::string_view id) const {
  auto s = Current();
  auto it = s->group_aliases.find(std::string(id));
  if (it == s->group_aliases.end()) return std::nullopt;
  return WithCurrentMount(it->second);
}

std::optional<Alias> IdentityStore::GroupAliasOf(std::string_view group_id) const {
  auto s = Current();
  auto it = s->group_alias_of.find(std::string(group_id));
  if (it == s->group_alias_of.end()) return std::nullopt;
  return WithCurrentMount(s->group_aliases.at(it->second));
}

std::optional<Alias> IdentityStore::FindGroupAlias(std::string_view accessor,
                                                   std::string_view name) const {
  auto s = Current();
  auto it = s->group_alias_by_key.find(AliasKey(accessor, name));
  if (it == s->group_alias_by_key.end()) return std::nullopt;
  return WithCurrentMount(s->group_aliases.at(it->second));
}

Result<Alias> IdentityStore::PutGroupAlias(Alias a) {
  std::scoped_lock writer(writer_mu_);
  auto cur = Current();
  if (a.name.empty()) return Err(InvalidArgument("missing alias name"));
  // A new alias without a group gets an external group of its own, as in
  // Vault.
  std::optional<Group> made;
  if (a.canonical_id.empty() && a.id.empty()) {
    Group g;
    ASSIGN_OR_RETURN(g.id, crypto::NewUuid());
    ASSIGN_OR_RETURN(g.name, UnusedName(*cur, "group", g.id));
    g.type = "external";
    g.creation_time = g.last_update_time = Now();
    a.canonical_id = g.id;
    made = std::move(g);
  } else {
    auto g = cur->groups.find(a.canonical_id);
    if (g == cur->groups.end()) return Err(InvalidArgument("invalid canonical ID"));
    if (g->second.type != "external") {
      return Err(InvalidArgument("alias can't be set on an internal group"));
    }
    if (auto it = cur->group_alias_of.find(a.canonical_id);
        it != cur->group_alias_of.end() && it->second != a.id) {
      return Err(InvalidArgument("group already has an alias"));
    }
  }
  TRY(PrepareAlias(a, cur->group_aliases, cur->group_alias_by_key, "group alias"));
  std::vector<storage::Op> ops;
  if (made) ops.push_back(PutOp(kGroup, made->id, ToJson(*made)));
  ops.push_back(PutOp(kGroupAlias, a.id, ToJson(a)));
  TRY(storage_.Transact({}, ops));
  auto next = std::make_shared<Snapshot>(*cur);
  if (made) next->groups[made->id] = *made;
  next->group_aliases[a.id] = a;
  Swap(std::move(next));
  return a;
}

Status IdentityStore::DeleteGroupAlias(std::string_view id) {
  std::scoped_lock writer(writer_mu_);
  auto cur = Current();
  if (!cur->group_aliases.contains(std::string(id))) return Status::Ok();
  TRY(Erase(kGroupAlias, std::string(id)));
  auto next = std::make_shared<Snapshot>(*cur);
  next->group_aliases.erase(std::string(id));
  Swap(std::move(next));
  return Status::Ok();
}

std::vector<Alias> IdentityStore::GroupAliases() const {
  auto s = Current();
  std::vector<Alias> out;
  for (const auto& [id, a] : s->group_aliases) out.push_back(WithCurrentMount(a));
  std::sort(out.begin(), out.end(), [](const Alias& a, const Alias& b) { return a.id < b.id; });
  return out;
}

Status IdentityStore::SyncExternalGroups(std::string_view entity_id,
                                         std::string_view mount_accessor,
                                         const std::vector<std::string>& names) {
  auto changes = [&](const Snapshot& s) {
    std::vector<std::pair<std::string, bool>> out;  // group id, member after
    for (const auto& [id, a] : s.group_aliases) {
      if (a.mount_accessor != mount_accessor) continue;
      auto g = s.groups.find(a.canonical_id);
      if (g == s.groups.end()) continue;
      const auto& members = g->second.member_entity_ids;
      const bool is = std::find(members.begin(), members.end(), entity_id) != members.end();
      const bool want = std::find(names.begin(), names.end(), a.name) != names.end();
      if (is != want) out.emplace_back(g->first, want);
    }
    return out;
  };
  // Most logins change nothing: decided on the snapshot, without the lock.
  if (changes(*Current()).empty()) return Status::Ok();
  std::scoped_lock writer(writer_mu_);
  auto cur = Current();
  if (!cur->entities.contains(std::string(entity_id))) return Status::Ok();
  auto flips = changes(*cur);
  if (flips.empty()) return Status::Ok();
  auto next = std::make_shared<Snapshot>(*cur);
  std::vector<storage::Op> ops;
  for (const auto& [gid, member] : flips) {
    Group& g = next->groups.at(gid);
    if (member) {
      g.member_entity_ids.emplace_back(entity_id);
    } else {
      RemoveValue(g.member_entity_ids, std::string(entity_id));
    }
    g.last_update_time = Now();
    ++g.modify_index;
    ops.push_back(PutOp(kGroup, gid, ToJson(g)));
  }
  TRY(storage_.Transact({}, ops));
  Swap(std::move(next));
  return Status::Ok();
}

std::vector<Group> IdentityStore::Groups() const {
  auto s = Current();
  std::vector<Group> out;
  for (const auto& [id, g] : s->groups) out.push_back(g);
  std::sort(out.begin(), out.end(), [](const Group& a, const Group& b) { return a.id < b.id; });
  return out;
}

std::set<std::string> IdentityStore::DirectGroupIds(std::string_view entity_id) const {
  auto s = Current();
  auto it = s->entity_groups.find(std::string(entity_id));
  return it == s->entity_groups.end() ? std::set<std::string>() : it->second;
}

std::set<std::string> IdentityStore::ParentGroupIds(std::string_view group_id) const {
  auto s = Current();
  auto it = s->group_parents.find(std::string(group_id));
  return it == s->group_parents.end() ? std::set<std::string>() : it->second;
}

namespace {

// Every group reachable upwards from `start` through group_parents.
template <typename Snap>
std::set<std::string> Closure(const Snap& s, const std::set<std::string>& start) {
  std::set<std::string> out;
  std::deque<std::string> todo(start.begin(), start.end());
  while (!todo.empty()) {
    std::string g = std::move(todo.front());
    todo.pop_front();
    if (!out.insert(g).second) continue;
    if (auto it = s.group_parents.find(g); it != s.group_parents.end()) {
      for (const auto& p : it->second) todo.push_back(p);
    }
  }
  return out;
}

}  // namespace

std::set<std::string> IdentityStore::AllGroupIds(std::string_view entity_id) const {
  auto s = Current();
  auto it = s->entity_groups.find(std::string(entity_id));
  if (it == s->entity_groups.end()) return {};
  return Closure(*s, it->second);
}

std::vector<std::string> IdentityStore::IdentityPolicies(std::string_view entity_id) const {
  auto s = Current();
  std::set<std::string> out;
  auto e = s->entities.find(std::string(entity_id));
  if (e == s->entities.end()) return {};
  out.insert(e->second.policies.begin(), e->second.policies.end());
  if (auto it = s->entity_groups.find(e->first); it != s->entity_groups.end()) {
    for (const auto& gid : Closure(*s, it->second)) {
      const Group& g = s->groups.at(gid);
      out.insert(g.policies.begin(), g.policies.end());
    }
  }
  return {out.begin(), out.end()};
}

Result<std::string> IdentityStore::EntityForLogin(
    std::string_view mount_accessor, const MountRef& mount, std::string_view alias_name,
    const std::map<std::string, std::string>* alias_metadata) {
  if (auto alias = FindAlias(mount_accessor, alias_name)) {
    auto entity = EntityById(alias->canonical_id);
    if (entity && (alias_metadata == nullptr || *alias_metadata == alias->metadata)) {
      if (entity->disabled) return Err(PermissionDenied());
      return entity->id;
    }
  }
  std::scoped_lock writer(writer_mu_);
  auto cur = Current();
  // Another login may have created it while we waited for the writer lock.
  if (auto it = cur->alias_by_key.find(AliasKey(mount_accessor, alias_name));
      it != cur->alias_by_key.end()) {
    const Alias& a = cur->aliases.at(it->second);
    if (auto e = cur->entities.find(a.canonical_id); e != cur->entities.end()) {
      if (e->second.disabled) return Err(PermissionDenied());
      if (alias_metadata != nullptr && *alias_metadata != a.metadata) {
        // The method reports other metadata than the alias has: kept, as
        // Vault updates the alias at login.
        Alias updated = a;
        updated.metadata = *alias_metadata;
        updated.last_update_time = Now();
        const std::vector<storage::Op> ops{PutOp(kAlias, updated.id, ToJson(updated))};
        TRY(storage_.Transact({}, ops));
        auto next = std::make_shared<Snapshot>(*cur);
        next->aliases[updated.id] = std::move(updated);
        Swap(std::move(next));
      }
      return e->first;
    }
  }
  Entity e;
  ASSIGN_OR_RETURN(e.id, crypto::NewUuid());
  ASSIGN_OR_RETURN(e.name, UnusedName(*cur, "entity", e.id));
  e.creation_time = e.last_update_time = Now();
  e.metadata = {};
  Alias a;
  ASSIGN_OR_RETURN(a.id, crypto::NewUuid());
  a.canonical_id = e.id;
  a.mount_accessor = std::string(mount_accessor);
  a.mount_path = mount.path;
  a.mount_type = mount.type;
  a.name = std::string(alias_name);
  if (alias_metadata != nullptr) a.metadata = *alias_metadata;
  a.creation_time = a.last_update_time = e.creation_time;
  std::vector<storage::Op> ops{PutOp(kEntity, e.id, ToJson(e)), PutOp(kAlias, a.id, ToJson(a))};
  // An alias left behind by a deleted entity is replaced.
  if (auto it = cur->alias_by_key.find(AliasKey(mount_accessor, alias_name));
      it != cur->alias_by_key.end()) {
    ops.push_back(DeleteOp(kAlias, it->second));
  }
  TRY(storage_.Transact({}, ops));
  auto next = std::make_shared<Snapshot>(*cur);
  if (auto it = cur->alias_by_key.find(AliasKey(mount_accessor, alias_name));
      it != cur->alias_by_key.end()) {
    next->aliases.erase(it->second);
  }
  next->entities[e.id] = e;
  next->aliases[a.id] = a;
  Swap(std::move(next));
  return e.id;
}

}  // namespace coffer::identity
