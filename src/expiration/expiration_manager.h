#pragma once
// ExpirationManager: keeps every lease (secret or token) and revokes it when
// it expires.
//
// Storage (the "sys/expire/" barrier view) holds one record per lease plus a
// compact, bucketed index with an ordered log in front of it
// (index_format.h). Memory holds only ExpiryIndex: 16-byte key + 8-byte
// monotonic due time per lease (~100 bytes with the containers; see
// tests/expiration/index_size_test.cc), and copies of the log's live
// records. Load() does not read lease bodies: it reads the log, lists the
// 4096 index buckets (and an earlier version's journal folders) and streams
// them into memory on a loader thread (the old journal first: it is newer);
// expiry works on what is loaded from the first bucket on.
//
// Registering or renewing a lease writes its record and appends one record
// to the index log (no read of the bucket, and a new lease takes no lock).
// The write that would bring a bucket's live log records to
// Options::compact_threshold, or that finds the bucket's oldest live record
// more than Options::log_fold_span records behind the log's end, folds them
// into the bucket instead, in its own transaction: it reads the bucket, adds
// the records this process knows are live (a copy kept in memory, so the log
// is neither listed nor read) and its own record. Any write that finds the
// log's oldest live record past the span folds that record's bucket too, so
// a bucket that sees no write cannot hold the log back. The log's dead records
// (folded, superseded, deletions) are deleted oldest first, a batch at a
// time, in the transactions of later writes. No background thread writes
// storage, so every write belongs to a request; CompactIndex() folds and
// deletes everything by hand. The log thus holds about log_fold_span
// records: Load() reads it whole before it returns, and the loader resolves
// each lease's newest record against its bucket as it streams them.
//
// A background thread (started by Load(), ended by Stop()) revokes expired
// leases through the Revoker, at most Options::max_revocations_per_second
// (token bucket), and retries failures with exponential backoff
// (initial_backoff doubling up to max_backoff). ProcessExpired() runs one
// pass by hand (tests, or a caller without the thread).
//
// Scheduling uses the monotonic clock; lease records carry unix times (wall
// clock) for reporting and for surviving restarts.
//
// Thread-safe. Never holds a lock while calling the Revoker or storage for a
// revocation. Errors: kNotFound (unknown lease), kInvalidArgument (not
// renewable, expired, token lease through the secret API), storage errors,
// and the Revoker's error from Revoke()/RevokePrefix(force=false).

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "common/background_job.h"
#include "common/clock.h"
#include "common/status.h"
#include "expiration/expiry_index.h"
#include "expiration/index_format.h"
#include "expiration/lease.h"
#include "storage/backend.h"

namespace coffer::expiration {

struct Options {
  std::chrono::seconds default_lease_ttl{768 * 3600};
  std::chrono::seconds max_lease_ttl{768 * 3600};
  double max_revocations_per_second = 500;  // also the burst size
  std::chrono::milliseconds initial_backoff{1000};
  std::chrono::milliseconds max_backoff{5 * 60 * 1000};
  // Upper bound (real time) on how long the expiry thread sleeps between
  // passes; lower it in tests that drive a FakeClock.
  std::chrono::milliseconds poll_interval{1000};
  bool start_expiry_thread = true;
  // The write that would bring a bucket's live log records to this many
  // folds them into the bucket instead.
  std::uint32_t compact_threshold = 16;
  // ... and so does the write that finds the bucket's (or the whole log's)
  // oldest live record more than this many records behind the log's end.
  // This bounds the log that Load() reads one key at a time before it
  // returns (~36,000 records at this span: 0.08 s, and ~31 bytes of RSS per
  // lease at a million leases), and every dead record behind that age gets
  // deleted.
  std::uint64_t log_fold_span = 32768;
};

// What an engine asks for when it returns a secret with a lease.
struct LeaseRequest {
  std::string path;                 // request path, e.g. "database/creds/ro"
  std::string token_hmac;           // the creating token (may be empty)
  std::chrono::seconds ttl{0};      // 0 = Options::default_lease_ttl
  std::chrono::seconds max_ttl{0};  // 0 = Options::max_lease_ttl
  bool renewable = true;
  nlohmann::json internal = nlohmann::json::object();
};

class ExpirationManager {
 public:
  ExpirationManager(storage::Backend& view, Clock& clock, Revoker& revoker, Options options = {});
  ~ExpirationManager();  // Stop()s
  ExpirationManager(const ExpirationManager&) = delete;
  ExpirationManager& operator=(const ExpirationManager&) = delete;

