#include "storage/local/sqlite_util.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>

namespace coffer::storage::local {
namespace {

Status ErrnoError(std::string_view what, const std::string& path, int err) {
  return Internal("local storage: " + std::string(what) + " " + path + ": " + std::strerror(err));
}

}  // namespace

Status SqliteError(sqlite3* db, int rc, std::string_view what) {
  std::string message = "local storage: sqlite " + std::string(what) + " failed: ";
  message += db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  message += " (" + std::to_string(rc) + ")";
  if ((rc & 0xff) == SQLITE_TOOBIG) return TooLarge(std::move(message));
  // SQLite reports ENOSPC as SQLITE_FULL, or as an I/O error on fsync.
  bool no_space = (rc & 0xff) == SQLITE_FULL || (db != nullptr && (rc & 0xff) == SQLITE_IOERR &&
                                                 sqlite3_system_errno(db) == ENOSPC);
  if (no_space) {
    return StorageFull("local storage: the disk is full; free space to accept writes again");
  }
  return Internal(std::move(message));
}

Status Exec(sqlite3* db, const char* sql) {
  int rc = sqlite3_exec(db, sql, nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return SqliteError(db, rc, sql);
  return Status::Ok();
}

Result<std::optional<std::string>> QueryText(sqlite3* db, const char* sql) {
  ASSIGN_OR_RETURN(sqlite3_stmt * stmt, Prepare(db, sql));
  std::optional<std::string> out;
  int rc = sqlite3_step(stmt);
  if (rc == SQLITE_ROW) {
    out = std::string(ColumnBytes(stmt, 0));
    rc = SQLITE_DONE;
  }
  sqlite3_finalize(stmt);
  if (rc != SQLITE_DONE) return Err(SqliteError(db, rc, sql));
  return out;
}

Result<sqlite3_stmt*> Prepare(sqlite3* db, const char* sql) {
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
  if (rc != SQLITE_OK) return Err(SqliteError(db, rc, sql));
  return stmt;
}

int BindText(sqlite3_stmt* stmt, int index, std::string_view text) {
  // A null pointer would bind SQL NULL; an empty key never reaches here, but
  // an empty prefix bound is harmless with a non-null pointer.
  return sqlite3_bind_text64(stmt, index, text.empty() ? "" : text.data(), text.size(),
                             SQLITE_STATIC, SQLITE_UTF8);
}

int BindBlob(sqlite3_stmt* stmt, int index, std::string_view bytes) {
  // sqlite3_bind_blob with a null pointer binds NULL, not an empty value.
  if (bytes.empty()) return sqlite3_bind_zeroblob(stmt, index, 0);
  return sqlite3_bind_blob64(stmt, index, bytes.data(), bytes.size(), SQLITE_STATIC);
}

std::string_view ColumnBytes(sqlite3_stmt* stmt, int column) {
  const void* data = sqlite3_column_blob(stmt, column);
  int size = sqlite3_column_bytes(stmt, column);
  if (data == nullptr || size <= 0) return {};
  return {static_cast<const char*>(data), static_cast<std::size_t>(size)};
}

std::optional<std::string> PrefixSuccessor(std::string_view prefix) {
  std::string out(prefix);
  while (!out.empty()) {
    unsigned char last = static_cast<unsigned char>(out.back());
    if (last != 0xFF) {
      out.back() = static_cast<char>(last + 1);
      return out;
    }
    out.pop_back();
  }
  return std::nullopt;
}

Status PreparePrivateDir(const std::string& dir) {
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) {
    if (errno != ENOENT) return ErrnoError("cannot stat", dir, errno);
    std::filesystem::path parent = std::filesystem::path(dir).parent_path();
    std::error_code ec;
    if (!parent.empty()) std::filesystem::create_directories(parent, ec);
    if (ec)
      return Internal("local storage: cannot create " + parent.string() + ": " + ec.message());
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
      return ErrnoError("cannot create", dir, errno);
    }
    if (::stat(dir.c_str(), &st) != 0) return ErrnoError("cannot stat", dir, errno);
  }
  if (!S_ISDIR(st.st_mode)) {
    return InvalidArgument("local storage: " + dir + " exists and is not a directory");
  }
  if ((st.st_mode & 07777) != 0700 && ::chmod(dir.c_str(), 0700) != 0) {
    return ErrnoError("cannot chmod 0700", dir, errno);
  }
  return Status::Ok();
}

Status PreparePrivateFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return ErrnoError("cannot open", path, errno);
  struct stat st {};
  Status status;
  if (::fstat(fd, &st) != 0) {
    status = ErrnoError("cannot stat", path, errno);
  } else if (!S_ISREG(st.st_mode)) {
    status = InvalidArgument("local storage: " + path + " is not a regular file");
  } else if ((st.st_mode & 07777) != 0600 && ::fchmod(fd, 0600) != 0) {
    status = ErrnoError("cannot chmod 0600", path, errno);
  }
  ::close(fd);
  return status;
}

Status RestrictIfExists(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return Status::Ok();
    return ErrnoError("cannot stat", path, errno);
  }
  if ((st.st_mode & 07777) != 0600 && ::chmod(path.c_str(), 0600) != 0) {
    return ErrnoError("cannot chmod 0600", path, errno);
  }
  return Status::Ok();
}

}  // namespace coffer::storage::local
