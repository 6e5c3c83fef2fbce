#include "audit/page_trim.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/magic.h>
#include <sys/mman.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "audit/device.h"
#include "common/clock.h"
#include "storage/temp_dir.h"

namespace coffer::audit {
namespace {

using internal::PageCacheTrimmer;

constexpr off_t kMiB = off_t{1} << 20;

using storage::test_util::TempDir;

// tmpfs keeps its pages whatever is advised: nothing to measure there.
bool OnTmpfs(const TempDir& dir) {
  struct statfs s {};
  return ::statfs(dir.path().c_str(), &s) == 0 && s.f_type == TMPFS_MAGIC;
}

std::size_t ChunkPages() { return static_cast<std::size_t>(kMiB / ::sysconf(_SC_PAGESIZE)); }

// Pages of [offset, offset + length) of `path` in the page cache (a failure
// to tell fails the test and counts as all of them).
std::size_t ResidentPages(const std::string& path, off_t offset, std::size_t length) {
  const long page = ::sysconf(_SC_PAGESIZE);
  std::vector<unsigned char> vec((length + page - 1) / page);
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  void* map = fd < 0 ? MAP_FAILED : ::mmap(nullptr, length, PROT_READ, MAP_SHARED, fd, offset);
  if (fd >= 0) ::close(fd);
  if (map == MAP_FAILED || ::mincore(map, length, vec.data()) != 0) {
    ADD_FAILURE() << "cannot tell which pages of " << path << " are cached";
    if (map != MAP_FAILED) ::munmap(map, length);
    return vec.size();
  }
  ::munmap(map, length);
  std::size_t resident = 0;
  for (unsigned char v : vec) resident += v & 1;
  return resident;
}

// A trimmer's tests append to `path_`, open as `fd_`.
class PageCacheTrimmerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = dir_.path() + "/log";
    fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    ASSERT_GE(fd_, 0);
  }
  void TearDown() override { CloseLog(); }
  void CloseLog() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

  TempDir dir_;
  std::string path_;
  int fd_ = -1;
};

TEST_F(PageCacheTrimmerTest, DropsChunksTwoBehindTheWriter) {
  if (OnTmpfs(dir_)) GTEST_SKIP() << "the temporary directory is on tmpfs";
  PageCacheTrimmer trimmer(kMiB);
  trimmer.Follow(fd_, 0);
  const std::string block(64 * 1024, 'x');
  off_t size = 0;
  for (int i = 0; i < 6 * 16; ++i) {
    ASSERT_EQ(::write(fd_, block.data(), block.size()), static_cast<ssize_t>(block.size()));
    size += static_cast<off_t>(block.size());
    trimmer.Wrote(size);
    trimmer.WaitIdle();
  }
  CloseLog();  // the trimmer keeps a duplicate of its own
  const std::size_t chunk_pages = ChunkPages();
  // Six chunks written: the first five were written back and dropped, the
  // last one (whose writeback has only started) is still cached.
  EXPECT_EQ(ResidentPages(path_, 0, 5 * kMiB), 0u);
  EXPECT_EQ(ResidentPages(path_, 5 * kMiB, kMiB), chunk_pages);
}

TEST_F(PageCacheTrimmerTest, LeavesWhatWasThereWhenFollowed) {
  if (OnTmpfs(dir_)) GTEST_SKIP() << "the temporary directory is on tmpfs";
  const std::string block(kMiB, 'x');
  for (int i = 0; i < 3; ++i) ASSERT_EQ(::write(fd_, block.data(), block.size()), kMiB);
  PageCacheTrimmer trimmer(kMiB);
  trimmer.Follow(fd_, 3 * kMiB);
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(::write(fd_, block.data(), block.size()), kMiB);
    trimmer.Wrote((4 + i) * kMiB);
    trimmer.WaitIdle();
  }
  CloseLog();
  const std::size_t chunk_pages = ChunkPages();
  EXPECT_EQ(ResidentPages(path_, 0, 3 * kMiB), 3 * chunk_pages);
  EXPECT_EQ(ResidentPages(path_, 3 * kMiB, 2 * kMiB), 0u);
}

TEST_F(PageCacheTrimmerTest, UnfollowedOrStoppedItDoesNothing) {
  const std::string block(kMiB, 'x');
  PageCacheTrimmer trimmer(kMiB);
  trimmer.Follow(fd_, 0);
  trimmer.Unfollow();
  for (int i = 0; i < 4; ++i) {
    ASSERT_EQ(::write(fd_, block.data(), block.size()), kMiB);
    trimmer.Wrote((1 + i) * kMiB);
  }
  trimmer.WaitIdle();
  const std::size_t chunk_pages = ChunkPages();
  EXPECT_EQ(ResidentPages(path_, 0, 4 * kMiB), 4 * chunk_pages);
  trimmer.Stop();
  trimmer.Follow(fd_, 4 * kMiB);  // after Stop: no thread is started
  trimmer.Wrote(8 * kMiB);
  trimmer.WaitIdle();
}

// The file device trims the file it writes: its first 16 MiB leave the page
// cache while it goes on writing.
TEST(FileDevicePageCacheTest, FileDeviceTrimsItsLog) {
  TempDir dir;
  if (OnTmpfs(dir)) GTEST_SKIP() << "the temporary directory is on tmpfs";
  const std::string path = dir.path() + "/audit.log";
  DeviceConfig config{"file/", "file", "", {{"file_path", path}}};
  auto salt = *Salt::Create(SecretBytes::FromString(std::string(32, 's')));
  SystemClock clock;
  auto device = Device::Create(config, std::move(salt), clock);
  ASSERT_TRUE(device.has_value()) << device.error().ToString();
  const std::string body = "{\"type\":\"request\",\"pad\":\"" + std::string(4000, 'p') + "\"}";
  std::vector<std::string_view> bodies(64, body);
  auto write_up_to = [&](off_t size) {
    while (static_cast<off_t>(std::filesystem::file_size(path)) < size) {
      ASSERT_TRUE((*device)->WriteNow(bodies).ok());
    }
  };
  write_up_to(32 * kMiB);
  // The helper thread may have taken several chunks in one pass (a pass
  // drops what the pass before it started): each 8 MiB more completes a
  // chunk and makes another pass.
  std::size_t resident = ResidentPages(path, 0, 16 * kMiB);
  for (int round = 0; round < 20 && resident != 0; ++round) {
    write_up_to(static_cast<off_t>(std::filesystem::file_size(path)) + 8 * kMiB);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    resident = ResidentPages(path, 0, 16 * kMiB);
  }
  EXPECT_EQ(resident, 0u);
  (*device)->Close();
}

}  // namespace
}  // namespace coffer::audit
