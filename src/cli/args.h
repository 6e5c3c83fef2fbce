#pragma once
// Vault's CLI takes Go-style flags: a single dash before long names
// (`-key-shares=5`, `-format json`), and also accepts `--key-shares 5`.
// CLI11 wants `--name` for long names, so argv is normalised before parsing.

#include <string>
#include <vector>

namespace coffer::cli {

// Rewrites `-word...` to `--word...` when the name (before any '=') is at
// least two characters, starts with a letter and holds only letters, digits,
// '-' and '_'. Left alone: `-` (stdin), `-h` and other one-letter flags,
// negative numbers (`-5`), values after '=', anything already `--name`, and
// every argument after a bare `--` (which is kept).
std::vector<std::string> NormalizeArgs(const std::vector<std::string>& args);

}  // namespace coffer::cli
