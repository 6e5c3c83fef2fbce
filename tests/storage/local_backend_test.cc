#include "storage/local/local_backend.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/fiber.h"
#include "common/fiber_test_loop.h"
#include "storage/local/wal_gather_vfs.h"
#include "storage/temp_dir.h"

namespace coffer::storage {
namespace {

using test_util::TempDir;

std::unique_ptr<LocalBackend> MustOpen(const std::string& dir) {
  auto opened = LocalBackend::Open(dir);
  EXPECT_TRUE(opened.has_value()) << opened.error().ToString();
  return opened.has_value() ? std::move(*opened) : nullptr;
}

unsigned ModeOf(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

// Polls until `n` writes are queued behind a paused committer. Fails the test
// instead of hanging if they never arrive.
void WaitForPending(const LocalBackend& backend, std::size_t n) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (backend.PendingWritesForTesting() < n) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "writes never queued";
    std::this_thread::yield();
  }
}

TEST(LocalBackendTest, DataSurvivesCloseAndReopen) {
  TempDir tmp;
  const std::string dir = tmp.path() + "/db";
  {
    auto b = MustOpen(dir);
    ASSERT_TRUE(b);
    ASSERT_TRUE(b->Put("a/one", "1").ok());
    ASSERT_TRUE(b->Put("a/two", std::string("2\0two", 5)).ok());
    std::vector<Op> ops = {{Op::Kind::kPut, "b", "3"}, {Op::Kind::kDelete, "a/one", ""}};
    ASSERT_TRUE(b->Transact({}, ops).ok());
    b->Close();
  }
  auto b = MustOpen(dir);
  ASSERT_TRUE(b);
  EXPECT_EQ(b->Get("a/one").value(), std::nullopt);
  EXPECT_EQ(b->Get("a/two").value().value().value, std::string("2\0two", 5));
  EXPECT_EQ(b->Get("b").value().value().value, "3");
  EXPECT_EQ(b->List("").value(), (std::vector<std::string>{"a/", "b"}));
}

TEST(LocalBackendTest, RevisionsNeverGoBackAfterReopen) {
  TempDir tmp;
  std::uint64_t highest = 0;
  {
    auto b = MustOpen(tmp.path());
    ASSERT_TRUE(b);
    ASSERT_TRUE(b->Put("k", "v").ok());
    ASSERT_TRUE(b->Put("newest", "v").ok());
    highest = b->Get("newest").value()->revision;
    // Deleting the newest key must not let its revision be handed out again.
    ASSERT_TRUE(b->Delete("newest").ok());
  }
  auto b = MustOpen(tmp.path());
  ASSERT_TRUE(b);
  ASSERT_TRUE(b->Put("newest", "again").ok());
  EXPECT_GT(b->Get("newest").value()->revision, highest);
  ASSERT_TRUE(b->Put("k", "v2").ok());
  EXPECT_GT(b->Get("k").value()->revision, highest);
}

// How many mappings of `file` this process has (/proc/self/maps).
int MappingsOf(const std::string& file) {
  std::ifstream maps("/proc/self/maps");
  int n = 0;
  for (std::string line; std::getline(maps, line);) {
    if (line.ends_with(" " + file)) ++n;
  }
  return n;
}

// Readers read the database file with pread and never map it, while the
// store is quiet as while commits come (LocalBackend::AcquireReader), and
// see every commit either way.
TEST(LocalBackendTest, ReadersNeverMapTheDatabaseFile) {
  TempDir tmp;
  auto b = MustOpen(tmp.path());
  ASSERT_TRUE(b);
  const std::string db = std::filesystem::canonical(tmp.path()).string() + "/coffer.db";
  {  // The check sees a mapping of the file: the test's own.
    const int fd = ::open(db.c_str(), O_RDONLY | O_CLOEXEC);
    ASSERT_GE(fd, 0);
    void* page = ::mmap(nullptr, 4096, PROT_READ, MAP_SHARED, fd, 0);
    ::close(fd);
    ASSERT_NE(page, MAP_FAILED);
    EXPECT_EQ(MappingsOf(db), 1) << "/proc/self/maps does not show " << db;
    ::munmap(page, 4096);
  }
  for (int i = 0; i < 500; ++i) ASSERT_TRUE(b->Put("fill/" + std::to_string(i), "v").ok());
  ASSERT_TRUE(b->Put("k", "0").ok());
  // Quiet reads, from several threads so that several readers open.
  std::vector<std::thread> threads;
  std::atomic<int> wrong{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 500; ++i) {
        if (b->Get("fill/" + std::to_string(i)).value()->value != "v") ++wrong;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_EQ(MappingsOf(db), 0) << "quiet reads mapped the database file";
  for (int i = 1; i <= 100; ++i) {
    ASSERT_TRUE(b->Put("k", std::to_string(i)).ok());
    ASSERT_EQ(b->Get("k").value()->value, std::to_string(i));
  }
  for (int i = 0; i < 200; ++i) ASSERT_EQ(b->Get("k").value()->value, "100");
  EXPECT_EQ(MappingsOf(db), 0) << "reads mapped the database file";
}

// A store that is only read after it is opened: reads do not ask the
// file's size (an fstat each) at every read transaction. SQLite takes the
// size from the WAL index once the process has committed through it.
TEST(LocalBackendTest, ReadsAfterReopeningDoNotAskTheFileSize) {
  TempDir tmp;
  {
    auto b = MustOpen(tmp.path());
    ASSERT_TRUE(b);
    for (int i = 0; i < 50; ++i) ASSERT_TRUE(b->Put("k/" + std::to_string(i), "v").ok());
  }
  auto b = MustOpen(tmp.path());
  ASSERT_TRUE(b);
  ASSERT_TRUE(b->Get("k/0").value());  // the readers' first transactions
  const auto before = local::WalGatherCountsNow().other_size_queries;
  for (int i = 0; i < 200; ++i) ASSERT_TRUE(b->Get("k/" + std::to_string(i % 50)).value());
  const auto after = local::WalGatherCountsNow().other_size_queries;
  EXPECT_LT(after - before, 10u) << "size queries in 200 reads";
}

TEST(LocalBackendTest, FilesArePrivateWhateverTheUmask) {
  TempDir tmp;
  const std::string dir = tmp.path() + "/nested/db";
  mode_t old_umask = ::umask(0);  // the most permissive umask: modes must not depend on it
  auto b = MustOpen(dir);
  ::umask(old_umask);
  ASSERT_TRUE(b);
  ASSERT_TRUE(b->Put("k", "v").ok());
  EXPECT_EQ(ModeOf(dir), 0700u);
  for (auto name : {"/coffer.db", "/coffer.db-wal", "/coffer.lock"}) {
    EXPECT_EQ(ModeOf(dir + name), 0600u) << name;
  }
  // The WAL index lives in the process's memory (unix-excl VFS): no -shm file.
  EXPECT_FALSE(std::filesystem::exists(dir + "/coffer.db-shm"));
}

TEST(LocalBackendTest, RepairsLooseExistingDirectoryAndDatabase) {
  TempDir tmp;
  const std::string dir = tmp.path() + "/loose";
  ASSERT_EQ(::mkdir(dir.c_str(), 0755), 0);
  ASSERT_EQ(::chmod(dir.c_str(), 0755), 0);
  { std::ofstream(dir + "/coffer.db"); }  // an empty file is an empty database
  ASSERT_EQ(::chmod((dir + "/coffer.db").c_str(), 0644), 0);
  auto b = MustOpen(dir);
  ASSERT_TRUE(b);
  EXPECT_EQ(ModeOf(dir), 0700u);
  EXPECT_EQ(ModeOf(dir + "/coffer.db"), 0600u);
  EXPECT_TRUE(b->Put("k", "v").ok());
}

TEST(LocalBackendTest, PathThatIsAFileIsRejected) {
  TempDir tmp;
  const std::string file = tmp.path() + "/file";
  { std::ofstream(file) << "x"; }
  auto opened = LocalBackend::Open(file);
  ASSERT_FALSE(opened.has_value());
  EXPECT_EQ(opened.error().code(), Code::kInvalidArgument);
  EXPECT_EQ(LocalBackend::Open("").error().code(), Code::kInvalidArgument);
}

TEST(LocalBackendTest, OneOpenerAtATime) {
  TempDir tmp;
  auto first = MustOpen(tmp.path());
  ASSERT_TRUE(first);
  auto second = LocalBackend::Open(tmp.path());
  ASSERT_FALSE(second.has_value());
  EXPECT_EQ(second.error().code(), Code::kUnavailable);
  first->Close();
  EXPECT_TRUE(MustOpen(tmp.path()));
}

TEST(LocalBackendTest, CallsAfterCloseAreUnavailable) {
  TempDir tmp;
  auto b = MustOpen(tmp.path());
  ASSERT_TRUE(b);
  ASSERT_TRUE(b->Put("k", "v").ok());
  b->Close();
  b->Close();  // idempotent
  EXPECT_EQ(b->Put("k", "v").code(), Code::kUnavailable);
  EXPECT_EQ(b->Delete("k").code(), Code::kUnavailable);
  EXPECT_EQ(b->Transact({}, {}).code(), Code::kUnavailable);
  EXPECT_EQ(b->Get("k").error().code(), Code::kUnavailable);
  EXPECT_EQ(b->List("").error().code(), Code::kUnavailable);
}

// Queues `puts` plain puts (p/0, p/1, ...) and the `others`, each on its own
// thread, behind a paused committer, then lets them all commit at once.
// Returns the puts' results.
std::vector<Status> CommitTogether(LocalBackend& b, int puts,
                                   const std::vector<std::function<void()>>& others) {
  b.PauseCommitsForTesting();
  std::vector<Status> results(static_cast<std::size_t>(puts));
  std::vector<std::thread> threads;
  for (int i = 0; i < puts; ++i) {
    threads.emplace_back([&, i] { results[i] = b.Put("p/" + std::to_string(i), "v"); });
  }
  for (const auto& f : others) threads.emplace_back(f);
  WaitForPending(b, static_cast<std::size_t>(puts) + others.size());
  b.ResumeCommitsForTesting();
  for (auto& t : threads) t.join();
  return results;
}

// A writer for CommitTogether: sets "cas" to "new" if it is still at `rev`.
std::function<void()> SwapCas(LocalBackend& b, std::uint64_t rev, Status& result) {
  return [&b, rev, &result] {
    std::vector<Compare> c = {{"cas", rev}};
    std::vector<Op> ops = {{Op::Kind::kPut, "cas", "new"}};
    result = b.Transact(c, ops);
  };
}

TEST(LocalBackendTest, ConcurrentWritersShareCommits) {
  TempDir tmp;
  auto b = MustOpen(tmp.path());
  ASSERT_TRUE(b);
  constexpr int kThreads = 32;
  constexpr int kWrites = 50;
  const std::uint64_t before = b->CommitBatches();
  std::atomic<int> errors{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kWrites; ++i) {
        if (!b->Put("w" + std::to_string(t) + "/" + std::to_string(i), "v").ok()) ++errors;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(errors.load(), 0);
  const std::uint64_t batches = b->CommitBatches() - before;
  EXPECT_GT(batches, 0u);
  EXPECT_LT(batches, static_cast<std::uint64_t>(kThreads * kWrites));
  EXPECT_EQ(b->List("").value().size(), static_cast<std::size_t>(kThreads));
}

// Writers on fibers (common/fiber.h), inside a SuspendScope, all started on
// one thread: each wait for the commit suspends its fiber, so the thread
// queues all of them, and they share one commit; the committer's wakes
// resume them on that thread.
TEST(LocalBackendTest, WritersOnSuspendableFibersWaitWithoutHoldingTheirThread) {
  TempDir tmp;
  auto b = MustOpen(tmp.path());
  ASSERT_TRUE(b);
  constexpr int kFibers = 8;
  coffer::test_util::FiberTestLoop posted;
  std::vector<Status> results(kFibers, Internal("not written"));
  std::atomic<int> started{0};
  int finished = 0;  // the loop thread's
  bool all_done = false;
  b->PauseCommitsForTesting();
  const std::uint64_t before = b->CommitBatches();
  std::thread loop([&] {
    for (int i = 0; i < kFibers; ++i) {
      Fiber::Start(posted.Poster(), [&, i] {
        SuspendScope suspendable;
        results[i] = b->Put("f/" + std::to_string(i), "v");
        ++finished;
      });
      ++started;  // Start returned: the fiber waits suspended
    }
    all_done = posted.RunUntil([&] { return finished == kFibers; });
  });
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (started.load() < kFibers && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_EQ(started.load(), kFibers) << "a write held its thread until its commit";
  EXPECT_EQ(b->PendingWritesForTesting(), static_cast<std::size_t>(kFibers));
  b->ResumeCommitsForTesting();
  loop.join();
  EXPECT_TRUE(all_done);
  EXPECT_EQ(b->CommitBatches() - before, 1u);
  for (const Status& s : results) EXPECT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(b->List("f/").value().size(), static_cast<std::size_t>(kFibers));
}

TEST(LocalBackendTest, OneBatchIsolatesAFailedCompare) {
  TempDir tmp;
  auto b = MustOpen(tmp.path());
  ASSERT_TRUE(b);
  ASSERT_TRUE(b->Put("cas", "old").ok());
  const std::uint64_t rev = b->Get("cas").value()->revision;
  const std::uint64_t before = b->CommitBatches();

  constexpr int kPuts = 6;
  Status stale_result, good_result;
  const std::vector<Status> put_results =
      CommitTogether(*b, kPuts,
                     {[&] {
                        std::vector<Compare> c = {{"cas", rev + 1000}};
                        std::vector<Op> ops = {{Op::Kind::kPut, "stale-write", "x"}};
                        stale_result = b->Transact(c, ops);
                      },
                      SwapCas(*b, rev, good_result)});

  EXPECT_EQ(b->CommitBatches() - before, 1u);
  for (const auto& s : put_results) EXPECT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(stale_result.code(), Code::kConflict);
  EXPECT_TRUE(good_result.ok()) << good_result.ToString();
  EXPECT_EQ(b->Get("cas").value()->value, "new");
  EXPECT_EQ(b->Get("stale-write").value(), std::nullopt);
  EXPECT_EQ(b->List("p/").value().size(), static_cast<std::size_t>(kPuts));
}

// A request that fails after its first write is undone alone: batches run
// without a savepoint per request, so its batch starts over with them, and
// the other requests still commit in one batch.
TEST(LocalBackendTest, OneBatchUndoesARequestThatFailsAfterItsFirstWrite) {
  TempDir tmp;
  auto b = MustOpen(tmp.path());
  ASSERT_TRUE(b);
  ASSERT_TRUE(b->Put("cas", "old").ok());
  const std::uint64_t rev = b->Get("cas").value()->revision;
  const std::uint64_t before = b->CommitBatches();

  b->LimitValueSizeForTesting(1000);
  constexpr int kPuts = 4;
  Status half_result, cas_result;
  const std::string big(2000, 'x');
  const std::vector<Status> put_results =
      CommitTogether(*b, kPuts,
                     {[&] {
                        std::vector<Op> ops = {{Op::Kind::kPut, "half/a", "small"},
                                               {Op::Kind::kDelete, "p/0", ""},
                                               {Op::Kind::kPut, "half/b", big}};
                        half_result = b->Transact({}, ops);
                      },
                      SwapCas(*b, rev, cas_result)});

  EXPECT_EQ(b->CommitBatches() - before, 1u);
  for (const auto& s : put_results) EXPECT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(half_result.code(), Code::kTooLarge) << half_result.ToString();
  EXPECT_TRUE(cas_result.ok()) << cas_result.ToString();
  EXPECT_EQ(b->Get("half/a").value(), std::nullopt);
  EXPECT_EQ(b->Get("half/b").value(), std::nullopt);
  EXPECT_EQ(b->List("p/").value().size(), static_cast<std::size_t>(kPuts));
  EXPECT_EQ(b->Get("cas").value()->value, "new");
  // The revisions given out stay unique and keep growing.
  ASSERT_TRUE(b->Put("after", "v").ok());
  EXPECT_GT(b->Get("after").value()->revision, b->Get("cas").value()->revision);
}

// The committer publishes a batch to readers before the sync thread's
// fsync; neither the writer nor a reader may get an answer until that
// fsync is done.
TEST(LocalBackendTest, WritesAndReadsAnswerOnlyOnceTheCommitIsDurable) {
  TempDir tmp;
  auto b = MustOpen(tmp.path());
  ASSERT_TRUE(b);
  ASSERT_TRUE(b->Put("k", "old").ok());
  b->PauseSyncsForTesting();
  const std::uint64_t commits = b->CommitBatches();
  const std::uint64_t syncs = b->WalSyncs();
  std::atomic<bool> written{false}, read{false};
  Status put_status = Internal("not written");
  Result<std::optional<Entry>> got = std::optional<Entry>();
  std::thread writer([&] {
    put_status = b->Put("k", "new");
    written = true;
  });
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (b->CommitBatches() == commits && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ASSERT_GT(b->CommitBatches(), commits) << "the write was never committed";
  std::thread reader([&] {
    got = b->Get("k");
    read = true;
  });
  // Committed, not synced: nothing may answer (a wrong answer comes at once).
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_FALSE(written.load()) << "a write was acknowledged before its fsync";
  EXPECT_FALSE(read.load()) << "a read returned a commit that was not durable";
  EXPECT_EQ(b->WalSyncs(), syncs);
  b->ResumeSyncsForTesting();
  writer.join();
  reader.join();
  EXPECT_TRUE(put_status.ok()) << put_status.ToString();
  ASSERT_TRUE(got.has_value()) << got.error().ToString();
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ((*got)->value, "new");
  EXPECT_GT(b->WalSyncs(), syncs);
  // With nothing in flight a read does not wait.
  EXPECT_EQ(b->Get("k").value()->value, "new");
}

// A read waits only when its answer may come from a batch not yet durable:
// a row such a batch wrote, or a missing row while such a batch deletes.
TEST(LocalBackendTest, ReadsOfDurableRowsDoNotWaitForACommitInFlight) {
  TempDir tmp;
  auto b = MustOpen(tmp.path());
  ASSERT_TRUE(b);
  ASSERT_TRUE(b->Put("durable", "1").ok());
  ASSERT_TRUE(b->Put("gone", "2").ok());
  b->PauseSyncsForTesting();
  std::uint64_t commits = b->CommitBatches();
  Status put_status = Internal("not written");
  std::thread writer([&] { put_status = b->Put("fresh", "3"); });
  auto committed = [&] {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (b->CommitBatches() == commits && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return b->CommitBatches() > commits;
  };
  ASSERT_TRUE(committed());
  // Answered while the put's fsync is held back.
  EXPECT_EQ(b->Get("durable").value()->value, "1");
  EXPECT_EQ(b->Get("never-written").value(), std::nullopt);

  // A delete in flight: a missing row may be its doing, so that read waits.
  commits = b->CommitBatches();
  Status delete_status = Internal("not deleted");
  std::thread deleter([&] { delete_status = b->Delete("gone"); });
  ASSERT_TRUE(committed());
  std::atomic<bool> read{false};
  Result<std::optional<Entry>> got = std::optional<Entry>(Entry{"placeholder", 0});
  std::thread reader([&] {
    got = b->Get("gone");
    read = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_FALSE(read.load()) << "a read returned a delete that was not durable";
  EXPECT_EQ(b->Get("durable").value()->value, "1");
  b->ResumeSyncsForTesting();
  writer.join();
  deleter.join();
  reader.join();
  EXPECT_TRUE(put_status.ok()) << put_status.ToString();
  EXPECT_TRUE(delete_status.ok()) << delete_status.ToString();
  ASSERT_TRUE(got.has_value()) << got.error().ToString();
  EXPECT_EQ(*got, std::nullopt);
}

// After a failed fsync the kernel's copy of the WAL is in doubt: the batch,
// later writes and reads whose answer may come from it fail, until the
// store is reopened.
TEST(LocalBackendTest, AFailedFsyncFailsClosedUntilReopened) {
  TempDir tmp;
  {
    auto b = MustOpen(tmp.path());
    ASSERT_TRUE(b);
    ASSERT_TRUE(b->Put("before", "1").ok());
    b->FailNextSyncForTesting();
    Status failed = b->Put("during", "2");
    EXPECT_EQ(failed.code(), Code::kInternal) << failed.ToString();
    EXPECT_NE(failed.message().find("fsync"), std::string::npos) << failed.ToString();
    EXPECT_EQ(b->Put("after", "3").code(), Code::kInternal);
    // The failed batch's row is never returned; rows synced before are.
    auto read = b->Get("during");
    ASSERT_FALSE(read.has_value());
    EXPECT_EQ(read.error().code(), Code::kInternal);
    EXPECT_FALSE(b->List("").has_value());
    EXPECT_EQ(b->Get("before").value()->value, "1");
  }
  auto b = MustOpen(tmp.path());
  ASSERT_TRUE(b);
  EXPECT_EQ(b->Get("before").value()->value, "1");
  EXPECT_TRUE(b->Put("after", "3").ok());
  EXPECT_EQ(b->Get("after").value()->value, "3");
}

TEST(LocalBackendTest, CloseDrainsQueuedWrites) {
  TempDir tmp;
  auto b = MustOpen(tmp.path());
  ASSERT_TRUE(b);
  b->PauseCommitsForTesting();
  constexpr int kWriters = 8;
  std::vector<Status> results(kWriters);
  std::vector<std::thread> threads;
  for (int i = 0; i < kWriters; ++i) {
    threads.emplace_back([&, i] { results[i] = b->Put("q/" + std::to_string(i), "v"); });
  }
  WaitForPending(*b, kWriters);
  b->Close();
  for (auto& t : threads) t.join();
  for (const auto& s : results) EXPECT_TRUE(s.ok()) << s.ToString();
  b.reset();
  auto reopened = MustOpen(tmp.path());
  ASSERT_TRUE(reopened);
  EXPECT_EQ(reopened->List("q/").value().size(), static_cast<std::size_t>(kWriters));
}

TEST(LocalBackendTest, ReadersNeverSeeATornValue) {
  TempDir tmp;
  auto b = MustOpen(tmp.path());
  ASSERT_TRUE(b);
  constexpr std::size_t kSize = 256 * 1024;
  ASSERT_TRUE(b->Put("big", std::string(kSize, 'a')).ok());
  std::atomic<bool> done{false};
  std::atomic<int> bad{0}, reads{0};
  std::vector<std::thread> readers;
  for (int r = 0; r < 2; ++r) {
    readers.emplace_back([&] {
      while (!done.load()) {
        auto got = b->Get("big");
        if (!got.has_value() || !got->has_value()) {
          ++bad;
          continue;
        }
        const std::string& v = (*got)->value;
        if (v.size() != kSize || (v[0] != 'a' && v[0] != 'b') ||
            v.find_first_not_of(v[0]) != std::string::npos) {
          ++bad;
        }
        ++reads;
      }
    });
  }
  for (int i = 0; i < 60; ++i) {
    ASSERT_TRUE(b->Put("big", std::string(kSize, i % 2 ? 'a' : 'b')).ok());
  }
  // Keep the readers going until they have read at least a few times.
  while (reads.load() < 10) std::this_thread::yield();
  done = true;
  for (auto& t : readers) t.join();
  EXPECT_EQ(bad.load(), 0);
}

std::uintmax_t WalBytes(const std::string& dir) {
  std::error_code ec;
  auto size = std::filesystem::file_size(dir + "/coffer.db-wal", ec);
  return ec ? 0 : size;
}

// Writes `commits` transactions of ten 8 KB values (about 20 WAL pages each)
// under keys prefix<i>.
void WriteBulk(LocalBackend& b, const std::string& prefix, int commits) {
  for (int c = 0; c < commits; ++c) {
    std::vector<Op> ops;
    for (int i = 0; i < 10; ++i) {
      const int n = c * 10 + i;
      ops.push_back({Op::Kind::kPut, prefix + std::to_string(n), std::string(8192, 'a' + n % 26)});
    }
    ASSERT_TRUE(b.Transact({}, ops).ok());
  }
}

// Waits (up to 30 s) until the checkpoint thread has run once.
void WaitForABackgroundCheckpoint(const LocalBackend& b) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (b.BackgroundCheckpoints() == 0) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "no background checkpoint";
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

TEST(LocalBackendTest, CheckpointsRunOnTheirOwnThread) {
  TempDir tmp;
  auto b = MustOpen(tmp.path());
  ASSERT_TRUE(b);
  WriteBulk(*b, "k", 100);  // ~2,000 pages: past the 1,000-page threshold
  ASSERT_NO_FATAL_FAILURE(WaitForABackgroundCheckpoint(*b));
  EXPECT_EQ(b->CommitterCheckpoints(), 0u);
  // The checkpointed pages are in the database file now.
  std::error_code ec;
  EXPECT_GT(std::filesystem::file_size(tmp.path() + "/coffer.db", ec), 1'000'000u);
  EXPECT_EQ(b->Get("k999").value().value().value, std::string(8192, 'a' + 999 % 26));
}

TEST(LocalBackendTest, SmallCommitsPastTheThresholdDoNotEachAskForACheckpoint) {
  TempDir tmp;
  auto b = MustOpen(tmp.path());
  ASSERT_TRUE(b);
  WriteBulk(*b, "k", 60);  // ~1,200 pages: past the 1,000-page threshold
  ASSERT_NO_FATAL_FAILURE(WaitForABackgroundCheckpoint(*b));
  const std::uint64_t before = b->BackgroundCheckpoints();
  // 300 commits of one small value: a page or two each, ~2 strides of
  // 256 pages in all. Asking on every commit gave a checkpoint (and an
  // fsync of the database file) per commit.
  for (int i = 0; i < 300; ++i) {
    ASSERT_TRUE(b->Put("small" + std::to_string(i), std::string(100, 's')).ok());
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // let asked ones run
  EXPECT_LE(b->BackgroundCheckpoints() - before, 10u);
  EXPECT_EQ(b->Get("small299").value().value().value, std::string(100, 's'));
}

TEST(LocalBackendTest, TheCommitterBoundsTheWalWhenCheckpointsFallBehind) {
  TempDir tmp;
  const std::string dir = tmp.path();
  {
    auto b = MustOpen(dir);
    ASSERT_TRUE(b);
    b->PauseCheckpointsForTesting();
    // ~20,000 pages, 2.5 times the committer's bound.
    WriteBulk(*b, "k", 1000);
    EXPECT_EQ(b->BackgroundCheckpoints(), 0u);
    EXPECT_GE(b->CommitterCheckpoints(), 1u);
    // The WAL started over instead of holding all 80 MB: at most the bound
    // (8,000 pages of 4 KB plus frame headers) and one transaction.
    EXPECT_LT(WalBytes(dir), 36u * 1024 * 1024);
    b->ResumeCheckpointsForTesting();
    b->Close();
  }
  auto b = MustOpen(dir);
  ASSERT_TRUE(b);
  for (int n : {0, 4321, 9999}) {
    EXPECT_EQ(b->Get("k" + std::to_string(n)).value().value().value,
              std::string(8192, 'a' + n % 26));
  }
}

}  // namespace
}  // namespace coffer::storage
