#pragma once
// Seal status output shared by `coffer status` and `coffer operator unseal`.

#include "cli/command.h"

namespace coffer::cli {

// Prints a /v1/sys/seal-status answer as Vault does (table or JSON), with HA
// fields from /v1/sys/leader when the server answers it (a failure there
// means "HA disabled"). Returns 0.
int PrintSealStatus(Invocation& inv, ApiClient& client, const Json& seal_status);

// Field access that tolerates missing keys and wrong types.
bool JsonBool(const Json& obj, const char* key);
long long JsonInt(const Json& obj, const char* key);
std::string JsonString(const Json& obj, const char* key);

}  // namespace coffer::cli
