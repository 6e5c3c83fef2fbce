#pragma once
// The mount table and the router.
//
// A mount is an engine instance at a path ("secret/") with its own storage
// view "logical/<uuid>/". The table is persisted (encrypted by the barrier)
// at "core/mounts" and held in memory as an immutable snapshot: readers take
// a shared_ptr<const Snapshot> without locking; Mount/Unmount build a new
// snapshot (copy-on-write) under a mutex and swap it in atomically.
//
// Thread-safe. Errors: kInvalidArgument (bad path/type, path in use,
// overlapping mounts), kNotFound (unmount of a path not mounted), storage
// errors as they come.

#include <atomic>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/clock.h"
#include "logical/backend.h"
#include "storage/backend.h"

namespace coffer::router {

struct MountEntry {
  std::string path;  // ends with '/'
  std::string type;
  std::string description;
  std::string uuid;
  std::string accessor;
  logical::Json options = logical::Json::object();
  logical::Json config = logical::Json::object();
  bool local = false;
  // Stored and reported as Vault does; neither changes how the mount's data
  // is kept (the barrier already encrypts all of it).
  bool seal_wrap = false;
  bool external_entropy_access = false;
};

class Router {
 public:
  struct Mounted {
    MountEntry entry;
    std::shared_ptr<storage::Backend> view;
    std::shared_ptr<logical::Backend> engine;
  };
  struct Snapshot {
    std::vector<std::shared_ptr<const Mounted>> mounts;  // sorted by path
  };
  struct Match {
    std::shared_ptr<const Mounted> mount;
    std::string relative_path;
  };

  // `barrier` is the encrypted store; views are taken from it.
  Router(storage::Backend& barrier, Clock& clock);

  // Reads the table from storage and creates every engine (after unseal).
  Status Load();
  // Drops every engine and the snapshot (at seal).
  void Unload();

  // Adds a mount and persists the table. Auth method types are refused
  // (kInvalidArgument): they go through MountAuth.
  Status Mount(MountEntry entry);
  // Removes a mount, deletes all of its data, persists the table.
  Status Unmount(std::string_view path);

  // Auth methods live in the same table at "auth/<path>/". entry.path is
  // the path below "auth/" ("userpass" → "auth/userpass/"); only types
  // registered with logical::RegisterAuthMethod are accepted, and
  // "auth/token/" is reserved for the built-in token method.
  Status MountAuth(MountEntry entry);
  // `path` as for MountAuth ("userpass"). kNotFound when nothing is there.
  Status UnmountAuth(std::string_view path);
  // "userpass", "/userpass/", "auth/userpass" → "auth/userpass/".
  static Result<std::string> NormalizeAuthPath(std::string_view path);
  // A move Remount made, as sys/remount/status/:id reports it. Vault runs a
  // move in the background and records its progress; here the move is done
  // when Remount returns, so every recorded move has succeeded. The last
  // kMaxMigrations are kept, in memory, as Vault keeps them until restart.
  struct Migration {
    std::string source;  // "kv/"
    std::string target;  // "kv2/"
  };
  // Moves a mount to a new path; its data (keyed by uuid) stays in place.
  // Paths are given as to sys/remount ("kv", "/kv/", "auth/userpass"): an
  // auth method moves only within auth/ (never auth/token/), a secrets
  // engine never into or out of a reserved path; the destination may not
  // overlap any mount, the source included. kInvalidArgument otherwise.
  // Returns the id under which the move is recorded (FindMigration).
  Result<std::string> Remount(std::string_view from, std::string_view to);
  // Remount's checks without the move, for a caller that must act between
  // them (revoke the source's leases): the normalised source and target.
  Result<Migration> CheckRemount(std::string_view from, std::string_view to) const;
  // Tunes a mount and persists: the keys of `config` replace the mount
  // config's, a description replaces the mount's, and the keys of `options`
  // (an object) replace the mount's options.
  Status Tune(std::string_view path, const logical::Json& config,
              const std::optional<std::string>& description = std::nullopt,
              const logical::Json& options = logical::Json::object());

  // Tunes a mount whose engine reads the changed options only when it is
  // created (a KV mount's version) and replaces the engine. The tuned entry
  // is persisted in one transaction with `view_ops` (ops on keys of the
  // mount's view); then the new engine is created, and its Initialize may
  // take long (a KV upgrade converts the data there) while mount changes
  // wait; then it is published. `expected` is the engine the caller
  // prepared: kNotFound when the mount at `path` no longer runs it.
  // *committed tells whether the transaction was applied: after it, a
  // failure leaves the tuned entry published with the old engine, and the
  // new engine is created when the mount is next loaded.
  Status Retune(std::string_view path, const logical::Json& config,
                const std::optional<std::string>& description, const logical::Json& options,
                const logical::Backend& expected, std::span<const storage::Op> view_ops,
                bool* committed);

  static constexpr std::size_t kMaxMigrations = 1024;
  std::optional<Migration> FindMigration(std::string_view id) const;

  // Longest-prefix match of a canonical request path ("secret/data/x"); a
  // path equal to a mount without its trailing slash ("secret") matches too.
  std::optional<Match> Route(std::string_view path) const;

  std::shared_ptr<const Snapshot> snapshot() const { return std::atomic_load(&snapshot_); }
  // The mount at exactly `path` ("secret/", with its slash), or null.
  std::shared_ptr<const Mounted> MountedAt(std::string_view path) const;

  // What every engine created from now on gets as
  // BackendConfig::generate_password (set once by the core, before Load).
  void SetPasswordGenerator(decltype(logical::BackendConfig::generate_password) generator) {
    generate_password_ = std::move(generator);
  }

  // What every engine created from now on gets as BackendConfig::events
  // (set once by the core, before Load).
  void SetEventBus(events::Bus* bus) { events_ = bus; }

  // Checks a mount path: non-empty, no reserved prefix (sys/, auth/token...).
  static Result<std::string> NormalizeMountPath(std::string_view path);

 private:
  Result<std::shared_ptr<const Mounted>> Instantiate(const MountEntry& entry);
  // Mount/Unmount after the path was normalised and the type checked.
  Status AddMount(MountEntry entry);
  Status RemoveMount(const std::string& path);
  Status Persist(const std::vector<MountEntry>& entries);
  static storage::Op TableOp(const std::vector<MountEntry>& entries);
  // Sorts, persists and publishes a new snapshot (write_mu_ held).
  Status Commit(std::shared_ptr<Snapshot> next);

  mutable std::mutex migrations_mu_;
  std::deque<std::pair<std::string, Migration>>
      migrations_;  // guarded by migrations_mu_, oldest first

  storage::Backend& barrier_;
  Clock& clock_;
  std::mutex write_mu_;                       // serialises Mount/Unmount/Tune/Load
  std::shared_ptr<const Snapshot> snapshot_;  // atomic_load/atomic_store only
  decltype(logical::BackendConfig::generate_password) generate_password_;
  events::Bus* events_ = nullptr;
};

logical::Json MountEntryToJson(const MountEntry& e);
Result<MountEntry> MountEntryFromJson(const logical::Json& j);

}  // namespace coffer::router
