#pragma once
// Audit entries in Vault's shape, and the per-device treatment of them.
//
// BuildRequestEntry/BuildResponseEntry make one raw entry per request (with
// secrets in the clear, in memory only). Each device then applies its own
// options with Prepare(): HMAC every leaf that could carry a secret under the
// device's salt (unless log_raw), elide list responses, and render JSON or
// JSONx. The raw entry never leaves this process unhashed except to a
// device configured with log_raw.

#include <chrono>
#include <set>
#include <string>

#include "audit/hash.h"
#include "common/status.h"
#include "logical/request.h"

namespace coffer::audit {

// What the broker knows about the mount that serves a request.
struct MountInfo {
  std::string type;  // "kv", "system", "token", "cubbyhole", "" when none
  std::string path;  // "secret/"
  std::string accessor;
  std::set<std::string> non_hmac_request_keys;
  std::set<std::string> non_hmac_response_keys;
};

enum class Format { kJson, kJsonx };

struct EntryOptions {
  bool hmac_accessor = true;
  bool log_raw = false;
  bool elide_list_responses = false;
  Format format = Format::kJson;
};

// `error` is empty when the request succeeded (or, for request entries, was
// authorised).
logical::Json BuildRequestEntry(const logical::Request& request, const MountInfo& mount,
                                std::string_view error, std::chrono::system_clock::time_point now);
logical::Json BuildResponseEntry(const logical::Request& request, const MountInfo& mount,
                                 const logical::Response* response, std::string_view error,
                                 std::chrono::system_clock::time_point now);

// Applies a device's options to a raw entry (consumed) and renders it as one
// line without the trailing newline.
std::string Prepare(logical::Json entry, const MountInfo& mount, const Salt& salt,
                    const EntryOptions& options);

// JSONx (IBM's XML encoding of JSON), as Vault's format=jsonx writes it.
std::string ToJsonx(const logical::Json& value);

}  // namespace coffer::audit
