#pragma once
// SecretResolver: reads the secrets a RunSpec references and turns them into
// environment variables, and tells later whether any of them changed.
//
// Paths: "secret/data/app" and "secret/app" both work on a KV v2 mount (the
// mount and its version are detected as `coffer kv` does, see kv_path.h;
// when detection is not permitted, a second segment "data" means KV v2).
// Other paths (KV v1, dynamic engines) are read as they are.
//
// Change detection (Fingerprint): KV v2 compares the metadata's
// current_version (and whether that version is deleted/destroyed), without
// reading the values; KV v1 compares a SHA-256 of the data, kept in memory.
// Secrets that come with a lease (dynamic credentials) are not re-read to
// detect changes; their leases are renewed instead (see RenewLease).
//
// Errors: kNotFound naming every missing reference ("secret/data/app#password")
// and never a value; the API error otherwise (kPermissionDenied, ...).
// Not thread-safe: one resolver per thread (each has its own client).

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "cli/api_client.h"
#include "cli/kv_path.h"
#include "cli/run_config.h"
#include "common/secret_bytes.h"
#include "common/status.h"

namespace coffer::cli {

// A secret path to watch for changes.
struct WatchTarget {
  std::string ref_path;       // as referenced: "secret/app"
  std::string data_path;      // API path without /v1/: "secret/data/app"
  std::string metadata_path;  // KV v2: "secret/metadata/app"; empty otherwise
  std::string fingerprint;    // what Fingerprint() answered when it was read
};

struct Lease {
  std::string lease_id;
  long long duration_seconds = 0;
  bool renewable = false;
};

struct ResolvedSecrets {
  std::vector<std::pair<std::string, SecretBytes>> env;  // in a stable order
  std::vector<WatchTarget> targets;
  std::vector<Lease> leases;
};

class SecretResolver {
 public:
  explicit SecretResolver(ApiClient& client) : client_(client) {}

  // Reads every referenced secret once. All missing references are listed
  // in one error. Explicit --secret mappings win over --path fields of the
  // same name; two --path fields mapping to one name are an error.
  Result<ResolvedSecrets> Resolve(const RunSpec& spec);

  // The current fingerprint of a target (see the header comment).
  Result<std::string> Fingerprint(const WatchTarget& target);

  // PUT sys/leases/renew. Errors: the API error.
  Status RenewLease(const Lease& lease);

 private:
  struct Located {
    KvTarget kv;
    std::string data_path;
    std::string metadata_path;
  };
  Result<Located> Locate(const std::string& path);

  ApiClient& client_;
  std::map<std::string, Located> located_;
};

}  // namespace coffer::cli
