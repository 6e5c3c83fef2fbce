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

std::size_t ExpirationManager::JournalCount(std::size_t bucket) {
  std::scoped_lock lock(journal_mu_[bucket % kBucketStripes]);
  return journal_[bucket].size();
}

void ExpirationManager::JournalUpsert(std::size_t bucket, IndexRecord record) {
  std::scoped_lock lock(journal_mu_[bucket % kBucketStripes]);
  auto& records = journal_[bucket];
  auto it = std::find_if(records.begin(), records.end(),
                         [&](const IndexRecord& r) { return r.key == record.key; });
  if (it != records.end()) {
    *it = std::move(record);
  } else {
    records.push_back(std::move(record));
  }
}

void ExpirationManager::JournalForget(std::size_t bucket, std::span<const LeaseKey> keys) {
  std::scoped_lock lock(journal_mu_[bucket % kBucketStripes]);
  auto& records = journal_[bucket];
  std::erase_if(records, [&](const IndexRecord& r) {
    return std::find(keys.begin(), keys.end(), r.key) != keys.end();
  });
  if (records.empty()) records.shrink_to_fit();
}

void ExpirationManager::ClearJournal() {
  for (std::size_t b = 0; b < kIndexBuckets; ++b) {
    std::scoped_lock lock(journal_mu_[b % kBucketStripes]);
    std::vector<IndexRecord>().swap(journal_[b]);
  }
}

Status ExpirationManager::FoldOps(std::size_t bucket, const IndexRecord& record, bool renewal,
                                  std::vector<storage::Op>& ops, std::vector<LeaseKey>* folded) {
  std::vector<IndexRecord> known;
  {
    std::scoped_lock lock(journal_mu_[bucket % kBucketStripes]);
    known = journal_[bucket];
  }
  const std::string bucket_key = BucketStorageKey(bucket);
  ASSIGN_OR_RETURN(auto existing, view_.Get(bucket_key));
  std::string value = existing ? std::move(existing->value) : std::string();
  // In storage order: the bucket, then its journal (newer), then the write.
  // Nothing is appended to ops until every edit has succeeded.
  for (const auto& r : known) TRY(UpsertRecord(value, r));
  TRY(UpsertRecord(value, record));
  folded->clear();
  folded->reserve(known.size() + 1);
  for (const auto& r : known) {
    ops.push_back({storage::Op::Kind::kDelete, JournalKey(r.key), {}});
    folded->push_back(r.key);
  }
  // A renewal's own journal record may be one the loader has not reached
  // yet: it goes too, or it would stay newer than the bucket. (A new lease
  // has none.)
  if (std::find(folded->begin(), folded->end(), record.key) == folded->end()) {
    if (renewal) ops.push_back({storage::Op::Kind::kDelete, JournalKey(record.key), {}});
    folded->push_back(record.key);
  }
  ops.push_back({storage::Op::Kind::kPut, bucket_key, std::move(value)});
  return Status::Ok();
}

Status ExpirationManager::CompactBucket(std::size_t bucket) {
  const std::string folder = JournalFolder(bucket);
  const std::string bucket_key = BucketStorageKey(bucket);
  std::scoped_lock lock(BucketMutex(bucket));
  ASSIGN_OR_RETURN(auto names, view_.List(folder));
  std::erase_if(names, [](const std::string& n) { return n.empty() || n.back() == '/'; });
  if (names.empty()) return Status::Ok();
  ASSIGN_OR_RETURN(auto existing, view_.Get(bucket_key));
  std::string value = existing ? std::move(existing->value) : std::string();
  for (std::size_t start = 0; start < names.size(); start += kMaxFoldPerTransact) {
    const std::size_t end = std::min(names.size(), start + kMaxFoldPerTransact);
    std::vector<storage::Op> ops;
    std::vector<LeaseKey> folded;
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
            folded.push_back(k);
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
    JournalForget(bucket, folded);
  }
  return Status::Ok();
}

Status ExpirationManager::CompactIndex() {
  // Every journal folder in storage, not only what this process knows of.
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

}  // namespace coffer::expiration
