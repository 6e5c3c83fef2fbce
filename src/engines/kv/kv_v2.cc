#include "engines/kv/kv_v2.h"

#include <chrono>
#include <functional>
#include <random>
#include <thread>

#include "common/fiber.h"
#include "common/log.h"
#include "engines/kv/kv_events.h"
#include "engines/kv/params.h"
#include "engines/kv/upgrade.h"

namespace coffer::engines::kv {
namespace {

using logical::Operation;
using logical::Request;
using logical::Response;

// Enough for heavy contention on one key: each round lets at least one
// writer through, and the backoff below spreads the others out.
constexpr int kMaxAttempts = 200;

void Backoff(int attempt) {
  if (attempt < 3) {
    std::this_thread::yield();
    return;
  }
  thread_local std::minstd_rand rng(
      static_cast<unsigned>(std::hash<std::thread::id>()(std::this_thread::get_id())));
  int cap_us = std::min(1000, 1 << std::min(attempt, 10));
  std::this_thread::sleep_for(std::chrono::microseconds(rng() % cap_us + 1));
}

Status Unsupported(std::string_view what) {
  return Status(Code::kMethodNotAllowed, "unsupported operation on " + std::string(what));
}

// A path outside the version 2 API (a v1-style `secret/foo`): 404 with
// the warning whose wording clients and tools look for, as Vault's engine
// answers, and no error.
Response InvalidPathResponse(Operation op) {
  const char* command = "get";
  switch (op) {
    case Operation::kCreate:
    case Operation::kUpdate:
      command = "put";
      break;
    case Operation::kPatch:
      command = "patch";
      break;
    case Operation::kList:
    case Operation::kScan:
      command = "list";
      break;
    case Operation::kDelete:
      command = "delete";
      break;
    default:
      break;
  }
  Response r;
  r.http_status = 404;
  r.warnings = logical::Json::array(
      {std::string("Invalid path for a versioned K/V secrets engine. See the API docs for the "
                   "appropriate API endpoints to use. If using the Coffer CLI, use 'coffer kv ") +
       command + "' for this operation."});
  return r;
}

}  // namespace

KvV2Backend::KvV2Backend(const logical::BackendConfig& config)
    : storage_(config.storage),
      clock_(config.clock),
      mount_point_(config.mount_point),
      events_(config.events),
      rotation_(std::make_unique<RotationManager>(
          config, [this](const Request& r) { return HandleRequest(r); })) {}

// The scheduler calls back into this engine: stop it while it is whole.
KvV2Backend::~KvV2Backend() { rotation_->Stop(); }

// A mount upgraded from version 1 finishes its conversion (upgrade.h) before
// it serves anything, be it the tune that upgrades it or a load after a
// crash in the middle of one.
//
// A conversion that cannot finish (a v1 record that is not JSON, a storage
// error) leaves this one mount refusing its requests with 503, and the
// conversion resumes at its next load. The error is not returned: at unseal
// it would stop every other mount from loading. Vault's mount likewise stays
// "upgrading" after a failed upgrade while the rest of the server serves.
Status KvV2Backend::Initialize() {
  if (Status s = FinishUpgrade(storage_, Now()); !s.ok()) {
    Log(LogModule::kKv)
        .error("the upgrade of the mount at {} to version 2 did not finish: {}", mount_point_,
               s.ToString());
    upgrade_failure_ = std::move(s);
    return Status::Ok();
  }
  rotation_->Start();
  return Status::Ok();
}

namespace {
Status UpgradeUnfinished() {
  return Unavailable(
      "the upgrade of this mount to KV version 2 did not finish (see the server log); it "
      "resumes when the mount is next loaded (restart or unseal)");
}
}  // namespace

Nanos KvV2Backend::Now() const {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(clock_.Wall().time_since_epoch())
      .count();
}

Result<Config> KvV2Backend::ReadConfig() {
  ASSIGN_OR_RETURN(auto entry, storage_.Get(kConfigKey));
  if (!entry) return Config{};
  return DecodeConfig(entry->value);
}

Result<KvV2Backend::ConfigSnapshot> KvV2Backend::CachedConfig(bool refresh) {
  if (!refresh) {
    std::scoped_lock lock(config_mu_);
    if (config_cache_) return *config_cache_;
  }
  ASSIGN_OR_RETURN(auto entry, storage_.Get(kConfigKey));
  ConfigSnapshot snapshot;
  if (entry) {
    ASSIGN_OR_RETURN(snapshot.config, DecodeConfig(entry->value));
    snapshot.revision = entry->revision;
  }
  std::scoped_lock lock(config_mu_);
  // Keep the newer of two concurrent refills (revisions only grow).
  if (!config_cache_ || config_cache_->revision <= snapshot.revision) config_cache_ = snapshot;
  return snapshot;
}

void KvV2Backend::InvalidateConfig() {
  std::scoped_lock lock(config_mu_);
  config_cache_.reset();
}

Result<std::shared_ptr<const KeyMetadata>> KvV2Backend::ReadMetadata(const std::string& key,
                                                                     std::uint64_t* revision,
                                                                     std::string* current) {
  std::string storage_key = MetadataKey(key);
  ASSIGN_OR_RETURN(auto entry, storage_.Get(storage_key));
  if (revision != nullptr) *revision = entry ? entry->revision : 0;
  if (current != nullptr) current->clear();
  if (!entry) return std::shared_ptr<const KeyMetadata>();
  const MetadataEntryParts parts = SplitMetadataEntry(entry->value);
  std::shared_ptr<const KeyMetadata> meta;
  {
    std::scoped_lock lock(meta_cache_mu_);
    auto it = meta_cache_.find(storage_key);
    if (it != meta_cache_.end() && it->second.revision == entry->revision) meta = it->second.meta;
  }
  if (!meta) {
    ASSIGN_OR_RETURN(KeyMetadata decoded, DecodeMetadata(parts.metadata));
    meta = std::make_shared<const KeyMetadata>(std::move(decoded));
    std::scoped_lock lock(meta_cache_mu_);
    if (meta_cache_.size() >= kMetadataCacheSize && !meta_cache_.contains(storage_key)) {
      meta_cache_.erase(meta_cache_.begin());
    }
    meta_cache_.insert_or_assign(std::move(storage_key), DecodedMetadata{entry->revision, meta});
  }
  if (current != nullptr && !parts.current.empty()) {
    // The entry's tail, kept in the entry's own buffer rather than copied.
    entry->value.erase(0, entry->value.size() - parts.current.size());
    *current = std::move(entry->value);
  }
  return meta;
}

Result<Response> KvV2Backend::Mutate(const std::string& key, const MutateFn& fn,
                                     ConfigSnapshot* config) {
  const std::string meta_key = MetadataKey(key);
  bool config_fresh = false;  // *config was read from storage in this call
  for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
    if (config != nullptr && attempt > 0) {
      // The conflict may have been the config's compare.
      ASSIGN_OR_RETURN(*config, CachedConfig(/*refresh=*/true));
      config_fresh = true;
    }
    std::uint64_t revision = 0;
    std::string current;
    ASSIGN_OR_RETURN(std::shared_ptr<const KeyMetadata> stored,
                     ReadMetadata(key, &revision, &current));
    std::optional<KeyMetadata> meta;  // the mutation's own copy
    if (stored) meta = *stored;
    Result<Mutation> mutation = fn(meta, current, Now());
    if (!mutation && config != nullptr && !config_fresh) {
      // A refusal (cas_required, ...) commits nothing, so no compare guards
      // it: decide it again with the config as stored now.
      continue;
    }
    ASSIGN_OR_RETURN(Mutation m, std::move(mutation));
    if (m.retry) {
      Backoff(attempt);
      continue;
    }
    switch (m.meta_action) {
      case Mutation::MetaAction::kNone:
        return std::move(m.response);
      case Mutation::MetaAction::kPut:
        if (!meta) return Err(Internal("kv: mutation without metadata"));
        m.ops.push_back(
            storage::Op{storage::Op::Kind::kPut, meta_key, EncodeMetadataEntry(*meta, current)});
        break;
      case Mutation::MetaAction::kDelete:
        m.ops.push_back(storage::Op{storage::Op::Kind::kDelete, meta_key, {}});
        break;
    }
    storage::Compare compares[2] = {{meta_key, revision}, {}};
    std::size_t n_compares = 1;
    if (config != nullptr) compares[n_compares++] = {std::string(kConfigKey), config->revision};
    Status s = [&] {
      SuspendScope suspendable;  // no lock is held here (SuspendsForCommit)
      return storage_.Transact(std::span<const storage::Compare>(compares, n_compares), m.ops);
    }();
    if (s.ok()) return std::move(m.response);
    if (s.code() != Code::kConflict) return Err(std::move(s));
    Backoff(attempt);
  }
  return Err(Unavailable("too many concurrent changes to this secret; retry the request"));
}

