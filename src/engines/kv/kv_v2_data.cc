// KV v2: the data/ and subkeys/ paths.

#include "engines/kv/kv_v2.h"
#include "engines/kv/params.h"

namespace coffer::engines::kv {
namespace {

using logical::Request;
using logical::Response;

// Vault stops walking subkeys at this depth so a deep secret cannot make the
// answer unbounded.
constexpr std::int64_t kMaxSubkeysDepth = 100;

// Replaces every leaf (a non-object value or an empty object, or any object
// at `limit`) with null, in place.
void StripValues(Json& object, std::int64_t limit, std::int64_t depth) {
  for (auto& [name, value] : object.items()) {
    (void)name;
    if (value.is_object() && !value.empty() && depth + 1 <= limit) {
      StripValues(value, limit, depth + 1);
    } else {
      value = nullptr;
    }
  }
}

std::string_view JsonTypeName(const Json& j) { return j.type_name(); }

// The "data" object of a write or patch body.
Result<const Json*> DataField(const Request& request) {
  if (!request.data.is_object()) {
    return Err(InvalidArgument("the request body must be a JSON object"));
  }
  const Json* data = request.Field("data");
  if (data == nullptr || data->is_null()) return Err(InvalidArgument("no data provided"));
  if (!data->is_object()) {
    return Err(InvalidArgument("\"data\" must be a JSON object of key/value pairs, not " +
                               std::string(JsonTypeName(*data))));
  }
  return data;
}

// Points `field` (a member of request.data) at the same member of the body
// as the client wrote it, when the body held numbers a double would change
// (common/json_numbers.h). Whether it did.
bool AsWritten(const Request& request, const Json*& field) {
  const Json& written = request.DataAsWritten();
  if (&written == &request.data) return false;
  field = &written.at("data");
  return true;
}

// options.cas, when given.
Result<std::optional<std::uint64_t>> CasOption(const Request& request) {
  const Json* options = request.Field("options");
  if (options == nullptr || options->is_null()) return std::optional<std::uint64_t>();
  if (!options->is_object()) return Err(InvalidArgument("\"options\" must be a JSON object"));
  auto it = options->find("cas");
  if (it == options->end() || it->is_null()) return std::optional<std::uint64_t>();
  auto cas = ParseInt(*it, "cas");
  if (!cas) return Err(InvalidArgument("error parsing check-and-set parameter"));
  // A negative one is a number that matches no version, as in Vault.
  return std::optional<std::uint64_t>(static_cast<std::uint64_t>(*cas));
}

Status CheckCas(std::optional<std::uint64_t> cas, const Config& config, const KeyMetadata& meta) {
  if (cas) {
    if (*cas != meta.current_version) {
      return Conflict("check-and-set parameter did not match the current version");
    }
    return Status::Ok();
  }
  if (config.cas_required || meta.cas_required) {
    return InvalidArgument("check-and-set parameter required for this call");
  }
  return Status::Ok();
}

}  // namespace

Result<Response> KvV2Backend::ReadData(const std::string& key, const Request& request,
                                       bool subkeys) {
  std::int64_t version = 0;
  if (auto v = Param(request, "version")) {
    // Vault reads the latest for any version of 0 or below.
    ASSIGN_OR_RETURN(version, ParseInt(*v, "version"));
  }
  std::int64_t depth = 0;
  if (subkeys) {
    if (auto d = Param(request, "depth")) {
      ASSIGN_OR_RETURN(depth, ParseInt(*d, "depth"));
      if (depth < 0) return Err(InvalidArgument("\"depth\" must not be negative"));
    }
    if (depth == 0 || depth > kMaxSubkeysDepth) depth = kMaxSubkeysDepth;
  }
  if (!ValidateSecretKey(key).ok()) return NotFoundResponse();
  const char* field = subkeys ? "subkeys" : "data";

  // A destroy or prune may remove the record between our two reads; then the
  // metadata says so on the next look.
  for (int attempt = 0; attempt < 3; ++attempt) {
    std::string current;  // the current version's record, when the entry holds it
    ASSIGN_OR_RETURN(std::shared_ptr<const KeyMetadata> meta, ReadMetadata(key, nullptr, &current));
    if (!meta) return NotFoundResponse();
    std::uint64_t n = version > 0 ? static_cast<std::uint64_t>(version) : meta->current_version;
    auto it = meta->versions.find(n);
    if (it == meta->versions.end()) return NotFoundResponse();
    const VersionMeta& vm = it->second;
    Response r;
    if (vm.destroyed || IsDeleted(vm, Now())) {
      r.data = Json{{field, nullptr}, {"metadata", VersionMetadataJson(*meta, n, vm)}};
      r.http_status = 404;  // Vault answers 404 and still shows the metadata
      return r;
    }
    std::optional<storage::Entry> entry;
    std::string_view raw = current;
    if (!EntryHoldsVersion(*meta, current, n)) {
      ASSIGN_OR_RETURN(entry, storage_.Get(VersionKey(key, n)));
      if (!entry) continue;
      raw = entry->value;
    }
    if (!subkeys && request.data_text_ok) {
      if (std::optional<std::string_view> text = VersionDataText(raw)) {
        r.data_text = ReadDataText(*text, *meta, n, vm);
        return r;
      }
    }
    // As a tree (a wrapped answer, a caller in the process): numbers as
    // written, as the text answer gives them.
    ASSIGN_OR_RETURN(VersionRecord record,
                     subkeys ? DecodeVersion(raw) : DecodeVersionAsWritten(raw));
    if (subkeys) StripValues(record.data, depth, 1);
    r.data = Json{{field, std::move(record.data)}, {"metadata", VersionMetadataJson(*meta, n, vm)}};
    r.number_text = record.number_text;
    return r;
  }
  return Err(Internal("kv: version data missing for a live version"));
}

Result<Response> KvV2Backend::WriteData(const std::string& key, const Request& request) {
  TRY(ValidateSecretKey(key));
  ASSIGN_OR_RETURN(const Json* data, DataField(request));
  const bool number_text = AsWritten(request, data);
  ASSIGN_OR_RETURN(std::optional<std::uint64_t> cas, CasOption(request));
  ASSIGN_OR_RETURN(ConfigSnapshot snapshot, CachedConfig(/*refresh=*/false));
  const Config& config = snapshot.config;  // Mutate refreshes it after a conflict

  auto mutate = [&](std::optional<KeyMetadata>& meta, std::string& current,
                    Nanos now) -> Result<Mutation> {
    if (!meta) meta.emplace();
    TRY(CheckCas(cas, config, *meta));
    Mutation m;
    AddCurrentVersion(key, *meta, current, {*data, now, number_text}, config, m);
    return m;
  };
  return Mutate(key, mutate, &snapshot);
}

void KvV2Backend::AddCurrentVersion(const std::string& key, KeyMetadata& meta, std::string& current,
                                    const VersionRecord& record, const Config& config,
                                    Mutation& m) {
  const Nanos now = record.created_time;
  const std::uint64_t superseded = meta.current_version;
  std::vector<std::uint64_t> pruned =
      AddVersion(meta, now, ScheduledDeletion(now, config, meta), config);
  const std::uint64_t n = meta.current_version;
  // The superseded version's record moves out of the entry, unless the
  // window just dropped it: then it is simply not kept.
  const bool moved = !current.empty();
  if (moved && meta.versions.contains(superseded)) {
    m.ops.push_back({storage::Op::Kind::kPut, VersionKey(key, superseded), std::move(current)});
  }
  for (std::uint64_t old : pruned) {
    if (moved && old == superseded) continue;  // it had no record of its own
    m.ops.push_back({storage::Op::Kind::kDelete, VersionKey(key, old), {}});
  }
  current = EncodeVersion(record);
  m.meta_action = Mutation::MetaAction::kPut;
  m.response.data = VersionMetadataJson(meta, n, meta.versions.at(n));
}

Result<Response> KvV2Backend::PatchData(const std::string& key, const Request& request) {
  TRY(ValidateSecretKey(key));
  ASSIGN_OR_RETURN(const Json* patch, DataField(request));
  const bool patch_number_text = AsWritten(request, patch);
  ASSIGN_OR_RETURN(std::optional<std::uint64_t> cas, CasOption(request));
  ASSIGN_OR_RETURN(ConfigSnapshot snapshot, CachedConfig(/*refresh=*/false));
  const Config& config = snapshot.config;  // Mutate refreshes it after a conflict

  auto mutate = [&](std::optional<KeyMetadata>& meta, std::string& current,
                    Nanos now) -> Result<Mutation> {
    Mutation m;
    if (!meta) {
      m.response = NotFoundResponse();
      return m;
    }
    TRY(CheckCas(cas, config, *meta));
    const std::uint64_t latest = meta->current_version;
    auto it = meta->versions.find(latest);
    if (it == meta->versions.end()) {
      m.response = NotFoundResponse();
      return m;
    }
    if (it->second.destroyed || IsDeleted(it->second, now)) {
      // Vault's patch answers the version metadata flat in data.
      m.response.http_status = 404;
      m.response.data = VersionMetadataJson(*meta, latest, it->second);
      return m;
    }
    std::optional<storage::Entry> entry;
    std::string_view raw = current;
    if (!EntryHoldsVersion(*meta, current, latest)) {
      ASSIGN_OR_RETURN(entry, storage_.Get(VersionKey(key, latest)));
      if (!entry) {
        m.retry = true;
        return m;
      }
      raw = entry->value;
    }
    ASSIGN_OR_RETURN(VersionRecord record, DecodeVersionAsWritten(raw));
    record.data.merge_patch(*patch);  // RFC 7396: null removes a member
    record.created_time = now;
    record.number_text = record.number_text || patch_number_text;
    AddCurrentVersion(key, *meta, current, record, config, m);
    return m;
  };
  return Mutate(key, mutate, &snapshot);
}

Result<Response> KvV2Backend::DeleteLatest(const std::string& key) {
  TRY(ValidateSecretKey(key));
  auto mutate = [&](std::optional<KeyMetadata>& meta, std::string&, Nanos now) -> Result<Mutation> {
    Mutation m;
    m.response = NoContent();
    if (!meta) return m;
    auto it = meta->versions.find(meta->current_version);
    if (it == meta->versions.end() || it->second.destroyed || IsDeleted(it->second, now)) {
      return m;
    }
    it->second.deletion_time = now;
    m.meta_action = Mutation::MetaAction::kPut;
    return m;
  };
  return Mutate(key, mutate);
}

}  // namespace coffer::engines::kv