  // After unseal: clears memory, starts streaming the index (loader thread)
  // and the expiry thread. Returns once the bucket list is read.
  Status Load();
  // Blocks until the loader has read every bucket; its status.
  Status WaitForLoad();
  bool Loaded() const { return loaded_.load(); }
  // The system-wide lease TTLs it was built with.
  const Options& options() const { return options_; }
  // At seal: stops both threads and forgets the index. Idempotent.
  void Stop();

  // A new secret lease "<path>/<random>".
  Result<Lease> Register(const LeaseRequest& request);
  // The lease of a token (id TokenLeaseId(path, token_hmac)); the token
  // store calls it for every token with a TTL, and ExtendToken on renewal.
  Status RegisterToken(std::string_view token_hmac, std::string_view path, std::chrono::seconds ttl,
                       bool renewable);
  // RegisterToken inside the caller's transaction: `transact` gets the
  // lease's ops (keys relative to this manager's view) and must apply them
  // atomically together with its own (e.g. the token entry) in ONE storage
  // Transact, returning its status. It runs under the lease's bucket lock;
  // the in-memory index is updated only if it returns Ok, so a failed or
  // conflicting transaction leaves neither records nor index entry.
  using TransactFn = std::function<Status(std::span<const storage::Op> lease_ops)>;
  Status RegisterTokenWith(std::string_view token_hmac, std::string_view path,
                           std::chrono::seconds ttl, bool renewable, const TransactFn& transact);
  Status ExtendToken(std::string_view token_hmac, std::string_view path, std::chrono::seconds ttl);
  static std::string TokenLeaseId(std::string_view path, std::string_view token_hmac);

  Result<Lease> Lookup(std::string_view lease_id);
  // Renews a secret lease by `increment` (0 = its last ttl), capped at
  // issue_time + max_ttl.
  // *capped_from (if given): the TTL asked for when the max TTL cut it
  // short, else 0.
  Result<Lease> Renew(std::string_view lease_id, std::chrono::seconds increment,
                      std::int64_t* capped_from = nullptr);
  // Revokes through the Revoker, then deletes. Unknown ids are Ok.
  Status Revoke(std::string_view lease_id);
  // Vault's lazy revocation (sync=false): the lease expires now and the
  // expiry thread revokes it, retrying with backoff. Unknown: nothing.
  Status RevokeLater(std::string_view lease_id);
  // Every lease whose id starts with prefix ("" is refused). force: delete
  // even when the Revoker fails. sync=false: each expires now instead, for
  // the expiry thread (force ignores it).
  Status RevokePrefix(std::string_view prefix, bool force, bool sync = true);
  // Every secret lease the token created (through the Revoker), and the
  // token's own lease record when token_path (the path it was created at) is
  // given (deleted only: the caller is revoking it). A token's own lease has
  // no token/ marker, so without token_path it is left to expire.
  // A secret lease whose engine refuses its revocation does not stop the
  // token's: as in Vault, it expires at once and the expiry thread retries
  // it with backoff (its failures are counted and reported as any expired
  // lease's). Only a storage error fails the call.
  Status RevokeByToken(std::string_view token_hmac, std::string_view token_path = {});
  // One level of lease ids under prefix (folders end in '/').
  Result<std::vector<std::string>> List(std::string_view prefix);

  // Vault's sys/leases/tidy: revokes (through the Revoker) every lease
  // whose token `token_alive` says is gone, a secret lease's creating token
  // or a token lease's own token, which is what an interrupted revocation
  // can leave behind. A lease without a token is kept. A lease the Revoker
  // refuses stays (counted in `failed`, logged); storage errors end the
  // walk with an error.
  struct TidyStats {
    std::size_t checked = 0;
    std::size_t revoked = 0;
    std::size_t failed = 0;
  };
  // Between leases it looks at `stop` (when given) and ends with
  // kUnavailable once it is set.
  Result<TidyStats> Tidy(const std::function<bool(std::string_view token_hmac)>& token_alive,
                         const std::atomic<bool>* stop = nullptr);
  // sys/leases/tidy: runs Tidy on a thread of its own (what it did goes to
  // the log). False (nothing started) while an earlier one still runs.
  // Stop() stops it first.
  bool StartTidy(std::function<bool(std::string_view token_hmac)> token_alive);

