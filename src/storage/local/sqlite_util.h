#pragma once
// Small helpers around the SQLite C API and the private files of the local
// backend. Internal to src/storage/local.

#include <sqlite3.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace coffer::storage::local {

// kInternal naming the operation and SQLite's message (never a value);
// kTooLarge when a value exceeds SQLite's limits.
Status SqliteError(sqlite3* db, int rc, std::string_view what);

// Runs SQL without results.
Status Exec(sqlite3* db, const char* sql);

// Runs a query and returns the first column of the first row as text, or
// nullopt when there is no row.
Result<std::optional<std::string>> QueryText(sqlite3* db, const char* sql);

Result<sqlite3_stmt*> Prepare(sqlite3* db, const char* sql);

// Binds bytes as TEXT (keys) or BLOB (values). The memory must outlive the
// step: bindings are SQLITE_STATIC.
int BindText(sqlite3_stmt* stmt, int index, std::string_view text);
int BindBlob(sqlite3_stmt* stmt, int index, std::string_view bytes);
std::string_view ColumnBytes(sqlite3_stmt* stmt, int column);

// Resets a prepared statement and clears its bindings when it goes out of
// scope, so no binding points at freed memory and no read transaction stays
// open.
class StmtScope {
 public:
  explicit StmtScope(sqlite3_stmt* stmt) : stmt_(stmt) {}
  ~StmtScope() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  StmtScope(const StmtScope&) = delete;
  StmtScope& operator=(const StmtScope&) = delete;

 private:
  sqlite3_stmt* stmt_;
};

// The smallest string greater than every string that starts with `prefix`,
// or nullopt when there is none (prefix empty or all 0xFF).
std::optional<std::string> PrefixSuccessor(std::string_view prefix);

// Creates `dir` (and missing parents) with mode 0700; an existing directory
// with any other mode is chmod-ed to 0700. kInvalidArgument when the path
// exists and is not a directory.
Status PreparePrivateDir(const std::string& dir);

// Creates `path` as an empty regular file with mode 0600 if missing; an
// existing file that is more open is chmod-ed to 0600.
Status PreparePrivateFile(const std::string& path);

// chmod 0600 if `path` exists with another mode; missing is fine.
Status RestrictIfExists(const std::string& path);

}  // namespace coffer::storage::local
