#pragma once
// LocalBackend ("local"): the embedded default backend, one SQLite database in
// WAL mode under a private directory.
//
// Layout: <dir>/coffer.db (+ -wal, -shm), all 0600, in a 0700 directory (an
// existing directory that is more open is chmod-ed to 0700). <dir>/coffer.lock
// holds an exclusive flock while the backend is open, so two processes (or two
// LocalBackends) can never write the same database and break the revision
// counter.
//
// Durability: a Put/Delete/Transact returns Ok only after its COMMIT
// reached the disk (fdatasync of the WAL; PRAGMA synchronous=FULL, with the
// commit's fsync done by the sync thread below).
//
// Group commit: writers enqueue their request and block; one committer thread
// takes everything queued, applies each request inside its own SAVEPOINT of a
// single transaction (a failed compare or error rolls back only that request),
// COMMITs once and hands the batch to a sync thread, which fsyncs the WAL
// once for every batch committed since its last fsync started, and only
// then wakes every caller with its own Status. The committer applies the next batch
// while the fsync of the previous one runs (with the fsync inside COMMIT,
// the two took turns and a commit cycle was apply + fsync). SQLite's own
// fsync of the WAL at COMMIT is deferred to the sync thread for that
// (wal_gather_vfs.h); checkpoints and the close still sync first.
//
// Reads use a pool of separate query-only connections; in WAL mode they run
// concurrently with the writer and see the last committed state. A commit is
// visible to them before its fsync is done, so a read whose answer may come
// from a batch not yet durable waits for that fsync before it answers:
// nothing a crash could still lose is ever returned. A Get waits only when
// the row it found was written by such a batch, or when it found none while
// a batch with a delete is in flight; a List waits whenever a batch is.
//
// A failed fsync of the WAL leaves the kernel's copy of the file in doubt
// (its dirty pages may have been dropped), so the backend fails closed:
// that batch, every later write and every read whose answer may come from
// an unsynced batch answer kInternal until the process restarts.
//
// Checkpoints (copying committed pages from the WAL into the database file,
// with its fsync) run on a thread and connection of their own, started once
// the WAL holds 1,000 pages (SQLite's own automatic threshold), so a commit
// does not wait for one. Only the writer can restart the WAL from its
// beginning, and only once everything in it was copied: when the WAL reaches
// 8,000 pages the committer copies what is left itself, after a commit, and
// the WAL starts over at the next one. Durability does not change: a write
// is acknowledged after the fsync of the WAL, as before.
//
// Revisions come from a counter stored in the database (table coffer_meta),
// so they increase across restarts even when the newest key was deleted.
//
// Thread safety: every method may be called from any thread concurrently.
// Errors: kInvalidArgument (bad key), kConflict (a Transact compare failed),
// kUnavailable (after Close, or the directory is locked by another opener),
// kTooLarge (a value over SQLite's 1 GB limit), kInternal (SQLite or
// file-system trouble; the message names no value).

#include <sqlite3.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "storage/backend.h"

namespace coffer::storage {

class LocalBackend final : public Backend {
 public:
  // Opens (creating if needed) the database in `dir`.
  static Result<std::unique_ptr<LocalBackend>> Open(const std::string& dir);

  ~LocalBackend() override;
  LocalBackend(const LocalBackend&) = delete;
  LocalBackend& operator=(const LocalBackend&) = delete;

  Result<std::optional<Entry>> Get(std::string_view key) override;
  Status Put(std::string_view key, std::string_view value) override;
  Status Delete(std::string_view key) override;
  Result<std::vector<std::string>> List(std::string_view prefix) override;
  Status Transact(std::span<const Compare> compares, std::span<const Op> ops) override;
  std::string_view Type() const override { return "local"; }

  // Lets every queued and in-flight write finish, stops the committer thread
  // and closes the database. Later calls answer kUnavailable. Idempotent.
  void Close();

  // Number of write transactions committed so far (each is one fsync). With
  // concurrent writers this is smaller than the number of writes.
  std::uint64_t CommitBatches() const { return commit_batches_.load(); }

  // Checkpoints done so far by the checkpoint thread, and by the committer
  // when the WAL reached its bound.
  std::uint64_t BackgroundCheckpoints() const { return background_checkpoints_.load(); }
  std::uint64_t CommitterCheckpoints() const { return committer_checkpoints_.load(); }

  // Test hooks: while paused the committer takes nothing from the queue, so a
  // test can line up several writes and observe them committed in one batch.
  // Close() resumes by itself.
  void PauseCommitsForTesting();
  void ResumeCommitsForTesting();
  // Lowers SQLite's length limit on the writer, so that a larger value
  // fails its put (SQLITE_TOOBIG) with the transaction still open. Call
  // while no commit runs (e.g. paused).
  void LimitValueSizeForTesting(int bytes);
  std::size_t PendingWritesForTesting() const;
  // While paused the checkpoint thread starts no checkpoint.
  void PauseCheckpointsForTesting();
  void ResumeCheckpointsForTesting();
  // While paused the sync thread starts no fsync: committed batches stay
  // unacknowledged, and reads that may see them wait.
  void PauseSyncsForTesting();
  void ResumeSyncsForTesting();
  // The next fsync of the WAL is treated as failed (as after EIO).
  void FailNextSyncForTesting();
  // fsyncs of the WAL done by the sync thread so far.
  std::uint64_t WalSyncs() const { return wal_syncs_.load(); }

 private:
  struct Request;
  struct ReadConn;

  LocalBackend(std::string dir, int lock_fd);
  Status Init();