  // A lease whose revocation at expiry failed and is being retried.
  struct FailingLease {
    std::string id;
    int attempts = 0;   // failed revocations in a row
    std::string error;  // the last one's message, at most kMaxFailureMessage bytes
  };
  static constexpr std::size_t kMaxFailureMessage = 240;
  // Vault marks a lease irrevocable at its sixth failed revocation and stops
  // trying; Coffer keeps trying with backoff, and reports the lease as
  // irrevocable from its sixth failure until a revocation succeeds. From
  // then on each failure's count and message are also stored
  // ("irrevocable/<key hex>"), and Load() reads them back, so the report
  // survives a restart or a failover.
  static constexpr int kIrrevocableAfter = 6;
  // Leases whose revocation failed at least `min_attempts` times in a row,
  // sorted by id. Counts below kIrrevocableAfter are kept in memory only
  // (they start again at 0 after a restart).
  Result<std::vector<FailingLease>> FailingLeases(int min_attempts);

  // Runs one expiry pass now; the number of leases revoked.
  std::size_t ProcessExpired();
  // Folds every journal record into its bucket now (tests, tools).
  Status CompactIndex();

  std::size_t IndexSize() const;
  std::size_t IndexBytes() const;
  // Wall-clock unix seconds from the manager's clock, rounded down (has an
  // expiry passed?) and up (the second a lease is issued or renewed at, and
  // the one its time left counts from): see UnixSecondsUp in clock.h.
  std::int64_t NowUnix() const;
  std::int64_t NowUnixUp() const;

