#include "engines/kv/records.h"

#include <charconv>
#include <chrono>
#include <limits>

#include "common/clock.h"
#include "common/encoding.h"
#include "common/json_fast.h"
#include "common/json_numbers.h"

namespace coffer::engines::kv {
namespace {

// Every KV read decodes two records: simdjson first (common/json_fast.h),
// nlohmann's parser only for what simdjson does not represent.
Result<Json> ParseRecord(std::string_view raw, std::string_view what) {
  Json j = ParseJson(raw);
  if (j.is_discarded() || !j.is_object()) {
    return Err(Internal("kv: corrupt " + std::string(what) + " record"));
  }
  return j;
}

Json OptionalNanos(std::optional<Nanos> t) { return t ? Json(*t) : Json(nullptr); }

}  // namespace

std::string MetadataKey(std::string_view key) {
  return std::string(kMetadataPrefix) + std::string(key);
}

std::string VersionKey(std::string_view key, std::uint64_t version) {
  return "versions/" + std::string(key) + "/" + std::to_string(version);
}

std::string EncodeConfig(const Config& c) {
  return Json{{"max_versions", c.max_versions},
              {"cas_required", c.cas_required},
              {"delete_version_after", c.delete_version_after}}
      .dump();
}

Result<Config> DecodeConfig(std::string_view raw) {
  ASSIGN_OR_RETURN(Json j, ParseRecord(raw, "config"));
  try {
    Config c;
    c.max_versions = j.at("max_versions").get<std::uint32_t>();
    c.cas_required = j.at("cas_required").get<bool>();
    c.delete_version_after = j.at("delete_version_after").get<std::int64_t>();
    return c;
  } catch (const Json::exception&) {
    return Err(Internal("kv: corrupt config record"));
  }
}

std::string EncodeMetadata(const KeyMetadata& m) {
  Json versions = Json::object();
  for (const auto& [n, v] : m.versions) {
    versions[std::to_string(n)] = Json{{"created_time", v.created_time},
                                       {"deletion_time", OptionalNanos(v.deletion_time)},
                                       {"destroyed", v.destroyed}};
  }
  return Json{{"current_version", m.current_version},
              {"oldest_version", m.oldest_version},
              {"max_versions", m.max_versions},
              {"cas_required", m.cas_required},
              {"delete_version_after", m.delete_version_after},
              {"custom_metadata", CustomMetadataJson(m)},
              {"created_time", m.created_time},
              {"updated_time", m.updated_time},
              {"versions", std::move(versions)}}
      .dump();
}

std::string EncodeMetadataEntry(const KeyMetadata& m, std::string_view current) {
  std::string out = EncodeMetadata(m);
  if (!current.empty()) {
    out.reserve(out.size() + 1 + current.size());
    out += '\n';
    out += current;
  }
  return out;
}

MetadataEntryParts SplitMetadataEntry(std::string_view raw) {
  const std::size_t nl = raw.find('\n');
  if (nl == std::string_view::npos) return {raw, {}};
  return {raw.substr(0, nl), raw.substr(nl + 1)};
}

Result<KeyMetadata> DecodeMetadata(std::string_view raw) {
  if (std::optional<KeyMetadata> fast = DecodeMetadataFast(raw)) return *std::move(fast);
  return DecodeMetadataDom(raw);
}

Result<KeyMetadata> DecodeMetadataDom(std::string_view raw) {
  ASSIGN_OR_RETURN(Json j, ParseRecord(raw, "metadata"));
  try {
    KeyMetadata m;
    m.current_version = j.at("current_version").get<std::uint64_t>();
    m.oldest_version = j.at("oldest_version").get<std::uint64_t>();
    m.max_versions = j.at("max_versions").get<std::uint32_t>();
    m.cas_required = j.at("cas_required").get<bool>();
    m.delete_version_after = j.at("delete_version_after").get<std::int64_t>();
    const Json& cm = j.at("custom_metadata");
    if (!cm.is_null()) m.custom_metadata = cm.get<std::map<std::string, std::string>>();
    m.created_time = j.at("created_time").get<Nanos>();
    m.updated_time = j.at("updated_time").get<Nanos>();
    for (const auto& [n, v] : j.at("versions").items()) {
      VersionMeta vm;
      vm.created_time = v.at("created_time").get<Nanos>();
      const Json& dt = v.at("deletion_time");
      if (!dt.is_null()) vm.deletion_time = dt.get<Nanos>();
      vm.destroyed = v.at("destroyed").get<bool>();
      std::uint64_t number = 0;
      auto [end, ec] = std::from_chars(n.data(), n.data() + n.size(), number);
      if (ec != std::errc() || end != n.data() + n.size() || n.empty()) {
        return Err(Internal("kv: corrupt metadata record"));  // "1x", "", "-1"
      }
      m.versions[number] = vm;
    }
    return m;
  } catch (const Json::exception&) {
    return Err(Internal("kv: corrupt metadata record"));
  }
}

std::string EncodeVersion(const VersionRecord& v) {
  if (v.number_text) {
    return DumpJsonWithNumberText(Json{{"data", v.data}, {"created_time", v.created_time}});
  }
  std::string out = Json{{"data", v.data}, {"created_time", v.created_time}}.dump();
  // Reads answer the stored data as it is (ReadDataText): its numbers are
  // stored as Go prints them, as every other answer prints them
  // (common/encoding.h).
  GoStyleExponents(out);
  return out;
}

namespace {

Result<VersionRecord> VersionFromTree(Json j) {
  try {
    VersionRecord v;
    v.data = std::move(j.at("data"));
    v.created_time = j.at("created_time").get<Nanos>();
    if (!v.data.is_object()) return Err(Internal("kv: corrupt version record"));
    return v;
  } catch (const Json::exception&) {
    return Err(Internal("kv: corrupt version record"));
  }
}

}  // namespace

Result<VersionRecord> DecodeVersion(std::string_view raw) {
  ASSIGN_OR_RETURN(Json j, ParseRecord(raw, "version"));
  return VersionFromTree(std::move(j));
}

Result<VersionRecord> DecodeVersionAsWritten(std::string_view raw) {
  auto parsed = ParseJsonNumbers(raw, kKeepNumberText);
  if (!parsed || !parsed->value.is_object()) return Err(Internal("kv: corrupt version record"));
  ASSIGN_OR_RETURN(VersionRecord v, VersionFromTree(std::move(parsed->value)));
  v.number_text = parsed->inexact_numbers;
  return v;
}

bool IsDeleted(const VersionMeta& v, Nanos now) {
  // Vault compares with Before(now); a deletion stamped at this very instant
  // counts as done here, so a delete is visible to the next read even with a
  // clock that did not move.
  return v.deletion_time.has_value() && *v.deletion_time <= now;
}

std::vector<std::uint64_t> AddVersion(KeyMetadata& m, Nanos created, std::optional<Nanos> deletion,
                                      const Config& config) {
  m.current_version++;
  m.versions[m.current_version] = VersionMeta{created, deletion, false};
  m.updated_time = created;
  if (m.created_time == 0) m.created_time = created;

  // The key's setting overrides the mount's, as documented by Vault.
  std::uint32_t max_versions = m.max_versions != 0        ? m.max_versions
                               : config.max_versions != 0 ? config.max_versions
                                                          : kDefaultMaxVersions;
  std::vector<std::uint64_t> removed;
  if (m.current_version - m.oldest_version < max_versions) return removed;
  std::uint64_t drop_through = m.current_version - max_versions;
  auto end = m.versions.upper_bound(drop_through);
  for (auto it = m.versions.begin(); it != end; ++it) removed.push_back(it->first);
  m.versions.erase(m.versions.begin(), end);
  m.oldest_version = drop_through + 1;
  return removed;
}

std::optional<Nanos> ScheduledDeletion(Nanos at, const Config& config, const KeyMetadata& m) {
  if (config.delete_version_after < 0) return std::nullopt;
  std::int64_t mount = config.delete_version_after;
  std::int64_t key = m.delete_version_after;
  if (mount == 0 && key == 0) return std::nullopt;
  std::int64_t secs = key;
  if (secs == 0 || (mount != 0 && mount < secs)) secs = mount;
  // Saturated: a long delay (100000d, which Vault takes) must not wrap
  // around into the past and delete every version as it is written.
  Nanos delay = 0;
  Nanos when = 0;
  if (__builtin_mul_overflow(secs, Nanos{1'000'000'000}, &delay) ||
      __builtin_add_overflow(at, delay, &when)) {
    return std::numeric_limits<Nanos>::max();
  }
  return when;
}

std::string FormatTime(Nanos t) {
  return FormatRfc3339(std::chrono::system_clock::time_point(
      std::chrono::duration_cast<std::chrono::system_clock::duration>(
          std::chrono::nanoseconds(t))));
}

std::string FormatOptionalTime(std::optional<Nanos> t) { return t ? FormatTime(*t) : ""; }

// None, or none left, is null: Vault's stored (protobuf) map reads back as
// nil once empty.
Json CustomMetadataJson(const KeyMetadata& m) {
  if (!m.custom_metadata || m.custom_metadata->empty()) return nullptr;
  return Json(*m.custom_metadata);
}

Json VersionMetadataJson(const KeyMetadata& m, std::uint64_t version, const VersionMeta& v) {
  return Json{{"created_time", FormatTime(v.created_time)},
              {"custom_metadata", CustomMetadataJson(m)},
              {"deletion_time", FormatOptionalTime(v.deletion_time)},
              {"destroyed", v.destroyed},
              {"version", version}};
}

std::optional<std::string_view> VersionDataText(std::string_view raw) {
  // EncodeVersion's dump sorts the keys: {"created_time":<int>,"data":{...}}.
  constexpr std::string_view kHead = "{\"created_time\":";
  constexpr std::string_view kData = ",\"data\":";
  if (!raw.starts_with(kHead)) return std::nullopt;
  std::size_t i = kHead.size();
  if (i < raw.size() && raw[i] == '-') ++i;
  const std::size_t digits = i;
  while (i < raw.size() && raw[i] >= '0' && raw[i] <= '9') ++i;
  if (i == digits || raw.substr(i, kData.size()) != kData) return std::nullopt;
  i += kData.size();
  // The data object must run to the record's closing brace and no further:
  // walk it (strings skipped) to where its braces balance.
  if (i >= raw.size() || raw[i] != '{') return std::nullopt;
  const std::size_t start = i;
  int depth = 0;
  for (; i < raw.size(); ++i) {
    const char c = raw[i];
    if (c == '"') {
      for (++i; i < raw.size() && raw[i] != '"'; ++i) {
        if (raw[i] == '\\') ++i;  // the escaped character cannot end the string
      }
    } else if (c == '{' || c == '[') {
      ++depth;
    } else if ((c == '}' || c == ']') && --depth == 0) {
      break;
    }
  }
  if (depth != 0 || i + 2 != raw.size() || raw[i + 1] != '}') return std::nullopt;
  return raw.substr(start, i + 1 - start);
}

std::string ReadDataText(std::string_view data, const KeyMetadata& m, std::uint64_t version,
                         const VersionMeta& v) {
  std::string out;
  out.reserve(data.size() + 160);
  out += "{\"data\":";
  out += data;
  // The times are RFC 3339 digits and punctuation: nothing to escape.
  out += ",\"metadata\":{\"created_time\":\"";
  out += FormatTime(v.created_time);
  out += "\",\"custom_metadata\":";
  if (m.custom_metadata) {
    out += CustomMetadataJson(m).dump(-1, ' ', false, Json::error_handler_t::replace);
  } else {
    out += "null";
  }
  out += ",\"deletion_time\":\"";
  out += FormatOptionalTime(v.deletion_time);
  out += v.destroyed ? "\",\"destroyed\":true,\"version\":" : "\",\"destroyed\":false,\"version\":";
  out += std::to_string(version);
  out += "}}";
  return out;
}

}  // namespace coffer::engines::kv