  // A committed (or failed) batch waiting for its fsync.
  struct Unsynced {
    std::vector<Request*> batch;
    std::vector<Status> results;
    std::uint64_t seq = 0;
    std::uint64_t last_revision = 0;  // the revision counter after the batch
    bool committed = false;
  };

  Status Enqueue(Request& request);
  void CommitLoop();
  void SyncLoop();
  void StopSyncer();
  // Called by a read after its read transaction: returns once batch `seq`
  // (one the read may have seen, or 0) and those before it are durable.
  Status AwaitDurable(std::uint64_t seq);
  void CommitBatch(std::vector<Request*>& batch);
  // Begins the batch's transaction and applies each request, with or
  // without a savepoint each; per-request outcomes in `results`. Without
  // savepoints, `retry` is set when a request failed after writing: the
  // transaction was rolled back, and the batch must run with savepoints.
  Status ApplyBatch(const std::vector<Request*>& batch, std::vector<Status>& results,
                    bool savepoints, bool* retry);
  // `wrote` (if given) is set when a failure came after the request's
  // first write.
  Status ApplyRequest(const Request& request, bool* wrote);
  Status ApplyPut(std::string_view key, std::string_view value);
  Status ApplyDelete(std::string_view key);
  Result<std::uint64_t> CurrentRevision(std::string_view key);

  // sqlite3_wal_hook on the writer: called after each commit with the
  // number of pages in the WAL.
  static int OnWalCommit(void* self, sqlite3* db, const char* name, int pages);
  void CheckpointLoop();
  void StopCheckpointer();

  Result<std::unique_ptr<ReadConn>> AcquireReader();
  void ReleaseReader(std::unique_ptr<ReadConn> conn);

  const std::string dir_;
  int lock_fd_ = -1;

  // Owned by the committer thread once it runs.
  sqlite3* writer_ = nullptr;
  sqlite3_stmt* put_stmt_ = nullptr;
  sqlite3_stmt* delete_stmt_ = nullptr;
  sqlite3_stmt* revision_stmt_ = nullptr;
  sqlite3_stmt* counter_stmt_ = nullptr;
  // The batch's transaction control, prepared once (the committer runs them
  // for every request, and parsing SQL each time showed in profiles).
  sqlite3_stmt* begin_stmt_ = nullptr;
  sqlite3_stmt* savepoint_stmt_ = nullptr;
  sqlite3_stmt* release_stmt_ = nullptr;
  sqlite3_stmt* commit_stmt_ = nullptr;
  std::uint64_t revision_ = 0;  // the last revision handed out

  mutable std::mutex queue_mu_;
  std::condition_variable queue_cv_;
  std::deque<Request*> queue_;  // guarded by queue_mu_
  bool stopping_ = false;       // guarded by queue_mu_
  bool paused_ = false;         // guarded by queue_mu_
  std::thread committer_;
  std::atomic<std::uint64_t> commit_batches_{0};

  // Batches are numbered by the committer. visible_seq_ is set before a
  // batch's COMMIT (readers may see it from then on), durable_seq_ after
  // the fsync that covers it.
  std::uint64_t commit_seq_ = 0;  // committer only
  std::atomic<std::uint64_t> visible_seq_{0};
  std::atomic<std::uint64_t> durable_seq_{0};
  // The last batch with a delete (set before its COMMIT), and the revision
  // counter as of the last durable batch: a read that found a row with a
  // revision up to it, or found no row while no delete is in flight,
  // answers without waiting.
  std::atomic<std::uint64_t> delete_seq_{0};
  std::atomic<std::uint64_t> durable_revision_{0};
  std::atomic<bool> sync_failed_{false};
  bool wal_sync_deferred_ = false;  // set in Init, before the threads start
  int wal_fd_ = -1;                 // the WAL, for the sync thread's fdatasync
  std::mutex sync_mu_;
  std::condition_variable sync_cv_;
  std::deque<Unsynced> unsynced_;  // in seq order; guarded by sync_mu_
  // Reads waiting for durable_seq_ to reach the first value.
  std::vector<std::pair<std::uint64_t, Request*>> durable_waiters_;  // guarded by sync_mu_
  bool sync_stopping_ = false;                                       // guarded by sync_mu_
  bool sync_paused_ = false;                                         // guarded by sync_mu_
  bool fail_next_sync_ = false;                                      // guarded by sync_mu_
  bool sync_exited_ = false;                                         // guarded by sync_mu_
  std::thread syncer_;
  std::atomic<std::uint64_t> wal_syncs_{0};

  sqlite3* checkpointer_db_ = nullptr;  // used only by the checkpoint thread
  std::mutex checkpoint_mu_;
  std::condition_variable checkpoint_cv_;
  bool checkpoint_wanted_ = false;    // guarded by checkpoint_mu_
  int checkpoint_asked_at_ = 0;       // WAL pages when last asked; committer only
  bool checkpoint_stopping_ = false;  // guarded by checkpoint_mu_
  bool checkpoint_paused_ = false;    // guarded by checkpoint_mu_
  std::thread checkpointer_;
  std::atomic<std::uint64_t> background_checkpoints_{0};
  std::atomic<std::uint64_t> committer_checkpoints_{0};

  std::mutex readers_mu_;
  std::vector<std::unique_ptr<ReadConn>> idle_readers_;  // guarded by readers_mu_
  bool closed_ = false;                                  // guarded by readers_mu_

  std::mutex close_mu_;  // serialises Close()
};

}  // namespace coffer::storage
