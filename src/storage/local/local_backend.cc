#include "storage/local/local_backend.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <utility>

#include "common/encoding.h"
#include "common/fiber.h"
#include "storage/list_util.h"
#include "storage/local/sqlite_util.h"
#include "storage/local/wal_gather_vfs.h"

namespace coffer::storage {

using local::BindBlob;
using local::BindText;
using local::ColumnBytes;
using local::Exec;
using local::Prepare;
using local::SqliteError;
using local::StmtScope;

namespace {

constexpr const char* kDbName = "coffer.db";
// SQLite's "unix-excl" VFS: the first read takes an exclusive lock on the
// database file for the whole process, and the WAL index lives in process
// memory instead of a -shm file. Connections of this process share it; no
// other process can open the database while the server runs (coffer.lock
// already keeps a second server out). With the default "unix" VFS every read
// transaction took and dropped POSIX locks (fcntl) under SQLite's global
// mutex: ~10 % of the CPU of reads that miss the cache, plus contention
// between workers. With unix-excl, uncached reads of a 1,000,000-secret store
// went up by ~30 % (docs/benchmarks.md).
constexpr const char* kVfs = "unix-excl";
constexpr const char* kLockName = "coffer.lock";
// Readers and the writer never wait on each other in WAL mode; this only
// covers the short exclusive moments (WAL reset, recovery after a crash).
constexpr int kBusyTimeoutMs = 10000;
// Idle read connections kept open. It must cover the readers that run at
// once (the core has 32 request workers, plus the expiration manager): with
// 8, a read-heavy load opened and closed a SQLite connection (open, schema
// read, three prepares) on most Gets, ~15 % of the server's CPU.
constexpr std::size_t kMaxIdleReaders = 64;
// WAL size (in pages) at which the checkpoint thread starts (SQLite's default
// for its automatic checkpoint), and at which the committer copies what is
// left itself so that the WAL can start over. With the committer doing every
// checkpoint, as SQLite does by default, checkpoints were ~14 % of the
// server's CPU during durable token creation and every commit waited while
// one ran (docs/benchmarks.md).
constexpr int kCheckpointPages = 1000;
constexpr int kCommitterCheckpointPages = 8000;
// Past kCheckpointPages, the checkpoint thread is woken again only after this
// many more pages. The WAL only starts over once a checkpoint has caught up
// with the last commit, which a checkpoint running beside the committer
// rarely does; asking on every commit then meant one checkpoint, and one
// fsync of the database file, per commit (with one writer, two fsyncs per
// write). Each checkpoint copies what accumulated since the last.
constexpr int kCheckpointStridePages = 256;

Status Closed() { return Unavailable("local storage is closed"); }

Status SyncFailed() {
  return Internal(
      "local storage: an fsync of the write-ahead log failed; nothing more is written or "
      "read until the server restarts");
}

// Every connection of the backend (writer, checkpointer, readers) opens the
// database this way: they share the WAL index only through the same VFS.
// That is kVfs under a shim that gathers each commit's WAL writes into one
// (wal_gather_vfs.h); kVfs itself if the shim cannot be registered.
int OpenConnection(const std::string& db_path, sqlite3** db) {
  const char* vfs = local::WalGatherVfs(kVfs);
  return sqlite3_open_v2(db_path.c_str(), db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
                         vfs != nullptr ? vfs : kVfs);
}

// Runs a prepared statement that returns no rows.
Status StepDone(sqlite3* db, sqlite3_stmt* stmt, std::string_view what) {
  StmtScope scope(stmt);
  int rc = sqlite3_step(stmt);
  if (rc != SQLITE_DONE) return SqliteError(db, rc, what);
  return Status::Ok();
}

}  // namespace

// A write waiting for the committer and the fsync after it (or, with only
// the wait fields used, a read waiting for the fsync of a commit it may have
// seen). It lives on the caller's stack, and the caller blocks until
// `done` is set, so the views and spans stay valid.
//
// The wait is a mutex + condition variable (a futex sleep), not
// std::binary_semaphore: libstdc++'s semaphore spins with sched_yield before
// it sleeps, and 32 callers spinning stole the CPU the committer needed.
struct LocalBackend::Request {
  enum class Kind { kPut, kDelete, kTransact };
  Kind kind = Kind::kPut;
  std::string_view key;
  std::string_view value;
  std::span<const Compare> compares;
  std::span<const Op> ops;
  Status result;
  // The waiter's fiber, when it waits suspended (common/fiber.h) rather
  // than on `cv`.
  Fiber* fiber = nullptr;
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;  // guarded by mu

