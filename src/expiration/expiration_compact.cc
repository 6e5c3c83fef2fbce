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
  if (journaled_[bucket].fetch_add(1) + 1 != options_.compact_threshold) return;
  {
    std::scoped_lock lock(mu_);
    compact_wanted_ = true;
  }
  compact_cv_.notify_all();
}

Status ExpirationManager::CompactBucket(std::size_t bucket) {
  const std::string folder = JournalFolder(bucket);
  const std::string bucket_key = BucketStorageKey(bucket);
  std::scoped_lock lock(BucketMutex(bucket));
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

Status ExpirationManager::CompactPending(std::uint32_t min_records) {
  Status first;
  for (std::size_t b = 0; b < kIndexBuckets; ++b) {
    if (journaled_[b].load() < min_records) continue;
    if (b % 64 == 0 && Stopping()) break;
    Status s = CompactBucket(b);
    if (!s.ok() && first.ok()) first = s;
  }
  return first;
}

Status ExpirationManager::CompactIndex() {
  // Every journal folder in storage, not only what this process counted.
  ASSIGN_OR_RETURN(auto folders, view_.List("journal/"));
  Status first;
  for (const auto& name : folders) {
    auto bucket = ParseBucketFolder(name);
    if (!bucket) continue;
    Status s = CompactBucket(*bucket);
    if (!s.ok() && first.ok()) first = s;
  }
  return first;
}

void ExpirationManager::CompactLoop() {
  std::unique_lock lock(mu_);
  compact_cv_.wait(lock, [&] { return stopping_ || loaded_.load(); });
  while (!stopping_) {
    const bool wanted = compact_cv_.wait_for(lock, options_.compact_interval,
                                             [&] { return stopping_ || compact_wanted_; });
    if (stopping_) break;
    compact_wanted_ = false;
    lock.unlock();
    // Woken by a full bucket: the full ones; by the timer: everything.
    Status s = CompactPending(wanted ? options_.compact_threshold : 1);
    if (!s.ok()) spdlog::warn("expiration: compacting the lease index failed: {}", s.ToString());
    lock.lock();
  }
}

}  // namespace coffer::expiration
