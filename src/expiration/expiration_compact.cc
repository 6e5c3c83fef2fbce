// ExpirationManager: folding the per-lease journal into the index buckets
// (see index_format.h for the layout and why).
#include <spdlog/spdlog.h>

#include <algorithm>

#include "expiration/expiration_manager.h"

namespace coffer::expiration {
namespace {

// At most this many journal records per compaction Transact, so a backlog
// (a crash after heavy writing) does not become one huge transaction.
constexpr std::size_t kMaxFoldPerTransact = 4096;

}  // namespace

bool ExpirationManager::Stopping() {
  std::scoped_lock lock(mu_);
  return stopping_;
}

void ExpirationManager::NoteJournaled(std::size_t bucket) {
  if (journaled_[bucket].fetch_add(1) + 1 < options_.compact_threshold) return;
  // The lease is committed whatever happens here; a failed compaction is
  // retried by the bucket's next write.
  Status s = CompactBucket(bucket, /*wait=*/false);
  if (!s.ok()) spdlog::warn("expiration: compacting the lease index failed: {}", s.ToString());
}

Status ExpirationManager::CompactBucket(std::size_t bucket, bool wait) {
  const std::string folder = JournalFolder(bucket);
  const std::string bucket_key = BucketStorageKey(bucket);
  std::unique_lock lock(BucketMutex(bucket), std::defer_lock);
  if (wait) {
    lock.lock();
  } else if (!lock.try_lock()) {
    // Another writer is compacting (or deleting from) it: leave it to them
    // rather than queue up behind them; the next write tries again.
    return Status::Ok();
  }
  ASSIGN_OR_RETURN(auto names, view_.List(folder));
  std::erase_if(names, [](const std::string& n) { return n.empty() || n.back() == '/'; });
  if (names.empty()) {
    journaled_[bucket] = 0;
    return Status::Ok();
  }
  ASSIGN_OR_RETURN(auto existing, view_.Get(bucket_key));
  std::string value = existing ? std::move(existing->value) : std::string();
  std::size_t folded = 0;
  for (std::size_t start = 0; start < names.size(); start += kMaxFoldPerTransact) {
    const std::size_t end = std::min(names.size(), start + kMaxFoldPerTransact);
    std::vector<storage::Op> ops;
    ops.reserve(end - start + 1);
    for (std::size_t i = start; i < end; ++i) {
      // Deletions and renewals of this bucket hold the lock we hold, and a
      // new lease's record is complete once listed: what we read stays true
      // until our Transact.
      ASSIGN_OR_RETURN(auto record, view_.Get(folder + names[i]));
      ops.push_back({storage::Op::Kind::kDelete, folder + names[i], {}});
      if (!record) continue;
      Status s = ForEachRecord(
          record->value, [&](const LeaseKey& k, std::int64_t exp, std::string_view id) {
            UpsertRecord(value, IndexRecord{k, exp, std::string(id)}).IgnoreError();
          });
      if (!s.ok()) {
        // A corrupt journal record would otherwise block its bucket forever;
        // its lease keeps its body and can still be revoked by prefix.
        spdlog::error("expiration: dropping a corrupt lease journal record in {}: {}", folder,
                      s.ToString());
      }
    }
    // UpsertRecord refuses only a corrupt bucket; check it once here.
    TRY(ForEachRecord(value, [](const LeaseKey&, std::int64_t, std::string_view) {}));
    if (value.empty()) {
      ops.push_back({storage::Op::Kind::kDelete, bucket_key, {}});
    } else {
      ops.push_back({storage::Op::Kind::kPut, bucket_key, value});
    }
    TRY(view_.Transact({}, ops));
    folded += end - start;
  }
  std::uint32_t current = journaled_[bucket].load();
  const auto done = static_cast<std::uint32_t>(std::min<std::size_t>(folded, UINT32_MAX));
  while (!journaled_[bucket].compare_exchange_weak(current, current > done ? current - done : 0)) {
  }
  return Status::Ok();
}

Status ExpirationManager::CompactIndex() {
  // Every journal folder in storage, not only what this process counted.
  ASSIGN_OR_RETURN(auto folders, view_.List("journal/"));
  Status first;
  for (const auto& name : folders) {
    auto bucket = ParseBucketFolder(name);
    if (!bucket) continue;
    Status s = CompactBucket(*bucket, /*wait=*/true);
    if (!s.ok() && first.ok()) first = s;
  }
  return first;
}

}  // namespace coffer::expiration
