#pragma once
// The token helper file (~/.coffer-token) that `coffer login` writes and
// Invocation::Client reads.

#include <string>
#include <string_view>

#include "common/status.h"

namespace coffer::cli {

// Replaces `path` with a file holding `token`, atomically: a new file is
// created next to it with O_CREAT|O_EXCL|O_NOFOLLOW and mode 0600 (so it is
// never readable by others, not even briefly), written, fsynced and renamed
// over `path`. Errors (kInternal) name the path and the system error, never
// the token.
Status StoreTokenFile(const std::string& path, std::string_view token);

}  // namespace coffer::cli
