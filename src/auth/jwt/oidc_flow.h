#pragma once
// The pieces of the browser login (Vault's role_type "oidc", OpenID Connect's
// authorization code flow with PKCE, or its implicit flow when the method is
// configured for `id_token`), which JwtBackend's oidc/auth_url and
// oidc/callback routes put together (oidc_login.cc):
//   1. auth_url: a state, a nonce and a PKCE verifier are kept here under the
//      state; the caller is sent to the provider's authorization endpoint.
//   2. The provider sends the browser back to the redirect URI with a code
//      and the state (a query, or a form post).
//   3. callback: the state is taken (once), the code exchanged at the token
//      endpoint with the client's credentials and the verifier, and the ID
//      token checked (signature, issuer, audience, nonce, times) before the
//      role's claims rules make a login.
//
// Pending logins live in memory only, for ten minutes, as in Vault: a
// restart ends the logins in progress. There are at most `capacity` of them
// per mount, since auth_url needs no token, each of bounded size (auth_url
// refuses a long redirect_uri or client_nonce), and expired ones are swept
// at least once a minute. A change of the config drops them all.
//
// Secrets (the verifier, a code, tokens, the client secret in a request)
// are wiped when their holder goes. Error messages name the failed check,
// never a token or a code. Thread-safe: PendingLogins locks; the functions
// are pure or do their own request.

#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "auth/jwt/key_source.h"
#include "common/clock.h"
#include "common/status.h"
#include "net/http_exchange.h"

namespace coffer::auth::jwt {

// One login in progress.
struct PendingLogin {
  std::string role;
  std::string redirect_uri;
  std::string nonce;          // sent to the provider; its ID token must carry it
  std::string code_verifier;  // PKCE; "" in the implicit flow
  std::string client_nonce;   // the client's own (the CLI's), checked at the callback
  std::string code;           // from a form post, for the callback that follows
  std::string id_token;       // from a form post (implicit flow)
  std::chrono::steady_clock::time_point expires{};

  PendingLogin() = default;
  PendingLogin(const PendingLogin&) = default;
  PendingLogin(PendingLogin&&) = default;
  PendingLogin& operator=(const PendingLogin&) = default;
  PendingLogin& operator=(PendingLogin&&) = default;
  ~PendingLogin();
};

class PendingLogins {
 public:
  static constexpr std::size_t kDefaultCapacity = 10'000;
  static constexpr std::chrono::minutes kLifetime{10};

  explicit PendingLogins(Clock& clock, std::size_t capacity = kDefaultCapacity);

  // Keeps `login` under a new random state and returns the state.
  // kUnavailable when `capacity` unexpired logins are pending.
  Result<std::string> Add(PendingLogin login);
  // The login kept under `state`, removed: a state is used once. nullopt
  // when there is none or it has expired.
  std::optional<PendingLogin> Take(const std::string& state);
  // A form post's code and ID token, kept for the callback that follows.
  // False when the state is unknown or expired.
  bool Attach(const std::string& state, std::string code, std::string id_token);
  // Drops every pending login (the config changed).
  void Clear();
  std::size_t Size();

 private:
  void SweepLocked(std::chrono::steady_clock::time_point now);

  Clock& clock_;
  const std::size_t capacity_;
  std::mutex mu_;
  std::unordered_map<std::string, PendingLogin> logins_;  // guarded by mu_
  std::chrono::steady_clock::time_point next_sweep_{};    // guarded by mu_
};

// Whether `uri` is one of `allowed`: an exact match, except that for a
// loopback host (localhost, 127.0.0.1, ::1) the port is not compared (RFC
// 8252 §7.3: a native client listens on any free port).
bool RedirectAllowed(std::string_view uri, const std::vector<std::string>& allowed);

// A PKCE verifier (43 characters of base64url) and its S256 challenge.
Result<std::string> NewCodeVerifier();
std::string CodeChallenge(std::string_view verifier);

// `endpoint` with `params` added as a query, in key order (as Go's
// url.Values encodes them), after a '&' when it has a query already.
std::string WithQuery(std::string_view endpoint, const std::map<std::string, std::string>& params);

// How the method makes its requests to the provider; tests substitute their
// own.
using net::HttpDo;

struct ProviderTokens {
  std::string id_token;
  std::string access_token;  // "" when the provider sent none

  ProviderTokens() = default;
  ProviderTokens(ProviderTokens&&) = default;
  ProviderTokens& operator=(ProviderTokens&&) = default;
  ~ProviderTokens();
};

// Exchanges an authorization code at the token endpoint (RFC 6749 §4.1.3,
// RFC 7636 §4.5), the client authenticated with HTTP Basic, or in the form
// when the provider refuses that as invalid_client. kInvalidArgument naming
// the provider's error code and description, or a missing id_token;
// kUnavailable when the provider cannot be reached.
Result<ProviderTokens> ExchangeCode(const HttpDo& http, const Config& config,
                                    const std::string& token_endpoint, const PendingLogin& login,
                                    const std::string& code);

// The provider's userinfo claims for `access_token`: a JSON object whose
// "sub" is `subject`. Errors say why (the caller logs them and goes on, as
// Vault does).
Result<nlohmann::json> FetchUserInfo(const HttpDo& http, const Config& config,
                                     const std::string& endpoint, const std::string& access_token,
                                     const std::string& subject);

}  // namespace coffer::auth::jwt
