// The KV v1 → v2 upgrade, and why an interrupted one never loses a secret
// nor shows a v2 record as a v1 secret.
//
// A v1 secret "k" lives at view key "k"; its v2 form is "metadata/k", which
// holds version 1 (records.h). Both namespaces share the view, and any string
// is a valid v1 key, so "metadata/k" may itself be a v1 secret. Two rules make the
// conversion safe anyway:
//
//  - Keys are converted longest first (then bytewise). The v2 records of "k"
//    are longer than "k", so they can only land where a longer v1 key was,
//    and every longer key has been converted (its record deleted) already:
//    converting never overwrites a secret not yet converted.
//  - Each batch of keys is one storage Transact: the v2 records of each key,
//    the delete of its v1 record, and the marker rewritten with the last key
//    converted (the cursor). A crash leaves every key either wholly v1 or
//    wholly v2, and the cursor says which: keys after it in the order are v1
//    secrets; anything before it (or the v2 records written so far, all
//    longer than the cursor) is v2. Resuming lists the view again and
//    converts only what comes after the cursor.
//
// The marker is created with the mount table's switch to version 2 (one
// transaction, router/Router::Retune), so a v1 engine never sees it, and the
// v2 engine finishes the conversion in Initialize, before it serves.

#include "engines/kv/upgrade.h"

#include <algorithm>

#include "common/json_numbers.h"
#include "engines/kv/kv_v1.h"
#include "engines/kv/kv_v2.h"
#include "storage/list_tree.h"

namespace coffer::engines::kv {
namespace {

// Keys per transaction: three ops each plus the marker stays far below the
// op limits of the distributed backends (etcd allows 128 per transaction).
constexpr std::size_t kKeysPerBatch = 16;

// The conversion order: longest first, then bytewise.
bool ConvertsBefore(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return a.size() > b.size();
  return a < b;
}

std::string MarkerValue(const std::optional<std::string>& cursor) {
  return Json{{"cursor", cursor ? Json(*cursor) : Json(nullptr)}}.dump();
}

// The ops that turn the v1 record `raw` at `key` into version 1 of `key`.
Status AppendConversion(const std::string& key, std::string_view raw, Nanos now,
                        std::vector<storage::Op>& ops) {
  // Numbers stay as the client wrote them (common/json_numbers.h).
  auto parsed = ParseJsonNumbers(raw, kKeepNumberText);
  if (!parsed || !parsed->value.is_object()) {
    return Internal("kv upgrade: the secret record at \"" + key +
                    "\" is not a JSON object; the upgrade stopped before it");
  }
  KeyMetadata meta;
  AddVersion(meta, now, std::nullopt, Config{});
  VersionRecord record{std::move(parsed->value), now, parsed->inexact_numbers};
  ops.push_back({storage::Op::Kind::kPut, MetadataKey(key),
                 EncodeMetadataEntry(meta, EncodeVersion(record))});
  ops.push_back({storage::Op::Kind::kDelete, key, {}});
  return Status::Ok();
}

}  // namespace

storage::Op UpgradeMarkerOp() {
  return {storage::Op::Kind::kPut, std::string(kUpgradeMarkerKey), MarkerValue(std::nullopt)};
}

Status FinishUpgrade(storage::Backend& view, Nanos now) {
  ASSIGN_OR_RETURN(auto marker, view.Get(kUpgradeMarkerKey));
  if (!marker) return Status::Ok();
  Json state = Json::parse(marker->value, nullptr, /*allow_exceptions=*/false);
  if (state.is_discarded() || !state.is_object()) {
    return Internal("kv upgrade: corrupt upgrade marker");
  }
  std::optional<std::string> cursor;
  if (auto it = state.find("cursor"); it != state.end() && it->is_string()) {
    cursor = it->get<std::string>();
  }

  ASSIGN_OR_RETURN(std::vector<std::string> keys, storage::ListTree(view, ""));
  std::erase_if(keys, [&](const std::string& k) {
    return k == kUpgradeMarkerKey || (cursor && !ConvertsBefore(*cursor, k));
  });
  std::sort(keys.begin(), keys.end(), ConvertsBefore);

  // Each batch is guarded by the marker's revision: a second process
  // converting the same mount fails with kConflict instead of interleaving.
  std::uint64_t revision = marker->revision;
  for (std::size_t begin = 0; begin < keys.size(); begin += kKeysPerBatch) {
    const std::size_t end = std::min(keys.size(), begin + kKeysPerBatch);
    std::vector<storage::Op> ops;
    for (std::size_t i = begin; i < end; ++i) {
      ASSIGN_OR_RETURN(auto record, view.Get(keys[i]));
      if (!record) continue;  // listed, then gone: nothing to convert
      TRY(AppendConversion(keys[i], record->value, now, ops));
    }
    ops.push_back(
        {storage::Op::Kind::kPut, std::string(kUpgradeMarkerKey), MarkerValue(keys[end - 1])});
    storage::Compare guard{std::string(kUpgradeMarkerKey), revision};
    TRY(view.Transact(std::span<const storage::Compare>(&guard, 1), ops));
    ASSIGN_OR_RETURN(auto written, view.Get(kUpgradeMarkerKey));
    if (!written) return Internal("kv upgrade: the upgrade marker vanished");
    revision = written->revision;
  }
  storage::Compare guard{std::string(kUpgradeMarkerKey), revision};
  storage::Op done{storage::Op::Kind::kDelete, std::string(kUpgradeMarkerKey), {}};
  return view.Transact(std::span<const storage::Compare>(&guard, 1),
                       std::span<const storage::Op>(&done, 1));
}

Status CloseForUpgrade(logical::Backend& engine) {
  auto* v1 = dynamic_cast<KvV1Backend*>(&engine);
  if (v1 == nullptr) return InvalidArgument("the mount is not a KV version 1 mount");
  return v1->CloseForUpgrade();
}

Status UnfinishedUpgrade(const logical::Backend& engine) {
  const auto* v2 = dynamic_cast<const KvV2Backend*>(&engine);
  return v2 != nullptr ? v2->upgrade_failure() : Status::Ok();
}

void ReopenAfterUpgrade(logical::Backend& engine) {
  if (auto* v1 = dynamic_cast<KvV1Backend*>(&engine); v1 != nullptr) v1->Reopen();
}

}  // namespace coffer::engines::kv
