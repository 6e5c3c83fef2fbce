#pragma once
// IdentityStore: entities, entity aliases and internal groups (Vault's
// identity store), persisted in the storage it is given (a barrier view, so
// everything is encrypted at rest) and held in memory as an immutable
// snapshot for the request path.
//
// Reads (EntityById, IdentityPolicies, ...) take a snapshot and never block
// on storage. Writes are serialised by a writer mutex (held across the
// storage write, so two admin writes cannot interleave their
// read-modify-write), build a new snapshot and swap it in; every write bumps
// generation(). Readers never wait for writers.
//
// Rules enforced here: entity and group names are unique; an alias is unique
// per (mount accessor, name); a group's members must exist and subgroups may
// not form a cycle; identity policies may not include "root". Deleting an
// entity deletes its aliases and removes it from every group; deleting a
// group removes it from its parents and deletes its alias. An external
// group's members are its group alias's logins (SyncExternalGroups), never
// set through the API, and it has no subgroups.
//
// Errors: kInvalidArgument (bad or conflicting input), kNotFound, storage
// errors (kInternal, kSealed) from the backend. Thread-safe.

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/clock.h"
#include "identity/types.h"
#include "storage/backend.h"

namespace coffer::identity {

// What the store knows of an auth mount (from the router, via a lookup the
// host installs).
struct MountRef {
  std::string path;  // "auth/userpass/"
  std::string type;  // "userpass"
};

class IdentityStore {
 public:
  using MountLookup = std::function<std::optional<MountRef>(std::string_view accessor)>;

  IdentityStore(storage::Backend& storage, Clock& clock);

  // Resolves mount accessors for aliases; without it every accessor is
  // refused. Call before serving.
  void SetMountLookup(MountLookup lookup) { mount_lookup_ = std::move(lookup); }
  std::optional<MountRef> LookupMount(std::string_view accessor) const;
  // An alias as reads report it: the stored mount_path is where the mount
  // was when the alias was made; a moved mount (sys/remount) keeps its
  // accessor, so the path is looked up again, as Vault does on read.
  Alias WithCurrentMount(Alias a) const;

  // Reads everything from storage (after unseal) / forgets it (on seal).
  Status Load();
  void Unload();

  // Bumped by every write; lets caches keyed on identity data notice change.
  std::uint64_t generation() const { return generation_.load(); }

  // --- entities
  std::optional<Entity> EntityById(std::string_view id) const;
  std::optional<Entity> EntityByName(std::string_view name) const;
  // The entity a token's entity_id stands for now: the id itself, or the
  // entity it was merged into (as Vault finds it); "" when neither exists.
  std::string CurrentEntityId(std::string_view id) const;
  // Creates (no match) or updates (match by id, else by name) an entity:
  // `mutate` edits the record before it is validated and stored. An id that
  // is given but unknown is kNotFound unless `create_with_id`. Returns the
  // record and whether it was created.
  Result<std::pair<Entity, bool>> UpsertEntity(std::string_view id, std::string_view name,
                                               bool create_with_id,
                                               const std::function<Status(Entity&)>& mutate);
  Status DeleteEntity(std::string_view id);
  // Vault's identity/entity/merge: moves the aliases of each entity of
  // `from` to `to` (an alias keeps the ids it was merged from), puts `to`
  // in their groups in their place, adds them (and those merged into them)
  // to `to`'s merged_entity_ids, and deletes them, in one transaction.
  // Policies and metadata stay `to`'s. Two aliases on one mount: refused,
  // unless `keep` names one of the pair (one `from` entity only), then the
  // other is deleted. kInvalidArgument in Vault's words for an unknown
  // entity, `to` among `from`, or a clash.
  // `also` joins the same transaction (the TOTP secrets' moves).
  Status MergeEntities(const std::string& to, const std::vector<std::string>& from,
                       const std::vector<std::string>& keep,
                       std::span<const storage::Op> also = {});
  std::vector<Entity> Entities() const;
  std::size_t EntityCount() const;
  std::vector<Alias> AliasesOf(std::string_view entity_id) const;

  // --- aliases
  std::optional<Alias> AliasById(std::string_view id) const;
  std::optional<Alias> FindAlias(std::string_view mount_accessor, std::string_view name) const;
  // Creates (empty id) or updates an alias; the entity must exist.
  Result<Alias> PutAlias(Alias alias);
  Status DeleteAlias(std::string_view id);
  std::vector<Alias> Aliases() const;

