#pragma once
// KV version 2: versioned secrets with Vault's API (see docs/kv.md).
//
//   config            GET / POST  max_versions, cas_required, delete_version_after
//   data/<key>        GET (?version=N), POST/PUT {data, options:{cas}}, PATCH (merge
//                     patch of the latest version), DELETE (soft-delete latest)
//   delete/<key>      POST {versions:[...]}  soft-delete
//   undelete/<key>    POST {versions:[...]}
//   destroy/<key>     POST/PUT {versions:[...]}  wipe the data for good
//   metadata/<key>    GET, POST, PATCH, DELETE (every version and the metadata)
//   metadata/<folder> LIST (?after=&limit=), SCAN: the subtree (list_page.h)
//   detailed-metadata/<folder>  LIST, SCAN: the same keys, with each key's
//                     metadata in key_info (OpenBao)
//   subkeys/<key>     GET (?version=N&depth=D)  the data's shape, leaves null
//
// Concurrency: no in-process locks on keys. Every change reads the key's
// metadata entry, computes the new state (CAS checks included) and commits it
// with storage Transact guarded by the entry's revision, retrying a bounded
// number of times on kConflict. So concurrent writers on one key, in this
// process or on another node sharing the storage, never lose an update.
//
// The mount config is cached in memory with the revision of its storage
// entry. Data writes (data/ POST, PUT, PATCH) use the cached copy and add a
// compare on that revision to their Transact: a config changed since (by
// this process or another node) fails the commit with kConflict, and the
// retry reads the config again. So no write is ever decided by a stale
// config, and the hot path does not read the config from storage.
//
// Decoded metadata is cached too, by storage key, with the revision of the
// entry it was decoded from: a read that finds the same revision (revisions
// change on every write and never go back) skips the JSON parse. The entry
// itself is still read on every request, so nothing is ever served from a
// stale copy. Metadata holds versions and times, never secret data.
//
// Thread safety: safe for concurrent use (each cache has its mutex).

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "engines/kv/records.h"
#include "engines/kv/rotation.h"
#include "logical/backend.h"

namespace coffer::engines::kv {

class KvV2Backend final : public logical::Backend {
 public:
  explicit KvV2Backend(const logical::BackendConfig& config);
  ~KvV2Backend() override;

  Result<logical::Response> HandleRequest(const logical::Request& request) override;
  // True when the key's metadata exists (data/ and metadata/ paths); true for
  // other paths, which are always updates.
  Result<bool> ExistenceCheck(const logical::Request& request) override;
  // Finishes a pending upgrade from version 1 (upgrade.h), then starts the
  // rotation scheduler (rotation.h).
  Status Initialize() override;
  // Writes and patches of data/<key>: their one commit wait is Mutate's
  // transaction, which holds no lock.
  bool SuspendsForCommit(const logical::Request& request) const override;
  // SCAN of metadata/ and detailed-metadata/.
  bool HandlesScan() const override { return true; }
  logical::EngineHelp Help() const override;  // kv_help.cc

  // Scheduled rotation (rotation/<key> paths); tests drive it directly.
  RotationManager& rotation() { return *rotation_; }
  // Why the upgrade from version 1 could not finish in Initialize, else Ok
  // (see UnfinishedUpgrade in upgrade.h).
  const Status& upgrade_failure() const { return upgrade_failure_; }

