#pragma once
// Where a `coffer kv` path lives: the mount, its KV version, and the API path
// for an operation, found the way Vault's CLI does it.
//
// Version detection: GET sys/internal/ui/mounts/<path> gives the mount path
// (data.path) and data.options.version ("2": versioned API; "1" or missing:
// plain paths). When that endpoint answers 404 or 403 (older servers, narrow
// tokens), GET sys/mounts is read instead and the longest mount prefix of
// the path wins; no matching mount means version 1.

#include <string>
#include <string_view>

#include "cli/api_client.h"
#include "common/status.h"

namespace coffer::cli {

struct KvTarget {
  int version = 1;
  std::string mount;   // "secret/" (trailing slash), "" when unknown
  std::string secret;  // the path inside the mount, "app/db"

  // The API path (no /v1/) for an operation: with version 2, `prefix`
  // ("data", "metadata", "delete", ...) goes after the mount; version 1
  // ignores it. "secret/data/app/db".
  std::string Path(std::string_view prefix) const;
};

// `path` is the command's argument; `mount_flag` the -mount value ("" when
// not given: the mount is then the start of `path`). Errors: the API error
// of the detection request (kPermissionDenied, kUnavailable, ...).
Result<KvTarget> ResolveKvTarget(ApiClient& client, std::string_view path,
                                 std::string_view mount_flag);

}  // namespace coffer::cli
