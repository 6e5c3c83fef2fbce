#include "storage/local/wal_gather_vfs.h"

#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <mutex>
#include <new>
#include <string>
#include <vector>

namespace coffer::storage::local {
namespace {

constexpr const char* kName = "coffer-wal-gather";
// What is gathered goes out once it reaches this much (a large transaction
// then writes in 1 MiB pieces instead of holding all of it).
constexpr std::size_t kMaxGather = std::size_t{1} << 20;
// The most one write to the underlying VFS may carry: os_unix.c takes the
// length of a write modulo 128 KiB (seekAndWriteFd: nBuf &= 0x1ffff).
constexpr std::size_t kMaxWrite = 124 << 10;

std::atomic<std::uint64_t> sqlite_writes{0};
std::atomic<std::uint64_t> file_writes{0};
std::atomic<std::uint64_t> other_size_queries{0};

sqlite3_vfs* base_vfs = nullptr;
sqlite3_vfs gather_vfs{};
sqlite3_io_methods gather_methods{};

// Bytes of a WAL not yet written: `bytes` belong at file offset `offset`.
struct Gather {
  std::vector<char> bytes;
  sqlite3_int64 offset = 0;
  sqlite3_int64 end() const { return offset + static_cast<sqlite3_int64>(bytes.size()); }
};

// SQLite allocates szOsFile bytes per file: this, then the underlying
// VFS's file.
struct alignas(8) GatherFile {
  sqlite3_file base;  // first: what SQLite sees
  sqlite3_file* real;
  Gather* gather;  // non-null for a WAL
  // Set by SetWalSyncDeferred: a sync writes out what is gathered and
  // leaves the fsync to the caller (owner of the connection).
  bool defer_sync;
};

GatherFile* Self(sqlite3_file* file) { return reinterpret_cast<GatherFile*>(file); }
sqlite3_file* Real(sqlite3_file* file) { return Self(file)->real; }
const sqlite3_io_methods* RealMethods(sqlite3_file* file) { return Real(file)->pMethods; }

int Flush(GatherFile* f) {
  Gather* g = f->gather;
  if (g == nullptr || g->bytes.empty()) return SQLITE_OK;
  int rc = SQLITE_OK;
  for (std::size_t done = 0; done < g->bytes.size() && rc == SQLITE_OK;) {
    const std::size_t n = std::min(g->bytes.size() - done, kMaxWrite);
    file_writes.fetch_add(1, std::memory_order_relaxed);
    rc = f->real->pMethods->xWrite(f->real, g->bytes.data() + done, static_cast<int>(n),
                                   g->offset + static_cast<sqlite3_int64>(done));
    done += n;
  }
  // Dropped on failure too: SQLite fails the transaction whose frames these
  // were, and frames past the last synced commit are never read.
  g->bytes.clear();
  return rc;
}

bool Overlaps(const Gather* g, sqlite3_int64 off, int amt) {
  return g != nullptr && !g->bytes.empty() && off < g->end() && off + amt > g->offset;
}

int Close(sqlite3_file* file) {
  GatherFile* f = Self(file);
  int flushed = Flush(f);
  int rc = RealMethods(file)->xClose(Real(file));
  delete f->gather;
  f->gather = nullptr;
  return flushed != SQLITE_OK ? flushed : rc;
}

int Read(sqlite3_file* file, void* out, int amt, sqlite3_int64 off) {
  GatherFile* f = Self(file);
  // SQLite reads back frames of its own unfinished transaction (pages it
  // spilled from a full cache) and the log header.
  if (Overlaps(f->gather, off, amt)) {
    if (int rc = Flush(f); rc != SQLITE_OK) return rc;
  }
  return RealMethods(file)->xRead(Real(file), out, amt, off);
}

// One write of a WAL's bytes straight to the underlying file, counted.
int WriteThrough(sqlite3_file* file, const void* data, int amt, sqlite3_int64 off) {
  file_writes.fetch_add(1, std::memory_order_relaxed);
  return RealMethods(file)->xWrite(Real(file), data, amt, off);
}

int Write(sqlite3_file* file, const void* data, int amt, sqlite3_int64 off) {
  GatherFile* f = Self(file);
  Gather* g = f->gather;
  if (g == nullptr) return RealMethods(file)->xWrite(Real(file), data, amt, off);
  sqlite_writes.fetch_add(1, std::memory_order_relaxed);
  const char* bytes = static_cast<const char*>(data);
  if (!g->bytes.empty() && off >= g->offset && off + amt <= g->end()) {
    // A frame of this transaction written again (SQLite rewrites a page's
    // frame in place when the page changes again before the commit).
    std::memcpy(g->bytes.data() + (off - g->offset), bytes, static_cast<std::size_t>(amt));
    return SQLITE_OK;
  }
  if (g->bytes.empty() || off != g->end() || g->bytes.size() + amt > kMaxGather) {
    // Not the continuation of what is gathered: that goes first, in order,
    // so that a partly overlapping write still lands last.
    if (int rc = Flush(f); rc != SQLITE_OK) return rc;
    if (static_cast<std::size_t>(amt) >= kMaxWrite) return WriteThrough(file, data, amt, off);
    g->offset = off;
  }
  try {
    g->bytes.insert(g->bytes.end(), bytes, bytes + amt);
  } catch (const std::bad_alloc&) {
    if (int rc = Flush(f); rc != SQLITE_OK) return rc;
    return WriteThrough(file, data, amt, off);
  }
  return SQLITE_OK;
}

int Truncate(sqlite3_file* file, sqlite3_int64 size) {
  if (int rc = Flush(Self(file)); rc != SQLITE_OK) return rc;
  return RealMethods(file)->xTruncate(Real(file), size);
}

std::atomic<std::uint64_t> deferred_syncs{0};

int Sync(sqlite3_file* file, int flags) {
  if (int rc = Flush(Self(file)); rc != SQLITE_OK) return rc;
  if (Self(file)->defer_sync) {
    deferred_syncs.fetch_add(1, std::memory_order_relaxed);
    return SQLITE_OK;
  }
  return RealMethods(file)->xSync(Real(file), flags);
}

int FileSize(sqlite3_file* file, sqlite3_int64* size) {
  if (Self(file)->gather == nullptr) other_size_queries.fetch_add(1, std::memory_order_relaxed);
  if (int rc = Flush(Self(file)); rc != SQLITE_OK) return rc;
  return RealMethods(file)->xFileSize(Real(file), size);
}

int Lock(sqlite3_file* file, int level) { return RealMethods(file)->xLock(Real(file), level); }
int Unlock(sqlite3_file* file, int level) { return RealMethods(file)->xUnlock(Real(file), level); }
int CheckReservedLock(sqlite3_file* file, int* out) {
  return RealMethods(file)->xCheckReservedLock(Real(file), out);
}
int FileControl(sqlite3_file* file, int op, void* arg) {
  return RealMethods(file)->xFileControl(Real(file), op, arg);
}
int SectorSize(sqlite3_file* file) { return RealMethods(file)->xSectorSize(Real(file)); }
int DeviceCharacteristics(sqlite3_file* file) {
  return RealMethods(file)->xDeviceCharacteristics(Real(file));
}
int ShmMap(sqlite3_file* file, int region, int size, int extend, void volatile** out) {
  return RealMethods(file)->xShmMap(Real(file), region, size, extend, out);
}
int ShmLock(sqlite3_file* file, int offset, int n, int flags) {
  return RealMethods(file)->xShmLock(Real(file), offset, n, flags);
}
void ShmBarrier(sqlite3_file* file) { RealMethods(file)->xShmBarrier(Real(file)); }
int ShmUnmap(sqlite3_file* file, int remove) {
  return RealMethods(file)->xShmUnmap(Real(file), remove);
}
int Fetch(sqlite3_file* file, sqlite3_int64 off, int amt, void** out) {
  if (Overlaps(Self(file)->gather, off, amt)) {
    if (int rc = Flush(Self(file)); rc != SQLITE_OK) return rc;
  }
  return RealMethods(file)->xFetch(Real(file), off, amt, out);
}
int Unfetch(sqlite3_file* file, sqlite3_int64 off, void* p) {
  return RealMethods(file)->xUnfetch(Real(file), off, p);
}

int Open(sqlite3_vfs*, sqlite3_filename name, sqlite3_file* file, int flags, int* out_flags) {
  GatherFile* f = Self(file);
  f->real = reinterpret_cast<sqlite3_file*>(f + 1);
  f->gather = nullptr;
  f->defer_sync = false;
  int rc = base_vfs->xOpen(base_vfs, name, f->real, flags, out_flags);
  // SQLite calls xClose whenever pMethods is set, even after a failure.
  if (f->real->pMethods == nullptr) {
    file->pMethods = nullptr;
    return rc;
  }
  if (rc == SQLITE_OK && (flags & SQLITE_OPEN_WAL) != 0) {
    f->gather = new (std::nothrow) Gather;  // without one, writes go straight through
  }
  file->pMethods = &gather_methods;
  return rc;
}

// The rest of the VFS is the underlying one's.
int Delete(sqlite3_vfs*, const char* name, int sync_dir) {
  return base_vfs->xDelete(base_vfs, name, sync_dir);
}
int Access(sqlite3_vfs*, const char* name, int flags, int* out) {
  return base_vfs->xAccess(base_vfs, name, flags, out);
}
int FullPathname(sqlite3_vfs*, const char* name, int n, char* out) {
  return base_vfs->xFullPathname(base_vfs, name, n, out);
}
void* DlOpen(sqlite3_vfs*, const char* name) { return base_vfs->xDlOpen(base_vfs, name); }
void DlError(sqlite3_vfs*, int n, char* out) { base_vfs->xDlError(base_vfs, n, out); }
void (*DlSym(sqlite3_vfs*, void* handle, const char* symbol))(void) {
  return base_vfs->xDlSym(base_vfs, handle, symbol);
}
void DlClose(sqlite3_vfs*, void* handle) { base_vfs->xDlClose(base_vfs, handle); }
int Randomness(sqlite3_vfs*, int n, char* out) { return base_vfs->xRandomness(base_vfs, n, out); }
int Sleep(sqlite3_vfs*, int micros) { return base_vfs->xSleep(base_vfs, micros); }
int CurrentTime(sqlite3_vfs*, double* out) { return base_vfs->xCurrentTime(base_vfs, out); }
int GetLastError(sqlite3_vfs*, int n, char* out) {
  return base_vfs->xGetLastError(base_vfs, n, out);
}
int CurrentTimeInt64(sqlite3_vfs*, sqlite3_int64* out) {
  return base_vfs->xCurrentTimeInt64(base_vfs, out);
}
int SetSystemCall(sqlite3_vfs*, const char* name, sqlite3_syscall_ptr fn) {
  return base_vfs->xSetSystemCall(base_vfs, name, fn);
}
sqlite3_syscall_ptr GetSystemCall(sqlite3_vfs*, const char* name) {
  return base_vfs->xGetSystemCall(base_vfs, name);
}
const char* NextSystemCall(sqlite3_vfs*, const char* name) {
  return base_vfs->xNextSystemCall(base_vfs, name);
}

const char* Register(const char* base) {
  base_vfs = sqlite3_vfs_find(base);
  // Every method is forwarded as it is, so the underlying VFS must have
  // them all (os_unix.c's have: VFS version 3, file methods version 3).
  if (base_vfs == nullptr || base_vfs->iVersion < 3) return nullptr;

  gather_methods.iVersion = 3;
  gather_methods.xClose = Close;
  gather_methods.xRead = Read;
  gather_methods.xWrite = Write;
  gather_methods.xTruncate = Truncate;
  gather_methods.xSync = Sync;
  gather_methods.xFileSize = FileSize;
  gather_methods.xLock = Lock;
  gather_methods.xUnlock = Unlock;
  gather_methods.xCheckReservedLock = CheckReservedLock;
  gather_methods.xFileControl = FileControl;
  gather_methods.xSectorSize = SectorSize;
  gather_methods.xDeviceCharacteristics = DeviceCharacteristics;
  gather_methods.xShmMap = ShmMap;
  gather_methods.xShmLock = ShmLock;
  gather_methods.xShmBarrier = ShmBarrier;
  gather_methods.xShmUnmap = ShmUnmap;
  gather_methods.xFetch = Fetch;
  gather_methods.xUnfetch = Unfetch;

  gather_vfs.iVersion = 3;
  gather_vfs.szOsFile = static_cast<int>(sizeof(GatherFile)) + base_vfs->szOsFile;
  gather_vfs.mxPathname = base_vfs->mxPathname;
  gather_vfs.zName = kName;
  gather_vfs.xOpen = Open;
  gather_vfs.xDelete = Delete;
  gather_vfs.xAccess = Access;
  gather_vfs.xFullPathname = FullPathname;
  gather_vfs.xDlOpen = DlOpen;
  gather_vfs.xDlError = DlError;
  gather_vfs.xDlSym = DlSym;
  gather_vfs.xDlClose = DlClose;
  gather_vfs.xRandomness = Randomness;
  gather_vfs.xSleep = Sleep;
  gather_vfs.xCurrentTime = CurrentTime;
  gather_vfs.xGetLastError = GetLastError;
  gather_vfs.xCurrentTimeInt64 = CurrentTimeInt64;
  gather_vfs.xSetSystemCall = SetSystemCall;
  gather_vfs.xGetSystemCall = GetSystemCall;
  gather_vfs.xNextSystemCall = NextSystemCall;
  if (sqlite3_vfs_register(&gather_vfs, /*makeDflt=*/0) != SQLITE_OK) return nullptr;
  return kName;
}

}  // namespace

const char* WalGatherVfs(const char* base) {
  static std::once_flag once;
  static const char* registered = nullptr;
  static std::string registered_base;
  std::call_once(once, [&] {
    registered = Register(base);
    registered_base = base;
  });
  return registered_base == base ? registered : nullptr;
}

bool SetWalSyncDeferred(sqlite3* db, bool deferred) {
  sqlite3_file* file = nullptr;
  if (sqlite3_file_control(db, "main", SQLITE_FCNTL_JOURNAL_POINTER, &file) != SQLITE_OK ||
      file == nullptr || file->pMethods != &gather_methods || Self(file)->gather == nullptr) {
    return false;
  }
  Self(file)->defer_sync = deferred;
  return true;
}

WalGatherCounts WalGatherCountsNow() {
  return {sqlite_writes.load(std::memory_order_relaxed),
          file_writes.load(std::memory_order_relaxed),
          other_size_queries.load(std::memory_order_relaxed),
          deferred_syncs.load(std::memory_order_relaxed)};
}

}  // namespace coffer::storage::local
