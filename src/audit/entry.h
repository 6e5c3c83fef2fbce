#pragma once
// Audit entries in Vault's shape, rendered for one device.
//
// Render() writes an entry straight to its line: values that could carry a
// secret are replaced by their HMAC under the device's salt as they are
// written, so no copy of the request or response data is made and no
// unhashed tree is built. A device with log_raw writes values as they are;
// elide_list_responses replaces list keys by their count; JSONx is rendered
// from the JSON line.

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

struct EntrySource {
  enum class Type { kRequest, kResponse };
  Type type = Type::kRequest;
  const logical::Request* request = nullptr;
  const MountInfo* mount = nullptr;
  const logical::Response* response = nullptr;  // response entries; null after an error
  std::string_view error;                       // empty when the request succeeded
  std::chrono::system_clock::time_point time;
};

// What both entries of one request share, for one device: the hashes of
// the caller's token and accessor (each entry carries them twice) and the
// rendered "auth" and "request" objects (each entry carries them once).
// Computed once when the same cache is passed to the Render calls of that
// request's entries; the request must not change between them.
struct RenderCache {
  // Where a hash was first written: `size` bytes at `pos` of `*in` (one of
  // the strings below), copied from there the next time (no allocation).
  struct Text {
    const std::string* in = nullptr;
    std::size_t pos = 0;
    std::size_t size = 0;
  };
  const std::string* token = nullptr;  // the value hashed into token_hash
  Text token_hash;
  const std::string* accessor = nullptr;
  Text accessor_hash;
  const logical::Request* rendered = nullptr;  // whose auth/request are below
  std::string auth_json;
  std::string request_json;
};

// One entry as one line, without the trailing newline. `cache` may be null.
std::string Render(const EntrySource& source, const Salt& salt, const EntryOptions& options,
                   RenderCache* cache = nullptr);
// The same, appended to `out` (a buffer reused from entry to entry).
void RenderTo(std::string& out, const EntrySource& source, const Salt& salt,
              const EntryOptions& options, RenderCache* cache = nullptr);

// JSONx (IBM's XML encoding of JSON), as Vault's format=jsonx writes it.
std::string ToJsonx(const logical::Json& value);

}  // namespace coffer::audit
