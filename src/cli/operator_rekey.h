#pragma once
// `coffer operator rekey`: new unseal key shares from a threshold of the
// current ones (sys/rekey/*), in Vault's command shape. Shares are read from
// the terminal without echo or from stdin, never from argv.

#include <memory>

#include "cli/command.h"

namespace coffer::cli {

std::unique_ptr<Command> NewRekeyCommand();

// The -h text of the command.
extern const char* const kRekeyHelp;

}  // namespace coffer::cli