  // Returns once Finish was called: suspended on `fiber` if set, else
  // blocked on `cv`.
  void Await() {
    if (fiber != nullptr) {
      fiber->Suspend();
      return;
    }
    std::unique_lock lock(mu);
    cv.wait(lock, [this] { return done; });
  }
  // Notifies while holding the lock: once the waiter can see `done` it may
  // return and destroy this request, so nothing may touch it after unlock.
  // A suspended waiter reads `result` only after its loop resumed it, which
  // the wake's post orders after this write; after Wake nothing here may be
  // touched either.
  void Finish(Status status) {
    if (fiber != nullptr) {
      result = std::move(status);
      fiber->Wake();
      return;
    }
    std::scoped_lock lock(mu);
    result = std::move(status);
    done = true;
    cv.notify_one();
  }
};

// One query-only connection with its statements; used by one thread at a time.
struct LocalBackend::ReadConn {
  sqlite3* db = nullptr;
  sqlite3_stmt* get = nullptr;
  sqlite3_stmt* list_range = nullptr;  // key >= ?1 AND key < ?2
  sqlite3_stmt* list_from = nullptr;   // key >= ?1 (the prefix "" has no upper bound)

  ReadConn() = default;
  ReadConn(const ReadConn&) = delete;
  ReadConn& operator=(const ReadConn&) = delete;
  ~ReadConn() {
    for (sqlite3_stmt* s : {get, list_range, list_from}) sqlite3_finalize(s);
    sqlite3_close_v2(db);
  }
};

LocalBackend::LocalBackend(std::string dir, int lock_fd)
    : dir_(std::move(dir)), lock_fd_(lock_fd) {}

Result<std::unique_ptr<LocalBackend>> LocalBackend::Open(const std::string& dir) {
  if (dir.empty()) return Err(InvalidArgument("local storage: path is empty"));
  TRY(local::PreparePrivateDir(dir));
  std::string lock_path = dir + "/" + kLockName;
  TRY(local::PreparePrivateFile(lock_path));
  int lock_fd = ::open(lock_path.c_str(), O_RDWR | O_CLOEXEC | O_NOFOLLOW);
  if (lock_fd < 0) {
    return Err(Internal("local storage: cannot open " + lock_path + ": " + std::strerror(errno)));
  }
  if (::flock(lock_fd, LOCK_EX | LOCK_NB) != 0) {
    int err = errno;
    ::close(lock_fd);
    if (err == EWOULDBLOCK) {
      return Err(Unavailable("local storage: " + dir + " is already open in another backend"));
    }
    return Err(Internal("local storage: cannot lock " + lock_path + ": " + std::strerror(err)));
  }
  // From here the destructor releases the lock and the database.
  std::unique_ptr<LocalBackend> backend(new LocalBackend(dir, lock_fd));
  TRY(backend->Init());
  return backend;
}

Status LocalBackend::Init() {
  std::string db_path = dir_ + "/" + kDbName;
  // SQLite creates -wal with the mode of the database file, so the database
  // must exist with 0600 before SQLite first opens it. (No -shm with
  // unix-excl; one left by an older version is still restricted below.)
  TRY(local::PreparePrivateFile(db_path));
  int rc = OpenConnection(db_path, &writer_);
  if (rc != SQLITE_OK) return SqliteError(writer_, rc, "open");
  sqlite3_extended_result_codes(writer_, 1);
  sqlite3_busy_timeout(writer_, kBusyTimeoutMs);

  ASSIGN_OR_RETURN(auto mode, local::QueryText(writer_, "PRAGMA journal_mode=WAL"));
  if (mode != "wal") return Internal("local storage: cannot switch the database to WAL mode");
  TRY(Exec(writer_, "PRAGMA synchronous=FULL"));
  TRY(Exec(writer_,
           "CREATE TABLE IF NOT EXISTS kv ("
           " key TEXT PRIMARY KEY NOT NULL, value BLOB NOT NULL, revision INTEGER NOT NULL);"
           "CREATE TABLE IF NOT EXISTS coffer_meta ("
           " name TEXT PRIMARY KEY NOT NULL, value INTEGER NOT NULL);"));
  TRY(local::RestrictIfExists(db_path + "-wal"));
  TRY(local::RestrictIfExists(db_path + "-shm"));

  ASSIGN_OR_RETURN(
      auto stored,
      local::QueryText(writer_, "SELECT value FROM coffer_meta WHERE name='revision'"));
  ASSIGN_OR_RETURN(auto highest, local::QueryText(writer_, "SELECT MAX(revision) FROM kv"));
  // The stored counter is authoritative; MAX(revision) guards against a
  // counter row lost to manual editing.
  for (const auto& text : {stored, highest}) {
    if (!text || text->empty()) continue;
    std::uint64_t value = 0;
    auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
    if (ec != std::errc() || end != text->data() + text->size()) {
      return Internal("local storage: the stored revision counter is corrupt");
    }
    revision_ = std::max(revision_, value);
  }

  ASSIGN_OR_RETURN(put_stmt_, Prepare(writer_,
                                      "INSERT INTO kv(key, value, revision) VALUES(?1, ?2, ?3) "
                                      "ON CONFLICT(key) DO UPDATE SET value=excluded.value, "
                                      "revision=excluded.revision"));
  ASSIGN_OR_RETURN(delete_stmt_, Prepare(writer_, "DELETE FROM kv WHERE key=?1"));
  ASSIGN_OR_RETURN(revision_stmt_, Prepare(writer_, "SELECT revision FROM kv WHERE key=?1"));
  ASSIGN_OR_RETURN(counter_stmt_, Prepare(writer_,
                                          "INSERT INTO coffer_meta(name, value) "
                                          "VALUES('revision', ?1) ON CONFLICT(name) DO UPDATE "
                                          "SET value=excluded.value"));
  ASSIGN_OR_RETURN(begin_stmt_, Prepare(writer_, "BEGIN IMMEDIATE"));
  ASSIGN_OR_RETURN(savepoint_stmt_, Prepare(writer_, "SAVEPOINT request"));
  ASSIGN_OR_RETURN(release_stmt_, Prepare(writer_, "RELEASE request"));
  ASSIGN_OR_RETURN(commit_stmt_, Prepare(writer_, "COMMIT"));

  // One commit now that writes a page (the header's user_version, set to
  // what it is: an unchanged row would write none). Until this process has
  // committed through its WAL index, the index's header holds no database
  // size, and SQLite reads the size from the file (an fstat, ~1 µs on a
  // virtual machine) at the start of every read transaction: two per KV
  // read of a store that is only read after a restart.
  ASSIGN_OR_RETURN(auto user_version, local::QueryText(writer_, "PRAGMA user_version"));
  const auto version = ParseInt64(user_version.value_or("0"));
  if (!version) return Internal("local storage: unreadable user_version");
  TRY(Exec(writer_, ("PRAGMA user_version=" + std::to_string(*version)).c_str()));

  durable_revision_.store(revision_);  // everything stored before opening

  // From here the WAL's fsync at COMMIT is the sync thread's (see the
  // header). The first sync of a new WAL also synced its directory entry,
  // in the commit above. Without the shim, or without a descriptor of the
  // WAL, SQLite keeps syncing at COMMIT and the sync thread only
  // acknowledges.
  wal_fd_ = ::open((db_path + "-wal").c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (wal_fd_ >= 0) wal_sync_deferred_ = local::SetWalSyncDeferred(writer_, true);

  // Checkpoints: the writer's WAL hook replaces SQLite's automatic
  // checkpoint; a connection of their own does them on their own thread.
  rc = OpenConnection(db_path, &checkpointer_db_);
  if (rc != SQLITE_OK) return SqliteError(checkpointer_db_, rc, "open checkpointer");
  TRY(Exec(checkpointer_db_, "PRAGMA synchronous=FULL"));
  sqlite3_wal_hook(writer_, &LocalBackend::OnWalCommit, this);
  checkpointer_ = std::thread([this] { CheckpointLoop(); });

  syncer_ = std::thread([this] { SyncLoop(); });
  committer_ = std::thread([this] { CommitLoop(); });
  return Status::Ok();
}

int LocalBackend::OnWalCommit(void* self, sqlite3* db, const char* name, int pages) {
  auto* backend = static_cast<LocalBackend*>(self);
  if (pages >= kCommitterCheckpointPages) {
    // PASSIVE: copies what no reader still needs and never waits; if the
    // checkpoint thread is busy (SQLITE_BUSY) the next commit tries again.
    // A checkpoint must sync the WAL before it copies frames into the
    // database file (a frame copied but lost from the WAL would mix two
    // commits' pages after a crash), so not deferred.
    if (backend->wal_sync_deferred_) local::SetWalSyncDeferred(db, false);
    if (sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr) ==
        SQLITE_OK) {
      backend->committer_checkpoints_.fetch_add(1);
    }
    if (backend->wal_sync_deferred_) local::SetWalSyncDeferred(db, true);
  } else if (pages >= kCheckpointPages &&
             (pages < backend->checkpoint_asked_at_ ||  // the WAL started over
              pages - backend->checkpoint_asked_at_ >= kCheckpointStridePages)) {
    backend->checkpoint_asked_at_ = pages;
    {
      std::scoped_lock lock(backend->checkpoint_mu_);
      backend->checkpoint_wanted_ = true;
    }
    backend->checkpoint_cv_.notify_one();
  }
  return SQLITE_OK;  // a failed checkpoint is not a failed commit
}

void LocalBackend::CheckpointLoop() {
  for (;;) {
    {
      std::unique_lock lock(checkpoint_mu_);
      checkpoint_cv_.wait(lock, [this] {
        return checkpoint_stopping_ || (checkpoint_wanted_ && !checkpoint_paused_);
      });
      if (checkpoint_stopping_) return;
      checkpoint_wanted_ = false;
    }
    // Errors (busy, I/O) leave the pages in the WAL, where reads still find
    // them; the next commit asks again.
    if (sqlite3_wal_checkpoint_v2(checkpointer_db_, nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr,
                                  nullptr) == SQLITE_OK) {
      background_checkpoints_.fetch_add(1);
    }
  }
}

void LocalBackend::StopCheckpointer() {
  {
    std::scoped_lock lock(checkpoint_mu_);
    checkpoint_stopping_ = true;
  }
  checkpoint_cv_.notify_all();
  if (checkpointer_.joinable()) checkpointer_.join();
  if (checkpointer_db_ != nullptr) {
    sqlite3_close_v2(checkpointer_db_);
    checkpointer_db_ = nullptr;
  }
}

void LocalBackend::PauseCheckpointsForTesting() {
  std::scoped_lock lock(checkpoint_mu_);
  checkpoint_paused_ = true;
}

void LocalBackend::ResumeCheckpointsForTesting() {
  {
    std::scoped_lock lock(checkpoint_mu_);
    checkpoint_paused_ = false;
  }
  checkpoint_cv_.notify_all();
}

LocalBackend::~LocalBackend() { Close(); }

void LocalBackend::Close() {
  std::scoped_lock close_lock(close_mu_);
  {
    std::scoped_lock lock(queue_mu_);
    stopping_ = true;
    paused_ = false;
  }
  queue_cv_.notify_all();
  if (committer_.joinable()) committer_.join();
  StopSyncer();  // after the committer: acknowledges its last batches
  StopCheckpointer();

  std::vector<std::unique_ptr<ReadConn>> idle;
  {
    std::scoped_lock lock(readers_mu_);
    closed_ = true;
    idle.swap(idle_readers_);
  }
  idle.clear();
  for (sqlite3_stmt** s : {&put_stmt_, &delete_stmt_, &revision_stmt_, &counter_stmt_, &begin_stmt_,
                           &savepoint_stmt_, &release_stmt_, &commit_stmt_}) {
    sqlite3_finalize(*s);
    *s = nullptr;
  }
  if (writer_ != nullptr) {
    // Closing checkpoints, which must sync for itself (the committer turns
    // deferral off when it stops; this covers an Init that failed after
    // turning it on).
    if (wal_sync_deferred_) local::SetWalSyncDeferred(writer_, false);
    sqlite3_close_v2(writer_);
    writer_ = nullptr;
  }
  if (wal_fd_ >= 0) {
    ::close(wal_fd_);
    wal_fd_ = -1;
  }
  if (lock_fd_ >= 0) {
    ::close(lock_fd_);  // releases the flock
    lock_fd_ = -1;
  }
}

// ---- writes ----

Status LocalBackend::Put(std::string_view key, std::string_view value) {
  TRY(ValidateKey(key));
  Request request;
  request.kind = Request::Kind::kPut;
  request.key = key;
  request.value = value;
  return Enqueue(request);
}

Status LocalBackend::Delete(std::string_view key) {
  TRY(ValidateKey(key));
  Request request;
  request.kind = Request::Kind::kDelete;
  request.key = key;
  return Enqueue(request);
}

Status LocalBackend::Transact(std::span<const Compare> compares, std::span<const Op> ops) {
  for (const auto& c : compares) TRY(ValidateKey(c.key));
  for (const auto& op : ops) TRY(ValidateKey(op.key));
  Request request;
  request.kind = Request::Kind::kTransact;
  request.compares = compares;
  request.ops = ops;
  return Enqueue(request);
}

Status LocalBackend::Enqueue(Request& request) {
  // On a fiber that may be suspended, the wait for the commit frees the
  // thread (an I/O thread) for other requests.
  request.fiber = Fiber::Suspendable();
  {
    std::scoped_lock lock(queue_mu_);
    if (stopping_) return Closed();
    queue_.push_back(&request);
  }
  queue_cv_.notify_one();
  request.Await();
  return std::move(request.result);
}

void LocalBackend::LimitValueSizeForTesting(int bytes) {
  std::scoped_lock lock(queue_mu_);  // the committer reads it after taking a batch
  sqlite3_limit(writer_, SQLITE_LIMIT_LENGTH, bytes);
}

void LocalBackend::PauseCommitsForTesting() {
  std::scoped_lock lock(queue_mu_);
  paused_ = true;
}

void LocalBackend::ResumeCommitsForTesting() {
  {
    std::scoped_lock lock(queue_mu_);
    paused_ = false;
  }
  queue_cv_.notify_all();
}

std::size_t LocalBackend::PendingWritesForTesting() const {
  std::scoped_lock lock(queue_mu_);
  return queue_.size();
}

void LocalBackend::CommitLoop() {
  std::vector<Request*> batch;
  for (;;) {
    {
      std::unique_lock lock(queue_mu_);
      queue_cv_.wait(lock, [this] { return stopping_ || (!paused_ && !queue_.empty()); });
      if (queue_.empty()) {  // stopping, and everything queued is done
        // Closing the writer checkpoints, which must sync for itself.
        if (wal_sync_deferred_) local::SetWalSyncDeferred(writer_, false);
        return;
      }
      batch.assign(queue_.begin(), queue_.end());
      queue_.clear();
    }
    CommitBatch(batch);
    batch.clear();
  }
}

void LocalBackend::CommitBatch(std::vector<Request*>& batch) {
  std::vector<Status> results(batch.size());
  if (sync_failed_.load()) {
    for (Request* r : batch) r->Finish(SyncFailed());
    return;
  }
  const std::uint64_t seq = ++commit_seq_;
  // Both before COMMIT publishes the batch to readers.
  const bool deletes = std::any_of(batch.begin(), batch.end(), [](const Request* r) {
    return r->kind == Request::Kind::kDelete ||
           std::any_of(r->ops.begin(), r->ops.end(),
                       [](const Op& op) { return op.kind == Op::Kind::kDelete; });
  });
  if (deletes) delete_seq_.store(seq);
  visible_seq_.store(seq);
  // First without a savepoint per request: a savepoint costs two statements
  // and a copy of every page the request changes that the batch had already
  // changed (SQLite's statement journal), and requests rarely fail. A
  // failed compare writes nothing, so it needs no undo. Only a request that
  // fails after it wrote part of its ops needs one: then the transaction is
  // rolled back and the batch runs again, each request in its own
  // savepoint, so that the others still commit.
  bool retry = false;
  Status batch_error = ApplyBatch(batch, results, /*savepoints=*/false, &retry);
  if (retry) batch_error = ApplyBatch(batch, results, /*savepoints=*/true, &retry);
  // The one fsync of the batch (synchronous=FULL).
  if (batch_error.ok()) batch_error = StepDone(writer_, commit_stmt_, "commit");
  if (!batch_error.ok()) {
    if (!sqlite3_get_autocommit(writer_)) Exec(writer_, "ROLLBACK").IgnoreError();
    for (auto& r : results) r = batch_error;
  } else {
    commit_batches_.fetch_add(1);
  }
  // Acknowledged by the sync thread, in order, after the fsync; a failed
  // batch goes the same way so that the batches after it are not held.
  {
    std::scoped_lock lock(sync_mu_);
    unsynced_.push_back(
        Unsynced{std::move(batch), std::move(results), seq, revision_, batch_error.ok()});
  }
  sync_cv_.notify_one();
  batch.clear();
}

void LocalBackend::SyncLoop() {
  std::vector<Unsynced> done;
  std::vector<Request*> readers;
  for (;;) {
    std::uint64_t target = 0;
    bool fail = false;
    bool committed = false;
    {
      std::unique_lock lock(sync_mu_);
      sync_cv_.wait(lock,
                    [this] { return sync_stopping_ || (!sync_paused_ && !unsynced_.empty()); });
      if (unsynced_.empty()) break;  // stopping, and everything committed is acknowledged
      target = unsynced_.back().seq;
      fail = std::exchange(fail_next_sync_, false);
      committed = std::any_of(unsynced_.begin(), unsynced_.end(),
                              [](const Unsynced& u) { return u.committed; });
    }
    // One fdatasync covers every batch written before it. (A second sync
    // thread, starting an fsync while one runs, measured no faster: the
    // fsyncs each took longer.)
    if (committed && !sync_failed_.load() && wal_sync_deferred_) {
      if (fail || ::fdatasync(wal_fd_) != 0) sync_failed_.store(true);
      wal_syncs_.fetch_add(1);
    }
    const bool failed = sync_failed_.load();
    {
      std::scoped_lock lock(sync_mu_);
      while (!unsynced_.empty() && unsynced_.front().seq <= target) {
        done.push_back(std::move(unsynced_.front()));
        unsynced_.pop_front();
      }
      if (!failed) {
        durable_revision_.store(done.back().last_revision);
        durable_seq_.store(target);
      }
      std::erase_if(durable_waiters_, [&](const auto& w) {
        if (!failed && w.first > target) return false;
        readers.push_back(w.second);
        return true;
      });
    }
    for (Unsynced& u : done) {
      for (std::size_t i = 0; i < u.batch.size(); ++i) {
        // The request may be gone after this.
        u.batch[i]->Finish(u.committed && failed ? SyncFailed() : std::move(u.results[i]));
      }
    }
    for (Request* r : readers) r->Finish(failed ? SyncFailed() : Status::Ok());
    done.clear();
    readers.clear();
  }
  // Reads still waiting (only possible when closing with reads in flight).
  std::scoped_lock lock(sync_mu_);
  sync_exited_ = true;
  for (auto& w : durable_waiters_) w.second->Finish(Closed());
  durable_waiters_.clear();
}

void LocalBackend::StopSyncer() {
  {
    std::scoped_lock lock(sync_mu_);
    sync_stopping_ = true;
    sync_paused_ = false;
  }
  sync_cv_.notify_all();
  if (syncer_.joinable()) syncer_.join();
}

Status LocalBackend::AwaitDurable(std::uint64_t seen) {
  if (seen <= durable_seq_.load()) return Status::Ok();
  Request waiter;
  waiter.fiber = Fiber::Suspendable();
  {
    std::scoped_lock lock(sync_mu_);
    if (sync_failed_.load()) return SyncFailed();
    if (seen <= durable_seq_.load()) return Status::Ok();
    if (sync_exited_) return Closed();
    durable_waiters_.emplace_back(seen, &waiter);
  }
  waiter.Await();
  return std::move(waiter.result);
}

void LocalBackend::PauseSyncsForTesting() {
  std::scoped_lock lock(sync_mu_);
  sync_paused_ = true;
}

void LocalBackend::ResumeSyncsForTesting() {
  {
    std::scoped_lock lock(sync_mu_);
    sync_paused_ = false;
  }
  sync_cv_.notify_all();
}

void LocalBackend::FailNextSyncForTesting() {
  std::scoped_lock lock(sync_mu_);
  fail_next_sync_ = true;
}

Status LocalBackend::ApplyBatch(const std::vector<Request*>& batch, std::vector<Status>& results,
                                bool savepoints, bool* retry) {
  *retry = false;
  TRY(StepDone(writer_, begin_stmt_, "begin"));
  const std::uint64_t start_revision = revision_;
  for (std::size_t i = 0; i < batch.size(); ++i) {
    if (!savepoints) {
      bool wrote = false;
      Status s = ApplyRequest(*batch[i], &wrote);
      if (!s.ok() && (wrote || sqlite3_get_autocommit(writer_))) {
        // Part of the request may be in the transaction: start over with
        // savepoints, unless SQLite rolled it all back itself (I/O error,
        // full disk), which fails the batch.
        if (sqlite3_get_autocommit(writer_)) return s;
        TRY(Exec(writer_, "ROLLBACK"));
        *retry = true;
        return Status::Ok();
      }
      results[i] = std::move(s);
      continue;
    }
    TRY(StepDone(writer_, savepoint_stmt_, "savepoint"));
    Status s = ApplyRequest(*batch[i], nullptr);
    if (s.ok()) {
      TRY(StepDone(writer_, release_stmt_, "release"));
    } else if (sqlite3_get_autocommit(writer_)) {
      // Some errors (I/O, full disk) make SQLite roll back the whole
      // transaction: every request of the batch fails.
      return s;
    } else {
      TRY(Exec(writer_, "ROLLBACK TO request"));
      TRY(Exec(writer_, "RELEASE request"));
    }
    results[i] = std::move(s);
  }
  if (revision_ != start_revision) {
    StmtScope scope(counter_stmt_);
    sqlite3_bind_int64(counter_stmt_, 1, static_cast<sqlite3_int64>(revision_));
    int rc = sqlite3_step(counter_stmt_);
    if (rc != SQLITE_DONE) return SqliteError(writer_, rc, "store revision counter");
  }
  return Status::Ok();
}

Status LocalBackend::ApplyRequest(const Request& request, bool* wrote) {
  switch (request.kind) {
    case Request::Kind::kPut:
      return ApplyPut(request.key, request.value);
    case Request::Kind::kDelete:
      return ApplyDelete(request.key);
    case Request::Kind::kTransact:
      break;
  }
  for (const auto& c : request.compares) {
    ASSIGN_OR_RETURN(std::uint64_t current, CurrentRevision(c.key));
    if (current != c.revision) return Conflict("check-and-set failed for " + c.key);
  }
  for (std::size_t i = 0; i < request.ops.size(); ++i) {
    const Op& op = request.ops[i];
    if (wrote != nullptr) *wrote = i > 0;
    TRY(op.kind == Op::Kind::kPut ? ApplyPut(op.key, op.value) : ApplyDelete(op.key));
  }
  return Status::Ok();
}

Status LocalBackend::ApplyPut(std::string_view key, std::string_view value) {
  StmtScope scope(put_stmt_);
  BindText(put_stmt_, 1, key);
  // A value over SQLite's length limit is refused here (SQLITE_TOOBIG).
  if (int rc = BindBlob(put_stmt_, 2, value); rc != SQLITE_OK) {
    return SqliteError(writer_, rc, "put");
  }
  sqlite3_bind_int64(put_stmt_, 3, static_cast<sqlite3_int64>(revision_ + 1));
  int rc = sqlite3_step(put_stmt_);
  if (rc != SQLITE_DONE) return SqliteError(writer_, rc, "put");
  ++revision_;
  return Status::Ok();
}

Status LocalBackend::ApplyDelete(std::string_view key) {
  StmtScope scope(delete_stmt_);
  BindText(delete_stmt_, 1, key);
  int rc = sqlite3_step(delete_stmt_);
  if (rc != SQLITE_DONE) return SqliteError(writer_, rc, "delete");
  // A delete also moves the counter, like etcd's store revision, so a key
  // written again after a delete can never reuse an old revision.
  ++revision_;
  return Status::Ok();
}

Result<std::uint64_t> LocalBackend::CurrentRevision(std::string_view key) {
  StmtScope scope(revision_stmt_);
  BindText(revision_stmt_, 1, key);
  int rc = sqlite3_step(revision_stmt_);
  if (rc == SQLITE_DONE) return std::uint64_t{0};
  if (rc != SQLITE_ROW) return Err(SqliteError(writer_, rc, "read revision"));
  return static_cast<std::uint64_t>(sqlite3_column_int64(revision_stmt_, 0));
}

// ---- reads ----

// Readers read the database file with pread, through SQLite's page cache of
// the connection; they never map it into memory (mmap_size=0).
//
// Mapped, a read takes its pages straight from the OS page cache, without a
// pread and a copy per page, but on this kind of virtual machine it cost
// more than it saved:
// - a read transaction that finds the WAL changed since the connection's
//   last one unmaps the whole file (SQLite's pager does so
//   unconditionally), and the next read maps it again and faults its
//   pages in; while commits came every millisecond that was ~10 % of a
//   durable token's CPU, more of a KV write's;
// - while nothing was written, random reads of a 1,000,000-secret store
//   (947 MB) kept most of the file mapped (2.9 GB of RSS with three
//   readers), and the kernel's proactive reclaim (DAMON, which walks the
//   page tables of every mapping of a page it looks at) then ran 30-70 ms
//   of every second, in slices of up to 15 ms that preempted the I/O
//   threads: at 10,000 reads/s the p99 was 11-150 ms against 0.6-2.3 ms
//   unmapped, for the same throughput at saturation;
// - an I/O error on a mapped file is a SIGBUS instead of an error return.
Result<std::unique_ptr<LocalBackend::ReadConn>> LocalBackend::AcquireReader() {
  std::unique_ptr<ReadConn> idle;
  {
    std::scoped_lock lock(readers_mu_);
    if (closed_) return Err(Closed());
    if (!idle_readers_.empty()) {
      idle = std::move(idle_readers_.back());
      idle_readers_.pop_back();
    }
  }
  if (idle != nullptr) return idle;
  auto conn = std::make_unique<ReadConn>();
  std::string db_path = dir_ + "/" + kDbName;
  int rc = OpenConnection(db_path, &conn->db);
  if (rc != SQLITE_OK) return Err(SqliteError(conn->db, rc, "open reader"));
  sqlite3_busy_timeout(conn->db, kBusyTimeoutMs);
  TRY(Exec(conn->db, "PRAGMA query_only=1"));
  TRY(Exec(conn->db, "PRAGMA mmap_size=0"));  // see above
  ASSIGN_OR_RETURN(conn->get, Prepare(conn->db, "SELECT value, revision FROM kv WHERE key=?1"));
  ASSIGN_OR_RETURN(conn->list_range,
                   Prepare(conn->db, "SELECT key FROM kv WHERE key>=?1 AND key<?2 ORDER BY key"));
  ASSIGN_OR_RETURN(conn->list_from,
                   Prepare(conn->db, "SELECT key FROM kv WHERE key>=?1 ORDER BY key"));
  return conn;
}

void LocalBackend::ReleaseReader(std::unique_ptr<ReadConn> conn) {
  std::scoped_lock lock(readers_mu_);
  if (!closed_ && idle_readers_.size() < kMaxIdleReaders) idle_readers_.push_back(std::move(conn));
  // Otherwise conn closes here.
}

Result<std::optional<Entry>> LocalBackend::Get(std::string_view key) {
  TRY(ValidateKey(key));
  ASSIGN_OR_RETURN(auto conn, AcquireReader());
  Result<std::optional<Entry>> out = std::optional<Entry>();
  {
    StmtScope scope(conn->get);
    BindText(conn->get, 1, key);
    int rc = sqlite3_step(conn->get);
    if (rc == SQLITE_ROW) {
      Entry entry;
      entry.value = std::string(ColumnBytes(conn->get, 0));
      entry.revision = static_cast<std::uint64_t>(sqlite3_column_int64(conn->get, 1));
      out = std::optional<Entry>(std::move(entry));
    } else if (rc != SQLITE_DONE) {
      out = Err(SqliteError(conn->db, rc, "get"));
    }
  }
  ReleaseReader(std::move(conn));
  if (out.has_value()) {
    // A row written by a durable batch answers as it is: no batch after it
    // in this snapshot wrote the key (its revision would be higher). A
    // missing key can only be undone by a crash if a batch not yet durable
    // deleted it. Both loads come after the read's snapshot was taken.
    if (out->has_value()) {
      if ((*out)->revision > durable_revision_.load()) TRY(AwaitDurable(visible_seq_.load()));
    } else {
      TRY(AwaitDurable(delete_seq_.load()));
    }
  }
  return out;
}

Result<std::vector<std::string>> LocalBackend::List(std::string_view prefix) {
  if (!prefix.empty() && prefix.back() != '/') {
    return Err(InvalidArgument("storage list prefix must be empty or end in '/'"));
  }
  ASSIGN_OR_RETURN(auto conn, AcquireReader());
  // One read transaction, so the answer is one snapshot even though the scan
  // restarts after each folder.
  Status status = Exec(conn->db, "BEGIN");
  ListCollector collector(prefix);
  const std::optional<std::string> upper = local::PrefixSuccessor(prefix);
  sqlite3_stmt* stmt = upper ? conn->list_range : conn->list_from;
  std::string lower(prefix);
  while (status.ok()) {
    StmtScope scope(stmt);
    BindText(stmt, 1, lower);
    if (upper) BindText(stmt, 2, *upper);
    int rc;
    bool skipped = false;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
      std::string_view key = ColumnBytes(stmt, 0);
      if (!collector.Add(key)) break;
      auto slash = key.find('/', prefix.size());
      if (slash != std::string_view::npos) {
        // A folder: everything under it collapses into one name, so jump
        // past it instead of reading all its descendants.
        auto next = local::PrefixSuccessor(key.substr(0, slash + 1));
        lower = *next;  // never nullopt: the folder ends in '/'
        skipped = true;
        break;
      }
    }
    if (!skipped) {
      if (rc != SQLITE_ROW && rc != SQLITE_DONE) status = SqliteError(conn->db, rc, "list");
      break;
    }
  }
  Status end = Exec(conn->db, status.ok() ? "COMMIT" : "ROLLBACK");
  if (status.ok()) status = end;
  if (!status.ok()) return Err(std::move(status));  // drops the connection, it may be broken
  ReleaseReader(std::move(conn));
  TRY(AwaitDurable(visible_seq_.load()));  // a listing depends on every key under the prefix
  return collector.Take();
}

}  // namespace coffer::storage
