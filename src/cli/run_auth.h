#pragma once
// How `coffer run` gets its token, in this order:
//   1. AppRole, when --role-id-file is given (--secret-id-file optional):
//      POST auth/<approle-mount>/login {role_id, secret_id}
//   2. JWT, when --jwt-file is given (e.g. a CI job's OIDC token):
//      POST auth/<jwt-mount>/login {role, jwt}
//   3. COFFER_TOKEN, VAULT_TOKEN, then the token helper file ~/.coffer-token
//      (the same sources as every other command).
// Credentials are read from files (never argv), held in SecretBytes and
// never printed: error messages are redacted.
//
// Errors: kInvalidArgument (unreadable or empty credential file, no token
// anywhere), the API error of the login (kInvalidArgument for a refused
// login, kUnavailable, ...). Not thread-safe (uses the given client).

#include <string>

#include "cli/api_client.h"
#include "cli/cli.h"
#include "common/secret_bytes.h"
#include "common/status.h"

namespace coffer::cli {

struct RunAuthOptions {
  std::string role_id_file;
  std::string secret_id_file;
  std::string approle_mount = "approle";
  std::string jwt_file;
  std::string jwt_role;  // empty: the mount's default_role
  std::string jwt_mount = "jwt";
};

struct RunToken {
  SecretBytes token;
  std::string source;         // "approle", "jwt", "COFFER_TOKEN", ... (for messages)
  long long ttl_seconds = 0;  // 0: unknown or no expiry
  bool renewable = false;
};

// Obtains the token and sets it on `client`.
Result<RunToken> Authenticate(const Env& env, const RunAuthOptions& options, ApiClient& client);

// Reads a credential file: its content with surrounding whitespace removed.
Result<SecretBytes> ReadCredentialFile(const std::string& path, std::string_view what);

}  // namespace coffer::cli
