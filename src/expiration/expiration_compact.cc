// ExpirationManager: folding the per-lease journal into the index buckets
// (see index_format.h for the layout and why).
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <utility>

#include "common/log.h"
#include "expiration/expiration_manager.h"

namespace coffer::expiration {
namespace {

// At most this many journal records per compaction Transact, so a backlog
// (a crash after heavy writing) does not become one huge transaction.
constexpr std::size_t kMaxFoldPerTransact = 4096;
// Dead log records deleted together, in one write's transaction: a batch is
// a page or two of contiguous keys.
constexpr std::size_t kPruneBatch = 64;

}  // namespace

bool ExpirationManager::Stopping() {
  std::scoped_lock lock(mu_);
  return stopping_;
}

std::pair<std::size_t, std::uint64_t> ExpirationManager::JournalStats(std::size_t bucket) {
  std::scoped_lock lock(journal_mu_[bucket % kBucketStripes]);
  std::uint64_t oldest = 0;
  for (const auto& e : journal_[bucket]) {
    if (e.seq != 0 && (oldest == 0 || e.seq < oldest)) oldest = e.seq;
  }
  return {journal_[bucket].size(), oldest};
}

std::uint64_t ExpirationManager::JournalUpsert(std::size_t bucket, JournalEntry entry) {
  std::scoped_lock lock(journal_mu_[bucket % kBucketStripes]);
  auto& entries = journal_[bucket];
  auto it = std::find_if(entries.begin(), entries.end(),
                         [&](const JournalEntry& e) { return e.record.key == entry.record.key; });
  if (it == entries.end()) {
    // Room for a full journal at once: one allocation per bucket, not one
    // per doubling (the last of them, of 1 KiB, made glibc consolidate its
    // fast bins on every bucket's refill).
    if (entries.capacity() == 0) entries.reserve(JournalRoom());
    entries.push_back(std::move(entry));
    return 0;
  }
  return std::exchange(*it, std::move(entry)).seq;
}

std::vector<std::uint64_t> ExpirationManager::JournalForget(std::size_t bucket,
                                                            std::span<const LeaseKey> keys) {
  std::vector<std::uint64_t> seqs;
  std::scoped_lock lock(journal_mu_[bucket % kBucketStripes]);
  auto& entries = journal_[bucket];
  std::erase_if(entries, [&](const JournalEntry& e) {
    if (std::find(keys.begin(), keys.end(), e.record.key) == keys.end()) return false;
    if (e.seq != 0) seqs.push_back(e.seq);
    return true;
  });
  // An emptied journal keeps its room for the next records (~4 MiB over all
  // kIndexBuckets); one that grew past it while a fold was pending gives it
  // back.
  if (entries.empty() && entries.capacity() > JournalRoom()) entries.shrink_to_fit();
  return seqs;
}

void ExpirationManager::ClearJournal() {
  for (std::size_t b = 0; b < kIndexBuckets; ++b) {
    std::scoped_lock lock(journal_mu_[b % kBucketStripes]);
    std::vector<JournalEntry>().swap(journal_[b]);
  }
  for (std::size_t b = 0; b < kIndexBuckets; ++b) {
    std::scoped_lock lock(BucketMutex(b));
    std::vector<PendingLog>().swap(pending_[b]);
  }
  std::scoped_lock lock(log_mu_);
  log_slots_.clear();
  log_base_ = next_seq_.load();
  log_pruning_ = false;
}

// ---- the log ---------------------------------------------------------------

std::uint64_t ExpirationManager::AllocSeq(std::size_t bucket) {
  std::scoped_lock lock(log_mu_);
  const std::uint64_t seq = log_base_ + log_slots_.size();
  log_slots_.push_back({kLogWriting, static_cast<std::uint16_t>(bucket)});
  next_seq_ = seq + 1;
  return seq;
}

std::uint64_t ExpirationManager::NextSeq() { return next_seq_.load(); }

std::optional<std::size_t> ExpirationManager::OverAgeBucket() {
  std::scoped_lock lock(log_mu_);
  // Past the dead front (at most a batch or so: it is deleted as it grows).
  for (std::size_t i = 0; i < log_slots_.size(); ++i) {
    const LogSlot& slot = log_slots_[i];
    if (slot.state == kLogDead) continue;
    if (slot.state != kLogLive) return std::nullopt;  // still writing, or pending
    // Its age: how many seqs were handed out after it.
    if (log_slots_.size() - i <= options_.log_fold_span) return std::nullopt;
    return slot.bucket;
  }
  return std::nullopt;
}

void ExpirationManager::SetLogStates(std::span<const std::uint64_t> seqs, LogState state) {
  std::scoped_lock lock(log_mu_);
  for (std::uint64_t seq : seqs) {
    if (seq >= log_base_ && seq - log_base_ < log_slots_.size()) {
      log_slots_[seq - log_base_].state = state;
    }
  }
}

void ExpirationManager::SetLogState(std::uint64_t seq, LogState state) {
  const std::uint64_t seqs[] = {seq};
  SetLogStates(seqs, state);
}

std::size_t ExpirationManager::TakePrunable(std::vector<storage::Op>& ops) {
  std::scoped_lock lock(log_mu_);
  if (log_pruning_) return 0;
  std::size_t n = 0;
  while (n < kPruneBatch && n < log_slots_.size() && log_slots_[n].state == kLogDead) ++n;
  // A batch at a time: a lone dead record is left for a fuller batch.
  if (n < kPruneBatch && n < log_slots_.size()) return 0;
  ops.reserve(ops.size() + n);
  for (std::size_t i = 0; i < n; ++i) {
    ops.push_back({storage::Op::Kind::kDelete, LogKey(log_base_ + i), {}});
  }
  if (n > 0) {
    log_pruning_ = true;
    log_prune_base_ = log_base_;
  }
  return n;
}

void ExpirationManager::FinishPrune(std::size_t n, bool committed) {
  if (n == 0) return;
  std::scoped_lock lock(log_mu_);
  log_pruning_ = false;
  // Not committed: still dead, a later write deletes them. A different
  // base: Stop() or Load() started the log over meanwhile.
  if (!committed || log_base_ != log_prune_base_ || log_slots_.size() < n) return;
  log_slots_.erase(log_slots_.begin(), log_slots_.begin() + static_cast<std::ptrdiff_t>(n));
  log_base_ += n;
}

void ExpirationManager::DropPending(std::size_t bucket, const LeaseKey& key) {
  std::vector<std::uint64_t> dead;
  std::erase_if(pending_[bucket], [&](const PendingLog& p) {
    if (!(p.record.key == key)) return false;
    dead.push_back(p.seq);
    return true;
  });
  SetLogStates(dead, kLogDead);
}

// ---- folding ---------------------------------------------------------------

Status ExpirationManager::FoldOps(std::size_t bucket, const IndexRecord* record,
                                  std::vector<storage::Op>& ops, std::vector<LeaseKey>* folded) {
  std::vector<JournalEntry> known;
  {
    std::scoped_lock lock(journal_mu_[bucket % kBucketStripes]);
    known = journal_[bucket];
  }
  const std::string bucket_key = BucketStorageKey(bucket);
  ASSIGN_OR_RETURN(auto existing, view_.Get(bucket_key));
  std::string value = existing ? std::move(existing->value) : std::string();
  // In storage order: the bucket, then its journal (newer), then the write.
  // Nothing is appended to ops until every edit has succeeded.
  for (const auto& e : known) TRY(UpsertRecord(value, e.record));
  if (record != nullptr) TRY(UpsertRecord(value, *record));
  folded->clear();
  folded->reserve(known.size() + 1);
  for (const auto& e : known) {
    // A record of the old journal goes with the fold; a log record stays
    // until the log's front reaches it.
    // (A renewal's own old-journal record is deleted by the renewal.)
    if (e.seq == 0 && (record == nullptr || !(e.record.key == record->key))) {
      ops.push_back({storage::Op::Kind::kDelete, JournalKey(e.record.key), {}});
    }
    folded->push_back(e.record.key);
  }
  if (record != nullptr &&
      std::find(folded->begin(), folded->end(), record->key) == folded->end()) {
    folded->push_back(record->key);
  }
  ops.push_back({storage::Op::Kind::kPut, bucket_key, std::move(value)});
  return Status::Ok();
}

Status ExpirationManager::FoldKnown(std::size_t bucket) {
  std::scoped_lock lock(BucketMutex(bucket));
  if (JournalStats(bucket).first == 0) return Status::Ok();
  std::vector<storage::Op> ops;
  std::vector<LeaseKey> folded;
  TRY(FoldOps(bucket, nullptr, ops, &folded));
  TRY(view_.Transact({}, ops));
  SetLogStates(JournalForget(bucket, folded), kLogDead);
  return Status::Ok();
}

void ExpirationManager::WantFold(std::size_t bucket) {
  {
    std::scoped_lock lock(fold_mu_);
    if (fold_stopping_ || fold_queued_[bucket]) return;
    fold_queued_[bucket] = true;
    fold_wanted_.push_back(bucket);
  }
  fold_cv_.notify_one();
}

void ExpirationManager::FoldLoop() {
  std::vector<std::size_t> buckets;
  for (;;) {
    {
      std::unique_lock lock(fold_mu_);
      fold_cv_.wait(lock, [this] { return fold_stopping_ || !fold_wanted_.empty(); });
      if (fold_stopping_) return;
      const auto n = static_cast<std::ptrdiff_t>(std::min(fold_wanted_.size(), kFoldBatch));
      buckets.assign(fold_wanted_.begin(), fold_wanted_.begin() + n);
      fold_wanted_.erase(fold_wanted_.begin(), fold_wanted_.begin() + n);
      // Wanted again from now on: a record added during this fold may
      // fill its bucket again.
      for (std::size_t b : buckets) fold_queued_[b] = false;
    }
    Status s = FoldBuckets(std::move(buckets));
    buckets.clear();
    if (!s.ok()) {
      // Left as they are (each lease is in the log); later writes ask again.
      Log(LogModule::kExpiration).warn("folding the lease index failed: {}", s.ToString());
      std::unique_lock lock(fold_mu_);
      fold_cv_.wait_for(lock, std::chrono::milliseconds(100), [this] { return fold_stopping_; });
    }
  }
}

Status ExpirationManager::FoldBuckets(std::vector<std::size_t> buckets) {
  // Each lock stripe once, in ascending order: the only place that holds
  // more than one bucket lock while waiting for another (Write only tries
  // a second one).
  std::sort(buckets.begin(), buckets.end(), [](std::size_t a, std::size_t b) {
    return std::pair(a % kBucketStripes, a) < std::pair(b % kBucketStripes, b);
  });
  std::vector<std::unique_lock<std::mutex>> locks;
  for (std::size_t b : buckets) {
    std::mutex& m = BucketMutex(b);
    if (locks.empty() || locks.back().mutex() != &m) locks.emplace_back(m);
  }
  std::vector<storage::Op> ops;
  std::vector<std::pair<std::size_t, std::vector<LeaseKey>>> folded;
  for (std::size_t b : buckets) {
    if (JournalStats(b).first == 0) continue;  // folded since it was wanted
    std::vector<LeaseKey> keys;
    Status s = FoldOps(b, nullptr, ops, &keys);
    if (!s.ok()) {
      Log(LogModule::kExpiration).warn("folding lease index bucket {} failed: {}", b, s.ToString());
      continue;
    }
    folded.emplace_back(b, std::move(keys));
  }
  if (folded.empty()) return Status::Ok();
  const std::size_t pruned = TakePrunable(ops);
  Status status = view_.Transact({}, ops);
  FinishPrune(pruned, status.ok());
  TRY(status);
  for (const auto& [b, keys] : folded) SetLogStates(JournalForget(b, keys), kLogDead);
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
        Log(LogModule::kExpiration)
            .error("dropping a corrupt lease journal record in {}: {}", folder, s.ToString());
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
  for (std::size_t b = 0; b < kIndexBuckets && first.ok(); ++b) first = FoldKnown(b);
  TRY(first);
  // Then the whole log is dead (but for writes racing this): delete it.
  for (;;) {
    std::vector<storage::Op> ops;
    std::size_t n = 0;
    {
      std::scoped_lock lock(log_mu_);
      if (log_pruning_) break;
      while (n < kMaxFoldPerTransact && n < log_slots_.size() && log_slots_[n].state == kLogDead) {
        ops.push_back({storage::Op::Kind::kDelete, LogKey(log_base_ + n), {}});
        ++n;
      }
      if (n == 0) break;
      log_pruning_ = true;
      log_prune_base_ = log_base_;
    }
    Status s = view_.Transact({}, ops);
    FinishPrune(n, s.ok());
    TRY(s);
  }
  return Status::Ok();
}

}  // namespace coffer::expiration
