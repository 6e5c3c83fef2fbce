// KV v2: config, metadata/, delete/, undelete/ and destroy/.

#include <limits>

#include "engines/kv/kv_v2.h"
#include "engines/kv/list_page.h"
#include "engines/kv/params.h"

namespace coffer::engines::kv {
namespace {

using logical::Request;
using logical::Response;

constexpr std::size_t kMaxCustomMetadataKeys = 64;
constexpr std::size_t kMaxCustomMetadataKeyLength = 128;
constexpr std::size_t kMaxCustomMetadataValueLength = 512;
constexpr int kMaxConfigAttempts = 50;

constexpr std::string_view kCasIgnoredWarning =
    "\"cas_required\" set to false, but is mandated by backend config. This value will be "
    "ignored.";

Result<std::uint32_t> ParseMaxVersions(const Json& value) {
  ASSIGN_OR_RETURN(std::int64_t n, ParseInt(value, "max_versions"));
  if (n < 0 || n > std::numeric_limits<std::uint32_t>::max()) {
    return Err(InvalidArgument("\"max_versions\" must be between 0 and 4294967295"));
  }
  return static_cast<std::uint32_t>(n);
}

bool Printable(std::string_view s) {
  for (unsigned char c : s) {
    if (c < 0x20 || c == 0x7f) return false;
  }
  return true;
}

Status ValidateCustomMetadata(const std::map<std::string, std::string>& cm) {
  const std::string prefix = "custom_metadata validation failed: ";
  if (cm.size() > kMaxCustomMetadataKeys) {
    return InvalidArgument(prefix + "payload must contain at most " +
                           std::to_string(kMaxCustomMetadataKeys) + " keys, provided " +
                           std::to_string(cm.size()));
  }
  for (const auto& [k, v] : cm) {
    if (k.empty() || k.size() > kMaxCustomMetadataKeyLength) {
      return InvalidArgument(
          prefix + "length of key \"" + k + "\" is " + std::to_string(k.size()) +
          " but must be 0 < len(key) <= " + std::to_string(kMaxCustomMetadataKeyLength));
    }
    if (v.empty() || v.size() > kMaxCustomMetadataValueLength) {
      return InvalidArgument(
          prefix + "length of value for key \"" + k + "\" is " + std::to_string(v.size()) +
          " but must be 0 < len(value) <= " + std::to_string(kMaxCustomMetadataValueLength));
    }
    if (!Printable(k)) return InvalidArgument(prefix + "a key contains unprintable characters");
    if (!Printable(v)) {
      return InvalidArgument(prefix + "value for key \"" + k +
                             "\" contains unprintable characters");
    }
  }
  return Status::Ok();
}

// custom_metadata as sent: each value a string (numbers and booleans are
// converted as Vault's weak decoding does: true "1", false "0"), or null
// (only in a PATCH, where it removes the key).
Result<std::map<std::string, std::optional<std::string>>> ParseCustomMetadata(const Json& value,
                                                                              bool allow_null) {
  if (!value.is_object()) return Err(InvalidArgument("\"custom_metadata\" must be a JSON object"));
  std::map<std::string, std::optional<std::string>> out;
  for (const auto& [k, v] : value.items()) {
    if (std::optional<std::string> text = logical::WeakString(v)) {
      out[k] = std::move(*text);
    } else if (v.is_null() && allow_null) {
      out[k] = std::nullopt;
    } else {
      return Err(InvalidArgument("custom_metadata validation failed: value for key \"" + k +
                                 "\" must be a string"));
    }
  }
  return out;
}

// The fields of a metadata write, parsed and checked before anything changes.
struct MetadataFields {
  std::optional<std::uint32_t> max_versions;
  std::optional<bool> cas_required;
  std::optional<std::int64_t> delete_version_after;
  std::optional<std::map<std::string, std::optional<std::string>>> custom_metadata;
  // A patch's "custom_metadata": null: every key goes, then custom_metadata
  // (empty) applies.
  bool clear_custom_metadata = false;
  bool Empty() const {
    return !max_versions && !cas_required && !delete_version_after && !custom_metadata;
  }
};

Result<MetadataFields> ParseMetadataFields(const Request& request, bool patch) {
  if (!request.data.is_object())
    return Err(InvalidArgument("the request body must be a JSON object"));
  MetadataFields f;
  // A null is a JSON merge patch's "remove": in a patch it sets the field
  // back to its default (0, false, none). In a write, Vault's Go client
  // sends "custom_metadata": null for no custom metadata, which clears it;
  // a null elsewhere is as if the field were not given.
  if (patch) {
    if (const Json* v = request.Field("max_versions"); v && v->is_null()) f.max_versions = 0;
    if (const Json* v = request.Field("cas_required"); v && v->is_null()) f.cas_required = false;
    if (const Json* v = request.Field("delete_version_after"); v && v->is_null()) {
      f.delete_version_after = 0;
    }
  }
  if (const Json* v = request.Field("custom_metadata"); v && v->is_null()) {
    f.custom_metadata.emplace();
    f.clear_custom_metadata = patch;
  }
  if (const Json* v = request.Field("max_versions"); v && !v->is_null()) {
    ASSIGN_OR_RETURN(f.max_versions, ParseMaxVersions(*v));
  }
  if (const Json* v = request.Field("cas_required"); v && !v->is_null()) {
    ASSIGN_OR_RETURN(f.cas_required, ParseBool(*v, "cas_required"));
  }
  if (const Json* v = request.Field("delete_version_after"); v && !v->is_null()) {
    ASSIGN_OR_RETURN(std::int64_t dva, ParseDurationSeconds(*v, "delete_version_after"));
    if (dva < 0) return Err(InvalidArgument("\"delete_version_after\" must not be negative"));
    f.delete_version_after = dva;
  }
  if (const Json* v = request.Field("custom_metadata"); v && !v->is_null()) {
    ASSIGN_OR_RETURN(f.custom_metadata, ParseCustomMetadata(*v, patch));
    std::map<std::string, std::string> present;
    for (const auto& [k, val] : *f.custom_metadata) {
      if (val) present[k] = *val;
    }
    TRY(ValidateCustomMetadata(present));
  }
  return f;
}

}  // namespace

Result<Response> KvV2Backend::ReadConfigResponse() {
  ASSIGN_OR_RETURN(Config config, ReadConfig());
  Response r;
  r.data = Json{{"max_versions", config.max_versions},
                {"cas_required", config.cas_required},
                {"delete_version_after", FormatDurationSeconds(config.delete_version_after)}};
  return r;
}

Result<Response> KvV2Backend::WriteConfig(const Request& request) {
  if (!request.data.is_object())
    return Err(InvalidArgument("the request body must be a JSON object"));
  std::optional<std::uint32_t> max_versions;
  std::optional<bool> cas_required;
  std::optional<std::int64_t> dva;
  if (const Json* v = request.Field("max_versions"); v && !v->is_null()) {
    ASSIGN_OR_RETURN(max_versions, ParseMaxVersions(*v));
  }
  if (const Json* v = request.Field("cas_required"); v && !v->is_null()) {
    ASSIGN_OR_RETURN(cas_required, ParseBool(*v, "cas_required"));
  }
  if (const Json* v = request.Field("delete_version_after"); v && !v->is_null()) {
    ASSIGN_OR_RETURN(std::int64_t secs, ParseDurationSeconds(*v, "delete_version_after"));
    dva = secs < 0 ? -1 : secs;  // negative disables it mount-wide, 0 clears it
  }
  if (!max_versions && !cas_required && !dva) return NoContent();

  for (int attempt = 0; attempt < kMaxConfigAttempts; ++attempt) {
    ASSIGN_OR_RETURN(auto entry, storage_.Get(kConfigKey));
    Config config;
    if (entry) {
      ASSIGN_OR_RETURN(config, DecodeConfig(entry->value));
    }
    if (max_versions) config.max_versions = *max_versions;
    if (cas_required) config.cas_required = *cas_required;
    if (dva) config.delete_version_after = *dva;
    storage::Compare compare{std::string(kConfigKey), entry ? entry->revision : 0};
    storage::Op op{storage::Op::Kind::kPut, std::string(kConfigKey), EncodeConfig(config)};
    Status s = storage_.Transact(std::span<const storage::Compare>(&compare, 1),
                                 std::span<const storage::Op>(&op, 1));
    InvalidateConfig();  // even on failure: the next write re-reads it
    if (s.ok()) return NoContent();
    if (s.code() != Code::kConflict) return Err(std::move(s));
  }
  return Err(Unavailable("too many concurrent changes to the config; retry the request"));
}

Result<Response> KvV2Backend::ChangeVersions(const std::string& key, const Request& request,
                                             std::string_view action) {
  TRY(ValidateSecretKey(key));
  std::vector<std::uint64_t> versions;
  if (auto v = Param(request, "versions")) {
    ASSIGN_OR_RETURN(versions, ParseVersionList(*v, "versions"));
  }
  if (versions.empty()) return Err(InvalidArgument("no version number provided"));
  ASSIGN_OR_RETURN(Config config, ReadConfig());

  auto mutate = [&](std::optional<KeyMetadata>& meta, std::string& current,
                    Nanos now) -> Result<Mutation> {
    Mutation m;
    m.response = NoContent();
    if (!meta) return m;
    bool changed = false;
    for (std::uint64_t n : versions) {
      auto it = meta->versions.find(n);
      if (it == meta->versions.end() || it->second.destroyed) continue;
      VersionMeta& v = it->second;
      if (action == "delete") {
        if (IsDeleted(v, now)) continue;
        v.deletion_time = now;
      } else if (action == "undelete") {
        v.deletion_time = ScheduledDeletion(now, config, *meta);
      } else {  // destroy: the data goes for good, the version entry stays
        v.destroyed = true;
        if (EntryHoldsVersion(*meta, current, n)) {
          current.clear();  // the entry held it: rewritten without it
        } else {
          m.ops.push_back({storage::Op::Kind::kDelete, VersionKey(key, n), {}});
        }
      }
      changed = true;
    }
    if (changed) m.meta_action = Mutation::MetaAction::kPut;
    return m;
  };
  return Mutate(key, mutate);
}

namespace {

// A metadata read's body.
Json MetadataJson(const KeyMetadata& meta) {
  Json versions = Json::object();
  for (const auto& [n, v] : meta.versions) {
    versions[std::to_string(n)] = Json{{"created_time", FormatTime(v.created_time)},
                                       {"deletion_time", FormatOptionalTime(v.deletion_time)},
                                       {"destroyed", v.destroyed}};
  }
  return Json{{"versions", std::move(versions)},
              {"current_version", meta.current_version},
              {"oldest_version", meta.oldest_version},
              {"created_time", FormatTime(meta.created_time)},
              {"updated_time", FormatTime(meta.updated_time)},
              {"max_versions", meta.max_versions},
              {"cas_required", meta.cas_required},
              {"delete_version_after", FormatDurationSeconds(meta.delete_version_after)},
              {"custom_metadata", CustomMetadataJson(meta)}};
}

}  // namespace

Result<Response> KvV2Backend::ReadMetadataResponse(const std::string& key) {
  if (!ValidateSecretKey(key).ok()) return NotFoundResponse();
  ASSIGN_OR_RETURN(std::shared_ptr<const KeyMetadata> meta, ReadMetadata(key));
  if (!meta) return NotFoundResponse();
  Response r;
  r.data = MetadataJson(*meta);
  return r;
}

Result<Response> KvV2Backend::WriteMetadata(const std::string& key, const Request& request,
                                            bool patch) {
  TRY(ValidateSecretKey(key));
  ASSIGN_OR_RETURN(MetadataFields f, ParseMetadataFields(request, patch));
  if (f.Empty() && !patch) return NoContent();
  ASSIGN_OR_RETURN(Config config, ReadConfig());

  auto mutate = [&](std::optional<KeyMetadata>& meta, std::string&, Nanos now) -> Result<Mutation> {
    Mutation m;
    if (!meta) {
      if (patch) {
        m.response = NotFoundResponse();
        return m;
      }
      meta.emplace();
      meta->created_time = now;
      meta->updated_time = now;
    }
    meta->updated_time = now;  // as OpenBao's metadata write and patch
    if (f.max_versions) meta->max_versions = *f.max_versions;
    if (f.cas_required) meta->cas_required = *f.cas_required;
    if (f.delete_version_after) meta->delete_version_after = *f.delete_version_after;
    if (f.custom_metadata) {
      std::map<std::string, std::string> cm;
      if (patch && !f.clear_custom_metadata && meta->custom_metadata) cm = *meta->custom_metadata;
      for (const auto& [k, v] : *f.custom_metadata) {
        if (v) {
          cm[k] = *v;
        } else {
          cm.erase(k);
        }
      }
      TRY(ValidateCustomMetadata(cm));  // a patch may push it over the key limit
      meta->custom_metadata = std::move(cm);
    }
    m.meta_action = Mutation::MetaAction::kPut;
    m.response = NoContent();
    if (f.cas_required && !*f.cas_required && config.cas_required) {
      m.response.http_status = 200;
      m.response.warnings = Json::array({kCasIgnoredWarning});
    }
    return m;
  };
  return Mutate(key, mutate);
}

Result<Response> KvV2Backend::DeleteMetadata(const std::string& key) {
  TRY(ValidateSecretKey(key));
  auto mutate = [&](std::optional<KeyMetadata>& meta, const std::string& current,
                    Nanos) -> Result<Mutation> {
    Mutation m;
    m.response = NoContent();
    if (!meta) return m;
    for (const auto& [n, v] : meta->versions) {
      if (v.destroyed || EntryHoldsVersion(*meta, current, n)) continue;
      m.ops.push_back({storage::Op::Kind::kDelete, VersionKey(key, n), {}});
    }
    m.meta_action = Mutation::MetaAction::kDelete;
    return m;
  };
  return Mutate(key, mutate);
}

Result<Response> KvV2Backend::ListMetadata(std::string folder, const Request& request,
                                           bool detailed) {
  while (!folder.empty() && folder.back() == '/') folder.pop_back();
  if (!folder.empty() && !ValidateSecretKey(folder).ok()) return NotFoundResponse();
  const std::string base = std::string(kMetadataPrefix) + (folder.empty() ? "" : folder + "/");
  ASSIGN_OR_RETURN(ListPage page, ListFolder(storage_, base, request));
  if (!detailed || page.keys.empty()) return PageResponse(std::move(page));
  // OpenBao's detailed-metadata: each key's metadata as a metadata read
  // shows it; {} for a folder, or for a key deleted since it was listed.
  Json key_info = Json::object();
  for (const std::string& name : page.keys) {
    Json info = Json::object();
    if (name.back() != '/') {
      const std::string key = folder.empty() ? name : folder + "/" + name;
      ASSIGN_OR_RETURN(std::shared_ptr<const KeyMetadata> meta, ReadMetadata(key));
      if (meta) info = MetadataJson(*meta);
    }
    key_info[name] = std::move(info);
  }
  Response r = PageResponse(std::move(page));
  r.data["key_info"] = std::move(key_info);
  return r;
}

}  // namespace coffer::engines::kv
