#include "storage/local/wal_gather_vfs.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <string>
#include <vector>

#include "storage/local/local_backend.h"
#include "storage/temp_dir.h"

namespace coffer::storage {
namespace {

using test_util::TempDir;

// The integers [from, to) as the table s(value).
std::string Series(int from, int to) {
  return "WITH RECURSIVE s(value) AS (SELECT " + std::to_string(from) +
         " UNION ALL SELECT value + 1 FROM s WHERE value < " + std::to_string(to - 1) + ")";
}

// A connection through the shim, in WAL mode with the local backend's
// durability (a sync per commit).
class Db {
 public:
  explicit Db(const std::string& path) {
    const char* vfs = local::WalGatherVfs("unix-excl");
    EXPECT_NE(vfs, nullptr);
    EXPECT_EQ(
        sqlite3_open_v2(path.c_str(), &db_,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, vfs),
        SQLITE_OK);
    Exec("PRAGMA journal_mode=WAL");
    Exec("PRAGMA synchronous=FULL");
  }
  ~Db() { sqlite3_close(db_); }
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  void Exec(const std::string& sql) {
    char* err = nullptr;
    int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err);
    EXPECT_EQ(rc, SQLITE_OK) << sql << ": " << (err != nullptr ? err : "");
    sqlite3_free(err);
  }

  std::string One(const std::string& sql) {
    sqlite3_stmt* stmt = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr), SQLITE_OK) << sql;
    std::string out;
    if (sqlite3_step(stmt) == SQLITE_ROW) {
      const unsigned char* text = sqlite3_column_text(stmt, 0);
      if (text != nullptr) out = reinterpret_cast<const char*>(text);
    }
    sqlite3_finalize(stmt);
    return out;
  }

  // Inserts rows id in [from, to) with a value of `bytes` bytes derived
  // from the id, so any page read back from the wrong place shows.
  void Insert(int from, int to, int bytes) {
    Exec(Series(from, to) + " INSERT INTO t(id, v) SELECT value, printf('%0" +
         std::to_string(bytes) + "d', value * 7919) FROM s");
  }

 private:
  sqlite3* db_ = nullptr;
};

// The sum over [from, to) of what Insert stored, as SQLite computes it.
std::string Expected(Db& db, int from, int to, int bytes) {
  return db.One(Series(from, to) + " SELECT sum(length(printf('%0" + std::to_string(bytes) +
                "d', value * 7919)) + value * 7919) FROM s");
}

const char* kStored = "SELECT sum(length(v) + CAST(v AS INTEGER)) FROM t";

TEST(WalGatherVfsTest, ACommitOfManyPagesReachesTheLogInOneWrite) {
  TempDir tmp;
  Db db(tmp.path() + "/a.db");
  db.Exec("CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)");
  auto before = local::WalGatherCountsNow();
  db.Insert(0, 400, 1000);  // ~100 pages: ~200 writes of frame headers and pages
  auto after = local::WalGatherCountsNow();
  EXPECT_GE(after.sqlite_writes - before.sqlite_writes, 200u);
  // ~400 KiB, in writes of at most 124 KiB.
  EXPECT_LE(after.file_writes - before.file_writes, 5u);
  EXPECT_EQ(db.One(kStored), Expected(db, 0, 400, 1000));
}

TEST(WalGatherVfsTest, ATransactionReadsBackThePagesItSpilledAndCommitsThem) {
  TempDir tmp;
  const std::string path = tmp.path() + "/b.db";
  {
    Db db(path);
    db.Exec("CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)");
    // A cache of 20 pages: the transaction spills most of what it changes
    // to the log before its commit, and reads those pages back from there.
    db.Exec("PRAGMA cache_size=20");
    db.Exec("BEGIN");
    db.Insert(0, 3000, 300);
    db.Exec("UPDATE t SET v = printf('%0300d', id * 7919 + 1) WHERE id % 3 = 0");
    db.Exec("UPDATE t SET v = printf('%0300d', id * 7919) WHERE id % 3 = 0");
    EXPECT_EQ(db.One(kStored), Expected(db, 0, 3000, 300));
    EXPECT_EQ(db.One("PRAGMA integrity_check"), "ok");
    db.Exec("COMMIT");

    Db other(path);  // a second connection sees the commit
    EXPECT_EQ(other.One(kStored), Expected(other, 0, 3000, 300));
  }
  Db reopened(path);  // and so does the next open, from the files
  EXPECT_EQ(reopened.One(kStored), Expected(reopened, 0, 3000, 300));
  EXPECT_EQ(reopened.One("PRAGMA integrity_check"), "ok");
}

TEST(WalGatherVfsTest, ARolledBackTransactionLeavesTheLastCommit) {
  TempDir tmp;
  const std::string path = tmp.path() + "/c.db";
  {
    Db db(path);
    db.Exec("CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)");
    db.Insert(0, 500, 200);
    db.Exec("PRAGMA cache_size=10");
    db.Exec("BEGIN");
    db.Insert(500, 3000, 200);  // spilled to the log, never committed
    db.Exec("ROLLBACK");
    db.Insert(3000, 3100, 200);
    EXPECT_EQ(db.One("SELECT count(*) FROM t"), "600");
  }
  Db reopened(path);
  EXPECT_EQ(reopened.One("SELECT count(*) FROM t"), "600");
  EXPECT_EQ(reopened.One("PRAGMA integrity_check"), "ok");
}

TEST(WalGatherVfsTest, TheLocalBackendWritesABatchOfPutsToItsLogAtOnce) {
  TempDir tmp;
  auto opened = LocalBackend::Open(tmp.path() + "/db");
  ASSERT_TRUE(opened.has_value()) << opened.error().ToString();
  auto& backend = **opened;
  std::vector<std::string> keys, values;
  for (int i = 0; i < 200; ++i) {
    keys.push_back("k/" + std::to_string(i * 7919 % 1000));
    values.push_back(std::string(500, static_cast<char>('a' + i % 26)));
  }
  std::vector<Op> ops;
  for (int i = 0; i < 200; ++i) ops.push_back({Op::Kind::kPut, keys[i], values[i]});
  auto before = local::WalGatherCountsNow();
  ASSERT_TRUE(backend.Transact({}, ops).ok());
  auto after = local::WalGatherCountsNow();
  EXPECT_GE(after.sqlite_writes - before.sqlite_writes, 40u);
  EXPECT_LE(after.file_writes - before.file_writes, 2u);
  auto got = backend.Get(keys[17]);
  ASSERT_TRUE(got.has_value() && got->has_value());
  EXPECT_EQ((*got)->value, values[17]);
}

}  // namespace
}  // namespace coffer::storage