bool KvV2Backend::SuspendsForCommit(const Request& request) const {
  const Operation op = request.operation;
  return (op == Operation::kCreate || op == Operation::kUpdate || op == Operation::kPatch) &&
         request.relative_path.starts_with("data/");
}

Result<bool> KvV2Backend::ExistenceCheck(const Request& request) {
  if (!upgrade_failure_.ok()) return Err(UpgradeUnfinished());
  std::string_view rel = request.relative_path;
  for (std::string_view prefix : {"data/", "metadata/"}) {
    if (rel.substr(0, prefix.size()) != prefix) continue;
    std::string key(rel.substr(prefix.size()));
    if (!ValidateSecretKey(key).ok()) return false;
    ASSIGN_OR_RETURN(auto entry, storage_.Get(MetadataKey(key)));
    return entry.has_value();
  }
  return true;
}

Result<Response> KvV2Backend::HandleRequest(const Request& request) {
  if (!upgrade_failure_.ok()) return Err(UpgradeUnfinished());
  Result<Response> result = Route(request);
  if (result && events_ != nullptr) PublishChange(request, *result);  // durable by now
  return result;
}

void KvV2Backend::PublishChange(const Request& request, const Response& response) {
  const std::string& rel = request.relative_path;
  auto slash = rel.find('/');
  if (slash == std::string::npos) return;
  const std::string section = rel.substr(0, slash);
  const std::string key = rel.substr(slash + 1);
  const Operation op = request.operation;
  if (logical::IsReadOperation(op)) return;
  std::optional<std::uint64_t> current;
  if (section == "data" && response.data.is_object() && response.data.contains("version") &&
      response.data.at("version").is_number_unsigned()) {
    current = response.data.at("version").get<std::uint64_t>();
  } else if (auto meta = ReadMetadata(key); meta && *meta) {
    current = (*meta)->current_version;
  }
  PublishV2Change(events_, request, section, key, current);
}

