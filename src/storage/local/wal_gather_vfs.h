#pragma once
// A SQLite VFS over another one (the local backend's "unix-excl") that
// gathers the writes to a write-ahead log in memory and hands them to the
// kernel in one write, at the latest when SQLite syncs the log.
//
// Why: SQLite writes each WAL frame with two system calls (its 24-byte
// header, then the page), so a commit that changed 50 pages made 100 pwrite
// calls, on the committer's thread, before its one fsync. That was the most
// frequent system call of durable token creation (five per token,
// docs/benchmarks.md). SQLite has no option for it and no packaged library
// does it, so it is done here, as a VFS shim (SQLite's documented way to
// change how it does I/O).
//
// Durability does not change. SQLite acknowledges nothing before it syncs
// the log, and every sync, read, truncate, size query and close of the log
// writes out what is gathered first; the other connections only read frames
// of committed transactions, which were synced.
//
// That needs a sync at every commit: PRAGMA synchronous=FULL (or EXTRA) on
// every connection that writes, as the local backend sets. With NORMAL or
// OFF, SQLite publishes a commit in the WAL index without syncing, and
// other connections would read frames that are still gathered here (the
// index's barrier goes to the database file, not to the log). A crash loses what was
// gathered and not synced, which recovery would have ignored anyway (frames
// after the last synced commit frame). Files other than a WAL, and every
// other method, go to the underlying VFS unchanged. A connection whose WAL
// syncs are deferred (SetWalSyncDeferred) still writes out at every commit;
// only the fsync moves to its owner.
//
// Thread safety: registration is once per process (thread-safe). A file is
// used by one connection at a time, as SQLite does.

#include <sqlite3.h>

#include <cstdint>

namespace coffer::storage::local {

// Registers the VFS (once; later calls return the same name) over `base`,
// which must be registered already, and returns its name for
// sqlite3_open_v2. nullptr when `base` is missing.
const char* WalGatherVfs(const char* base);

// Defers the fsync of the WAL of `db` (a connection opened through this
// VFS, in WAL mode, its WAL open): while deferred, a sync SQLite asks for
// writes out what is gathered, so the kernel has every byte of the commit
// before SQLite publishes it in the WAL index, and returns without the
// fsync. The caller then owes an fsync of the WAL file before it treats a
// commit as durable, and must turn deferral off around anything whose
// correctness needs the WAL on disk first (a checkpoint copies frames into
// the database file; closing the last connection checkpoints). Call on the
// thread that uses `db`. False when `db` has no WAL through this VFS.
bool SetWalSyncDeferred(sqlite3* db, bool deferred);

// Totals since the process started, for tests and benchmarks: the writes
// SQLite asked of WAL files, the writes the underlying VFS received for
// them, and the size queries of other files (an fstat each).
struct WalGatherCounts {
  std::uint64_t sqlite_writes = 0;
  std::uint64_t file_writes = 0;
  std::uint64_t other_size_queries = 0;
  std::uint64_t deferred_syncs = 0;  // see SetWalSyncDeferred
};
WalGatherCounts WalGatherCountsNow();

}  // namespace coffer::storage::local
