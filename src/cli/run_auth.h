#pragma once
// How `coffer run` gets its token, in this order:
//   1. AppRole, when --role-id-file is given (--secret-id-file optional):
//      POST auth/<approle-mount>/login {role_id, secret_id}
//   2. JWT, when --jwt-file is given (e.g. a CI job's OIDC token):
//      POST auth/<jwt-mount>/login {role, jwt}
//   3. COFFER_TOKEN, VAULT_TOKEN, then the token helper file ~/.coffer-token
//      (or ~/.vault-token)
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

// How the token is to be had, decided without the server: a login request
// to send (AppRole or JWT, credentials read from their files), or a token at
// hand (COFFER_TOKEN, VAULT_TOKEN, ~/.coffer-token, ~/.vault-token).
struct RunLogin {
  std::string mount;       // auth/<mount>/login; empty: `ready` holds the token
  SecretBytes body;        // the login request's JSON (it holds the credential)
  SecretBytes credential;  // the secret ID or JWT, redacted from error messages
  std::string source;      // "approle" or "jwt"
  RunToken ready;
};

// Reads the credential files or finds the token at hand. Every error here is
// local (a missing or empty file, no token, a flag without its partner).
Result<RunLogin> PrepareLogin(const Env& env, const RunAuthOptions& options);

// Sends the login, if there is one, and sets the token on `client`. Every
// error here is the server's answer (or its absence).
Result<RunToken> Authenticate(RunLogin login, ApiClient& client);

// Reads a credential file: its content with surrounding whitespace removed.
Result<SecretBytes> ReadCredentialFile(const std::string& path, std::string_view what);

}  // namespace coffer::cli
