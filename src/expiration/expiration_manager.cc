#include "expiration/expiration_manager.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "common/fiber.h"
#include "common/log.h"
#include "common/text.h"
#include "crypto/random.h"

namespace coffer::expiration {
namespace {

using std::chrono::duration_cast;
using std::chrono::nanoseconds;
using std::chrono::seconds;

// More seqs than any log could span: the fold by age keeps it near
// Options::log_fold_span.
constexpr std::uint64_t kMaxLogSpan = std::uint64_t{1} << 28;

// At most `max` bytes of `message`, cut before a UTF-8 continuation byte.
std::string Truncated(std::string_view message, std::size_t max) {
  if (message.size() <= max) return std::string(message);
  std::size_t n = max;
  while (n > 0 && (static_cast<unsigned char>(message[n]) & 0xC0) == 0x80) --n;
  return std::string(message.substr(0, n));
}

}  // namespace

ExpirationManager::ExpirationManager(storage::Backend& view, Clock& clock, Revoker& revoker,
                                     Options options)
    : view_(view),
      clock_(clock),
      revoker_(revoker),
      options_(options),
      bucket_mu_(std::make_unique<std::mutex[]>(kBucketStripes)),
      journal_(std::make_unique<std::vector<JournalEntry>[]>(kIndexBuckets)),
      journal_mu_(std::make_unique<std::mutex[]>(kBucketStripes)),
      pending_(std::make_unique<std::vector<PendingLog>[]>(kIndexBuckets)) {
  rate_tokens_ = options_.max_revocations_per_second;
  rate_refill_ns_ = MonoNs();
}

ExpirationManager::~ExpirationManager() { Stop(); }

std::int64_t ExpirationManager::NowUnix() const { return UnixSeconds(clock_.Wall()); }

std::int64_t ExpirationManager::NowUnixUp() const { return UnixSecondsUp(clock_.Wall()); }

std::int64_t ExpirationManager::MonoNs() const {
  return duration_cast<nanoseconds>(clock_.Monotonic().time_since_epoch()).count();
}

std::int64_t ExpirationManager::DueOf(std::int64_t expire_unix) const {
  std::int64_t wall_ns = duration_cast<nanoseconds>(clock_.Wall().time_since_epoch()).count();
  return expire_unix * 1'000'000'000 + (MonoNs() - wall_ns);
}

std::string ExpirationManager::TokenLeaseId(std::string_view path, std::string_view token_hmac) {
  return std::string(Trim(path, "/")) + "/" + std::string(token_hmac);
}

// ---- storage ---------------------------------------------------------------

Result<std::optional<Lease>> ExpirationManager::Read(std::string_view lease_id) {
  if (lease_id.empty() || !storage::ValidateKey(LeaseStorageKey(lease_id)).ok()) {
    return std::optional<Lease>();
  }
  ASSIGN_OR_RETURN(auto entry, view_.Get(LeaseStorageKey(lease_id)));
  if (!entry) return std::optional<Lease>();
  ASSIGN_OR_RETURN(Lease lease, LeaseFromJson(entry->value));
  return std::optional<Lease>(std::move(lease));
}

Status ExpirationManager::Write(const Lease& lease, bool is_new, const TransactFn* transact,
                                const Lease* read_as) {
  TRY(storage::ValidateKey(LeaseStorageKey(lease.id)));
  const LeaseKey key = KeyOf(lease.id);
  const std::size_t bucket = BucketOf(key);
  IndexRecord record{key, lease.expire_time, lease.id};
  std::vector<storage::Op> ops;
  ops.reserve(4);
  ops.push_back({storage::Op::Kind::kPut, LeaseStorageKey(lease.id), EncodeLease(lease)});
  // A token's own lease needs no marker: RevokeByToken finds it by id.
  if (is_new && !lease.token_hmac.empty() && lease.kind != Lease::Kind::kToken) {
    ops.push_back({storage::Op::Kind::kPut, TokenIndexKey(lease.token_hmac, key), lease.id});
  }
  // A renewal rewrites a record that a fold may be folding, so it holds the
  // bucket's lock. A new lease's key is one no fold has seen: it takes the
  // lock only to fold, and leaves the fold to a later write when someone
  // else holds it.
  //
  // A new lease written on a fiber that may be suspended for the commit
  // (common/fiber.h; a token created on an I/O thread) takes no bucket's
  // lock: the folder thread folds for it (WantFold), as a suspended fiber
  // must hold no lock its own thread could wait for.
  const bool on_fiber = is_new && Fiber::Suspendable() != nullptr;
  std::unique_lock lock(BucketMutex(bucket), std::defer_lock);
  const auto [count, oldest] = JournalStats(bucket);
  const bool full = count + 1 >= options_.compact_threshold ||
                    (oldest != 0 && NextSeq() - oldest > options_.log_fold_span);
  if (!is_new) {
    lock.lock();
    // A revocation deletes the record under this lock (DeleteRecords): a
    // renewal, or an expiry moved earlier, that read the lease before it
    // must not write a revoked lease back.
    ASSIGN_OR_RETURN(auto present, view_.Get(LeaseStorageKey(lease.id)));
    if (!present) return NotFound("lease not found");
    if (read_as != nullptr) {
      ASSIGN_OR_RETURN(Lease stored, LeaseFromJson(present->value));
      if (stored.expire_time != read_as->expire_time ||
          stored.last_renewal != read_as->last_renewal) {
        return Conflict("the lease changed while it was being renewed");
      }
    }
  } else if (full && on_fiber) {
    WantFold(bucket);
  } else if (full) {
    (void)lock.try_lock();
  }
  std::vector<LeaseKey> folded;
  bool fold = false;
  if (full && lock.owns_lock()) {
    Status s = FoldOps(bucket, &record, ops, &folded);
    // A bucket that cannot be read or edited is left as it is; the lease
    // is logged and stays whole.
    if (!s.ok())
      Log(LogModule::kExpiration).warn("folding the lease index failed: {}", s.ToString());
    fold = s.ok();
  }
  // The log's oldest live record, once past the span, folds its bucket too,
  // whatever bucket this write is for: a bucket may see no write for long,
  // and its record would keep the log from being deleted behind it.
  std::unique_lock<std::mutex> other_lock;
  std::size_t other = OverAgeBucket().value_or(bucket);  // `bucket`: none
  std::vector<LeaseKey> other_folded;
  if (other != bucket && on_fiber) {
    WantFold(other);
    other = bucket;
  } else if (other != bucket) {
    std::mutex& m = BucketMutex(other);
    const bool held = lock.owns_lock() && lock.mutex() == &m;
    if (!held) other_lock = std::unique_lock(m, std::try_to_lock);
    // Whoever holds the lock may fold it; else a later write will.
    if ((!held && !other_lock.owns_lock()) || !FoldOps(other, nullptr, ops, &other_folded).ok()) {
      other = bucket;
    }
  }
  // A new lease that is folded needs no log record: no older one exists.
  // A renewal's is written even then, so that its lease's newest log record
  // is never older than its bucket's (see index_format.h).
  std::uint64_t seq = 0;
  if (!fold || !is_new) {
    seq = AllocSeq(bucket);
    ops.push_back({storage::Op::Kind::kPut, LogKey(seq), EncodeRecord(record)});
  }
  // The old journal's record of a lease stored by an earlier version, which
  // the loader may not have reached yet.
  if (!is_new) ops.push_back({storage::Op::Kind::kDelete, JournalKey(key), {}});
  const std::size_t pruned = TakePrunable(ops);
  // A fiber waiting for this commit is never suspended holding a bucket's
  // lock (a renewal's): a revocation on its I/O thread (a token's last use
  // in an inline read) could block on that lock, and only that thread
  // resumes the fiber.
  std::optional<NoSuspend> holding_lock;
  if (lock.owns_lock() || other_lock.owns_lock()) holding_lock.emplace();
  Status status = transact != nullptr ? (*transact)(ops) : view_.Transact({}, ops);
  FinishPrune(pruned, status.ok());
  if (!status.ok()) {
    if (seq != 0) SetLogState(seq, kLogDead);
    return status;
  }
  // Before the expiry index learns of the lease, so that its revocation
  // finds it here.
  if (!is_new) DropPending(bucket, key);
  if (other != bucket) {
    SetLogStates(JournalForget(other, other_folded), kLogDead);
  }
  if (other_lock.owns_lock()) other_lock.unlock();
  if (fold) {
    std::vector<std::uint64_t> dead = JournalForget(bucket, folded);
    dead.push_back(seq);  // a renewal's own (0 is no seq: ignored)
    SetLogStates(dead, kLogDead);
  } else {
    const std::uint64_t replaced = JournalUpsert(bucket, JournalEntry{std::move(record), seq});
    SetLogState(seq, kLogLive);
    if (replaced != 0) SetLogState(replaced, kLogDead);
  }
  if (lock.owns_lock()) lock.unlock();
  const std::int64_t due = DueOf(lease.expire_time);
  bool wake = false;
  {
    std::scoped_lock index_lock(mu_);
    auto next = index_.NextDue();
    index_.Upsert(key, due);
    wake = !next || due < *next;
  }
  if (wake) cv_.notify_all();
  return Status::Ok();
}

Status ExpirationManager::DeleteRecords(const Lease& lease) {
  const LeaseKey key = KeyOf(lease.id);
  const std::size_t bucket = BucketOf(key);
  const std::string bucket_key = BucketStorageKey(bucket);
  {
    NoSuspend holding_lock;  // its commit is awaited on the thread
    std::scoped_lock lock(BucketMutex(bucket));
    ASSIGN_OR_RETURN(auto existing, view_.Get(bucket_key));
    std::string bucket_value = existing ? std::move(existing->value) : std::string();
    const std::size_t before = bucket_value.size();
    TRY(EraseRecord(bucket_value, key));
    std::vector<storage::Op> ops;
    ops.push_back({storage::Op::Kind::kDelete, LeaseStorageKey(lease.id), {}});
    ops.push_back({storage::Op::Kind::kDelete, JournalKey(key), {}});
    if (bucket_value.size() != before) {  // the record had been compacted into it
      if (bucket_value.empty()) {
        ops.push_back({storage::Op::Kind::kDelete, bucket_key, {}});
      } else {
        ops.push_back({storage::Op::Kind::kPut, bucket_key, std::move(bucket_value)});
      }
    }
    if (!lease.token_hmac.empty() && lease.kind != Lease::Kind::kToken) {
      ops.push_back({storage::Op::Kind::kDelete, TokenIndexKey(lease.token_hmac, key), {}});
    }
    bool failing = false;
    {
      std::scoped_lock failures_lock(mu_);
      failing = failures_.contains(key);
    }
    // A lease that never failed has no record to delete, and most never do.
    if (failing) ops.push_back({storage::Op::Kind::kDelete, IrrevocableKey(key), {}});
    // Older log records of the lease may still be stored: the deletion goes
    // after them, so that the load does not bring the lease back.
    const std::uint64_t seq = AllocSeq(bucket);
    ops.push_back({storage::Op::Kind::kPut, LogKey(seq), EncodeRecord(IndexRecord{key, 0, {}})});
    const std::size_t pruned = TakePrunable(ops);
    Status status = view_.Transact({}, ops);
    FinishPrune(pruned, status.ok());
    SetLogState(seq, kLogDead);
    TRY(status);
    const LeaseKey keys[] = {key};
    SetLogStates(JournalForget(bucket, keys), kLogDead);
    DropPending(bucket, key);
  }
  std::scoped_lock lock(mu_);
  index_.Erase(key);
  failures_.erase(key);
  if (auto it = revoking_.find(key); it != revoking_.end()) it->second = true;
  return Status::Ok();
}

Result<std::optional<std::string>> ExpirationManager::IdOfKey(const LeaseKey& key) {
  const std::size_t bucket = BucketOf(key);
  {
    // A live log record: its id is in memory.
    std::scoped_lock lock(journal_mu_[bucket % kBucketStripes]);
    for (const auto& e : journal_[bucket]) {
      if (e.record.key == key) return std::optional<std::string>(e.record.id);
    }
  }
  std::optional<std::string> id;
  auto find = [&](std::string_view value) {
    return ForEachRecord(value, [&](const LeaseKey& k, std::int64_t, std::string_view i) {
      if (k == key) id = std::string(i);
    });
  };
  // The old journal first: a compaction moves a record from it to the bucket
  // in one Transact, so reading in this order cannot miss it.
  ASSIGN_OR_RETURN(auto journaled, view_.Get(JournalKey(key)));
  if (journaled) TRY(find(journaled->value));
  if (id) return id;
  ASSIGN_OR_RETURN(auto existing, view_.Get(BucketStorageKey(bucket)));
  if (existing) TRY(find(existing->value));
  return id;
}

// ---- lifecycle -------------------------------------------------------------

Status ExpirationManager::Load() {
  Stop();
  {
    std::scoped_lock lock(mu_);
    stopping_ = false;
    index_.Clear();
    failures_.clear();
    load_status_ = Status::Ok();
    rate_tokens_ = options_.max_revocations_per_second;
    rate_refill_ns_ = MonoNs();
  }
  ClearJournal();
  loaded_ = false;
  ASSIGN_OR_RETURN(auto buckets, view_.List("index/"));
  ASSIGN_OR_RETURN(auto journal, view_.List("journal/"));
  TRY(ReadLog());
  TRY(LoadFailures());
  loader_ =
      std::thread([this, buckets = std::move(buckets), journal = std::move(journal)]() mutable {
        LoadIndex(std::move(buckets), std::move(journal));
      });
  if (options_.start_expiry_thread) expiry_ = std::thread([this] { ExpiryLoop(); });
  {
    std::scoped_lock lock(fold_mu_);
    fold_stopping_ = false;
  }
  folder_ = std::thread([this] { FoldLoop(); });
  return Status::Ok();
}

Status ExpirationManager::ReadLog() {
  log_unreadable_ = false;
  ASSIGN_OR_RETURN(auto names, view_.List("log/"));
  struct Read {
    std::uint64_t seq;
    IndexRecord record;
  };
  std::vector<Read> records;
  records.reserve(names.size());
  std::uint64_t lowest = UINT64_MAX;
  std::uint64_t highest = 0;
  for (const auto& name : names) {
    auto seq = ParseLogName(name);
    if (!seq) continue;
    lowest = std::min(lowest, *seq);
    highest = std::max(highest, *seq);
    auto value = view_.Get(LogKey(*seq));
    if (!value) {
      // Undecryptable or unreadable: as a corrupt record, except that its
      // lease is unknown, so the loader recovers the leases the index
      // misses from their records (RecoverFromRecords).
      Log(LogModule::kExpiration)
          .error("skipping an unreadable lease index log record {}: {}", name,
                 value.error().ToString());
      log_unreadable_ = true;
      continue;
    }
    if (!*value) continue;
    Read r{*seq, {}};
    int n = 0;
    Status decoded = ForEachRecord((**value).value,
                                   [&](const LeaseKey& k, std::int64_t exp, std::string_view id) {
                                     r.record = IndexRecord{k, exp, std::string(id)};
                                     ++n;
                                   });
    if (!decoded.ok() || n != 1) {
      // Left dead (the log's front deletes it); its lease keeps its body
      // and can still be revoked by prefix.
      Log(LogModule::kExpiration).error("skipping a corrupt lease index log record {}", name);
      continue;
    }
    records.push_back(std::move(r));
  }
  std::sort(records.begin(), records.end(),
            [](const Read& a, const Read& b) { return a.seq < b.seq; });
  // Each lease's newest record, by the position in `records`.
  std::unordered_map<LeaseKey, std::size_t, LeaseKeyHash> newest;
  for (std::size_t i = 0; i < records.size(); ++i) newest[records[i].record.key] = i;
  std::vector<std::size_t> pending;
  for (const auto& [key, i] : newest) {
    if (!records[i].record.id.empty()) pending.push_back(i);  // else a deletion
  }
  {
    std::scoped_lock lock(log_mu_);
    log_slots_.clear();
    if (lowest > highest) return Status::Ok();
    // Seqs are dense (deleted oldest first); a span no process could have
    // written is damage, not a log to keep a state per seq for.
    if (highest - lowest >= kMaxLogSpan) {
      return Internal("the lease index log spans " + std::to_string(highest - lowest) +
                      " sequence numbers");
    }
    log_base_ = lowest;
    // Seqs between stored records were never stored, or deleted; corrupt
    // records are left so too: dead.
    log_slots_.assign(highest - lowest + 1, LogSlot{kLogDead, 0});
    next_seq_ = highest + 1;
    for (std::size_t i : pending) {
      log_slots_[records[i].seq - log_base_] = {
          kLogPending, static_cast<std::uint16_t>(BucketOf(records[i].record.key))};
    }
  }
  for (std::size_t i : pending) {
    const std::size_t bucket = BucketOf(records[i].record.key);
    std::scoped_lock lock(BucketMutex(bucket));
    pending_[bucket].push_back(PendingLog{records[i].seq, std::move(records[i].record)});
  }
  return Status::Ok();
}

void ExpirationManager::ResolvePending(std::size_t bucket, std::string_view bucket_value) {
  if (pending_[bucket].empty()) return;
  std::unordered_map<LeaseKey, std::pair<std::int64_t, std::string_view>, LeaseKeyHash> stored;
  ForEachRecord(bucket_value, [&](const LeaseKey& k, std::int64_t exp, std::string_view id) {
    stored[k] = {exp, id};
  }).IgnoreError();  // a corrupt bucket: its pending records are all newer
  std::vector<std::uint64_t> live;
  std::vector<std::uint64_t> dead;
  std::vector<std::pair<LeaseKey, std::int64_t>> due;
  for (auto& p : pending_[bucket]) {
    auto it = stored.find(p.record.key);
    if (it != stored.end() && it->second.first == p.record.expire_time &&
        it->second.second == p.record.id) {
      dead.push_back(p.seq);  // folded
      continue;
    }
    due.emplace_back(p.record.key, DueOf(p.record.expire_time));
    live.push_back(p.seq);
    JournalUpsert(bucket, JournalEntry{std::move(p.record), p.seq});
  }
  std::vector<PendingLog>().swap(pending_[bucket]);
  SetLogStates(dead, kLogDead);
  SetLogStates(live, kLogLive);
  bool wake = false;
  {
    std::scoped_lock lock(mu_);
    auto next = index_.NextDue();
    for (const auto& [k, d] : due) {
      index_.Upsert(k, d);  // newer than the bucket's record
      if (!next || d < *next) wake = true;
    }
  }
  if (wake) cv_.notify_all();
}

void ExpirationManager::AddLoaded(const std::vector<std::pair<LeaseKey, std::int64_t>>& batch) {
  bool wake = false;
  {
    std::scoped_lock lock(mu_);
    auto next = index_.NextDue();
    for (const auto& [k, due] : batch) {
      index_.InsertIfAbsent(k, due);
      if (!next || due < *next) wake = true;
    }
  }
  if (wake) cv_.notify_all();
}

Status ExpirationManager::LoadJournal(std::size_t bucket, std::int64_t offset) {
  const std::string folder = JournalFolder(bucket);
  std::vector<std::pair<LeaseKey, std::int64_t>> batch;
  {
    // Under the bucket's lock, so that no renewal, deletion or fold changes
    // a record between our read of it and its copy in journal_.
    std::scoped_lock lock(BucketMutex(bucket));
    ASSIGN_OR_RETURN(auto names, view_.List(folder));
    for (const auto& name : names) {
      if (name.empty() || name.back() == '/') continue;
      ASSIGN_OR_RETURN(auto value, view_.Get(folder + name));
      if (!value) continue;  // folded or deleted since the List
      TRY(ForEachRecord(
          value->value, [&](const LeaseKey& k, std::int64_t exp, std::string_view id) {
            batch.emplace_back(k, exp * 1'000'000'000 + offset);
            JournalUpsert(bucket, JournalEntry{IndexRecord{k, exp, std::string(id)}, 0});
          }));
    }
  }
  AddLoaded(batch);
  return Status::Ok();
}

void ExpirationManager::LoadIndex(std::vector<std::string> buckets,
                                  std::vector<std::string> journal_folders) {
  std::int64_t wall_ns = duration_cast<nanoseconds>(clock_.Wall().time_since_epoch()).count();
  const std::int64_t offset = MonoNs() - wall_ns;
  std::vector<std::pair<LeaseKey, std::int64_t>> batch;
  std::vector<std::size_t> damaged;
  Status status;
  // Journal records first: where a lease has both, the journal's is newer,
  // and InsertIfAbsent keeps the first one loaded.
  for (const auto& name : journal_folders) {
    if (Stopping()) break;
    auto bucket = ParseBucketFolder(name);
    if (!bucket) continue;
    if (Status s = LoadJournal(*bucket, offset); !s.ok()) {
      Log(LogModule::kExpiration)
          .error(
              "lease index journal {} cannot be read ({}); recovering its leases from their "
              "records",
              name, s.ToString());
      damaged.push_back(*bucket);
    }
  }
  // Leases spread evenly over the buckets (by a hash), so the first few
  // buckets tell how many there are: the index is sized once for them
  // instead of rehashing its way up (~9 % of loading a million leases).
  std::size_t sampled = 0;
  std::size_t sampled_records = 0;
  constexpr std::size_t kSample = 8;
  for (const auto& name : buckets) {
    if (!status.ok() || Stopping()) break;
    if (name.empty() || name.back() == '/') continue;
    const auto bucket = ParseBucketFolder(name + "/");
    // Under the bucket's lock, so that no fold or deletion changes it
    // between our read and the resolution of its pending log records.
    std::unique_lock lock(BucketMutex(bucket.value_or(0)), std::defer_lock);
    if (bucket) lock.lock();
    auto value = view_.Get("index/" + name);
    batch.clear();
    Status read = value.has_value() ? Status::Ok() : value.error();
    const std::string_view stored =
        value.has_value() && *value ? std::string_view((**value).value) : "";
    if (read.ok()) {
      read = ForEachRecord(stored, [&](const LeaseKey& k, std::int64_t exp, std::string_view) {
        batch.emplace_back(k, exp * 1'000'000'000 + offset);
      });
    }
    if (!read.ok()) {
      // One damaged bucket does not stop the others: its pending log
      // records still load, and its leases are recovered from their own
      // records below.
      Log(LogModule::kExpiration)
          .error(
              "lease index bucket {} cannot be read ({}); recovering its leases from their "
              "records",
              name, read.ToString());
      if (bucket) {
        ResolvePending(*bucket, {});
        damaged.push_back(*bucket);
      }
      continue;
    }
    if (bucket) ResolvePending(*bucket, stored);
    if (lock.owns_lock()) lock.unlock();
    if (sampled < kSample && !batch.empty()) {
      sampled_records += batch.size();
      if (++sampled == kSample) {
        // A tenth more than the estimate: the sample's error is a few %.
        const std::size_t expected = sampled_records * buckets.size() / kSample * 11 / 10;
        std::scoped_lock lock(mu_);
        index_.Reserve(index_.size() + expected);
      }
    }
    AddLoaded(batch);
  }
  // The pending log records of buckets with no stored value.
  for (std::size_t b = 0; b < kIndexBuckets && status.ok() && !Stopping(); ++b) {
    std::scoped_lock lock(BucketMutex(b));
    ResolvePending(b, {});
  }
  if (status.ok() && !Stopping() && (!damaged.empty() || log_unreadable_)) {
    status = RecoverFromRecords(damaged, log_unreadable_, offset);
  }
  if (!status.ok())
    Log(LogModule::kExpiration).error("loading the lease index failed: {}", status.ToString());
  {
    std::scoped_lock lock(mu_);
    load_status_ = status;
    loaded_ = true;
  }
  cv_.notify_all();
}

Status ExpirationManager::RecoverFromRecords(const std::vector<std::size_t>& damaged,
                                             bool missing_too, std::int64_t offset) {
  const std::set<std::size_t> rebuild(damaged.begin(), damaged.end());
  ASSIGN_OR_RETURN(std::vector<std::string> ids, IdsUnder(""));
  std::map<std::size_t, std::vector<IndexRecord>> rebuilt;
  std::vector<std::pair<LeaseKey, std::int64_t>> batch;
  for (const auto& id : ids) {
    if (Stopping()) return Status::Ok();
    const LeaseKey key = KeyOf(id);
    const std::size_t bucket = BucketOf(key);
    const bool in_damaged = rebuild.contains(bucket);
    if (!in_damaged) {
      if (!missing_too) continue;
      std::scoped_lock lock(mu_);
      if (index_.Due(key).has_value()) continue;
    }
    auto lease = Read(id);
    if (!lease.has_value() || !lease->has_value()) continue;  // gone, or its own record is bad
    const std::int64_t expire = (*lease)->expire_time;
    if (in_damaged) {
      rebuilt[bucket].push_back(IndexRecord{key, expire, id});
    } else {
      // In no record the loader read: held in memory, as a journal record
      // is, so that its expiry finds its id and a fold writes it down.
      JournalUpsert(bucket, JournalEntry{IndexRecord{key, expire, id}, 0});
    }
    batch.emplace_back(key, expire * 1'000'000'000 + offset);
  }
  AddLoaded(batch);
  // The damaged buckets are written again from the records, unless a fold
  // has written a readable one meanwhile (the damage was a failed read).
  for (std::size_t bucket : rebuild) {
    NoSuspend holding_lock;
    std::scoped_lock lock(BucketMutex(bucket));
    auto now = view_.Get(BucketStorageKey(bucket));
    if (now.has_value() && *now && ForEachRecord((**now).value, [](auto&&...) {}).ok()) continue;
    auto it = rebuilt.find(bucket);
    Status s = it == rebuilt.end() ? view_.Delete(BucketStorageKey(bucket))
                                   : view_.Put(BucketStorageKey(bucket), EncodeBucket(it->second));
    if (!s.ok()) {
      Log(LogModule::kExpiration)
          .error("rewriting lease index bucket {:03x} failed: {}", bucket, s.ToString());
    }
  }
  Log(LogModule::kExpiration)
      .warn("lease index recovered from lease records: {} leases ({} damaged buckets rewritten)",
            batch.size(), rebuild.size());
  return Status::Ok();
}

Status ExpirationManager::WaitForLoad() {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] { return loaded_.load() || stopping_; });
  if (!loaded_) return Unavailable("expiration manager stopped");
  return load_status_;
}

void ExpirationManager::Stop() {
  tidy_job_.Stop();  // before the index goes
  {
    std::scoped_lock lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  {
    std::scoped_lock lock(fold_mu_);
    fold_stopping_ = true;
    fold_wanted_.clear();
    std::fill(fold_queued_.begin(), fold_queued_.end(), false);
  }
  fold_cv_.notify_all();
  if (loader_.joinable()) loader_.join();
  if (expiry_.joinable()) expiry_.join();
  if (folder_.joinable()) folder_.join();
  ClearJournal();
  std::scoped_lock lock(mu_);
  index_.Clear();
  failures_.clear();
}

// ---- expiry ----------------------------------------------------------------

std::size_t ExpirationManager::ProcessExpired() {
  std::vector<LeaseKey> due;
  {
    std::scoped_lock lock(mu_);
    const std::int64_t now = MonoNs();
    const double rate = options_.max_revocations_per_second;
    rate_tokens_ =
        std::min(rate, rate_tokens_ + static_cast<double>(now - rate_refill_ns_) * rate / 1e9);
    rate_refill_ns_ = now;
    auto allowed = static_cast<std::size_t>(std::max(0.0, std::floor(rate_tokens_)));
    due = index_.PopDue(now, allowed);
    rate_tokens_ -= static_cast<double>(due.size());
    for (const auto& key : due) revoking_.emplace(key, false);
  }
  std::size_t revoked = 0;
  for (const auto& key : due) {
    if (RevokeExpired(key)) ++revoked;
  }
  if (!due.empty()) {
    std::scoped_lock lock(mu_);
    for (const auto& key : due) revoking_.erase(key);
  }
  return revoked;
}

Status ExpirationManager::LoadFailures() {
  ASSIGN_OR_RETURN(auto names, view_.List(kIrrevocableFolder));
  for (const auto& name : names) {
    const std::string storage_key = std::string(kIrrevocableFolder) + name;
    ASSIGN_OR_RETURN(auto entry, view_.Get(storage_key));
    if (!entry) continue;
    Failure failure;
    if (auto stored = DecodeFailure(entry->value)) {
      failure.id = std::move(stored->lease_id);
      failure.attempts = stored->attempts;
      failure.error = Truncated(stored->error, kMaxFailureMessage);
    }
    const LeaseKey key = KeyOf(failure.id);
    // A lease that cannot be read stays reported: its revocation will fail.
    auto lease = Read(failure.id);
    const bool gone = lease.has_value() && !*lease;
    if (gone || failure.attempts < kIrrevocableAfter || KeyHex(key) != name) {
      // Its lease was revoked while the record's deletion failed, or the
      // record is not one this version wrote: nothing to report.
      if (Status s = view_.Delete(storage_key); !s.ok()) {
        Log(LogModule::kExpiration)
            .warn("deleting a stale failing-lease report failed: {}", s.ToString());
      }
      continue;
    }
    std::scoped_lock lock(mu_);
    failures_.insert_or_assign(key, std::move(failure));
  }
  return Status::Ok();
}

void ExpirationManager::ScheduleRetry(const LeaseKey& key, std::string_view error,
                                      std::string_view id) {
  std::string record;
  {
    std::scoped_lock lock(mu_);
    if (auto it = revoking_.find(key); it != revoking_.end() && it->second) return;
    Failure& failure = failures_[key];
    const int attempts = ++failure.attempts;
    failure.error = Truncated(error, kMaxFailureMessage);
    if (!id.empty()) failure.id = std::string(id);
    auto backoff = options_.initial_backoff * (std::int64_t{1} << std::min(attempts - 1, 30));
    backoff = std::min(backoff, options_.max_backoff);
    index_.Upsert(key, MonoNs() + duration_cast<nanoseconds>(backoff).count());
    if (attempts < kIrrevocableAfter || failure.id.empty()) return;
    record = EncodeFailure({failure.id, attempts, failure.error});
  }
  // Stored outside the lock (storage is never called under mu_). Only the
  // expiry thread writes these records; one written after a concurrent
  // revocation deleted the lease is deleted again below, or by Load().
  if (Status s = view_.Put(IrrevocableKey(key), record); !s.ok()) {
    Log(LogModule::kExpiration).warn("storing a failing lease's report failed: {}", s.ToString());
  }
  bool gone = false;
  {
    std::scoped_lock lock(mu_);
    gone = !failures_.contains(key);
  }
  if (gone) view_.Delete(IrrevocableKey(key)).IgnoreError();
}

void ExpirationManager::ForgetFailure(const LeaseKey& key) {
  bool stored = false;
  {
    std::scoped_lock lock(mu_);
    auto it = failures_.find(key);
    if (it == failures_.end()) return;
    stored = it->second.attempts >= kIrrevocableAfter;
    failures_.erase(it);
  }
  if (!stored) return;
  if (Status s = view_.Delete(IrrevocableKey(key)); !s.ok()) {
    Log(LogModule::kExpiration).warn("deleting a failing lease's report failed: {}", s.ToString());
  }
}

bool ExpirationManager::RevokeExpired(const LeaseKey& key) {
  auto id = IdOfKey(key);
  if (!id) {
    Log(LogModule::kExpiration).warn("reading the lease index failed: {}", id.error().ToString());
    ScheduleRetry(key, "reading the lease index failed: " + id.error().ToString());
    return false;
  }
  if (!*id) {  // revoked meanwhile
    ForgetFailure(key);
    return false;
  }
  auto lease = Read(**id);
  if (!lease) {
    Log(LogModule::kExpiration).warn("reading lease {} failed: {}", **id, lease.error().ToString());
    ScheduleRetry(key, "reading the lease failed: " + lease.error().ToString(), **id);
    return false;
  }
  if (!*lease) {
    // An index record without a body: drop it.
    Lease ghost;
    ghost.id = **id;
    DeleteRecords(ghost).IgnoreError();
    return false;
  }
  if ((*lease)->expire_time > NowUnix()) {  // renewed by a path that left memory behind
    {
      std::scoped_lock lock(mu_);
      index_.Upsert(key, DueOf((*lease)->expire_time));
    }
    ForgetFailure(key);
    return false;
  }
  Status s = revoker_.Revoke(**lease);
  if (s.ok()) s = DeleteRecords(**lease);
  if (!s.ok()) {
    Log(LogModule::kExpiration)
        .warn("revoking lease {} failed, will retry: {}", **id, s.ToString());
    ScheduleRetry(key, s.ToString(), **id);
    return false;
  }
  return true;
}

Result<std::vector<ExpirationManager::FailingLease>> ExpirationManager::FailingLeases(
    int min_attempts) {
  std::vector<std::pair<LeaseKey, Failure>> found;
  {
    std::scoped_lock lock(mu_);
    for (const auto& [key, failure] : failures_) {
      if (failure.attempts >= min_attempts) found.emplace_back(key, failure);
    }
  }
  std::vector<FailingLease> out;
  out.reserve(found.size());
  // A lease deleted while its expiry's attempt failed is never noted (see
  // revoking_); one deleted after this copy was taken is left out here.
  for (auto& [key, failure] : found) {
    if (failure.id.empty()) {  // its index record could not be read
      ASSIGN_OR_RETURN(auto id, IdOfKey(key));
      if (!id) continue;  // revoked meanwhile
      failure.id = std::move(*id);
    }
    out.push_back({std::move(failure.id), failure.attempts, std::move(failure.error)});
  }
  std::ranges::sort(out, {}, &FailingLease::id);
  return out;
}

void ExpirationManager::ExpiryLoop() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    lock.unlock();
    ProcessExpired();
    lock.lock();
    if (stopping_) break;
    nanoseconds wait = options_.poll_interval;
    const std::int64_t now = MonoNs();
    if (auto next = index_.NextDue()) {
      if (*next <= now) {  // backlog held back by the rate limit
        wait = std::min(wait, nanoseconds(static_cast<std::int64_t>(
                                  1e9 / std::max(options_.max_revocations_per_second, 1e-3))));
      } else {
        wait = std::min(wait, nanoseconds(*next - now));
      }
    }
    wait = std::max(wait, nanoseconds(std::chrono::milliseconds(1)));
    cv_.wait_for(lock, wait);
  }
}

// ---- API -------------------------------------------------------------------

Result<Lease> ExpirationManager::Register(const LeaseRequest& request) {
  std::string path = std::string(Trim(request.path, "/"));
  if (path.empty()) return Err(InvalidArgument("a lease needs a path"));
  seconds max = request.max_ttl.count() > 0 ? request.max_ttl : options_.max_lease_ttl;
  max = std::min(max, options_.max_lease_ttl);
  seconds ttl = request.ttl.count() > 0 ? request.ttl : options_.default_lease_ttl;
  ttl = std::min(ttl, max);
  Lease lease;
  ASSIGN_OR_RETURN(std::string suffix, crypto::RandomBase62(24));
  lease.id = path + "/" + suffix;
  lease.path = path;
  lease.token_hmac = request.token_hmac;
  lease.issue_time = NowUnixUp();
  lease.expire_time = lease.issue_time + ttl.count();
  lease.renewable = request.renewable;
  lease.ttl = ttl.count();
  lease.max_ttl = max.count();
  lease.internal = request.internal;
  lease.kind = Lease::Kind::kSecret;
  TRY(Write(lease, /*is_new=*/true));
  return lease;
}

Status ExpirationManager::RegisterToken(std::string_view token_hmac, std::string_view path,
                                        seconds ttl, bool renewable) {
  ASSIGN_OR_RETURN(Lease lease, TokenLease(token_hmac, path, ttl, renewable));
  return Write(lease, /*is_new=*/true);
}

Status ExpirationManager::RegisterTokenWith(std::string_view token_hmac, std::string_view path,
                                            seconds ttl, bool renewable,
                                            const TransactFn& transact) {
  ASSIGN_OR_RETURN(Lease lease, TokenLease(token_hmac, path, ttl, renewable));
  return Write(lease, /*is_new=*/true, &transact);
}

Result<Lease> ExpirationManager::TokenLease(std::string_view token_hmac, std::string_view path,
                                            seconds ttl, bool renewable) const {
  if (token_hmac.empty() || ttl.count() <= 0) {
    return Err(InvalidArgument("a token lease needs a token and a positive ttl"));
  }
  Lease lease;
  lease.id = TokenLeaseId(path, token_hmac);
  lease.path = std::string(Trim(path, "/"));
  lease.token_hmac = std::string(token_hmac);
  lease.issue_time = NowUnixUp();
  lease.expire_time = lease.issue_time + ttl.count();
  lease.renewable = renewable;
  lease.ttl = ttl.count();
  lease.kind = Lease::Kind::kToken;
  return lease;
}

Status ExpirationManager::ExtendToken(std::string_view token_hmac, std::string_view path,
                                      seconds ttl) {
  for (int attempt = 1;; ++attempt) {
    ASSIGN_OR_RETURN(auto lease, Read(TokenLeaseId(path, token_hmac)));
    if (!lease) {
      if (ttl.count() <= 0) return Status::Ok();
      return RegisterToken(token_hmac, path, ttl, true);
    }
    // Expired: its revocation is under way (a lazy revoke, or the time ran
    // out), and a renewal does not call it back.
    if (lease->expire_time <= NowUnix()) return InvalidArgument("token lease expired");
    const Lease read_as = *lease;
    const std::int64_t now = NowUnixUp();
    lease->expire_time = now + ttl.count();
    lease->ttl = ttl.count();
    lease->last_renewal = now;
    Status s = Write(*lease, /*is_new=*/false, nullptr, &read_as);
    if (s.code() != Code::kConflict || attempt == kRewriteAttempts) return s;
  }
}

Result<Lease> ExpirationManager::Lookup(std::string_view lease_id) {
  ASSIGN_OR_RETURN(auto lease, Read(lease_id));
  if (!lease) return Err(NotFound("lease not found"));
  return *std::move(lease);
}

Result<Lease> ExpirationManager::Renew(std::string_view lease_id, seconds increment,
                                       std::int64_t* capped_from) {
  for (int attempt = 1;; ++attempt) {
    auto renewed = RenewOnce(lease_id, increment, capped_from);
    if (renewed.has_value() || renewed.error().code() != Code::kConflict ||
        attempt == kRewriteAttempts) {
      return renewed;
    }
  }
}

Result<Lease> ExpirationManager::RenewOnce(std::string_view lease_id, seconds increment,
                                           std::int64_t* capped_from) {
  ASSIGN_OR_RETURN(auto found, Read(lease_id));
  if (!found) return Err(NotFound("lease not found"));
  Lease lease = *std::move(found);
  if (lease.kind == Lease::Kind::kToken) {
    return Err(
        InvalidArgument("tokens cannot be renewed through this endpoint; use auth/token/renew"));
  }
  if (!lease.renewable) return Err(InvalidArgument("lease is not renewable"));
  if (lease.expire_time <= NowUnix()) return Err(InvalidArgument("lease expired"));
  const Lease read_as = lease;
  // The renewal counts from the next whole second, as an issue does.
  const std::int64_t now = NowUnixUp();
  // The max counts from the issue: the lease's own (engine, mount and
  // owner at issue), lowered by what its mount allows now.
  const logical::SecretTtls current = revoker_.CurrentTtls(lease);
  std::int64_t max = lease.max_ttl > 0 ? lease.max_ttl : options_.max_lease_ttl.count();
  if (current.max_ttl > 0) max = std::min(max, current.max_ttl);
  const std::int64_t room = lease.issue_time + max - now;
  if (room <= 0) return Err(InvalidArgument("past the max TTL, cannot renew"));
  // No increment: what the engine (or its mount) gives now, as in Vault;
  // the last TTL only when neither is known.
  std::int64_t inc = increment.count();
  if (inc <= 0) inc = current.default_ttl;
  if (inc <= 0) inc = lease.ttl;
  if (capped_from != nullptr) *capped_from = inc > room ? inc : 0;
  lease.ttl = std::min(inc, room);
  lease.expire_time = now + lease.ttl;
  lease.last_renewal = now;
  TRY(revoker_.Renew(lease));
  TRY(Write(lease, /*is_new=*/false, nullptr, &read_as));
  return lease;
}

Status ExpirationManager::RevokeLease(const Lease& lease, bool force) {
  Status s = revoker_.Revoke(lease);
  if (!s.ok()) {
    if (!force) return s;
    Log(LogModule::kExpiration).warn("force-revoking lease {} despite: {}", lease.id, s.ToString());
  }
  TRY(DeleteRecords(lease));
  Log(LogModule::kExpiration).debug("revoked lease {}", lease.id);
  return Status::Ok();
}

Status ExpirationManager::Revoke(std::string_view lease_id) {
  ASSIGN_OR_RETURN(auto lease, Read(lease_id));
  if (!lease) return Status::Ok();
  return RevokeLease(*lease, /*force=*/false);
}

Status ExpirationManager::RevokeLater(std::string_view lease_id) {
  ASSIGN_OR_RETURN(auto lease, Read(lease_id));
  if (!lease) return Status::Ok();
  return ExpireNow(*std::move(lease));
}

Status ExpirationManager::RevokePrefix(std::string_view prefix, bool force, bool sync) {
  std::string base = std::string(Trim(prefix, "/"));
  if (base.empty()) return InvalidArgument("a prefix is required");
  std::vector<std::string> ids;
  // The prefix may itself be a lease id (Vault allows revoke-force on one).
  ASSIGN_OR_RETURN(auto exact, Read(base));
  if (exact) ids.push_back(base);
  ASSIGN_OR_RETURN(std::vector<std::string> under, IdsUnder(base + "/"));
  ids.insert(ids.end(), std::make_move_iterator(under.begin()),
             std::make_move_iterator(under.end()));
  Status first;
  for (const auto& id : ids) {
    ASSIGN_OR_RETURN(auto lease, Read(id));
    if (!lease) continue;
    Status s = force || sync ? RevokeLease(*lease, force) : ExpireNow(*std::move(lease));
    if (!s.ok() && first.ok()) first = s;
  }
  return first;
}

Result<std::vector<std::string>> ExpirationManager::IdsUnder(std::string folder) {
  std::vector<std::string> ids;
  std::vector<std::string> folders{std::move(folder)};
  while (!folders.empty()) {
    std::string next = std::move(folders.back());
    folders.pop_back();
    ASSIGN_OR_RETURN(auto children, view_.List("id/" + next));
    for (auto& c : children) {
      if (c.back() == '/') {
        folders.push_back(next + c);
      } else {
        ids.push_back(next + c);
      }
    }
  }
  return ids;
}

Result<ExpirationManager::TidyStats> ExpirationManager::Tidy(
    const std::function<bool(std::string_view token_hmac)>& token_alive,
    const std::atomic<bool>* stop) {
  TidyStats stats;
  ASSIGN_OR_RETURN(std::vector<std::string> ids, IdsUnder(""));
  for (const auto& id : ids) {
    if (stop != nullptr && stop->load()) {
      Log(LogModule::kExpiration)
          .warn("tidy stopped after checking {} leases (revoked {}, {} failed)", stats.checked,
                stats.revoked, stats.failed);
      return Err(Unavailable("lease tidy stopped before it finished"));
    }
    ASSIGN_OR_RETURN(auto lease, Read(id));
    if (!lease) continue;  // revoked since the listing
    ++stats.checked;
    if (lease->token_hmac.empty() || token_alive(lease->token_hmac)) continue;
    Status s = RevokeLease(*lease, /*force=*/false);
    if (s.ok()) {
      ++stats.revoked;
    } else {
      ++stats.failed;
      Log(LogModule::kExpiration)
          .warn("tidy could not revoke lease {}: {}", lease->id, s.ToString());
    }
  }
  Log(LogModule::kExpiration)
      .info("tidy checked {} leases, revoked {} whose token is gone, {} failed", stats.checked,
            stats.revoked, stats.failed);
  return stats;
}

bool ExpirationManager::StartTidy(std::function<bool(std::string_view token_hmac)> token_alive) {
  return tidy_job_.Start(
      [this, token_alive = std::move(token_alive)](const std::atomic<bool>& stop) {
        Log(LogModule::kExpiration).info("tidy started");
        Result<TidyStats> stats = Tidy(token_alive, &stop);
        if (!stats)
          Log(LogModule::kExpiration).error("tidy ended early: {}", stats.error().ToString());
      });
}

Status ExpirationManager::RevokeByToken(std::string_view token_hmac, std::string_view token_path) {
  if (token_hmac.empty()) return Status::Ok();
  if (!token_path.empty()) {
    ASSIGN_OR_RETURN(auto own, Read(TokenLeaseId(token_path, token_hmac)));
    if (own && own->kind == Lease::Kind::kToken && own->token_hmac == token_hmac) {
      TRY(DeleteRecords(*own));
    }
  }
  const std::string folder = "token/" + std::string(token_hmac) + "/";
  ASSIGN_OR_RETURN(auto children, view_.List(folder));
  Status first;
  for (const auto& c : children) {
    ASSIGN_OR_RETURN(auto marker, view_.Get(folder + c));
    if (!marker) continue;
    ASSIGN_OR_RETURN(auto lease, Read(marker->value));
    Status s;
    if (!lease) {
      s = view_.Delete(folder + c);
    } else if (lease->kind == Lease::Kind::kToken && lease->token_hmac == token_hmac) {
      s = DeleteRecords(*lease);
    } else if (Status refused = revoker_.Revoke(*lease); refused.ok()) {
      s = DeleteRecords(*lease);
    } else {
      Log(LogModule::kExpiration)
          .warn("revoking lease {} of a revoked token failed, will retry: {}", lease->id,
                refused.ToString());
      s = ExpireNow(*lease);
    }
    if (!s.ok() && first.ok()) first = s;
  }
  return first;
}

Status ExpirationManager::ExpireNow(Lease lease) {
  for (int attempt = 1;; ++attempt) {
    const std::int64_t now = NowUnix();
    if (lease.expire_time <= now) return Status::Ok();  // already retried by the expiry thread
    const Lease read_as = lease;
    lease.expire_time = now;
    Status s = Write(lease, /*is_new=*/false, nullptr, &read_as);
    if (s.code() == Code::kNotFound) return Status::Ok();  // revoked meanwhile
    if (s.code() != Code::kConflict || attempt == kRewriteAttempts) return s;
    // Renewed meanwhile: expire what is stored now.
    ASSIGN_OR_RETURN(auto again, Read(read_as.id));
    if (!again) return Status::Ok();
    lease = *std::move(again);
  }
}

Result<std::vector<std::string>> ExpirationManager::List(std::string_view prefix) {
  std::string folder = std::string(Trim(prefix, "/"));
  if (!folder.empty()) folder += "/";
  return view_.List("id/" + folder);
}

std::size_t ExpirationManager::IndexSize() const {
  std::scoped_lock lock(mu_);
  return index_.size();
}

std::size_t ExpirationManager::IndexBytes() const {
  std::scoped_lock lock(mu_);
  return index_.AllocatedBytes();
}

}  // namespace coffer::expiration
