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
// Durability: PRAGMA synchronous=FULL in WAL mode, so a Put/Delete/Transact
// returns Ok only after its COMMIT reached the disk (fsync of the WAL).
//
// Group commit: writers enqueue their request and block; one committer thread
// takes everything queued, applies each request inside its own SAVEPOINT of a
// single transaction (a failed compare or error rolls back only that request),
// COMMITs once (one fsync) and wakes every caller with its own Status.
// Reads use a pool of separate query-only connections; in WAL mode they run
// concurrently with the writer and see the last committed state.
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

 private:
  struct Request;
  struct ReadConn;

  LocalBackend(std::string dir, int lock_fd);
  Status Init();

  Status Enqueue(Request& request);
  void CommitLoop();
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
