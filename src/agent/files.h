#pragma once
// File helpers of the agent: atomic replacement with a given mode (sinks and
// rendered templates), and reading small files that hold credentials.
// Thread-safety: free functions; concurrent writes of one path are not
// coordinated (the last rename wins).

#include <optional>
#include <string>
#include <string_view>

#include "common/atomic_file.h"
#include "common/secret_bytes.h"
#include "common/status.h"

namespace coffer::agent {

using coffer::AtomicWriteFile;  // common/atomic_file.h

// The whole file, or nullopt when it does not exist or cannot be read.
std::optional<std::string> ReadFileIfExists(const std::string& path);

// A credential file (role ID, secret ID, JWT), surrounding whitespace
// trimmed. kNotFound when missing, kInvalidArgument when empty.
Result<SecretBytes> ReadCredentialFile(const std::string& path);

// The mode bits of an existing file, or nullopt.
std::optional<unsigned> FileMode(const std::string& path);

}  // namespace coffer::agent