  // --- groups
  std::optional<Group> GroupById(std::string_view id) const;
  std::optional<Group> GroupByName(std::string_view name) const;
  Result<std::pair<Group, bool>> UpsertGroup(std::string_view id, std::string_view name,
                                             const std::function<Status(Group&)>& mutate);
  Status DeleteGroup(std::string_view id);
  std::vector<Group> Groups() const;
  // Groups the entity belongs to directly, and all of them (with every
  // group that has one of those as a subgroup, transitively).
  std::set<std::string> DirectGroupIds(std::string_view entity_id) const;
  std::set<std::string> AllGroupIds(std::string_view entity_id) const;
  // Groups that list this group as a member.
  std::set<std::string> ParentGroupIds(std::string_view group_id) const;

  // --- group aliases: an external group's name at an auth mount (Vault's
  // identity/group-alias). At most one per group; unique per (mount
  // accessor, name). Stored as an Alias whose canonical_id is the group.
  std::optional<Alias> GroupAliasById(std::string_view id) const;
  std::optional<Alias> GroupAliasOf(std::string_view group_id) const;
  std::optional<Alias> FindGroupAlias(std::string_view mount_accessor, std::string_view name) const;
  // Creates (empty id) or updates; the group must be external.
  Result<Alias> PutGroupAlias(Alias alias);
  Status DeleteGroupAlias(std::string_view id);
  std::vector<Alias> GroupAliases() const;
  // For a login whose method reports the caller's groups (JWT groups_claim):
  // the entity becomes a member of exactly those external groups, among the
  // ones with an alias on this mount, whose alias name is in `names`.
  // Memberships of external groups aliased on other mounts are untouched.
  Status SyncExternalGroups(std::string_view entity_id, std::string_view mount_accessor,
                            const std::vector<std::string>& names);

  // --- the request path
  // The entity's policies ∪ the policies of all its groups, sorted and
  // unique. Empty for an unknown entity.
  std::vector<std::string> IdentityPolicies(std::string_view entity_id) const;

  // For a successful login: the entity behind (mount, alias name), created
  // with its alias on first login. Returns the entity id; kPermissionDenied
  // when the entity is disabled. `alias_metadata` (when not null) becomes
  // the alias's metadata, written only when it changed.
  Result<std::string> EntityForLogin(
      std::string_view mount_accessor, const MountRef& mount, std::string_view alias_name,
      const std::map<std::string, std::string>* alias_metadata = nullptr);

 private:
  struct Snapshot {
    std::unordered_map<std::string, Entity> entities;
    std::unordered_map<std::string, Alias> aliases;
    std::unordered_map<std::string, Group> groups;
    std::unordered_map<std::string, Alias> group_aliases;  // canonical_id: the group
    // Derived indexes, rebuilt by Reindex(). Names are keyed lower-cased.
    std::unordered_map<std::string, std::string> entity_by_name;
    std::unordered_map<std::string, std::string> group_by_name;
    std::unordered_map<std::string, std::string> alias_by_key;             // accessor '\0' name
    std::unordered_map<std::string, std::set<std::string>> entity_groups;  // direct
    std::unordered_map<std::string, std::set<std::string>> group_parents;
    std::unordered_map<std::string, std::string> group_alias_by_key;  // accessor '\0' name
    std::unordered_map<std::string, std::string> group_alias_of;      // group id -> alias id
    std::unordered_map<std::string, std::string> merged_into;  // merged entity id -> its target
    // Entities or groups whose name another one has in a different case
    // (stored before names matched without case); set by Reindex().
    std::size_t name_clashes = 0;
    void Reindex();
  };

  std::shared_ptr<const Snapshot> Current() const;
  void Swap(std::shared_ptr<Snapshot> next);
  std::int64_t Now() const;
  Status Persist(std::string_view kind, const std::string& id, const Json& value);
  Status Erase(std::string_view kind, const std::string& id);
  Status CheckGroup(const Snapshot& s, const Group& g) const;
  // A generated name for a new entity or group ("entity_" or "group_" and
  // eight hex digits of `id`), one no other of its kind has.
  Result<std::string> UnusedName(const Snapshot& s, std::string_view kind,
                                 const std::string& id) const;
  // The checks and fields an entity or group alias write shares: the
  // mount (path and type filled in), the id (new, or one of `known`), the
  // (mount, name) pair free in `by_key`, the times.
  Status PrepareAlias(Alias& a, const std::unordered_map<std::string, Alias>& known,
                      const std::unordered_map<std::string, std::string>& by_key,
                      std::string_view noun) const;

  storage::Backend& storage_;
  Clock& clock_;
  MountLookup mount_lookup_;
  std::mutex writer_mu_;                      // serialises writes (held across storage I/O)
  mutable std::mutex snap_mu_;                // guards snapshot_ (pointer swap only)
  std::shared_ptr<const Snapshot> snapshot_;  // guarded by snap_mu_
  std::atomic<std::uint64_t> generation_{0};
};

}  // namespace coffer::identity
