#pragma once
// Auto-auth: logs in with the configured method (AppRole, JWT, or cert: the
// TLS client certificate the transport presents is the credential), and writes
// each new token to the sinks. The timing (renewal at 2/3 of the TTL,
// re-login near the max TTL, backoff) lives in TokenKeeper (token_keeper.h).
//
// Credential files: the AppRole secret ID file (and the JWT file) is removed
// after reading when configured (Vault's default); the value read last is
// kept in memory (SecretBytes) for later logins, and a new file replaces it.
//
// Errors: kNotFound / kInvalidArgument for missing or empty credential files;
// the Client's errors for failed logins. Never the credentials or the token.
// Not thread-safe.

#include <chrono>
#include <string>
#include <vector>

#include "agent/client.h"
#include "agent/config.h"
#include "common/secret_bytes.h"

namespace coffer::agent {

struct LoginResult {
  SecretBytes token;
  std::chrono::seconds ttl{0};  // 0: does not expire
  bool renewable = false;
  std::string accessor;
};

class AutoAuth {
 public:
  AutoAuth(AuthMethodConfig method, std::vector<SinkConfig> sinks, Client& client)
      : method_(std::move(method)), sinks_(std::move(sinks)), client_(client) {}

  Result<LoginResult> Login();

  // Writes the token (or, with wrap_ttl, the JSON wrap_info of a wrapping
  // token that holds it, made through sys/wrapping/wrap) to every sink.
  Status WriteSinks(const SecretBytes& token);

 private:
  Result<std::string> LoginBody();

  AuthMethodConfig method_;
  std::vector<SinkConfig> sinks_;
  Client& client_;
  SecretBytes cached_role_id_;
  SecretBytes cached_secret_;  // secret ID or JWT
};

// Parses the `auth` block of a login or renew answer.
Result<LoginResult> ParseAuth(const nlohmann::json& answer);

}  // namespace coffer::agent
