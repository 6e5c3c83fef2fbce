// The list of built-in command families. A new family adds its
// Register*Commands declaration and one call below.
#include "cli/command.h"

namespace coffer::cli {

void RegisterStatusCommands(Registry& registry);
void RegisterOperatorCommands(Registry& registry);
void RegisterVersionCommand(Registry& registry);

void RegisterBuiltins(Registry& registry) {
  RegisterStatusCommands(registry);
  RegisterOperatorCommands(registry);
  RegisterVersionCommand(registry);
}

}  // namespace coffer::cli
