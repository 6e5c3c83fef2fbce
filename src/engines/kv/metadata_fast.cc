// DecodeMetadataFast (records.h): a key's metadata record read with simdjson
// straight into KeyMetadata, without building a JSON DOM first. Every KV v2
// read decodes one; through nlohmann's DOM that took 4.9 µs
// (bench/micro_core, BM_KvDecodeMetadata).
//
// Strict on purpose: every field must be present with the type the encoder
// (EncodeMetadata) writes. Anything else returns nullopt and DecodeMetadata
// takes its DOM path, which keeps the behaviour of older records and the
// error for corrupt ones.

#include <charconv>

// simdjson.h is large: it comes in through json_scratch.h, included only
// here and in src/common/json_fast.cc.
#include "common/json_scratch.h"
#include "engines/kv/records.h"

namespace coffer::engines::kv {
namespace {

namespace dom = simdjson::dom;

bool ReadUnsigned(dom::element e, std::uint64_t& out) {
  // The encoder writes non-negative integers; simdjson types those that fit
  // in int64 as INT64.
  if (e.is_uint64()) return e.get_uint64().get(out) == simdjson::SUCCESS;
  return false;
}

bool ReadSigned(dom::element e, std::int64_t& out) {
  return e.is_int64() && e.get_int64().get(out) == simdjson::SUCCESS;
}

bool ReadBool(dom::element e, bool& out) {
  return e.is_bool() && e.get_bool().get(out) == simdjson::SUCCESS;
}

bool ReadVersion(dom::element e, VersionMeta& out) {
  dom::object fields;
  if (e.get_object().get(fields) != simdjson::SUCCESS) return false;
  int seen = 0;
  for (auto [name, value] : fields) {
    if (name == "created_time") {
      if (!ReadSigned(value, out.created_time)) return false;
      seen |= 1;
    } else if (name == "deletion_time") {
      if (value.is_null()) {
        out.deletion_time.reset();
      } else {
        std::int64_t t = 0;
        if (!ReadSigned(value, t)) return false;
        out.deletion_time = t;
      }
      seen |= 2;
    } else if (name == "destroyed") {
      if (!ReadBool(value, out.destroyed)) return false;
      seen |= 4;
    }
  }
  return seen == 7;
}

bool ReadVersions(dom::element e, std::map<std::uint64_t, VersionMeta>& out) {
  dom::object versions;
  if (e.get_object().get(versions) != simdjson::SUCCESS) return false;
  for (auto [name, value] : versions) {
    // Canonical decimal only: "01" and "1" would be one version in two
    // orders (document order here, sorted in the DOM).
    if (name.empty() || (name.size() > 1 && name[0] == '0')) return false;
    std::uint64_t n = 0;
    auto [end, ec] = std::from_chars(name.data(), name.data() + name.size(), n);
    if (ec != std::errc() || end != name.data() + name.size()) return false;
    VersionMeta v;
    if (!ReadVersion(value, v)) return false;
    out[n] = v;
  }
  return true;
}

bool ReadCustomMetadata(dom::element e, std::optional<std::map<std::string, std::string>>& out) {
  if (e.is_null()) {
    out.reset();
    return true;
  }
  dom::object fields;
  if (e.get_object().get(fields) != simdjson::SUCCESS) return false;
  out.emplace();
  for (auto [name, value] : fields) {
    std::string_view text;
    if (value.get_string().get(text) != simdjson::SUCCESS) return false;
    (*out)[std::string(name)] = std::string(text);
  }
  return true;
}

}  // namespace

std::optional<KeyMetadata> DecodeMetadataFast(std::string_view raw) {
  // The thread's kept parser, wiped when `parse` goes out of scope.
  internal::ScratchParse parse(raw);
  dom::element root;
  if (parse.root().get(root) != simdjson::SUCCESS) return std::nullopt;
  dom::object fields;
  if (root.get_object().get(fields) != simdjson::SUCCESS) return std::nullopt;
  KeyMetadata m;
  std::uint64_t max_versions = 0;
  int seen = 0;
  bool ok = true;
  for (auto [name, value] : fields) {
    if (name == "current_version") {
      ok = ReadUnsigned(value, m.current_version), seen |= 1 << 0;
    } else if (name == "oldest_version") {
      ok = ReadUnsigned(value, m.oldest_version), seen |= 1 << 1;
    } else if (name == "max_versions") {
      ok = ReadUnsigned(value, max_versions) && max_versions <= UINT32_MAX, seen |= 1 << 2;
    } else if (name == "cas_required") {
      ok = ReadBool(value, m.cas_required), seen |= 1 << 3;
    } else if (name == "delete_version_after") {
      ok = ReadSigned(value, m.delete_version_after), seen |= 1 << 4;
    } else if (name == "custom_metadata") {
      ok = ReadCustomMetadata(value, m.custom_metadata), seen |= 1 << 5;
    } else if (name == "created_time") {
      ok = ReadSigned(value, m.created_time), seen |= 1 << 6;
    } else if (name == "updated_time") {
      ok = ReadSigned(value, m.updated_time), seen |= 1 << 7;
    } else if (name == "versions") {
      m.versions.clear();  // a duplicate key replaces, as in the DOM path
      ok = ReadVersions(value, m.versions), seen |= 1 << 8;
    }
    if (!ok) return std::nullopt;
  }
  if (seen != (1 << 9) - 1) return std::nullopt;
  m.max_versions = static_cast<std::uint32_t>(max_versions);
  return m;
}

}  // namespace coffer::engines::kv