Result<Response> KvV2Backend::Route(const Request& request) {
  const std::string& rel = request.relative_path;
  const Operation op = request.operation;
  const bool write = op == Operation::kCreate || op == Operation::kUpdate;

  if (rel == "config") {
    if (op == Operation::kRead) return ReadConfigResponse();
    if (write) return WriteConfig(request);
    return Err(Unsupported("config"));
  }

  auto slash = rel.find('/');
  if (slash == std::string::npos) {
    if (!logical::IsListOperation(op) && (rel == "data" || rel == "metadata" || rel == "delete" ||
                                          rel == "undelete" || rel == "destroy")) {
      // The root of a section (`secret/data`, what `ref+vault://secret#/k`
      // asks): Vault's warning for it.
      Response r;
      r.http_status = 404;
      r.warnings = logical::Json::array(
          {"Non-listing operations on the root of a K/V v2 mount are not supported."});
      return r;
    }
    return InvalidPathResponse(op);
  }
  const std::string section = rel.substr(0, slash);
  const std::string key = rel.substr(slash + 1);

  if (section == "data") {
    switch (op) {
      case Operation::kRead:
        return ReadData(key, request, /*subkeys=*/false);
      case Operation::kCreate:
      case Operation::kUpdate:
        return WriteData(key, request);
      case Operation::kPatch:
        return PatchData(key, request);
      case Operation::kDelete:
        return DeleteLatest(key);
      case Operation::kList:
        return Err(Status(Code::kMethodNotAllowed,
                          "LIST is not supported on data/; use LIST on metadata/"));
      default:
        return Err(Unsupported("data/"));
    }
  }
  if (section == "metadata") {
    switch (op) {
      case Operation::kRead:
        return ReadMetadataResponse(key);
      case Operation::kCreate:
      case Operation::kUpdate:
        return WriteMetadata(key, request, /*patch=*/false);
      case Operation::kPatch:
        return WriteMetadata(key, request, /*patch=*/true);
      case Operation::kDelete:
        return DeleteMetadata(key);
      case Operation::kList:
      case Operation::kScan:
        return ListMetadata(key, request, /*detailed=*/false);
      default:
        return Err(Unsupported("metadata/"));
    }
  }
  if (section == "detailed-metadata") {
    if (!logical::IsListOperation(op)) return Err(Unsupported("detailed-metadata/"));
    return ListMetadata(key, request, /*detailed=*/true);
  }
  if (op == Operation::kScan) return Err(Unsupported(section + "/"));
  if (section == "delete" || section == "undelete" || section == "destroy") {
    if (!write) return Err(Unsupported(section + "/"));
    return ChangeVersions(key, request, section);
  }
  if (section == "rotation") return rotation_->Handle(key, request);
  if (section == "subkeys") {
    if (op != Operation::kRead) return Err(Unsupported("subkeys/"));
    return ReadData(key, request, /*subkeys=*/true);
  }
  return InvalidPathResponse(op);
}

}  // namespace coffer::engines::kv
