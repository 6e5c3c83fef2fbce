#pragma once
// What the KV v2 engine keeps in its storage view, and how it is encoded.
//
// Layout:
//   config                     mount settings (Config, JSON)
//   metadata/<key>             one entry per secret: its KeyMetadata (JSON: the
//                              version table and settings), then, when the
//                              current version's data is kept with it, a '\n'
//                              and that version's VersionRecord (JSON)
//   versions/<key>/<n>         one VersionRecord (JSON) per live version n whose
//                              data is not in the metadata entry
//
// A version's data is in exactly one place. A write keeps the new version's
// record in the metadata entry and moves the one it supersedes (if it was
// there) out to versions/<key>/<n>, in one Transact guarded by the metadata
// entry's revision; a destroy of the current version drops it from the
// entry. Reading the latest version is then one Get of the metadata entry,
// where it was two (the metadata, then the version): half the storage
// lookups of a read that misses the read cache. Entries written before this
// layout (no '\n'; every version under versions/) read as they are, and move
// over with the key's next write. JSON text never holds a raw newline
// (nlohmann's dump escapes it), so the first '\n' is the boundary.
//
// Times are nanoseconds since the Unix epoch (wall clock); durations are
// whole seconds, as Vault's API takes them.

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace coffer::engines::kv {

using Json = nlohmann::json;
using Nanos = std::int64_t;

inline constexpr std::uint32_t kDefaultMaxVersions = 10;

struct Config {
  std::uint32_t max_versions = 0;  // 0 = default (10)
  bool cas_required = false;
  // Seconds; 0 = unset, negative = disabled for every key of the mount.
  std::int64_t delete_version_after = 0;
};

struct VersionMeta {
  Nanos created_time = 0;
  std::optional<Nanos> deletion_time;  // soft delete, now or scheduled
  bool destroyed = false;
};

struct KeyMetadata {
  std::uint64_t current_version = 0;
  std::uint64_t oldest_version = 0;
  std::uint32_t max_versions = 0;  // 0 = use the mount's
  bool cas_required = false;
  std::int64_t delete_version_after = 0;  // seconds, 0 = use the mount's
  std::optional<std::map<std::string, std::string>> custom_metadata;  // null until set
  Nanos created_time = 0;
  Nanos updated_time = 0;
  std::map<std::uint64_t, VersionMeta> versions;
};

struct VersionRecord {
  Json data = Json::object();
  Nanos created_time = 0;
  // `data` holds number texts: numbers kept as the client wrote them
  // (common/json_numbers.h), which EncodeVersion writes as they are.
  bool number_text = false;
};

// Storage keys.
inline constexpr std::string_view kConfigKey = "config";
inline constexpr std::string_view kMetadataPrefix = "metadata/";
std::string MetadataKey(std::string_view key);
std::string VersionKey(std::string_view key, std::uint64_t version);

// Encoding. Decoders answer kInternal for a corrupt record (the message names
// no value).
std::string EncodeConfig(const Config& c);
Result<Config> DecodeConfig(std::string_view raw);
std::string EncodeMetadata(const KeyMetadata& m);
// A metadata entry: EncodeMetadata(m), then '\n' and `current` (the
// VersionRecord text of m.current_version) unless `current` is empty.
std::string EncodeMetadataEntry(const KeyMetadata& m, std::string_view current);
// The two parts of a metadata entry: the KeyMetadata text, and the current
// version's record text (empty when the entry does not hold it).
struct MetadataEntryParts {
  std::string_view metadata;
  std::string_view current;
};
MetadataEntryParts SplitMetadataEntry(std::string_view raw);
// True when version n's record is the `current` part of m's entry; else it
// is under versions/ (or gone).
inline bool EntryHoldsVersion(const KeyMetadata& m, std::string_view current, std::uint64_t n) {
  return n == m.current_version && !current.empty();
}
Result<KeyMetadata> DecodeMetadata(std::string_view raw);
// DecodeMetadata's two paths: simdjson straight into the struct
// (metadata_fast.cc; nullopt for anything but a well-formed record as
// EncodeMetadata writes it), else a JSON DOM (older or unusual records, and
// the error for corrupt ones). Where the fast path answers, both agree
// (tests/engines/kv/records_test.cc, fuzz/fuzz_json_fast.cc).
std::optional<KeyMetadata> DecodeMetadataFast(std::string_view raw);
Result<KeyMetadata> DecodeMetadataDom(std::string_view raw);
std::string EncodeVersion(const VersionRecord& v);
Result<VersionRecord> DecodeVersion(std::string_view raw);
// DecodeVersion, with the numbers a double would change kept as number
// texts (number_text says whether there were any): for a patch, which
// stores the data again, and for an answer given as a tree.
Result<VersionRecord> DecodeVersionAsWritten(std::string_view raw);

// True when the version reads as deleted at `now` (a deletion time that has
// been reached, including one scheduled by delete_version_after).
bool IsDeleted(const VersionMeta& v, Nanos now);

// Adds version current+1 created at `created` and moves the max_versions
// window as Vault does (the key's max_versions, else the mount's, else 10).
// Returns the versions that fell out of the window: they are gone from
// `versions` and the caller must delete their records.
std::vector<std::uint64_t> AddVersion(KeyMetadata& m, Nanos created, std::optional<Nanos> deletion,
                                      const Config& config);

// The deletion time of a version created (or undeleted) at `at`, from the
// smallest non-zero of the mount's and the key's delete_version_after; none
// when both are unset or the mount disabled it.
std::optional<Nanos> ScheduledDeletion(Nanos at, const Config& config, const KeyMetadata& m);

// JSON shapes of the API.
std::string FormatTime(Nanos t);                         // RFC 3339, nanoseconds
std::string FormatOptionalTime(std::optional<Nanos> t);  // "" when unset
Json CustomMetadataJson(const KeyMetadata& m);           // object or null
// {created_time, custom_metadata, deletion_time, destroyed, version}
Json VersionMetadataJson(const KeyMetadata& m, std::uint64_t version, const VersionMeta& v);

// A read's answer as JSON text, without a JSON tree on the way: the stored
// "data" object goes out as the bytes EncodeVersion wrote. nlohmann's dump
// of a parsed dump is the dump itself, so the text is what rendering
// {"data": DecodeVersion(raw).data, "metadata": VersionMetadataJson(...)}
// gives (tests/engines/kv/records_test.cc holds the two side by side).
//
// The "data" object of a version record as EncodeVersion wrote it, or
// nullopt for a record of any other shape (DecodeVersion reads those).
std::optional<std::string_view> VersionDataText(std::string_view raw);
// {"data":<data>,"metadata":{...}}, keys in the order the tree renders them.
std::string ReadDataText(std::string_view data, const KeyMetadata& m, std::uint64_t version,
                         const VersionMeta& v);

}  // namespace coffer::engines::kv
