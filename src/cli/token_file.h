#pragma once
// The token helper file (~/.coffer-token) that `coffer login` writes and
// Invocation::Client reads.

#include <string>
#include <string_view>

#include "common/secret_bytes.h"
#include "common/status.h"

namespace coffer::cli {

// Replaces `path` with a file holding `token`, atomically: a new file is
// created next to it with O_CREAT|O_EXCL|O_NOFOLLOW and mode 0600 (so it is
// never readable by others, not even briefly), written, fsynced and renamed
// over `path`. Errors (kInternal) name the path and the system error, never
// the token.
Status StoreTokenFile(const std::string& path, std::string_view token);

// The token a command uses when none is in the environment: ~/.coffer-token,
// or else ~/.vault-token (Vault's token helper file, so that a token stored
// by `vault login` serves here too), trimmed of surrounding whitespace.
// Empty when neither file exists or holds anything; `source` (if given)
// is set to the file's name as "~/.coffer-token" or "~/.vault-token".
SecretBytes ReadTokenFile(const std::string& home, std::string* source = nullptr);

}  // namespace coffer::cli
