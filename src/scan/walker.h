#pragma once
// Lists the files of a tree for scanning and reads them. Skips .git/ and
// node_modules/ directories, symbolic links, files over the size limit, and
// (when read) binary files: a NUL byte in the first 8 KiB, as git decides.
// Pure functions; thread-safe.

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "common/status.h"

namespace coffer::scan {

struct FileEntry {
  std::filesystem::path full;
  std::string display;  // relative to the root, '/' separated
  std::uint64_t size = 0;
};

struct WalkResult {
  std::vector<FileEntry> files;
  std::uint64_t skipped_large = 0;
  std::vector<std::string> warnings;  // entries that could not be looked at
};

// `root` may be a directory or a single file. Errors: kNotFound when `root`
// does not exist; kUnavailable when the walk stopped before its end (a
// directory that went away, a path too long to open).
Result<WalkResult> ListFiles(const std::filesystem::path& root, std::uint64_t max_size);

// Reads a whole regular file of at most `max_size` bytes into `buf` (reused
// across calls to avoid reallocating). Does not follow a symlink or block on
// a FIFO. Errors: kTooLarge when it holds more than `max_size` bytes now;
// kUnsupported when it is no longer a regular file; kNotFound /
// kPermissionDenied / kInternal. Messages carry the path, no content.
Status ReadFileInto(const std::filesystem::path& path, std::string& buf, std::uint64_t max_size);

bool LooksBinary(std::string_view content);

}  // namespace coffer::scan
