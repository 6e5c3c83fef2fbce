// The list of built-in command families. A new family adds its
// Register*Commands declaration and one call below.
#include "cli/command.h"

namespace coffer::cli {

void RegisterStatusCommands(Registry& registry);
void RegisterOperatorCommands(Registry& registry);
void RegisterVersionCommand(Registry& registry);
void RegisterKvCommands(Registry& registry);
void RegisterLoginCommand(Registry& registry);
void RegisterPolicyCommands(Registry& registry);
void RegisterTokenCommands(Registry& registry);
void RegisterMountCommands(Registry& registry);
void RegisterLogicalCommands(Registry& registry);
void RegisterLeaseCommands(Registry& registry);
void RegisterAuditCommands(Registry& registry);
void RegisterAgentCommand(Registry& registry);
void RegisterRunCommand(Registry& registry);
void RegisterScanCommands(Registry& registry);
void RegisterEventsCommands(Registry& registry);
void RegisterDebugCommands(Registry& registry);
void RegisterServerInfoCommands(Registry& registry);

void RegisterBuiltins(Registry& registry) {
  RegisterStatusCommands(registry);
  RegisterOperatorCommands(registry);
  RegisterVersionCommand(registry);
  RegisterKvCommands(registry);
  RegisterLoginCommand(registry);
  RegisterPolicyCommands(registry);
  RegisterTokenCommands(registry);
  RegisterMountCommands(registry);
  RegisterLogicalCommands(registry);
  RegisterLeaseCommands(registry);
  RegisterAuditCommands(registry);
  RegisterAgentCommand(registry);
  RegisterRunCommand(registry);
  RegisterScanCommands(registry);
  RegisterEventsCommands(registry);
  RegisterDebugCommands(registry);
  RegisterServerInfoCommands(registry);
}

}  // namespace coffer::cli
