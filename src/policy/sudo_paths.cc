#include "policy/sudo_paths.h"

namespace coffer::policy {
namespace {

// Vault's root-protected paths, plus sys/mounts/* (mounting and unmounting
// engines changes what data exists, so Coffer asks for sudo there too).
constexpr std::string_view kSudoExact[] = {
    "sys/rotate",
    "sys/rotate/config",
    "sys/rotate/keyring",
    "sys/rotate/keyring/config",
    "sys/config/cors",
    "sys/seal",
    "sys/step-down",
    "sys/remount",
    "sys/audit",
    "sys/raw",
    "sys/leases",
    "sys/rekey/init",
    "sys/generate-root/attempt",
    "auth/token/accessors",
    "auth/token/accessors/",
};
constexpr std::string_view kSudoPrefix[] = {
    "sys/audit/",
    "sys/audit-verify/",
    "sys/auth/",
    "sys/mounts/",
    "sys/raw/",
    "sys/revoke-prefix/",
    "sys/revoke-force/",
    "sys/leases/revoke-prefix/",
    "sys/leases/revoke-force/",
    "sys/leases/lookup/",
    "sys/config/auditing/",
    "sys/plugins/catalog/",
    // Vault's root path is revoke-orphan/* (the token in the URL); plain
    // revoke-orphan checks sudo in its handler and answers 400 without it.
    "auth/token/revoke-orphan/",
};

}  // namespace

bool IsSudoPath(std::string_view path) {
  for (auto p : kSudoExact) {
    if (path == p) return true;
  }
  for (auto p : kSudoPrefix) {
    if (path.starts_with(p)) return true;
  }
  return false;
}

}  // namespace coffer::policy