 private:
  // `read_as` (a rewrite only): the record as the caller read it. If the
  // stored one has another expiry or renewal time by now (a revocation's
  // ExpireNow, another renewal), nothing is written and the answer is
  // kConflict: the caller reads again and decides again, so a renewal that
  // read a lease before a lazy revocation cannot write it back alive.
  Status Write(const Lease& lease, bool is_new, const TransactFn* transact = nullptr,
               const Lease* read_as = nullptr);
  // Rewrites tried in a row before a kConflict reaches the caller.
  static constexpr int kRewriteAttempts = 16;
  Result<Lease> TokenLease(std::string_view token_hmac, std::string_view path,
                           std::chrono::seconds ttl, bool renewable) const;
  Status DeleteRecords(const Lease& lease);
  Status RevokeLease(const Lease& lease, bool force);
  // Vault's lazy revocation: the lease expires now, and the expiry thread
  // revokes it (with backoff when its engine keeps refusing).
  Status ExpireNow(Lease lease);
  // One try of Renew; kConflict when the lease changed under it.
  Result<Lease> RenewOnce(std::string_view lease_id, std::chrono::seconds increment,
                          std::int64_t* capped_from);
  // Every lease id under "id/" + folder ("" or ending in '/'), depth first.
  Result<std::vector<std::string>> IdsUnder(std::string folder);
  bool RevokeExpired(const LeaseKey& key);
  // Notes the failure (its message) and schedules the next attempt; from
  // the kIrrevocableAfter-th failure of a lease whose id is known, stores
  // the failure too.
  void ScheduleRetry(const LeaseKey& key, std::string_view error, std::string_view id = {});
  // Forgets a lease's failures, and deletes their stored record if there
  // is one (logs a storage error: Load() drops a record whose lease is gone).
  void ForgetFailure(const LeaseKey& key);
  // Load(): the stored failures of leases that still exist.
  Status LoadFailures();
  Result<std::optional<Lease>> Read(std::string_view lease_id);
  Result<std::optional<std::string>> IdOfKey(const LeaseKey& key);
  std::int64_t MonoNs() const;
  std::int64_t DueOf(std::int64_t expire_unix) const;
  void LoadIndex(std::vector<std::string> buckets, std::vector<std::string> journal_folders);
  // Reads the whole log (Load(), before the loader starts): each lease's
  // newest record becomes pending, every other record dead.
  Status ReadLog();
  // Under the bucket's lock: the bucket's pending log records against its
  // stored value; live ones join the journal and the index.
  void ResolvePending(std::size_t bucket, std::string_view bucket_value);
  Status LoadJournal(std::size_t bucket, std::int64_t offset);
  void AddLoaded(const std::vector<std::pair<LeaseKey, std::int64_t>>& batch);
  // The loader's repair: every lease of the `damaged` buckets (and, with
  // `missing_too`, every lease the index lacks) is read from its record
  // under id/ and indexed; the damaged buckets are written again.
  Status RecoverFromRecords(const std::vector<std::size_t>& damaged, bool missing_too,
                            std::int64_t offset);
  bool log_unreadable_ = false;  // ReadLog skipped a record it could not read
  void ExpiryLoop();
  // Compaction (expiration_compact.cc).
  // Folds every journal record stored for a bucket into it (lists storage).
  Status CompactBucket(std::size_t bucket);
  // The ops that fold the bucket's known journal records and `record` (a
  // new lease's, or a renewal's) into the bucket, appended to ops; the
  // caller holds the bucket's lock. The folded keys, `record`'s included, in
  // *folded. An error leaves ops as they were: the caller journals its
  // record instead. Once the fold commits, JournalForget(bucket, *folded)
  // gives the log records it made dead (the lock held throughout, nothing
  // replaced them).
  Status FoldOps(std::size_t bucket, const IndexRecord* record, std::vector<storage::Op>& ops,
                 std::vector<LeaseKey>* folded);
  // Folds the bucket's known live records (CompactIndex).
  Status FoldKnown(std::size_t bucket);
  // Asks the folder thread to fold a bucket (for a writer that may not
  // hold its lock); FoldLoop is that thread, folding up to kFoldBatch
  // wanted buckets per transaction with FoldBuckets.
  void WantFold(std::size_t bucket);
  void FoldLoop();
  Status FoldBuckets(std::vector<std::size_t> buckets);
  static constexpr std::size_t kFoldBatch = 64;
  // The in-memory copy of the live journal (see journal_).
  struct JournalEntry {
    IndexRecord record;
    std::uint64_t seq = 0;  // its log record; 0: a record of the old journal
  };
  // How many records, and the seq of the oldest log record (0 if none).
  std::pair<std::size_t, std::uint64_t> JournalStats(std::size_t bucket);
  // The entries a bucket's journal keeps room for: a full journal (the
  // default threshold's 16 records of 64 bytes), no more than kMaxJournalRoom
  // (tests raise the threshold to keep every record in the log).
  static constexpr std::size_t kMaxJournalRoom = 16;
  std::size_t JournalRoom() const {
    return std::min<std::size_t>(options_.compact_threshold, kMaxJournalRoom);
  }
  // The seq of the entry it replaced (0 if none, or an old-journal one).
  std::uint64_t JournalUpsert(std::size_t bucket, JournalEntry entry);
  // The seqs of the log records of the entries it removed.
  std::vector<std::uint64_t> JournalForget(std::size_t bucket, std::span<const LeaseKey> keys);
  // The log (see log_slots_): a seq for a record of `bucket`.
  std::uint64_t AllocSeq(std::size_t bucket);
  enum LogState : std::uint8_t {
    kLogWriting,  // its transaction has not returned
    kLogLive,     // the newest record of its lease, not folded
    kLogPending,  // read by Load(), not resolved yet
    kLogDead,     // may be deleted (or was never stored)
  };
  void SetLogState(std::uint64_t seq, LogState state);
  void SetLogStates(std::span<const std::uint64_t> seqs, LogState state);
  std::uint64_t NextSeq();
  // The bucket of the log's oldest live record, when that record is more
  // than Options::log_fold_span behind the log's end.
  std::optional<std::size_t> OverAgeBucket();
  // Appends deletions of the oldest dead log records to ops (none while
  // another write is deleting; a live or pending record stops them); how
  // many. FinishPrune(n, committed) after the transaction.
  std::size_t TakePrunable(std::vector<storage::Op>& ops);
  void FinishPrune(std::size_t n, bool committed);
  // Pending records of the bucket for `key` become dead (a renewal or a
  // deletion under the bucket's lock supersedes them).
  void DropPending(std::size_t bucket, const LeaseKey& key);
  void ClearJournal();  // every bucket's
  bool Stopping();
  std::mutex& BucketMutex(std::size_t bucket) { return bucket_mu_[bucket % kBucketStripes]; }

