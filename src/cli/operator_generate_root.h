#pragma once
// `coffer operator generate-root`: a new root token from a threshold of the
// unseal key shares (sys/generate-root/*), in Vault's command shape. Shares
// and the one-time pad are read from the terminal without echo or from
// stdin, never from argv.

#include <memory>

#include "cli/command.h"

namespace coffer::cli {

std::unique_ptr<Command> NewGenerateRootCommand();

// The -h text of the command.
extern const char* const kGenerateRootHelp;

}  // namespace coffer::cli