 private:
  // What a change to one key commits, computed from its current metadata.
  struct Mutation {
    enum class MetaAction { kNone, kPut, kDelete };
    MetaAction meta_action = MetaAction::kNone;  // kNone: nothing is written
    std::vector<storage::Op> ops;                // besides the metadata entry
    logical::Response response;
    // Set when a record the metadata points to is missing (a concurrent
    // destroy or prune): start over from a fresh read.
    bool retry = false;
  };
  // Called with the key's metadata (nullopt when absent) and the record of
  // its current version when the metadata entry holds it (else empty), both
  // of which it may modify: what they hold afterwards is what a kPut writes
  // as the entry. An error aborts without writing anything.
  using MutateFn = std::function<Result<Mutation>(std::optional<KeyMetadata>& meta,
                                                  std::string& current, Nanos now)>;
  // The mount config and the revision of its entry (0: absent).
  struct ConfigSnapshot {
    Config config;
    std::uint64_t revision = 0;
  };
  // With `config`, the Transact also compares the config's revision, and
  // after a conflict *config is re-read from storage before the next attempt
  // (fn reads it by reference).
  Result<logical::Response> Mutate(const std::string& key, const MutateFn& fn,
                                   ConfigSnapshot* config = nullptr);

  Nanos Now() const;
  Result<Config> ReadConfig();  // always from storage
  // From the cache, or from storage (refilling the cache) when it is empty or
  // `refresh` is set.
  Result<ConfigSnapshot> CachedConfig(bool refresh);
  void InvalidateConfig();
  // The metadata (null when absent) and its entry revision (0 when absent);
  // with `current`, the record of the current version when the entry holds it
  // (else empty). The metadata is shared with the decoded-metadata cache, so
  // a read neither decodes nor copies it when the entry is unchanged.
  Result<std::shared_ptr<const KeyMetadata>> ReadMetadata(const std::string& key,
                                                          std::uint64_t* revision = nullptr,
                                                          std::string* current = nullptr);
  // Makes version current+1, created at record.created_time, the current
  // one (WriteData, PatchData): its record goes into the metadata entry
  // (`current`), and the record it supersedes, if the entry held it, out to
  // versions/; records pruned by max_versions are deleted.
  void AddCurrentVersion(const std::string& key, KeyMetadata& meta, std::string& current,
                         const VersionRecord& record, const Config& config, Mutation& m);

  // kv_v2_data.cc
  Result<logical::Response> ReadData(const std::string& key, const logical::Request& request,
                                     bool subkeys);
  Result<logical::Response> WriteData(const std::string& key, const logical::Request& request);
  Result<logical::Response> PatchData(const std::string& key, const logical::Request& request);
  Result<logical::Response> DeleteLatest(const std::string& key);

  // kv_v2_meta.cc
  Result<logical::Response> ReadConfigResponse();
  Result<logical::Response> WriteConfig(const logical::Request& request);
  Result<logical::Response> ChangeVersions(const std::string& key, const logical::Request& request,
                                           std::string_view action);
  Result<logical::Response> ReadMetadataResponse(const std::string& key);
  Result<logical::Response> WriteMetadata(const std::string& key, const logical::Request& request,
                                          bool patch);
  Result<logical::Response> DeleteMetadata(const std::string& key);
  // LIST or SCAN of metadata/<folder>, or of detailed-metadata/<folder>.
  Result<logical::Response> ListMetadata(std::string folder, const logical::Request& request,
                                         bool detailed);

  // The request's handler, without events.
  Result<logical::Response> Route(const logical::Request& request);
  // Publishes the change a successful request made (kv_events.h).
  void PublishChange(const logical::Request& request, const logical::Response& response);

  storage::Backend& storage_;
  Clock& clock_;
  std::string mount_point_;
  events::Bus* events_;  // null: no events
  std::unique_ptr<RotationManager> rotation_;
  // Set by Initialize, before the engine serves; read-only after.
  Status upgrade_failure_;
  std::mutex config_mu_;
  std::optional<ConfigSnapshot> config_cache_;  // guarded by config_mu_

  struct DecodedMetadata {
    std::uint64_t revision = 0;
    std::shared_ptr<const KeyMetadata> meta;
  };
  static constexpr std::size_t kMetadataCacheSize = 4096;
  std::mutex meta_cache_mu_;
  std::unordered_map<std::string, DecodedMetadata> meta_cache_;  // guarded by meta_cache_mu_
};

}  // namespace coffer::engines::kv