  static constexpr std::size_t kBucketStripes = 256;

  storage::Backend& view_;
  Clock& clock_;
  Revoker& revoker_;
  const Options options_;

  mutable std::mutex mu_;
  ExpiryIndex index_;  // guarded by mu_
  struct Failure {
    int attempts = 0;
    std::string error;
    std::string id;  // the lease's, when known
    // From kIrrevocableAfter attempts on, an irrevocable/ record may exist.
  };
  std::unordered_map<LeaseKey, Failure, LeaseKeyHash> failures_;  // guarded by mu_
  double rate_tokens_ = 0;                                        // guarded by mu_
  std::int64_t rate_refill_ns_ = 0;                               // guarded by mu_
  bool stopping_ = false;                                         // guarded by mu_
  Status load_status_;                                            // guarded by mu_
  // The expired leases ProcessExpired() is revoking, each with whether
  // another request deleted it meanwhile (revoke-force, revoke-prefix): a
  // failure of the expiry's own attempt is then not noted, so that neither
  // the report nor the index gets the lease back. Guarded by mu_.
  std::unordered_map<LeaseKey, bool, LeaseKeyHash> revoking_;
  std::condition_variable cv_;
  // Locked by whoever reads-modifies-writes a bucket (deletion, compaction)
  // and by renewals (so a compaction cannot drop a journal record it did
  // not fold). A new lease takes it only to fold (try_lock: if it is taken,
  // a later write folds).
  std::unique_ptr<std::mutex[]> bucket_mu_;
  // The live records of each bucket that this process knows are stored (in
  // the log, or in an earlier version's journal): the ones it wrote (added
  // after their transaction committed) and the ones the loader read or
  // resolved (added under the bucket's lock). Renewals, deletions and
  // folds change a bucket's entries under the bucket's lock, so whoever holds
  // that lock sees only records storage holds, with their stored values; a
  // new lease's record may be missing from it for a moment (it is then
  // folded by a later write). Guarded by journal_mu_ (striped like
  // bucket_mu_, held only for the in-memory edit).
  std::unique_ptr<std::vector<JournalEntry>[]> journal_;
  std::unique_ptr<std::mutex[]> journal_mu_;
  // The log records Load() found that are the newest of their lease, per
  // bucket, until the loader resolves them (guarded by the bucket's lock).
  struct PendingLog {
    std::uint64_t seq;
    IndexRecord record;
  };
  std::unique_ptr<std::vector<PendingLog>[]> pending_;
  // One slot per seq from log_base_ on: every log record this process may
  // have stored, so that the dead ones at the front can be deleted in order
  // and the oldest live one found. Guarded by log_mu_.
  struct LogSlot {
    LogState state;
    std::uint16_t bucket;
  };
  std::mutex log_mu_;
  std::deque<LogSlot> log_slots_;
  std::uint64_t log_base_ = 1;
  bool log_pruning_ = false;          // a write is deleting the front...
  std::uint64_t log_prune_base_ = 0;  // ...from this seq on
  std::atomic<std::uint64_t> next_seq_{1};

  // Buckets wanted folded (WantFold), each once.
  std::mutex fold_mu_;
  std::condition_variable fold_cv_;
  std::vector<std::size_t> fold_wanted_;                              // guarded by fold_mu_
  std::vector<bool> fold_queued_ = std::vector<bool>(kIndexBuckets);  // guarded by fold_mu_
  bool fold_stopping_ = true;                                         // guarded by fold_mu_

  std::atomic<bool> loaded_{false};
  std::thread loader_;
  std::thread expiry_;
  std::thread folder_;
  BackgroundJob tidy_job_;
};

}  // namespace coffer::expiration
