#pragma once
// The paths that need `sudo` on top of the operation's capability: Vault's
// root-protected paths, plus sys/mounts/*. The server's authorizer enforces
// them; the CLI's -output-policy adds "sudo" to the sample policy it prints
// for them.

#include <string_view>

namespace coffer::policy {

// `path` is the request path without /v1/ and without a query.
bool IsSudoPath(std::string_view path);

}  // namespace coffer::policy
